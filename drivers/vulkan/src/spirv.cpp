#include "spirv.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace udal::vulkan {
namespace {

constexpr uint32_t kMagic = 0x07230203;
constexpr uint32_t kVersion14 = 0x00010400;

enum Op : uint32_t {
  kOpEntryPoint = 15,
  kOpExecutionMode = 16,
  kOpSpecConstantComposite = 51,
  kOpTypeBool = 20,
  kOpTypeInt = 21,
  kOpTypeFloat = 22,
  kOpTypeVector = 23,
  kOpTypeMatrix = 24,
  kOpTypeArray = 28,
  kOpTypeRuntimeArray = 29,
  kOpTypeStruct = 30,
  kOpTypePointer = 32,
  kOpConstant = 43,
  kOpFunction = 54,
  kOpFunctionEnd = 56,
  kOpVariable = 59,
  kOpDecorate = 71,
  kOpMemberDecorate = 72,
};
enum Decoration : uint32_t {
  kBuiltIn = 11,
  kBufferBlock = 3,
  kArrayStride = 6,
  kMatrixStride = 7,
  kBinding = 33,
  kDescriptorSet = 34,
  kOffset = 35,
};
enum StorageClass : uint32_t { kUniform = 2, kPushConstant = 9, kStorageBuffer = 12 };
constexpr uint32_t kGLCompute = 5;
constexpr uint32_t kModeLocalSize = 17;
constexpr uint32_t kBuiltInWorkgroupSize = 25;

struct Type {
  uint32_t op = 0;
  std::vector<uint32_t> operands;  // the instruction's words after the result id
};

struct Parsed {
  std::unordered_map<uint32_t, Type> types;
  std::unordered_map<uint32_t, uint32_t> constants;  // 32-bit OpConstant values
  std::unordered_map<uint32_t, uint32_t> descriptor_set, binding, array_stride;
  std::unordered_set<uint32_t> buffer_block;
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> member_offset, matrix_stride;
  struct Variable {
    uint32_t pointer_type, storage;
  };
  std::unordered_map<uint32_t, Variable> variables;
  std::vector<uint32_t> variable_order;
  std::unordered_map<uint32_t, std::array<uint32_t, 3>> local_size;  // function -> LocalSize
  std::unordered_set<uint32_t> spec_composites;
  uint32_t workgroup_size_builtin = 0;  // the id decorated BuiltIn WorkgroupSize, if any
};

// Bytes of |type| as laid out in an explicitly laid out block; nullopt when unknown.
std::optional<uint64_t> size_of(const Parsed& p, uint32_t type, uint32_t matrix_stride, int depth) {
  if (depth > 16) return std::nullopt;
  auto it = p.types.find(type);
  if (it == p.types.end()) return std::nullopt;
  const Type& t = it->second;
  switch (t.op) {
    case kOpTypeBool: return 4;
    case kOpTypeInt:
    case kOpTypeFloat: return t.operands.at(0) / 8;
    case kOpTypeVector: {
      auto component = size_of(p, t.operands.at(0), 0, depth + 1);
      if (!component) return std::nullopt;
      return *component * t.operands.at(1);
    }
    case kOpTypeMatrix: {
      if (matrix_stride != 0) return uint64_t{matrix_stride} * t.operands.at(1);
      auto column = size_of(p, t.operands.at(0), 0, depth + 1);
      if (!column) return std::nullopt;
      return *column * t.operands.at(1);
    }
    case kOpTypeArray: {
      auto length = p.constants.find(t.operands.at(1));
      if (length == p.constants.end()) return std::nullopt;
      auto stride = p.array_stride.find(type);
      if (stride != p.array_stride.end()) return uint64_t{stride->second} * length->second;
      auto element = size_of(p, t.operands.at(0), 0, depth + 1);
      if (!element) return std::nullopt;
      return *element * length->second;
    }
    case kOpTypeStruct: {
      uint64_t end = 0;
      for (uint32_t m = 0; m < t.operands.size(); ++m) {
        auto offset = p.member_offset.find({type, m});
        auto stride = p.matrix_stride.find({type, m});
        auto member = size_of(p, t.operands[m], stride == p.matrix_stride.end() ? 0 : stride->second,
                              depth + 1);
        if (offset == p.member_offset.end() || !member) return std::nullopt;
        end = std::max(end, offset->second + *member);
      }
      return end;
    }
    default: return std::nullopt;
  }
}

bool is_scalar_or_vector(const Parsed& p, uint32_t type) {
  auto it = p.types.find(type);
  if (it == p.types.end()) return false;
  const uint32_t op = it->second.op;
  return op == kOpTypeBool || op == kOpTypeInt || op == kOpTypeFloat || op == kOpTypeVector;
}

}  // namespace

