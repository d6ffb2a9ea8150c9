#include "spirv.h"

#include <spirv-tools/libspirv.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace udal::vulkan {
namespace {

constexpr uint32_t kMagic = 0x07230203;

enum Op : uint32_t {
  kOpEntryPoint = 15,
  kOpExecutionMode = 16,
  kOpTypeBool = 20,
  kOpTypeInt = 21,
  kOpTypeFloat = 22,
  kOpTypeVector = 23,
  kOpTypeMatrix = 24,
  kOpTypeImage = 25,
  kOpTypeSampler = 26,
  kOpTypeSampledImage = 27,
  kOpTypeArray = 28,
  kOpTypeRuntimeArray = 29,
  kOpTypeStruct = 30,
  kOpTypePointer = 32,
  kOpConstant = 43,
  kOpConstantComposite = 44,
  kOpSpecConstantTrue = 48,
  kOpSpecConstantFalse = 49,
  kOpSpecConstant = 50,
  kOpSpecConstantComposite = 51,
  kOpSpecConstantOp = 52,
  kOpFunction = 54,
  kOpFunctionEnd = 56,
  kOpFunctionCall = 57,
  kOpVariable = 59,
  kOpDecorate = 71,
  kOpMemberDecorate = 72,
  kOpExecutionModeId = 331,
};
enum Decoration : uint32_t {
  kSpecId = 1,
  kBlock = 2,
  kBufferBlock = 3,
  kArrayStride = 6,
  kMatrixStride = 7,
  kBuiltIn = 11,
  kNonWritable = 24,
  kNonReadable = 25,
  kBinding = 33,
  kDescriptorSet = 34,
  kOffset = 35,
};
enum StorageClass : uint32_t {
  kUniformConstant = 0,
  kUniform = 2,
  kWorkgroup = 4,
  kPushConstant = 9,
  kStorageBuffer = 12,
  kPhysicalStorageBuffer = 5349,
};
constexpr uint32_t kGLCompute = 5;
constexpr uint32_t kModeLocalSize = 17;
constexpr uint32_t kModeLocalSizeId = 38;
constexpr uint32_t kBuiltInWorkgroupSize = 25;
constexpr uint32_t kLocalMemorySpecId = 3;
constexpr uint32_t kAccessRead = 1, kAccessWrite = 2;

struct Type {
  uint32_t op = 0;
  std::vector<uint32_t> operands;  // the instruction's words after the result id
};

struct Function {
  std::unordered_set<uint32_t> references;  // ids its instructions take as operands
  std::vector<uint32_t> calls;
};

struct Entry {
  uint32_t function = 0;
  std::string name;
};

struct Parsed {
  std::unordered_map<uint32_t, Type> types;
  std::unordered_map<uint32_t, uint32_t> constants;  // 32-bit OpConstant values
  std::unordered_map<uint32_t, std::vector<uint32_t>> constant_composites;
  std::unordered_set<uint32_t> spec_composites;
  // Specialization constants, and spec-constant operations that depend on one, by SpecId.
  std::unordered_map<uint32_t, uint32_t> spec_id;
  std::unordered_map<uint32_t, std::vector<uint32_t>> spec_operations;  // id -> its operands
  std::unordered_map<uint32_t, uint32_t> spec_scalars;  // OpSpecConstant* id -> its type
  std::unordered_map<uint32_t, std::vector<std::pair<uint32_t, uint32_t>>> decorations;
  std::map<std::pair<uint32_t, uint32_t>, std::vector<std::pair<uint32_t, uint32_t>>>
      member_decorations;
  struct Variable {
    uint32_t pointer_type, storage;
  };
  std::unordered_map<uint32_t, Variable> globals;
  std::unordered_map<uint32_t, Function> functions;
  std::unordered_map<uint32_t, std::array<uint32_t, 3>> local_size;  // function -> LocalSize
  std::unordered_set<uint32_t> local_size_id;                        // functions with LocalSizeId
  std::vector<Entry> entries;
  uint32_t current_function = 0;
  uint32_t workgroup_size_builtin = 0;            // the last one (what implementations take)
  std::vector<uint32_t> workgroup_size_builtins;  // every one, in order
  std::string error;
};

// The first literal of decoration |which| on |id|, if it has it.
std::optional<uint32_t> decoration(const Parsed& p, uint32_t id, uint32_t which) {
  auto it = p.decorations.find(id);
  if (it == p.decorations.end()) return std::nullopt;
  for (auto [d, literal] : it->second) {
    if (d == which) return literal;
  }
  return std::nullopt;
}

std::optional<uint32_t> member_decoration(const Parsed& p, uint32_t type, uint32_t member,
                                          uint32_t which) {
  auto it = p.member_decorations.find({type, member});
  if (it == p.member_decorations.end()) return std::nullopt;
  for (auto [d, literal] : it->second) {
    if (d == which) return literal;
  }
  return std::nullopt;
}

const Type* type_of(const Parsed& p, uint32_t id) {
  auto it = p.types.find(id);
  return it == p.types.end() ? nullptr : &it->second;
}

spv_result_t on_instruction(void* user, const spv_parsed_instruction_t* ins) noexcept {
  auto& p = *static_cast<Parsed*>(user);
  try {
    const uint32_t* w = ins->words;
    auto operand = [&](uint16_t i) -> uint32_t {
      return i < ins->num_operands ? w[ins->operands[i].offset] : 0;
    };
    auto operand_words = [&](uint16_t first) {
      std::vector<uint32_t> out;
      for (uint16_t i = first; i < ins->num_operands; ++i) {
        const spv_parsed_operand_t& o = ins->operands[i];
        out.insert(out.end(), w + o.offset, w + o.offset + o.num_words);
      }
      return out;
    };
    if (p.current_function != 0) {
      Function& f = p.functions[p.current_function];
      for (uint16_t i = 0; i < ins->num_operands; ++i) {
        const spv_operand_type_t t = ins->operands[i].type;
        if (t == SPV_OPERAND_TYPE_ID || t == SPV_OPERAND_TYPE_SCOPE_ID ||
            t == SPV_OPERAND_TYPE_MEMORY_SEMANTICS_ID) {
          f.references.insert(w[ins->operands[i].offset]);
        }
      }
      if (ins->opcode == kOpFunctionCall) f.calls.push_back(operand(2));
      if (ins->opcode == kOpFunctionEnd) p.current_function = 0;
      return SPV_SUCCESS;
    }
    switch (ins->opcode) {
      case kOpEntryPoint: {
        if (operand(0) != kGLCompute) break;
        const spv_parsed_operand_t& name = ins->operands[2];
        const char* text = reinterpret_cast<const char*>(w + name.offset);
        p.entries.push_back({operand(1), std::string(text, strnlen(text, name.num_words * 4u))});
        break;
      }
      case kOpExecutionMode:
        if (operand(1) == kModeLocalSize && ins->num_operands >= 5) {
          p.local_size[operand(0)] = {operand(2), operand(3), operand(4)};
        }
        if (operand(1) == kModeLocalSizeId) p.local_size_id.insert(operand(0));
        break;
      case kOpExecutionModeId:
        if (operand(1) == kModeLocalSizeId) p.local_size_id.insert(operand(0));
        break;
      case kOpDecorate:
        p.decorations[operand(0)].emplace_back(operand(1), operand(2));
        if (operand(1) == kBuiltIn && operand(2) == kBuiltInWorkgroupSize) {
          p.workgroup_size_builtin = operand(0);
          p.workgroup_size_builtins.push_back(operand(0));
        }
        if (operand(1) == kSpecId) p.spec_id[operand(0)] = operand(2);
        break;
      case kOpMemberDecorate:
        p.member_decorations[{operand(0), operand(1)}].emplace_back(operand(2), operand(3));
        break;
      case kOpTypeBool:
      case kOpTypeInt:
      case kOpTypeFloat:
      case kOpTypeVector:
      case kOpTypeMatrix:
      case kOpTypeImage:
      case kOpTypeSampler:
      case kOpTypeSampledImage:
      case kOpTypeArray:
      case kOpTypeRuntimeArray:
      case kOpTypeStruct:
      case kOpTypePointer:
        p.types[ins->result_id] = Type{ins->opcode, operand_words(1)};
        break;
      case kOpConstant:
        p.constants[ins->result_id] = operand(2);
        break;
      case kOpConstantComposite:
        p.constant_composites[ins->result_id] = operand_words(2);
        break;
      case kOpSpecConstantComposite:
        p.spec_composites.insert(ins->result_id);
        break;
      case kOpSpecConstantTrue:
      case kOpSpecConstantFalse:
      case kOpSpecConstant:
        p.spec_scalars[ins->result_id] = ins->type_id;
        break;
      case kOpSpecConstantOp:
        p.spec_operations[ins->result_id] = operand_words(3);
        break;
      case kOpVariable:
        p.globals[ins->result_id] = {ins->type_id, operand(2)};
        break;
      case kOpFunction:
        p.current_function = ins->result_id;
        p.functions[ins->result_id];
        break;
      default:
        break;
    }
    return SPV_SUCCESS;
  } catch (const std::bad_alloc&) {
    p.error = "out of host memory";
    return SPV_ERROR_OUT_OF_MEMORY;
  }
}

// Bytes of |type| as laid out in an explicitly laid out block; nullopt when unknown.
std::optional<uint64_t> size_of(const Parsed& p, uint32_t type, uint32_t matrix_stride, int depth) {
  const Type* t = type_of(p, type);
  if (t == nullptr || depth > 16 || t->operands.empty()) return std::nullopt;
  switch (t->op) {
    case kOpTypeBool: return 4;
    case kOpTypeInt:
    case kOpTypeFloat: return t->operands[0] / 8;
    case kOpTypePointer:  // a device address (buffer_reference): 64 bits
      if (t->operands[0] == kPhysicalStorageBuffer) return 8;
      return std::nullopt;
    case kOpTypeVector: {
      auto component = size_of(p, t->operands[0], 0, depth + 1);
      if (!component || t->operands.size() < 2) return std::nullopt;
      return *component * t->operands[1];
    }
    case kOpTypeMatrix: {
      if (t->operands.size() < 2) return std::nullopt;
      if (matrix_stride != 0) return uint64_t{matrix_stride} * t->operands[1];
      auto column = size_of(p, t->operands[0], 0, depth + 1);
      if (!column) return std::nullopt;
      return *column * t->operands[1];
    }
    case kOpTypeArray: {
      if (t->operands.size() < 2) return std::nullopt;
      auto length = p.constants.find(t->operands[1]);
      if (length == p.constants.end()) return std::nullopt;
      if (auto stride = decoration(p, type, kArrayStride)) return uint64_t{*stride} * length->second;
      auto element = size_of(p, t->operands[0], 0, depth + 1);
      if (!element) return std::nullopt;
      return *element * length->second;
    }
    case kOpTypeStruct: {
      uint64_t end = 0;
      for (uint32_t m = 0; m < t->operands.size(); ++m) {
        auto offset = member_decoration(p, type, m, kOffset);
        auto member = size_of(p, t->operands[m],
                              member_decoration(p, type, m, kMatrixStride).value_or(0), depth + 1);
        if (!offset || !member) return std::nullopt;
        end = std::max(end, *offset + *member);
      }
      return end;
    }
    default: return std::nullopt;
  }
}

// Scalars, vectors and device addresses: what one value argument is.
bool is_scalar_or_vector(const Parsed& p, uint32_t type) {
  const Type* t = type_of(p, type);
  if (t == nullptr) return false;
  if (t->op == kOpTypePointer) return !t->operands.empty() && t->operands[0] == kPhysicalStorageBuffer;
  return t->op == kOpTypeBool || t->op == kOpTypeInt || t->op == kOpTypeFloat ||
         t->op == kOpTypeVector;
}

// The push-constant block's members as value arguments, or nullopt when they are not
// scalars, vectors or arrays of them at the offsets docs/spec.md 14.1 packs values at.
std::optional<std::vector<ValueArgument>> value_arguments(const Parsed& p, uint32_t block) {
  const Type* t = type_of(p, block);
  if (t == nullptr || t->op != kOpTypeStruct) return std::nullopt;
  std::vector<ValueArgument> values;
  for (uint32_t m = 0; m < t->operands.size(); ++m) {
    const uint32_t member = t->operands[m];
    auto offset = member_decoration(p, block, m, kOffset);
    if (!offset) return std::nullopt;
    if (is_scalar_or_vector(p, member)) {
      auto size = size_of(p, member, 0, 0);
      if (!size) return std::nullopt;
      values.push_back({*offset, static_cast<uint32_t>(*size), 0});
      continue;
    }
    const Type* array = type_of(p, member);
    if (array == nullptr || array->op != kOpTypeArray || array->operands.size() < 2 ||
        !is_scalar_or_vector(p, array->operands[0])) {
      return std::nullopt;
    }
    auto length = p.constants.find(array->operands[1]);
    auto stride = decoration(p, member, kArrayStride);
    auto element = size_of(p, array->operands[0], 0, 0);
    if (length == p.constants.end() || !stride || !element || length->second > 4096) {
      return std::nullopt;
    }
    for (uint32_t k = 0; k < length->second; ++k) {
      values.push_back({*offset + k * *stride, static_cast<uint32_t>(*element), 0});
    }
    if (length->second > 1 && *stride == *element) values[values.size() - length->second].array_elements = length->second;
  }
  // The members must sit where the launch's packing puts the values.
  uint32_t end = 0;
  for (const ValueArgument& v : values) {
    if (v.size == 0) return std::nullopt;
    const uint32_t alignment = std::min(16u, v.size & (~v.size + 1));
    const uint32_t at = (end + alignment - 1) / alignment * alignment;
    if (at != v.offset) return std::nullopt;
    end = at + v.size;
  }
  return values;
}

// Whether |type| holds an array sized by a specialization constant of |dynamic|.
bool holds_dynamic_array(const Parsed& p, uint32_t type, const std::unordered_set<uint32_t>& dynamic,
                         int depth) {
  const Type* t = type_of(p, type);
  if (t == nullptr || depth > 16) return false;
  if (t->op == kOpTypeArray && t->operands.size() >= 2) {
    return dynamic.contains(t->operands[1]) || holds_dynamic_array(p, t->operands[0], dynamic, depth + 1);
  }
  if (t->op == kOpTypeStruct) {
    return std::any_of(t->operands.begin(), t->operands.end(), [&](uint32_t member) {
      return holds_dynamic_array(p, member, dynamic, depth + 1);
    });
  }
  return false;
}

// Specialization constant 3 and every spec-constant operation computed from it.
std::unordered_set<uint32_t> local_memory_constants(const Parsed& p) {
  std::unordered_set<uint32_t> ids;
  for (auto [id, spec] : p.spec_id) {
    if (spec == kLocalMemorySpecId) ids.insert(id);
  }
  for (bool grew = !ids.empty(); grew;) {
    grew = false;
    for (const auto& [id, operands] : p.spec_operations) {
      if (ids.contains(id)) continue;
      if (std::any_of(operands.begin(), operands.end(), [&](uint32_t o) { return ids.contains(o); })) {
        ids.insert(id);
        grew = true;
      }
    }
  }
  return ids;
}

// The global variables the static call tree of |function| references.
std::vector<uint32_t> used_globals(const Parsed& p, uint32_t function) {
  std::unordered_set<uint32_t> seen{function};
  std::vector<uint32_t> stack{function};
  std::unordered_set<uint32_t> used;
  while (!stack.empty()) {
    auto it = p.functions.find(stack.back());
    stack.pop_back();
    if (it == p.functions.end()) continue;
    for (uint32_t id : it->second.references) {
      if (p.globals.contains(id)) used.insert(id);
    }
    for (uint32_t callee : it->second.calls) {
      if (seen.insert(callee).second) stack.push_back(callee);
    }
  }
  std::vector<uint32_t> sorted(used.begin(), used.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

const char* resource_kind(const Parsed& p, uint32_t type, int depth = 0) {
  const Type* t = type_of(p, type);
  if (t == nullptr || depth > 4) return "a resource";
  switch (t->op) {
    case kOpTypeImage: return "an image";
    case kOpTypeSampler: return "a sampler";
    case kOpTypeSampledImage: return "a sampled image";
    case kOpTypeArray:
    case kOpTypeRuntimeArray: return resource_kind(p, t->operands.at(0), depth + 1);
    default: return "a resource";
  }
}

// Reads one entry point's arguments, or says in |*error| what the driver does not model.
std::optional<EntryPoint> read_entry(const Parsed& p, const Entry& entry, const SpirvLimits& limits,
                                     const std::unordered_set<uint32_t>& dynamic, std::string* error) {
  EntryPoint e;
  e.name = entry.name;
  // A WorkgroupSize built from specialization constants (GLSL local_size_x_id) overrides
  // LocalSize; a constant one fixes the size like LocalSize does.
  if (p.workgroup_size_builtin != 0) {
    auto composite = p.constant_composites.find(p.workgroup_size_builtin);
    if (composite != p.constant_composites.end() && composite->second.size() == 3) {
      std::array<uint32_t, 3> size{};
      bool known = true;
      for (int axis = 0; axis < 3; ++axis) {
        auto value = p.constants.find(composite->second[axis]);
        known = known && value != p.constants.end();
        if (known) size[axis] = value->second;
      }
      if (known) e.fixed_group_size = size;
    }
  } else if (auto size = p.local_size.find(entry.function);
             size != p.local_size.end() && !p.local_size_id.contains(entry.function)) {
    e.fixed_group_size = size->second;
  }

  // The effective size, and the LocalSize mode even where WorkgroupSize overrides it (the
  // validation layer checks both against the limits).
  std::vector<std::array<uint32_t, 3>> sizes;
  if (e.fixed_group_size) sizes.push_back(*e.fixed_group_size);
  if (auto mode = p.local_size.find(entry.function); mode != p.local_size.end()) {
    sizes.push_back(mode->second);
  }
  for (const auto& size : sizes) {
    const uint64_t items = uint64_t{size[0]} * size[1] * size[2];
    bool fits = items >= 1 && items <= limits.max_group_invocations;
    for (int axis = 0; axis < 3; ++axis) fits = fits && size[axis] <= limits.max_group_size[axis];
    if (!fits) {
      *error = fmt::format("kernel '{}' fixes its group size at {}x{}x{}, which the device cannot "
                           "run (maxComputeWorkGroupSize {}x{}x{}, maxComputeWorkGroupInvocations "
                           "{})",
                           e.name, size[0], size[1], size[2], limits.max_group_size[0],
                           limits.max_group_size[1], limits.max_group_size[2],
                           limits.max_group_invocations);
      return std::nullopt;
    }
  }

  bool have_push_constants = false;
  std::map<uint32_t, uint32_t> buffer_access;  // binding -> access bits
  for (uint32_t id : used_globals(p, entry.function)) {
    const Parsed::Variable& var = p.globals.at(id);
    const Type* pointer = type_of(p, var.pointer_type);
    if (pointer == nullptr || pointer->op != kOpTypePointer || pointer->operands.size() < 2) continue;
    const uint32_t pointee = pointer->operands[1];
    const Type* pointee_type = type_of(p, pointee);
    const uint32_t storage = var.storage;
    const bool buffer_block = decoration(p, pointee, kBufferBlock).has_value();
    if (storage == kStorageBuffer || (storage == kUniform && buffer_block)) {
      if (pointee_type && (pointee_type->op == kOpTypeArray || pointee_type->op == kOpTypeRuntimeArray)) {
        *error = fmt::format("kernel '{}' uses an array of storage buffers (%{}); the driver "
                             "binds one buffer per binding",
                             e.name, id);
        return std::nullopt;
      }
      auto set = decoration(p, id, kDescriptorSet);
      auto binding = decoration(p, id, kBinding);
      if (!set || !binding) {
        *error = fmt::format("kernel '{}': storage buffer %{} has no DescriptorSet or Binding",
                             e.name, id);
        return std::nullopt;
      }
      if (*set != 0) {
        *error = fmt::format("kernel '{}' uses descriptor set {} (storage buffer %{}, binding "
                             "{}); buffer arguments are set 0 only (docs/spec.md 14.1)",
                             e.name, *set, id, *binding);
        return std::nullopt;
      }
      if (*binding >= 4096) {
        *error = fmt::format("kernel '{}' uses binding {}, more buffer arguments than any "
                             "device takes", e.name, *binding);
        return std::nullopt;
      }
      bool readable = !decoration(p, id, kNonReadable).has_value();
      bool writable = !decoration(p, id, kNonWritable).has_value();
      if (pointee_type && pointee_type->op == kOpTypeStruct && !pointee_type->operands.empty()) {
        bool all_non_readable = true, all_non_writable = true;
        for (uint32_t m = 0; m < pointee_type->operands.size(); ++m) {
          all_non_readable &= member_decoration(p, pointee, m, kNonReadable).has_value();
          all_non_writable &= member_decoration(p, pointee, m, kNonWritable).has_value();
        }
        readable = readable && !all_non_readable;
        writable = writable && !all_non_writable;
      }
      // Aliased bindings: the kernel needs what either declaration does.
      buffer_access[*binding] |= (readable ? kAccessRead : 0) | (writable ? kAccessWrite : 0);
    } else if (storage == kUniform) {
      *error = fmt::format("kernel '{}' uses a uniform buffer (%{}); the driver passes buffers "
                           "as storage buffers and values as push constants (docs/spec.md 14.1)",
                           e.name, id);
      return std::nullopt;
    } else if (storage == kUniformConstant) {
      *error = fmt::format("kernel '{}' uses {} (%{}); the driver binds only storage buffers",
                           e.name, resource_kind(p, pointee), id);
      return std::nullopt;
    } else if (storage == kPushConstant) {
      if (have_push_constants) {
        *error = fmt::format("kernel '{}' uses two push-constant blocks", e.name);
        return std::nullopt;
      }
      have_push_constants = true;
      auto bytes = size_of(p, pointee, 0, 0);
      if (!bytes) {
        *error = fmt::format("kernel '{}': the push-constant block's layout cannot be read (a "
                             "member without an Offset, or an unsized type)",
                             e.name);
        return std::nullopt;
      }
      if (*bytes > limits.max_push_constant_bytes) {
        *error = fmt::format("kernel '{}' has a push-constant block of {} bytes; the device "
                             "takes at most {} (maxPushConstantsSize)",
                             e.name, *bytes, limits.max_push_constant_bytes);
        return std::nullopt;
      }
      e.push_constant_bytes = static_cast<uint32_t>((*bytes + 3) / 4 * 4);
      e.values = value_arguments(p, pointee);
    } else if (storage == kWorkgroup) {
      if (!dynamic.empty() && holds_dynamic_array(p, pointee, dynamic, 0)) {
        e.uses_local_memory = true;
      }
    }
  }
  if (!have_push_constants) e.values.emplace();
  if (!buffer_access.empty()) {
    e.buffers.resize(buffer_access.rbegin()->first + 1, BufferArgument{kAccessRead});
    for (auto [binding, access] : buffer_access) {
      // A buffer declared neither readable nor writable still takes an argument.
      e.buffers[binding].access = access != 0 ? access : kAccessRead;
    }
  }
  return e;
}

spv_target_env target_env(uint32_t api_version) {
  const uint32_t minor = (api_version >> 12) & 0x3ffu;
  if (minor >= 3) return SPV_ENV_VULKAN_1_3;
  if (minor == 2) return SPV_ENV_VULKAN_1_2;
  if (minor == 1) return SPV_ENV_VULKAN_1_1;
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
  if (diagnostic == nullptr || diagnostic->error == nullptr) return "(no diagnostic)";
  std::string text = diagnostic->error;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The structural checks that give the clearest messages for a cut or corrupt image.
bool check_structure(std::span<const uint32_t> words, std::string* error) {
  if (words.size() < 5) {
    *error = fmt::format("{} words is shorter than the 5-word SPIR-V header", words.size());
    return false;
  }
  if (words[0] != kMagic) {
    *error = fmt::format("magic number {:#010x} is not SPIR-V's {:#010x}", words[0], kMagic);
    return false;
  }
  size_t at = 5;
  bool in_function = false;
  while (at < words.size()) {
    const uint32_t count = words[at] >> 16;
    const uint32_t op = words[at] & 0xffffu;
    if (count == 0 || at + count > words.size()) {
      *error = fmt::format("instruction at word {} (opcode {}, {} words) runs past the end of "
                           "the module ({} words): the image is cut short or corrupt",
                           at, op, count, words.size());
      return false;
    }
    if (op == kOpFunction) in_function = true;
    if (op == kOpFunctionEnd) in_function = false;
    at += count;
  }
  if (in_function) {
    *error = "the last function has no OpFunctionEnd: the image is cut short";
    return false;
  }
  return true;
}

}  // namespace

std::optional<SpirvModule> parse_spirv(std::span<const uint32_t> words, const SpirvLimits& limits,
                                       std::string* error) {
  if (!check_structure(words, error)) return std::nullopt;
  const spv_target_env env = target_env(limits.vulkan_api_version);
  std::unique_ptr<spv_context_t, ContextDeleter> context(spvContextCreate(env));
  std::unique_ptr<spv_validator_options_t, OptionsDeleter> options(spvValidatorOptionsCreate());
  if (!context || !options) throw std::bad_alloc();
  spvValidatorOptionsSetScalarBlockLayout(options.get(), limits.scalar_block_layout);
  spv_const_binary_t binary{words.data(), words.size()};
  spv_diagnostic raw = nullptr;
  spv_result_t valid = spvValidateWithOptions(context.get(), options.get(), &binary, &raw);
  std::unique_ptr<spv_diagnostic_t, DiagnosticDeleter> diagnostic(raw);
  if (valid == SPV_ERROR_OUT_OF_MEMORY) throw std::bad_alloc();
  if (valid != SPV_SUCCESS) {
    *error = fmt::format("the SPIR-V validator ({}) refuses it: {}", spvTargetEnvDescription(env),
                         diagnostic_text(diagnostic.get()));
    return std::nullopt;
  }

  Parsed p;
  raw = nullptr;
  const spv_result_t parsed = spvBinaryParse(context.get(), &p, words.data(), words.size(), nullptr,
                                             on_instruction, &raw);
  diagnostic.reset(raw);
  if (parsed == SPV_ERROR_OUT_OF_MEMORY) throw std::bad_alloc();
  if (parsed != SPV_SUCCESS) {
    *error = fmt::format("cannot be parsed: {}",
                         p.error.empty() ? diagnostic_text(diagnostic.get()) : p.error);
    return std::nullopt;
  }
  if (p.entries.empty()) {
    *error = "the module has no OpEntryPoint GLCompute (a Vulkan compute kernel)";
    return std::nullopt;
  }
  // WorkgroupSize applies to every entry point of the module: kernels linked from several
  // GLSL files each bring one, and implementations take one of them for all (Mesa the
  // last). Only copies that agree (all from specialization constants, or all the same
  // constant) keep every kernel at its own size.
  if (p.workgroup_size_builtins.size() > 1) {
    const auto& ids = p.workgroup_size_builtins;
    const bool all_specialized = std::all_of(ids.begin(), ids.end(), [&](uint32_t id) {
      return p.spec_composites.contains(id);
    });
    auto value_of = [&](uint32_t id) -> std::optional<std::array<uint32_t, 3>> {
      auto composite = p.constant_composites.find(id);
      if (composite == p.constant_composites.end() || composite->second.size() != 3) return std::nullopt;
      std::array<uint32_t, 3> size{};
      for (int axis = 0; axis < 3; ++axis) {
        auto value = p.constants.find(composite->second[axis]);
        if (value == p.constants.end()) return std::nullopt;
        size[axis] = value->second;
      }
      return size;
    };
    const auto first = value_of(ids.front());
    const bool all_same = first && std::all_of(ids.begin(), ids.end(), [&](uint32_t id) {
      return value_of(id) == first;
    });
    if (!all_specialized && !all_same) {
      *error = fmt::format("the module has {} objects decorated BuiltIn WorkgroupSize (as "
                           "spirv-link makes of GLSL kernels that use gl_WorkGroupSize), not all "
                           "specialization constants: SPIR-V gives every kernel of the module one "
                           "of them, so its kernels could not run at their own group sizes; link "
                           "a kernel that fixes its size (local_size_x = N) into a module of its "
                           "own",
                           ids.size());
      return std::nullopt;
    }
  }
  SpirvModule module;
  module.version = words[1];
  for (auto [id, spec] : p.spec_id) {
    auto scalar = p.spec_scalars.find(id);
    if (scalar == p.spec_scalars.end()) continue;
    auto size = size_of(p, scalar->second, 0, 0);
    if (size) module.specialization_constants[spec] = static_cast<uint32_t>(*size);
  }
  const std::unordered_set<uint32_t> dynamic = local_memory_constants(p);
  for (const Entry& entry : p.entries) {
    if (!p.functions.contains(entry.function)) {
      *error = fmt::format("entry point '{}' names function %{}, which the module does not "
                           "define",
                           entry.name, entry.function);
      return std::nullopt;
    }
    auto e = read_entry(p, entry, limits, dynamic, error);
    if (!e) return std::nullopt;
    module.entry_points.push_back(std::move(*e));
  }
  return module;
}

}  // namespace udal::vulkan
