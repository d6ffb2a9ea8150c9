// A single pass over an OpenCL-flavoured SPIR-V module: structure, entry points, parameters,
// specialization constants.
#include "spirv.h"

#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace udal::opencl {

namespace {

constexpr uint32_t kMagic = 0x07230203u;
constexpr uint32_t kMaxBound = 0x3fffffu; // the smallest id bound every consumer must take

enum Op : uint32_t {
  kOpMemoryModel = 14,
  kOpEntryPoint = 15,
  kOpTypeBool = 20,
  kOpTypeInt = 21,
  kOpTypeFloat = 22,
  kOpTypeVector = 23,
  kOpTypeImage = 25,
  kOpTypeSampler = 26,
  kOpTypeSampledImage = 27,
  kOpTypeArray = 28,
  kOpTypeStruct = 30,
  kOpTypeOpaque = 31,
  kOpTypePointer = 32,
  kOpTypeEvent = 34,
  kOpTypeDeviceEvent = 35,
  kOpTypeReserveId = 36,
  kOpTypeQueue = 37,
  kOpTypePipe = 38,
  kOpConstant = 43,
  kOpSpecConstantTrue = 48,
  kOpSpecConstantFalse = 49,
  kOpSpecConstant = 50,
  kOpFunction = 54,
  kOpFunctionParameter = 55,
  kOpFunctionEnd = 56,
  kOpFunctionCall = 57,
  kOpDecorate = 71,
};

enum : uint32_t {
  kExecutionModelGLCompute = 5,
  kExecutionModelKernel = 6,
  kDecorationSpecId = 1,
  kDecorationCPacked = 10,
  kDecorationFuncParamAttr = 38,
  kParamAttrByVal = 2,
  kParamAttrNoWrite = 6,
  kParamAttrNoReadWrite = 7,
  kStorageUniformConstant = 0,
  kStorageWorkgroup = 4,
  kStorageCrossWorkgroup = 5,
  kStorageFunction = 7,
};

struct Type {
  uint32_t op = 0;
  uint32_t width = 0;     // int, float
  uint32_t element = 0;   // vector component, array element, pointee
  uint32_t count = 0;     // vector components
  uint32_t length_id = 0; // array length constant
  uint32_t storage = 0;   // pointer storage class
  std::vector<uint32_t> members;
};

struct Function {
  std::vector<uint32_t> param_types;
  std::vector<uint32_t> param_ids;
  uint32_t calls = 0;
  uint32_t callee = 0;
  std::vector<uint32_t> call_args;
};

struct EntryPoint {
  uint32_t model = 0;
  uint32_t function = 0;
  std::string name;
};

struct SizeAlign {
  uint64_t size = 0;
  uint64_t align = 1;
};

class Parser {
public:
  Parser(const uint32_t* words, size_t count, uint32_t address_bits)
      : words_(words), count_(count), address_bits_(address_bits) {}

  std::string run(SpirvModule* out);

private:
  std::string instruction(uint32_t op, const uint32_t* w, uint32_t n);
  std::optional<SizeAlign> size_of(uint32_t type, int depth) const;
  void reflect(const EntryPoint& entry, SpirvModule* out) const;
  bool has_param_attr(uint32_t param, uint32_t attr) const {
    auto it = param_attrs_.find(param);
    return it != param_attrs_.end() && it->second.count(attr) != 0;
  }
  std::string type_name(uint32_t type) const;

