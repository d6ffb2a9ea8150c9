// The driver's reading of a SPIRV_COMPUTE module: the SDK's reader (udal/sdk/spirv.h)
// checks the words and reflects each GLCompute entry point; SPIRV-Tools' validator checks
// the module against the device's Vulkan version; this file then holds the driver's own
// rules (docs/spec.md 14.1): which resources it binds, how values pack into push
// constants, what the device's limits allow.
#include "spirv.h"

#include <spirv-tools/libspirv.h>

#include <algorithm>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <udal/sdk/spirv.h>

namespace udal::vulkan {
namespace {

namespace sdk = udal::sdk::spirv;

constexpr uint32_t kLocalMemorySpecId = 3;
constexpr uint32_t kAccessRead = 1, kAccessWrite = 2;
// Push-constant arrays longer than this are not split into one value argument per element.
constexpr uint64_t kMaxArrayValues = 4096;

bool is_value_member(sdk::MemberKind kind) {
  return kind == sdk::MemberKind::kScalar || kind == sdk::MemberKind::kVector ||
         kind == sdk::MemberKind::kDeviceAddress;
}

// The push-constant block's members as value arguments, or nullopt when they are not
// scalars, vectors or arrays of them at the offsets docs/spec.md 14.1 packs values at.
std::optional<std::vector<ValueArgument>> value_arguments(const sdk::PushConstantBlock& block) {
  std::vector<ValueArgument> values;
  for (const sdk::PushConstantMember& m : block.members) {
    if (!m.offset)
      return std::nullopt;
    if (is_value_member(m.kind)) {
      if (!m.size || *m.size > UINT32_MAX)
        return std::nullopt;
      values.push_back({*m.offset, static_cast<uint32_t>(*m.size), 0});
      continue;
    }
    if (m.kind != sdk::MemberKind::kArray || !is_value_member(m.element_kind) || !m.array_length ||
        !m.array_stride || !m.element_size || *m.array_length > kMaxArrayValues ||
        *m.element_size > UINT32_MAX) {
      return std::nullopt;
    }
    const auto length = static_cast<uint32_t>(*m.array_length);
    const auto element = static_cast<uint32_t>(*m.element_size);
    for (uint32_t k = 0; k < length; ++k) {
      const uint64_t offset = *m.offset + uint64_t{k} * *m.array_stride;
      if (offset > UINT32_MAX)
        return std::nullopt;
      values.push_back({static_cast<uint32_t>(offset), element, 0});
    }
    if (length > 1 && *m.array_stride == element)
      values[values.size() - length].array_elements = length;
  }
  // The members must sit where the launch's packing puts the values.
  uint32_t end = 0;
  for (const ValueArgument& v : values) {
    if (v.size == 0)
      return std::nullopt;
    const uint32_t alignment = std::min(16u, v.size & (~v.size + 1));
    const uint64_t at = (uint64_t{end} + alignment - 1) / alignment * alignment;
    if (at != v.offset)
      return std::nullopt;
    end = static_cast<uint32_t>(at + v.size);
  }
  return values;
}

const char* resource_name(sdk::ResourceKind kind) {
  switch (kind) {
  case sdk::ResourceKind::kImage:
    return "an image";
  case sdk::ResourceKind::kSampler:
    return "a sampler";
  case sdk::ResourceKind::kSampledImage:
    return "a sampled image";
  default:
    return "a resource";
  }
}

bool fits(const sdk::Size3& size, const SpirvLimits& limits) {
  const uint64_t items = uint64_t{size[0]} * size[1] * size[2];
  bool ok = items >= 1 && items <= limits.max_group_invocations;
  for (int axis = 0; axis < 3; ++axis)
    ok = ok && size[axis] <= limits.max_group_size[axis];
  return ok;
}

// One entry point's arguments, or says in |*error| what the driver does not model.
std::optional<EntryPoint> read_entry(const sdk::EntryPoint& entry, const SpirvLimits& limits,
                                     std::string* error) {
  EntryPoint e;
  e.name = entry.name;
  e.fixed_group_size = entry.fixed_group_size;
  // The effective size, and the LocalSize mode even where WorkgroupSize overrides it (the
  // validation layer checks both against the limits).
  std::vector<sdk::Size3> sizes;
  if (entry.fixed_group_size)
    sizes.push_back(*entry.fixed_group_size);
  if (entry.local_size)
    sizes.push_back(*entry.local_size);
  for (const auto& size : sizes) {
    if (!fits(size, limits)) {
      *error = fmt::format("kernel '{}' fixes its group size at {}x{}x{}, which the device cannot "
                           "run (maxComputeWorkGroupSize {}x{}x{}, maxComputeWorkGroupInvocations "
                           "{})",
                           e.name, size[0], size[1], size[2], limits.max_group_size[0],
                           limits.max_group_size[1], limits.max_group_size[2],
                           limits.max_group_invocations);
      return std::nullopt;
    }
  }

  std::map<uint32_t, uint32_t> buffer_access; // binding -> access bits
  for (const sdk::Binding& b : entry.bindings) {
    const uint32_t id = b.variable;
    switch (b.kind) {
    case sdk::ResourceKind::kStorageBuffer:
      break;
    case sdk::ResourceKind::kUniformBuffer:
      *error = fmt::format("kernel '{}' uses a uniform buffer (%{}); the driver passes buffers "
                           "as storage buffers and values as push constants (docs/spec.md 14.1)",
                           e.name, id);
      return std::nullopt;
    default:
      *error = fmt::format("kernel '{}' uses {} (%{}); the driver binds only storage buffers",
                           e.name, resource_name(b.kind), id);
      return std::nullopt;
    }
    if (b.is_array) {
      *error = fmt::format("kernel '{}' uses an array of storage buffers (%{}); the driver binds "
                           "one buffer per binding",
                           e.name, id);
      return std::nullopt;
    }
    if (!b.set || !b.binding) {
      *error = fmt::format("kernel '{}': storage buffer %{} has no DescriptorSet or Binding",
                           e.name, id);
      return std::nullopt;
    }
    if (*b.set != 0) {
      *error = fmt::format("kernel '{}' uses descriptor set {} (storage buffer %{}, binding {}); "
                           "buffer arguments are set 0 only (docs/spec.md 14.1)",
                           e.name, *b.set, id, *b.binding);
      return std::nullopt;
    }
    if (*b.binding >= 4096) {
      *error = fmt::format("kernel '{}' uses binding {}, more buffer arguments than any device "
                           "takes",
                           e.name, *b.binding);
      return std::nullopt;
    }
    // Aliased bindings: the kernel needs what either declaration does.
    buffer_access[*b.binding] |= (b.readable ? kAccessRead : 0) | (b.writable ? kAccessWrite : 0);
  }

  if (entry.push_constants.size() > 1) {
    *error = fmt::format("kernel '{}' uses two push-constant blocks", e.name);
    return std::nullopt;
  }
  if (entry.push_constants.empty()) {
    e.values.emplace();
  } else {
    const sdk::PushConstantBlock& block = entry.push_constants.front();
    if (!block.size) {
      *error = fmt::format("kernel '{}': the push-constant block's layout cannot be read (a "
                           "member without an Offset, or an unsized type)",
                           e.name);
      return std::nullopt;
    }
    if (*block.size > limits.max_push_constant_bytes) {
      *error = fmt::format("kernel '{}' has a push-constant block of {} bytes; the device takes "
                           "at most {} (maxPushConstantsSize)",
                           e.name, *block.size, limits.max_push_constant_bytes);
      return std::nullopt;
    }
    e.push_constant_bytes = static_cast<uint32_t>((*block.size + 3) / 4 * 4);
    if (!block.members.empty())
      e.values = value_arguments(block);
  }
  e.uses_local_memory = std::find(entry.workgroup_spec_ids.begin(), entry.workgroup_spec_ids.end(),
                                  kLocalMemorySpecId) != entry.workgroup_spec_ids.end();
  if (!buffer_access.empty()) {
    e.buffers.resize(buffer_access.rbegin()->first + 1, BufferArgument{kAccessRead});
    for (auto [binding, access] : buffer_access) {
      // A buffer declared neither readable nor writable still takes an argument.
      e.buffers[binding].access = access != 0 ? access : kAccessRead;
    }
  }
  return e;
}

// WorkgroupSize applies to every entry point of the module: kernels linked from several
// GLSL files each bring one, and implementations take one of them for all (Mesa the last).
// Only copies that agree (all from specialization constants, or all the same constant)
// keep every kernel at its own size.
std::string check_workgroup_sizes(const sdk::Module& module) {
  const auto& builtins = module.workgroup_size_builtins;
  if (builtins.size() <= 1)
    return {};
  const bool all_specialized =
      std::all_of(builtins.begin(), builtins.end(), [](const auto& b) { return b.specialized; });
  const auto& first = builtins.front().value;
  const bool all_same = first && std::all_of(builtins.begin(), builtins.end(),
                                             [&](const auto& b) { return b.value == first; });
  if (all_specialized || all_same)
    return {};
  return fmt::format("the module has {} objects decorated BuiltIn WorkgroupSize (as spirv-link "
                     "makes of GLSL kernels that use gl_WorkGroupSize), not all specialization "
                     "constants: SPIR-V gives every kernel of the module one of them, so its "
                     "kernels could not run at their own group sizes; link a kernel that fixes "
                     "its size (local_size_x = N) into a module of its own",
                     builtins.size());
}

// The components (1: a scalar) of the 32-bit integer type a compute built-in the driver takes
// has, or 0 for a built-in it does not take.
uint32_t builtin_components(uint32_t builtin) {
  switch (builtin) {
    case 24:  // NumWorkgroups
    case 26:  // WorkgroupId
    case 27:  // LocalInvocationId
    case 28:  // GlobalInvocationId
      return 3;
    case 29:    // LocalInvocationIndex
    case 36:    // SubgroupSize
    case 38:    // NumSubgroups
    case 40:    // SubgroupId
    case 41:    // SubgroupLocalInvocationId
    case 4438:  // DeviceIndex
      return 1;
    case 4416: case 4417: case 4418: case 4419: case 4420:  // Subgroup{Eq,Ge,Gt,Le,Lt}Mask
      return 4;
    default:
      return 0;
  }
}

// A compute kernel's only inputs are built-ins of their own types, and it has no outputs; but
// the validator lets through an Input variable without BuiltIn, one decorated BuiltIn twice,
// and one of the wrong type (a v3uint LocalInvocationIndex): lavapipe then reads it from
// nowhere or fails in LLVM, crashing at launch (each found by fuzz_vulkan_module). The words
// passed the SDK's reader, so every instruction lies inside them.
std::string check_interface_variables(std::span<const uint32_t> words) {
  constexpr uint32_t kOpDecorate = 71, kOpVariable = 59, kOpTypeInt = 21, kOpTypeVector = 23,
                     kOpTypePointer = 32, kDecorationBuiltIn = 11;
  constexpr uint32_t kStorageInput = 1, kStorageOutput = 3;
  std::map<uint32_t, std::vector<uint32_t>> builtins;  // id -> its BuiltIn decorations
  std::map<uint32_t, uint32_t> int32s;                 // 32-bit integer types
  std::map<uint32_t, std::pair<uint32_t, uint32_t>> vectors;  // id -> component, count
  std::map<uint32_t, uint32_t> pointees;               // pointer type -> pointee
  struct Variable {
    uint32_t id, type, storage;
  };
  std::vector<Variable> variables;  // Input and Output
  for (size_t i = 5; i < words.size();) {
    const uint32_t opcode = words[i] & 0xffffu;
    const uint32_t length = words[i] >> 16;
    if (length == 0 || i + length > words.size())
      break;
    if (opcode == kOpDecorate && length >= 4 && words[i + 2] == kDecorationBuiltIn)
      builtins[words[i + 1]].push_back(words[i + 3]);
    if (opcode == kOpTypeInt && length >= 4 && words[i + 2] == 32)
      int32s[words[i + 1]] = 1;
    if (opcode == kOpTypeVector && length >= 4)
      vectors[words[i + 1]] = {words[i + 2], words[i + 3]};
    if (opcode == kOpTypePointer && length >= 4)
      pointees[words[i + 1]] = words[i + 3];
    if (opcode == kOpVariable && length >= 4 &&
        (words[i + 3] == kStorageInput || words[i + 3] == kStorageOutput))
      variables.push_back({words[i + 2], words[i + 1], words[i + 3]});
    i += length;
  }
  // The components of the 32-bit integer scalar or vector |type|, else 0.
  auto components = [&](uint32_t type) -> uint32_t {
    if (int32s.count(type) != 0)
      return 1;
    const auto v = vectors.find(type);
    return v != vectors.end() && int32s.count(v->second.first) != 0 ? v->second.second : 0;
  };
  for (const Variable& v : variables) {
    if (v.storage == kStorageOutput)
      return fmt::format("variable %{} is in the Output storage class: a compute kernel has no "
                         "outputs", v.id);
    const auto found = builtins.find(v.id);
    const size_t count = found == builtins.end() ? 0 : found->second.size();
    if (count != 1)
      return fmt::format("Input variable %{} is decorated BuiltIn {} times: a compute kernel's "
                         "only inputs are built-ins, each decorated once", v.id, count);
    const uint32_t builtin = found->second.front();
    const uint32_t wanted = builtin_components(builtin);
    if (wanted == 0)
      return fmt::format("Input variable %{} is BuiltIn {}, not a compute built-in the driver "
                         "takes", v.id, builtin);
    const auto pointee = pointees.find(v.type);
    if (pointee == pointees.end() || components(pointee->second) != wanted)
      return fmt::format("Input variable %{} (BuiltIn {}) is not of the built-in's type (a "
                         "32-bit integer {})", v.id, builtin,
                         wanted == 1 ? "scalar" : fmt::format("vector of {}", wanted));
  }
  return {};
}

spv_target_env target_env(uint32_t api_version) {
  const uint32_t minor = (api_version >> 12) & 0x3ffu;
  if (minor >= 3)
    return SPV_ENV_VULKAN_1_3;
  if (minor == 2)
    return SPV_ENV_VULKAN_1_2;
  if (minor == 1)
    return SPV_ENV_VULKAN_1_1;
  return SPV_ENV_VULKAN_1_0;
}

struct ContextDeleter {
  void operator()(spv_context c) const noexcept { spvContextDestroy(c); }
};
struct DiagnosticDeleter {
  void operator()(spv_diagnostic d) const noexcept { spvDiagnosticDestroy(d); }
};
struct OptionsDeleter {
  void operator()(spv_validator_options o) const noexcept { spvValidatorOptionsDestroy(o); }
};

std::string diagnostic_text(spv_diagnostic diagnostic) {
  if (diagnostic == nullptr || diagnostic->error == nullptr)
    return "(no diagnostic)";
  std::string text = diagnostic->error;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

// SPIRV-Tools' validator for the device's Vulkan version: "" or why it refuses |words|.
std::string validate(std::span<const uint32_t> words, const SpirvLimits& limits) {
  const spv_target_env env = target_env(limits.vulkan_api_version);
  std::unique_ptr<spv_context_t, ContextDeleter> context(spvContextCreate(env));
  std::unique_ptr<spv_validator_options_t, OptionsDeleter> options(spvValidatorOptionsCreate());
  if (!context || !options)
    throw std::bad_alloc();
  spvValidatorOptionsSetScalarBlockLayout(options.get(), limits.scalar_block_layout);
  spv_const_binary_t binary{words.data(), words.size()};
  spv_diagnostic raw = nullptr;
  const spv_result_t valid = spvValidateWithOptions(context.get(), options.get(), &binary, &raw);
  std::unique_ptr<spv_diagnostic_t, DiagnosticDeleter> diagnostic(raw);
  if (valid == SPV_ERROR_OUT_OF_MEMORY)
    throw std::bad_alloc();
  if (valid != SPV_SUCCESS) {
    return fmt::format("the SPIR-V validator ({}) refuses it: {}", spvTargetEnvDescription(env),
                       diagnostic_text(diagnostic.get()));
  }
  return {};
}

} // namespace

std::optional<SpirvModule> parse_spirv(std::span<const uint32_t> words, const SpirvLimits& limits,
                                       std::string* error) {
  sdk::Module module;
  if (std::string why = sdk::read(words, &module); !why.empty()) {
    *error = std::move(why);
    return std::nullopt;
  }
  if (std::string why = validate(words, limits); !why.empty()) {
    *error = std::move(why);
    return std::nullopt;
  }
  if (std::none_of(module.entry_points.begin(), module.entry_points.end(),
                   [](const auto& e) { return e.model == sdk::kExecutionModelGLCompute; })) {
    *error = "the module has no OpEntryPoint GLCompute (a Vulkan compute kernel)";
    return std::nullopt;
  }
  if (std::string why = check_workgroup_sizes(module); !why.empty()) {
    *error = std::move(why);
    return std::nullopt;
  }
  if (std::string why = check_interface_variables(words); !why.empty()) {
    *error = std::move(why);
    return std::nullopt;
  }
  SpirvModule result;
  result.version = module.version;
  for (const sdk::SpecConstant& c : module.spec_constants) {
    result.specialization_constants[c.spec_id] = c.is_bool ? 4u : c.size; // a VkBool32
  }
  for (const sdk::EntryPoint& entry : module.entry_points) {
    if (entry.model != sdk::kExecutionModelGLCompute)
      continue;
    auto e = read_entry(entry, limits, error);
    if (!e)
      return std::nullopt;
    result.entry_points.push_back(std::move(*e));
  }
  return result;
}

} // namespace udal::vulkan