std::optional<SpirvModule> parse_spirv(std::span<const uint32_t> words, std::string* error) {
  if (words.size() < 5) {
    *error = fmt::format("{} words is shorter than the 5-word SPIR-V header", words.size());
    return std::nullopt;
  }
  if (words[0] != kMagic) {
    *error = fmt::format("magic number {:#010x} is not SPIR-V's {:#010x}", words[0], kMagic);
    return std::nullopt;
  }
  const uint32_t version = words[1];
  Parsed p;
  struct Entry {
    uint32_t function;
    std::string name;
    std::vector<uint32_t> interface;
  };
  std::vector<Entry> entries;
  std::unordered_set<uint32_t> functions;
  bool in_function = false;
  size_t at = 5;
  while (at < words.size()) {
    const uint32_t count = words[at] >> 16;
    const uint32_t op = words[at] & 0xffffu;
    if (count == 0 || at + count > words.size()) {
      *error = fmt::format("instruction at word {} (opcode {}, {} words) runs past the end of "
                           "the module ({} words): the image is cut short or corrupt",
                           at, op, count, words.size());
      return std::nullopt;
    }
    std::span<const uint32_t> ins = words.subspan(at + 1, count - 1);
    auto need = [&](size_t n) {
      if (ins.size() >= n) return true;
      *error = fmt::format("instruction at word {} (opcode {}) has {} operands, fewer than {}",
                           at, op, ins.size(), n);
      return false;
    };
    switch (op) {
      case kOpEntryPoint: {
        if (!need(3)) return std::nullopt;
        const char* text = reinterpret_cast<const char*>(ins.data() + 2);
        const size_t max_bytes = (ins.size() - 2) * 4;
        const size_t length = strnlen(text, max_bytes);
        if (length == max_bytes) {
          *error = fmt::format("OpEntryPoint at word {} has an unterminated name", at);
          return std::nullopt;
        }
        if (ins[0] == kGLCompute) {
          const size_t name_words = length / 4 + 1;
          entries.push_back({ins[1], std::string(text, length),
                             std::vector<uint32_t>(ins.begin() + 2 + name_words, ins.end())});
        }
        break;
      }
      case kOpTypeBool:
      case kOpTypeInt:
      case kOpTypeFloat:
      case kOpTypeVector:
      case kOpTypeMatrix:
      case kOpTypeArray:
      case kOpTypeRuntimeArray:
      case kOpTypeStruct:
      case kOpTypePointer: {
        if (!need(1)) return std::nullopt;
        const size_t operands = op == kOpTypeInt ? 2 : op == kOpTypeFloat ? 1
                              : op == kOpTypeVector || op == kOpTypeMatrix || op == kOpTypeArray ||
                                      op == kOpTypePointer ? 2
                              : op == kOpTypeRuntimeArray ? 1 : 0;
        if (!need(1 + operands)) return std::nullopt;
        p.types[ins[0]] = Type{op, std::vector<uint32_t>(ins.begin() + 1, ins.end())};
        break;
      }
      case kOpExecutionMode:
        if (!need(2)) return std::nullopt;
        if (ins[1] == kModeLocalSize) {
          if (!need(5)) return std::nullopt;
          p.local_size[ins[0]] = {ins[2], ins[3], ins[4]};
        }
        break;
      case kOpSpecConstantComposite:
        if (!need(2)) return std::nullopt;
        p.spec_composites.insert(ins[1]);
        break;
      case kOpConstant:
        if (!need(3)) return std::nullopt;
        p.constants[ins[1]] = ins[2];
        break;
      case kOpVariable:
        if (!need(3)) return std::nullopt;
        p.variables[ins[1]] = {ins[0], ins[2]};
        p.variable_order.push_back(ins[1]);
        break;
      case kOpDecorate:
        if (!need(2)) return std::nullopt;
        if (ins[1] == kBufferBlock) p.buffer_block.insert(ins[0]);
        if (ins[1] == kBuiltIn && need(3) && ins[2] == kBuiltInWorkgroupSize)
          p.workgroup_size_builtin = ins[0];
        if ((ins[1] == kDescriptorSet || ins[1] == kBinding || ins[1] == kArrayStride) && !need(3))
          return std::nullopt;
        if (ins[1] == kDescriptorSet) p.descriptor_set[ins[0]] = ins[2];
        if (ins[1] == kBinding) p.binding[ins[0]] = ins[2];
        if (ins[1] == kArrayStride) p.array_stride[ins[0]] = ins[2];
        break;
      case kOpMemberDecorate:
        if (!need(3)) return std::nullopt;
        if ((ins[2] == kOffset || ins[2] == kMatrixStride) && !need(4)) return std::nullopt;
        if (ins[2] == kOffset) p.member_offset[{ins[0], ins[1]}] = ins[3];
        if (ins[2] == kMatrixStride) p.matrix_stride[{ins[0], ins[1]}] = ins[3];
        break;
      case kOpFunction:
        if (!need(2)) return std::nullopt;
        if (in_function) {
          *error = fmt::format("OpFunction at word {} inside another function", at);
          return std::nullopt;
        }
        in_function = true;
        functions.insert(ins[1]);
        break;
      case kOpFunctionEnd:
        if (!in_function) {
          *error = fmt::format("OpFunctionEnd at word {} outside a function", at);
          return std::nullopt;
        }
        in_function = false;
        break;
      default:
        break;
    }
    at += count;
  }
  if (in_function) {
    *error = "the last function has no OpFunctionEnd: the image is cut short";
    return std::nullopt;
  }
  if (entries.empty()) {
    *error = "the module has no OpEntryPoint GLCompute (a Vulkan compute kernel)";
    return std::nullopt;
  }

  SpirvModule module;
  for (const Entry& entry : entries) {
    if (!functions.contains(entry.function)) {
      *error = fmt::format("entry point '{}' names function %{}, which the module does not "
                           "define: the image is cut short",
                           entry.name, entry.function);
      return std::nullopt;
    }
    EntryPoint e;
    e.name = entry.name;
    // A WorkgroupSize built from specialization constants (GLSL local_size_x_id) overrides
    // LocalSize; without it the shader's local size is fixed.
    const bool specialized = p.spec_composites.contains(p.workgroup_size_builtin);
    if (auto size = p.local_size.find(entry.function); size != p.local_size.end() && !specialized) {
      e.fixed_group_size = size->second;
    }
    // From SPIR-V 1.4 the interface lists every global the entry point uses; before it,
    // only inputs and outputs, so every global of the module counts.
    const std::vector<uint32_t>& ids = version >= kVersion14 ? entry.interface : p.variable_order;
    for (uint32_t id : ids) {
      auto var = p.variables.find(id);
      if (var == p.variables.end()) continue;
      auto pointer = p.types.find(var->second.pointer_type);
      if (pointer == p.types.end() || pointer->second.op != kOpTypePointer) continue;
      const uint32_t pointee = pointer->second.operands.at(1);
      const uint32_t storage = var->second.storage;
      const bool storage_buffer = storage == kStorageBuffer ||
                                  (storage == kUniform && p.buffer_block.contains(pointee));
      if (storage_buffer) {
        auto set = p.descriptor_set.find(id);
        auto binding = p.binding.find(id);
        if (set != p.descriptor_set.end() && set->second == 0 && binding != p.binding.end()) {
          e.buffer_count = std::max(e.buffer_count, binding->second + 1);
        }
      } else if (storage == kPushConstant) {
        auto bytes = size_of(p, pointee, 0, 0);
        if (!bytes) {
          *error = fmt::format("entry point '{}': the push-constant block's layout cannot be "
                               "read (a member without an Offset, or an unsized type)",
                               entry.name);
          return std::nullopt;
        }
        e.push_constant_bytes = static_cast<uint32_t>((*bytes + 3) / 4 * 4);
        auto type = p.types.find(pointee);
        if (type != p.types.end() && type->second.op == kOpTypeStruct) {
          e.value_count = static_cast<uint32_t>(type->second.operands.size());
          for (uint32_t member : type->second.operands) {
            if (!is_scalar_or_vector(p, member)) e.value_count = kUnknownCount;
          }
        } else {
          e.value_count = kUnknownCount;
        }
      }
    }
    module.entry_points.push_back(std::move(e));
  }
  return module;
}

}  // namespace udal::vulkan