  const uint32_t* words_;
  size_t count_;
  uint32_t address_bits_;
  uint32_t bound_ = 0;
  bool memory_model_ = false;
  uint32_t addressing_ = 0;
  uint32_t current_function_ = 0; // 0: outside a function
  std::vector<EntryPoint> entries_;
  std::unordered_map<uint32_t, Type> types_;
  std::unordered_map<uint32_t, uint64_t> constants_;
  std::unordered_map<uint32_t, Function> functions_;
  std::unordered_map<uint32_t, std::unordered_set<uint32_t>> param_attrs_;
  std::unordered_set<uint32_t> packed_;
  std::unordered_map<uint32_t, uint32_t> spec_ids_;           // constant id -> SpecId
  std::vector<std::pair<uint32_t, uint32_t>> spec_constants_; // (constant id, type id)
};

// A literal string of an instruction starting at word |first|; nullopt when it is not
// NUL-terminated inside the instruction.
std::optional<std::string> literal_string(const uint32_t* w, uint32_t n, uint32_t first) {
  if (first >= n)
    return std::nullopt;
  const char* begin = reinterpret_cast<const char*>(w + first);
  const size_t bytes = static_cast<size_t>(n - first) * 4;
  const void* nul = std::memchr(begin, '\0', bytes);
  if (nul == nullptr)
    return std::nullopt;
  return std::string(begin, static_cast<const char*>(nul));
}

std::string Parser::instruction(uint32_t op, const uint32_t* w, uint32_t n) {
  const auto need = [&](uint32_t words) -> std::string {
    return n < words ? fmt::format("instruction with opcode {} has {} words; it needs at least {}",
                                   op, n, words)
                     : std::string();
  };
  const auto id_ok = [&](uint32_t id) { return id != 0 && id < bound_; };
  switch (op) {
  case kOpMemoryModel:
    if (auto e = need(3); !e.empty())
      return e;
    memory_model_ = true;
    addressing_ = w[1];
    break;
  case kOpEntryPoint: {
    if (auto e = need(4); !e.empty())
      return e;
    auto name = literal_string(w, n, 3);
    if (!name)
      return "OpEntryPoint's name is not a NUL-terminated string";
    entries_.push_back({w[1], w[2], std::move(*name)});
    break;
  }
  case kOpTypeBool:
  case kOpTypeImage:
  case kOpTypeSampler:
  case kOpTypeSampledImage:
  case kOpTypeOpaque:
  case kOpTypeEvent:
  case kOpTypeDeviceEvent:
  case kOpTypeReserveId:
  case kOpTypeQueue:
  case kOpTypePipe:
    if (auto e = need(2); !e.empty())
      return e;
    if (!id_ok(w[1]))
      return fmt::format("type id {} is outside the id bound {}", w[1], bound_);
    types_[w[1]].op = op;
    break;
  case kOpTypeInt:
  case kOpTypeFloat: {
    if (auto e = need(3); !e.empty())
      return e;
    if (!id_ok(w[1]))
      return fmt::format("type id {} is outside the id bound {}", w[1], bound_);
    Type& t = types_[w[1]];
    t.op = op;
    t.width = w[2];
    break;
  }
  case kOpTypeVector: {
    if (auto e = need(4); !e.empty())
      return e;
    if (!id_ok(w[1]))
      return fmt::format("type id {} is outside the id bound {}", w[1], bound_);
    Type& t = types_[w[1]];
    t.op = op;
    t.element = w[2];
    t.count = w[3];
    break;
  }
  case kOpTypeArray: {
    if (auto e = need(4); !e.empty())
      return e;
    if (!id_ok(w[1]))
      return fmt::format("type id {} is outside the id bound {}", w[1], bound_);
    Type& t = types_[w[1]];
    t.op = op;
    t.element = w[2];
    t.length_id = w[3];
    break;
  }
  case kOpTypeStruct: {
    if (auto e = need(2); !e.empty())
      return e;
    if (!id_ok(w[1]))
      return fmt::format("type id {} is outside the id bound {}", w[1], bound_);
    Type& t = types_[w[1]];
    t.op = op;
    t.members.assign(w + 2, w + n);
    break;
  }
  case kOpTypePointer: {
    if (auto e = need(4); !e.empty())
      return e;
    if (!id_ok(w[1]))
      return fmt::format("type id {} is outside the id bound {}", w[1], bound_);
    Type& t = types_[w[1]];
    t.op = op;
    t.storage = w[2];
    t.element = w[3];
    break;
  }
  case kOpConstant:
    if (auto e = need(4); !e.empty())
      return e;
    constants_[w[2]] = n >= 5 ? (static_cast<uint64_t>(w[4]) << 32 | w[3]) : w[3];
    break;
  case kOpSpecConstantTrue:
  case kOpSpecConstantFalse:
  case kOpSpecConstant:
    if (auto e = need(3); !e.empty())
      return e;
    spec_constants_.emplace_back(w[2], w[1]);
    break;
  case kOpFunction:
    if (auto e = need(5); !e.empty())
      return e;
    if (current_function_ != 0) {
      return fmt::format("function %{} begins inside function %{} (no OpFunctionEnd)", w[2],
                         current_function_);
    }
    if (!id_ok(w[2])) {
      return fmt::format("function id {} is outside the id bound {}", w[2], bound_);
    }
    if (functions_.count(w[2]) != 0)
      return fmt::format("function %{} is defined twice", w[2]);
    current_function_ = w[2];
    functions_[w[2]];
    break;
  case kOpFunctionParameter: {
    if (auto e = need(3); !e.empty())
      return e;
    if (current_function_ == 0)
      return "OpFunctionParameter outside a function";
    Function& f = functions_[current_function_];
    f.param_types.push_back(w[1]);
    f.param_ids.push_back(w[2]);
    break;
  }
  case kOpFunctionCall: {
    if (auto e = need(4); !e.empty())
      return e;
    if (current_function_ == 0)
      return "OpFunctionCall outside a function";
    Function& f = functions_[current_function_];
    ++f.calls;
    f.callee = w[3];
    f.call_args.assign(w + 4, w + n);
    break;
  }
  case kOpFunctionEnd:
    if (current_function_ == 0)
      return "OpFunctionEnd outside a function";
    current_function_ = 0;
    break;
  case kOpDecorate:
    if (auto e = need(3); !e.empty())
      return e;
    if (w[2] == kDecorationSpecId && n >= 4)
      spec_ids_[w[1]] = w[3];
    if (w[2] == kDecorationFuncParamAttr && n >= 4)
      param_attrs_[w[1]].insert(w[3]);
    if (w[2] == kDecorationCPacked)
      packed_.insert(w[1]);
    break;
  default:
    break;
  }
  return {};
}

std::optional<SizeAlign> Parser::size_of(uint32_t type, int depth) const {
  if (depth > 32)
    return std::nullopt;
  auto it = types_.find(type);
  if (it == types_.end())
    return std::nullopt;
  const Type& t = it->second;
  switch (t.op) {
  case kOpTypeInt:
  case kOpTypeFloat:
    if (t.width != 8 && t.width != 16 && t.width != 32 && t.width != 64)
      return std::nullopt;
    return SizeAlign{t.width / 8u, t.width / 8u};
  case kOpTypePointer:
    return SizeAlign{address_bits_ / 8u, address_bits_ / 8u};
  case kOpTypeVector: {
    auto component = size_of(t.element, depth + 1);
    if (!component ||
        (t.count != 2 && t.count != 3 && t.count != 4 && t.count != 8 && t.count != 16)) {
      return std::nullopt;
    }
    const uint64_t size = component->size * (t.count == 3 ? 4u : t.count);
    return SizeAlign{size, size};
  }
  case kOpTypeArray: {
    auto element = size_of(t.element, depth + 1);
    auto length = constants_.find(t.length_id);
    if (!element || length == constants_.end() || length->second > (1u << 24)) {
      return std::nullopt;
    }
    return SizeAlign{element->size * length->second, element->align};
  }
  case kOpTypeStruct: {
    const bool packed = packed_.count(type) != 0;
    SizeAlign s{0, 1};
    for (uint32_t member : t.members) {
      auto m = size_of(member, depth + 1);
      if (!m)
        return std::nullopt;
      const uint64_t align = packed ? 1 : m->align;
      s.size = (s.size + align - 1) / align * align + m->size;
      if (align > s.align)
        s.align = align;
    }
    s.size = (s.size + s.align - 1) / s.align * s.align;
    return s;
  }
  default:
    return std::nullopt;
  }
}

std::string Parser::type_name(uint32_t type) const {
  auto it = types_.find(type);
  if (it == types_.end())
    return fmt::format("type %{}", type);
  switch (it->second.op) {
  case kOpTypeImage:
  case kOpTypeSampledImage:
    return "an image";
  case kOpTypeSampler:
    return "a sampler";
  case kOpTypePipe:
    return "a pipe";
  case kOpTypeQueue:
    return "a device queue";
  case kOpTypeEvent:
  case kOpTypeDeviceEvent:
    return "an event";
  case kOpTypeReserveId:
    return "a pipe reservation";
  case kOpTypeBool:
    return "a bool";
  default:
    return fmt::format("type %{}", type);
  }
}

void Parser::reflect(const EntryPoint& entry, SpirvModule* out) const {
  const Function& f = functions_.at(entry.function);
  // Compilers wrap each kernel in an entry point that only calls the kernel's body with its
  // own parameters; the body's parameters carry the decorations.
  const Function* body = nullptr;
  if (f.calls == 1 && f.call_args == f.param_ids) {
    auto callee = functions_.find(f.callee);
    if (callee != functions_.end() && callee->second.param_ids.size() == f.param_ids.size()) {
      body = &callee->second;
    }
  }
  const auto attr = [&](size_t i, uint32_t a) {
    return has_param_attr(f.param_ids[i], a) ||
           (body != nullptr && has_param_attr(body->param_ids[i], a));
  };
  KernelReflection r;
  const size_t count = f.param_types.size();
  for (size_t i = 0; i < count; ++i) {
    auto it = types_.find(f.param_types[i]);
    if (it == types_.end()) {
      r.unsupported = fmt::format("parameter {} has an undefined type %{}", i, f.param_types[i]);
      continue;
    }
    const Type& t = it->second;
    ArgReflection arg;
    if (t.op == kOpTypePointer) {
      switch (t.storage) {
      case kStorageCrossWorkgroup:
      case kStorageUniformConstant:
        arg.kind = UDAL_ARG_KIND_BUFFER;
        arg.access = t.storage == kStorageUniformConstant || attr(i, kParamAttrNoWrite) ||
                             attr(i, kParamAttrNoReadWrite)
                         ? UDAL_ARG_ACCESS_READ
                         : UDAL_ARG_ACCESS_READ_WRITE;
        break;
      case kStorageWorkgroup:
        if (i + 1 != count || r.uses_local_memory) {
          r.unsupported = fmt::format(
              "parameter {} is a Workgroup (local) pointer but not the last parameter (the "
              "launch's dynamic local memory arrives as one trailing local pointer only)",
              i);
        }
        r.uses_local_memory = true;
        continue;
      case kStorageFunction:
        if (attr(i, kParamAttrByVal)) {
          arg.kind = UDAL_ARG_KIND_VALUE;
          auto size = size_of(t.element, 0);
          arg.value_size = size ? static_cast<uint32_t>(size->size) : 0;
          break;
        }
        [[fallthrough]];
      default:
        r.unsupported =
            fmt::format("parameter {} is a pointer in storage class {}, which a launch cannot pass",
                        i, t.storage);
        continue;
      }
    } else {
      auto size = size_of(f.param_types[i], 0);
      if (!size && t.op != kOpTypeStruct && t.op != kOpTypeArray && t.op != kOpTypeVector &&
          t.op != kOpTypeInt && t.op != kOpTypeFloat) {
        r.unsupported = fmt::format("parameter {} is {}, which UDAL does not model", i,
                                    type_name(f.param_types[i]));
        continue;
      }
      arg.kind = UDAL_ARG_KIND_VALUE;
      arg.value_size = size ? static_cast<uint32_t>(size->size) : 0;
    }
    if (arg.kind == UDAL_ARG_KIND_VALUE && arg.value_size == 0 && r.undescribed.empty()) {
      r.undescribed = fmt::format("the size of parameter {} cannot be derived from the SPIR-V", i);
    }
    r.args.push_back(arg);
  }
  r.kinds_known = true;
  out->reflection.kernels[entry.name] = std::move(r);
}

std::string Parser::run(SpirvModule* out) {
  if (words_[0] != kMagic) {
    return words_[0] == 0x03022307u
               ? std::string("the module is byte-swapped SPIR-V, which the driver does not take")
               : fmt::format("the first word is {:#010x}, not the SPIR-V magic number 0x07230203",
                             words_[0]);
  }
  const uint32_t major = (words_[1] >> 16) & 0xff;
  const uint32_t minor = (words_[1] >> 8) & 0xff;
  if (major != 1 || minor > 6) {
    return fmt::format("SPIR-V version {}.{} is not one the driver knows (1.0 - 1.6)", major,
                       minor);
  }
  bound_ = words_[3];
  if (bound_ == 0 || bound_ > kMaxBound) {
    return fmt::format("the id bound {} is not in 1..{}", bound_, kMaxBound);
  }
  size_t at = 5;
  while (at < count_) {
    const uint32_t n = words_[at] >> 16;
    const uint32_t op = words_[at] & 0xffff;
    if (n == 0)
      return fmt::format("the instruction at word {} has a word count of 0", at);
    if (n > count_ - at) {
      return fmt::format("the instruction at word {} (opcode {}, {} words) runs past the end of "
                         "the module ({} words): truncated?",
                         at, op, n, count_);
    }
    if (std::string why = instruction(op, words_ + at, n); !why.empty()) {
      return fmt::format("{} (at word {})", why, at);
    }
    at += n;
  }
  if (current_function_ != 0) {
    return fmt::format("the module ends inside function %{} (no OpFunctionEnd): truncated?",
                       current_function_);
  }
  if (!memory_model_)
    return "the module has no OpMemoryModel";
  const uint32_t want = address_bits_ == 32 ? 1u : 2u;
  if (addressing_ != want) {
    return fmt::format("the module's addressing model is {} but the device has {}-bit "
                       "addresses (Physical{} needed)",
                       addressing_ == 1   ? "Physical32"
                       : addressing_ == 2 ? "Physical64"
                                          : fmt::format("{}", addressing_),
                       address_bits_, address_bits_);
  }
  std::unordered_set<std::string> names;
  for (const EntryPoint& e : entries_) {
    if (e.model == kExecutionModelGLCompute) {
      return fmt::format("entry point '{}' is GLCompute: this is Vulkan-flavoured SPIR-V "
                         "(SPIRV_COMPUTE), not SPIRV_KERNEL",
                         e.name);
    }
    if (e.model != kExecutionModelKernel)
      continue;
    if (functions_.count(e.function) == 0) {
      return fmt::format("entry point '{}' names function %{}, which the module does not define "
                         "(truncated?)",
                         e.name, e.function);
    }
    if (!names.insert(e.name).second) {
      return fmt::format("two Kernel entry points are named '{}'", e.name);
    }
    out->kernels.push_back(e.name);
    reflect(e, out);
  }
  if (out->kernels.empty())
    return "the module has no Kernel entry point";
  for (const auto& [constant, type] : spec_constants_) {
    auto id = spec_ids_.find(constant);
    if (id == spec_ids_.end())
      continue;
    SpirvSpecConstant c;
    c.id = id->second;
    auto t = types_.find(type);
    if (t != types_.end() && t->second.op == kOpTypeBool) {
      c.size = 1;
      c.is_bool = true;
    } else if (auto size = size_of(type, 0); size && size->size <= 8) {
      c.size = static_cast<uint32_t>(size->size);
    } else {
      continue; // a composite: not one a launch can set
    }
    out->spec_constants.push_back(c);
  }
  out->addressing_model = addressing_;
  return {};
}

} // namespace

std::string parse_spirv(const void* data, size_t size, uint32_t address_bits, SpirvModule* out) {
  *out = SpirvModule{};
  if (size < 20) {
    return fmt::format("{} bytes are too few for a SPIR-V module (its header alone is 20)", size);
  }
  if (size % 4 != 0) {
    return fmt::format("{} bytes is not a whole number of 32-bit words: truncated?", size);
  }
  // The caller's bytes need not be 4-byte aligned.
  std::vector<uint32_t> words(size / 4);
  std::memcpy(words.data(), data, size);
  Parser parser(words.data(), words.size(), address_bits);
  std::string why = parser.run(out);
  if (!why.empty())
    *out = SpirvModule{};
  return why;
}

} // namespace udal::opencl
