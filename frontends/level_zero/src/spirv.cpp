// The SPIR-V reading of libze_udal: one pass over the instructions, then each entry point's
// parameters are described from the types (see spirv.h).
#include "spirv.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace udal::ze::spirv {

namespace {

constexpr uint32_t kMagic = 0x07230203u;

enum Op : uint32_t {
  kOpMemoryModel = 14,
  kOpEntryPoint = 15,
  kOpExecutionMode = 16,
  kOpTypeVoid = 19,
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
  kOpConstant = 43,
  kOpSpecConstantTrue = 48,
  kOpSpecConstantFalse = 49,
  kOpSpecConstant = 50,
  kOpFunction = 54,
  kOpFunctionParameter = 55,
  kOpFunctionEnd = 56,
  kOpVariable = 59,
  kOpDecorate = 71,
};

constexpr uint32_t kExecutionModelKernel = 6;
constexpr uint32_t kModeLocalSize = 17;
constexpr uint32_t kModeLocalSizeHint = 18;
constexpr uint32_t kModeVecTypeHint = 30;
constexpr uint32_t kModeSubgroupSize = 35;
constexpr uint32_t kDecorationBuiltIn = 11;
constexpr uint32_t kDecorationSpecId = 1;
constexpr uint32_t kDecorationLinkageAttributes = 41;
constexpr uint32_t kLinkageImport = 1;
constexpr uint32_t kStorageUniformConstant = 0;
constexpr uint32_t kStorageWorkgroup = 4;
constexpr uint32_t kStorageCrossWorkgroup = 5;
constexpr uint32_t kStorageFunction = 7;
constexpr uint32_t kStorageGeneric = 8;

struct Type {
  uint32_t op = 0;
  uint32_t width = 0;              // int/float bits
  uint32_t element = 0;            // vector/array/pointer element
  uint32_t count = 0;              // vector components; array length constant id
  uint32_t storage = 0;            // pointer
  std::vector<uint32_t> members;   // struct
};

struct Layout {
  uint64_t size = 0;
  uint64_t align = 1;
};

struct Function {
  uint32_t id = 0;
  std::vector<uint32_t> param_types;
  std::vector<uint32_t> param_ids;
  int calls = 0;                   // OpFunctionCalls in its body
  uint32_t callee = 0;             // the first one's callee
  std::vector<uint32_t> call_args;  // and its arguments
};

constexpr uint32_t kDecorationFuncParamAttr = 38;
constexpr uint32_t kParamAttrNoWrite = 6;
constexpr uint32_t kParamAttrNoReadWrite = 7;

class Parser {
 public:
  Parser(const uint32_t* words, size_t count) : words_(words), count_(count) {}

  std::string run(Info* out) {
    if (count_ < 5) return fmt::format("{} words are fewer than the 5 of a SPIR-V header", count_);
    if (words_[0] != kMagic) {
      return words_[0] == 0x03022307u
                 ? std::string("the module is byte-swapped SPIR-V")
                 : fmt::format("the first word is {:#010x}, not the SPIR-V magic 0x07230203",
                               words_[0]);
    }
    out->version = words_[1];
    Function* current = nullptr;
    for (size_t at = 5; at < count_;) {
      const uint32_t n = words_[at] >> 16;
      const uint32_t op = words_[at] & 0xffffu;
      if (n == 0 || at + n > count_) {
        return fmt::format("instruction at word {} (opcode {}) has length {}, past the end", at,
                           op, n);
      }
      const uint32_t* w = words_ + at;
      if (std::string e = instruction(op, w, n, &current, out); !e.empty()) {
        return fmt::format("instruction at word {} (opcode {}): {}", at, op, e);
      }
      at += n;
    }
    for (const Entry& entry : entries_) {
      Kernel kernel;
      kernel.name = entry.name;
      auto f = functions_.find(entry.function);
      if (f == functions_.end()) {
        return fmt::format("entry point '{}' names no function (%{})", entry.name,
                           entry.function);
      }
      // Compilers wrap a kernel in an entry point that only calls the kernel's body with its
      // own parameters; the body's parameters may carry the decorations.
      const Function* body = nullptr;
      if (f->second.calls == 1 && f->second.call_args == f->second.param_ids) {
        auto callee = functions_.find(f->second.callee);
        if (callee != functions_.end() && callee->second.param_ids.size() == f->second.param_ids.size()) {
          body = &callee->second;
        }
      }
      for (size_t i = 0; i < f->second.param_types.size(); ++i) {
        Arg arg = describe(f->second.param_types[i]);
        if (arg.kind == ArgKind::kGlobal) {
          auto attr = [&](uint32_t a) {
            return has_attr(f->second.param_ids[i], a) ||
                   (body != nullptr && has_attr(body->param_ids[i], a));
          };
          arg.read_only = arg.read_only || attr(kParamAttrNoWrite) || attr(kParamAttrNoReadWrite);
        }
        kernel.args.push_back(std::move(arg));
      }
      auto mode = local_sizes_.find(entry.function);
      if (mode != local_sizes_.end()) {
        for (int i = 0; i < 3; ++i) kernel.required_group_size[i] = mode->second[i];
      }
      auto sub = subgroup_sizes_.find(entry.function);
      if (sub != subgroup_sizes_.end()) kernel.required_subgroup_size = sub->second;
      auto attributes = attributes_.find(entry.function);
      if (attributes != attributes_.end()) kernel.attributes = attributes->second;
      out->kernels.push_back(std::move(kernel));
    }
    for (const auto& [constant, type] : spec_types_) {
      auto id = spec_ids_.find(constant);
      if (id == spec_ids_.end()) continue;
      SpecConstant c;
      c.id = id->second;
      auto t = types_.find(type);
      if (t != types_.end() && t->second.op == kOpTypeBool) {
        c.size = 1;
      } else if (auto layout = layout_of(type, 0); layout && layout->size <= 8) {
        c.size = static_cast<uint32_t>(layout->size);
      } else {
        continue;
      }
      out->spec_constants.push_back(c);
    }
    for (uint32_t target : imported_) {
      if (builtins_.count(target) == 0) out->imports = true;
    }
    out->pointer_bytes = pointer_bytes_;
    return {};
  }

 private:
  struct Entry {
    uint32_t function;
    std::string name;
  };

  void add_attribute(uint32_t function, const std::string& text) {
    std::string& all = attributes_[function];
    if (!all.empty()) all += " ";
    all += text;
  }

  // OpenCL's vec_type_hint operand: the low 16 bits name the scalar type, the high 16 bits
  // the component count.
  static std::string vec_type_hint(uint32_t hint) {
    static const char* const kTypes[] = {"char", "short", "int", "long", "half", "float", "double"};
    const uint32_t type = hint & 0xffffu;
    const uint32_t count = hint >> 16;
    std::string name = type < 7 ? kTypes[type] : "int";
    if (count > 1) name += std::to_string(count);
    return "vec_type_hint(" + name + ")";
  }

  static std::optional<std::string> literal(const uint32_t* w, uint32_t n, uint32_t first) {
    std::string s;
    for (uint32_t i = first; i < n; ++i) {
      for (int b = 0; b < 4; ++b) {
        const char c = static_cast<char>((w[i] >> (8 * b)) & 0xffu);
        if (c == '\0') return s;
        s.push_back(c);
      }
    }
    return std::nullopt;
  }

  std::string instruction(uint32_t op, const uint32_t* w, uint32_t n, Function** current,
                          Info* out) {
    auto need = [&](uint32_t words) -> bool { return n >= words; };
    switch (op) {
      case kOpMemoryModel:
        if (!need(3)) return "too short";
        pointer_bytes_ = w[1] == 1 ? 4 : 8;
        break;
      case kOpEntryPoint: {
        if (!need(4)) return "too short";
        if (w[1] != kExecutionModelKernel) break;
        auto name = literal(w, n, 3);
        if (!name) return "the entry point's name is not NUL-terminated";
        entries_.push_back({w[2], std::move(*name)});
        break;
      }
      case kOpExecutionMode:
        if (!need(3)) return "too short";
        if (w[2] == kModeLocalSize && n >= 6) {
          local_sizes_[w[1]] = {w[3], w[4], w[5]};
          add_attribute(w[1], fmt::format("reqd_work_group_size({},{},{})", w[3], w[4], w[5]));
        } else if (w[2] == kModeLocalSizeHint && n >= 6) {
          add_attribute(w[1], fmt::format("work_group_size_hint({},{},{})", w[3], w[4], w[5]));
        } else if (w[2] == kModeVecTypeHint && n >= 4) {
          add_attribute(w[1], vec_type_hint(w[3]));
        } else if (w[2] == kModeSubgroupSize && n >= 4) {
          subgroup_sizes_[w[1]] = w[3];
        }
        break;
      case kOpDecorate:
        if (!need(3)) return "too short";
        if (w[2] == kDecorationSpecId && n >= 4) spec_ids_[w[1]] = w[3];
        if (w[2] == kDecorationLinkageAttributes && n >= 5 && w[n - 1] == kLinkageImport) {
          imported_.insert(w[1]);
        }
        if (w[2] == kDecorationBuiltIn) builtins_.insert(w[1]);
        if (w[2] == kDecorationFuncParamAttr && n >= 4) param_attrs_.insert({w[1], w[3]});
        break;
      case kOpTypeVoid:
      case kOpTypeBool:
      case kOpTypeImage:
      case kOpTypeSampler:
      case kOpTypeSampledImage:
      case kOpTypeOpaque:
      case kOpTypeEvent:
        if (!need(2)) return "too short";
        types_[w[1]].op = op;
        break;
      case kOpTypeInt:
      case kOpTypeFloat:
        if (!need(3)) return "too short";
        types_[w[1]] = Type{op, w[2], 0, 0, 0, {}};
        break;
      case kOpTypeVector:
      case kOpTypeArray:
        if (!need(4)) return "too short";
        types_[w[1]] = Type{op, 0, w[2], w[3], 0, {}};
        break;
      case kOpTypeStruct: {
        if (!need(2)) return "too short";
        Type t;
        t.op = op;
        t.members.assign(w + 2, w + n);
        types_[w[1]] = std::move(t);
        break;
      }
      case kOpTypePointer:
        if (!need(4)) return "too short";
        types_[w[1]] = Type{op, 0, w[3], 0, w[2], {}};
        break;
      case kOpConstant:
        if (!need(4)) return "too short";
        constants_[w[2]] = n >= 5 ? (uint64_t{w[4]} << 32) | w[3] : w[3];
        break;
      case kOpSpecConstantTrue:
      case kOpSpecConstantFalse:
      case kOpSpecConstant:
        if (!need(3)) return "too short";
        spec_types_[w[2]] = w[1];
        break;
      case kOpFunction:
        if (!need(5)) return "too short";
        if (*current != nullptr) return "OpFunction inside a function";
        functions_[w[2]].id = w[2];
        *current = &functions_[w[2]];
        break;
      case kOpFunctionParameter:
        if (!need(3)) return "too short";
        if (*current == nullptr) return "OpFunctionParameter outside a function";
        (*current)->param_types.push_back(w[1]);
        (*current)->param_ids.push_back(w[2]);
        break;
      case 57:  // OpFunctionCall
        if (*current != nullptr && n >= 4) {
          if ((*current)->calls++ == 0) {
            (*current)->callee = w[3];
            (*current)->call_args.assign(w + 4, w + n);
          }
        }
        break;
      case kOpFunctionEnd:
        *current = nullptr;
        break;
      case kOpVariable:
        if (!need(4)) return "too short";
        if (*current == nullptr && w[3] == kStorageCrossWorkgroup) out->global_variables = true;
        break;
      default:
        break;
    }
    return {};
  }

  std::optional<Layout> layout_of(uint32_t id, int depth) const {
    if (depth > 16) return std::nullopt;
    auto it = types_.find(id);
    if (it == types_.end()) return std::nullopt;
    const Type& t = it->second;
    switch (t.op) {
      case kOpTypeBool:
        return Layout{1, 1};
      case kOpTypeInt:
      case kOpTypeFloat:
        if (t.width % 8 != 0 || t.width == 0) return std::nullopt;
        return Layout{t.width / 8, t.width / 8};
      case kOpTypePointer:
        return Layout{pointer_bytes_, pointer_bytes_};
      case kOpTypeVector: {
        auto e = layout_of(t.element, depth + 1);
        if (!e) return std::nullopt;
        const uint64_t lanes = t.count == 3 ? 4 : t.count;
        return Layout{e->size * lanes, e->size * lanes};
      }
      case kOpTypeArray: {
        auto e = layout_of(t.element, depth + 1);
        auto length = constants_.find(t.count);
        if (!e || length == constants_.end()) return std::nullopt;
        return Layout{e->size * length->second, e->align};
      }
      case kOpTypeStruct: {
        Layout l{0, 1};
        for (uint32_t member : t.members) {
          auto m = layout_of(member, depth + 1);
          if (!m) return std::nullopt;
          l.size = (l.size + m->align - 1) / m->align * m->align + m->size;
          if (m->align > l.align) l.align = m->align;
        }
        l.size = (l.size + l.align - 1) / l.align * l.align;
        return l;
      }
      default:
        return std::nullopt;
    }
  }

  Arg describe(uint32_t type) const {
    Arg arg;
    auto it = types_.find(type);
    if (it == types_.end()) {
      arg.what = fmt::format("an undefined type %{}", type);
      return arg;
    }
    const Type& t = it->second;
    switch (t.op) {
      case kOpTypePointer:
        arg.size = pointer_bytes_;
        switch (t.storage) {
          case kStorageCrossWorkgroup:
          case kStorageUniformConstant:
          case kStorageGeneric:
            arg.kind = ArgKind::kGlobal;
            arg.read_only = t.storage == kStorageUniformConstant;
            return arg;
          case kStorageWorkgroup:
            arg.kind = ArgKind::kLocal;
            return arg;
          case kStorageFunction: {  // a struct passed by value (ByVal)
            auto l = layout_of(t.element, 0);
            if (!l) {
              arg.what = "a by-value parameter of unknown size";
              return arg;
            }
            arg.kind = ArgKind::kValue;
            arg.size = static_cast<uint32_t>(l->size);
            return arg;
          }
          default:
            arg.what = fmt::format("a pointer in storage class {}", t.storage);
            return arg;
        }
      case kOpTypeImage:
      case kOpTypeSampledImage:
        arg.what = "an image";
        return arg;
      case kOpTypeSampler:
        arg.what = "a sampler";
        return arg;
      case kOpTypeEvent:
        arg.what = "an event";
        return arg;
      default: {
        auto l = layout_of(type, 0);
        if (!l || t.op == kOpTypeBool) {
          arg.what = "a value of a type UDAL does not model";
          return arg;
        }
        arg.kind = ArgKind::kValue;
        arg.size = static_cast<uint32_t>(l->size);
        return arg;
      }
    }
  }

  const uint32_t* words_;
  size_t count_;
  uint32_t pointer_bytes_ = 8;
  std::vector<Entry> entries_;
  std::map<uint32_t, Type> types_;
  std::map<uint32_t, uint64_t> constants_;
  std::map<uint32_t, uint32_t> spec_ids_;    // constant id → SpecId
  std::map<uint32_t, uint32_t> spec_types_;  // constant id → type
  std::map<uint32_t, Function> functions_;
  std::map<uint32_t, std::vector<uint32_t>> local_sizes_;
  std::map<uint32_t, uint32_t> subgroup_sizes_;
  std::map<uint32_t, std::string> attributes_;
  std::set<uint32_t> imported_;
  std::set<uint32_t> builtins_;
  std::set<std::pair<uint32_t, uint32_t>> param_attrs_;  // (parameter id, FuncParamAttr)

  bool has_attr(uint32_t id, uint32_t attr) const { return param_attrs_.count({id, attr}) != 0; }
};

}  // namespace

std::string parse(const uint32_t* words, size_t count, Info* out) {
  *out = Info{};
  return Parser(words, count).run(out);
}

namespace {

struct Inst {
  uint32_t op;
  std::vector<uint32_t> w;  // every word, the first included
};

Inst make(uint32_t op, std::vector<uint32_t> operands) {
  Inst i;
  i.op = op;
  i.w.reserve(operands.size() + 1);
  i.w.push_back(static_cast<uint32_t>((operands.size() + 1) << 16) | op);
  i.w.insert(i.w.end(), operands.begin(), operands.end());
  return i;
}

std::string literal_of(const Inst& inst, size_t first) {
  std::string out;
  for (size_t i = first; i < inst.w.size(); ++i) {
    for (int b = 0; b < 4; ++b) {
      const char c = static_cast<char>((inst.w[i] >> (8 * b)) & 0xffu);
      if (c == '\0') return out;
      out.push_back(c);
    }
  }
  return out;
}

constexpr uint32_t kOpString = 7;
constexpr uint32_t kOpCapability = 17;
constexpr uint32_t kOpTypeFunction = 33;
constexpr uint32_t kOpFunctionCall = 57;
constexpr uint32_t kOpInBoundsPtrAccessChain = 70;
constexpr uint32_t kOpGroupDecorate = 74;
constexpr uint32_t kOpCopyObject = 83;
constexpr uint32_t kOpBitcast = 124;
constexpr uint32_t kOpLabel = 248;
constexpr uint32_t kOpLine = 8;
constexpr uint32_t kOpNoLine = 317;
constexpr uint32_t kOpDecorateId = 332;
constexpr uint32_t kCapabilityInt8 = 39;
constexpr uint32_t kCapabilityInt64 = 11;

}  // namespace

std::string rewrite_locals(std::vector<uint32_t>* words, Info* info) {
  return rewrite_kernels(words, info, false);
}

std::string rewrite_kernels(std::vector<uint32_t>* words, Info* info, bool global_offsets) {
  std::vector<uint32_t>& in = *words;
  if (in.size() < 5) return "too short";
  std::vector<Inst> insts;
  for (size_t at = 5; at < in.size();) {
    const uint32_t n = in[at] >> 16;
    if (n == 0 || at + n > in.size()) return "malformed instruction";
    Inst inst;
    inst.op = in[at] & 0xffffu;
    inst.w.assign(in.begin() + static_cast<std::ptrdiff_t>(at), in.begin() + static_cast<std::ptrdiff_t>(at + n));
    insts.push_back(std::move(inst));
    at += n;
  }
  uint32_t bound = in[3];
  // Entry points, types, functions and calls.
  std::map<uint32_t, std::string> entries;  // function id -> kernel name
  std::map<uint32_t, uint32_t> pointer_storage;
  std::map<uint32_t, size_t> function_at;   // function id -> index of its OpFunction
  std::map<uint32_t, int> calls;            // function id -> OpFunctionCalls naming it
  bool has_int8 = false, has_int64 = false;
  uint32_t uint_id = 0, uchar_id = 0, ulong_id = 0;
  std::map<uint32_t, uint32_t> uchar_pointer;  // storage class -> OpTypePointer %uchar
  for (size_t k = 0; k < insts.size(); ++k) {
    const Inst& i = insts[k];
    if (i.op == kOpEntryPoint && i.w.size() >= 4 && i.w[1] == kExecutionModelKernel) {
      entries[i.w[2]] = literal_of(i, 3);
    } else if (i.op == kOpCapability && i.w.size() >= 2 && i.w[1] == kCapabilityInt8) {
      has_int8 = true;
    } else if (i.op == kOpCapability && i.w.size() >= 2 && i.w[1] == kCapabilityInt64) {
      has_int64 = true;
    } else if (i.op == kOpTypeInt && i.w.size() >= 4 && i.w[3] == 0) {
      if (i.w[2] == 32 && uint_id == 0) uint_id = i.w[1];
      if (i.w[2] == 8 && uchar_id == 0) uchar_id = i.w[1];
      if (i.w[2] == 64 && ulong_id == 0) ulong_id = i.w[1];
    } else if (i.op == kOpTypePointer && i.w.size() >= 4) {
      pointer_storage[i.w[1]] = i.w[2];
      if (uchar_id != 0 && i.w[3] == uchar_id && !uchar_pointer.count(i.w[2])) uchar_pointer[i.w[2]] = i.w[1];
    } else if (i.op == kOpFunction && i.w.size() >= 5) {
      function_at[i.w[2]] = k;
    } else if (i.op == kOpFunctionCall && i.w.size() >= 4) {
      ++calls[i.w[3]];
    }
  }
  auto params_of = [&](size_t k) {
    std::vector<size_t> out;
    for (size_t p = k + 1; p < insts.size() && insts[p].op == kOpFunctionParameter; ++p) out.push_back(p);
    return out;
  };
  auto is_local = [&](const Inst& param) {
    auto storage = pointer_storage.find(param.w[1]);
    return storage != pointer_storage.end() && storage->second == kStorageWorkgroup;
  };
  auto global_storage = [&](const Inst& param) -> uint32_t {  // 0: not a global pointer
    auto storage = pointer_storage.find(param.w[1]);
    if (storage == pointer_storage.end()) return 0;
    const uint32_t sc = storage->second;
    return sc == kStorageCrossWorkgroup || sc == kStorageUniformConstant || sc == kStorageGeneric ? sc + 1000 : 0;
  };
  // Compilers wrap a kernel in an entry point that only calls the kernel's body with its own
  // parameters: the body is then what is rewritten, and the wrapper passes the new ones on.
  auto wrapped_body = [&](size_t k) -> size_t {
    const std::vector<size_t> params = params_of(k);
    size_t at = params.empty() ? k + 1 : params.back() + 1;
    if (at + 3 >= insts.size() || insts[at].op != kOpLabel) return SIZE_MAX;
    const Inst& call = insts[at + 1];
    if (call.op != kOpFunctionCall || call.w.size() != 4 + params.size()) return SIZE_MAX;
    for (size_t i = 0; i < params.size(); ++i) {
      if (call.w[4 + i] != insts[params[i]].w[2]) return SIZE_MAX;
    }
    if (insts[at + 2].op != 253 /*OpReturn*/ || insts[at + 3].op != kOpFunctionEnd) return SIZE_MAX;
    auto body = function_at.find(call.w[3]);
    if (body == function_at.end() || calls[call.w[3]] != 1) return SIZE_MAX;
    return body->second;
  };
  struct Target {
    size_t entry;
    size_t body;  // == entry when the entry point is not a wrapper
    std::string name;
  };
  std::vector<Target> targets;
  for (const auto& [id, name] : entries) {
    auto f = function_at.find(id);
    if (f == function_at.end()) continue;
    size_t locals = 0, globals = 0;
    bool last_local = false;
    for (size_t p : params_of(f->second)) {
      last_local = is_local(insts[p]);
      locals += last_local ? 1 : 0;
      globals += global_storage(insts[p]) != 0 ? 1 : 0;
    }
    const bool locals_need = !(locals == 0 || (locals == 1 && last_local));
    if (!locals_need && !(global_offsets && globals > 0)) continue;
    if (calls[id] != 0) continue;  // another function calls the kernel: leave it
    const size_t body = wrapped_body(f->second);
    targets.push_back({f->second, body == SIZE_MAX ? f->second : body, name});
  }
  if (targets.empty()) return {};

  std::vector<Inst> types;  // new types, inserted before the first function
  if (uint_id == 0) {
    uint_id = bound++;
    types.push_back(make(kOpTypeInt, {uint_id, 32, 0}));
  }
  if (uchar_id == 0) {
    uchar_id = bound++;
    types.push_back(make(kOpTypeInt, {uchar_id, 8, 0}));
  }
  if (global_offsets && ulong_id == 0) {
    ulong_id = bound++;
    types.push_back(make(kOpTypeInt, {ulong_id, 64, 0}));
  }
  auto uchar_ptr = [&](uint32_t storage) {
    auto it = uchar_pointer.find(storage);
    if (it != uchar_pointer.end()) return it->second;
    const uint32_t id = bound++;
    types.push_back(make(kOpTypePointer, {id, storage, uchar_id}));
    uchar_pointer[storage] = id;
    return id;
  };
  const uint32_t ptr_id = uchar_ptr(kStorageWorkgroup);
  std::set<uint32_t> removed;  // ids of the replaced parameters
  std::set<std::string> names;
  std::map<size_t, std::vector<Inst>> replacement;  // OpFunction index -> its new head
  std::map<size_t, size_t> head_end;                // OpFunction index -> end of the old head
  for (const Target& t : targets) {
    // The body: other parameters, then the offsets, then the base pointer.
    const size_t k = t.body;
    const std::vector<size_t> old_params = params_of(k);
    std::vector<Inst> params;
    std::vector<std::pair<uint32_t, uint32_t>> locals;  // (type, id)
    struct Global {
      uint32_t type, id, fresh, storage;
    };
    std::vector<Global> globals;
    for (size_t p : old_params) {
      if (is_local(insts[p])) {
        locals.emplace_back(insts[p].w[1], insts[p].w[2]);
        removed.insert(insts[p].w[2]);
      } else if (global_offsets && global_storage(insts[p]) != 0) {
        const uint32_t fresh = bound++;
        globals.push_back({insts[p].w[1], insts[p].w[2], fresh, global_storage(insts[p]) - 1000});
        removed.insert(insts[p].w[2]);
        params.push_back(make(kOpFunctionParameter, {insts[p].w[1], fresh}));
      } else {
        params.push_back(insts[p]);
      }
    }
    std::vector<uint32_t> offsets;
    for (size_t i = 0; i < locals.size(); ++i) {
      offsets.push_back(bound++);
      params.push_back(make(kOpFunctionParameter, {uint_id, offsets.back()}));
    }
    std::vector<uint32_t> global_offset_ids;
    for (size_t i = 0; i < globals.size(); ++i) {
      global_offset_ids.push_back(bound++);
      params.push_back(make(kOpFunctionParameter, {ulong_id, global_offset_ids.back()}));
    }
    const uint32_t base = locals.empty() ? 0 : bound++;
    if (base != 0) params.push_back(make(kOpFunctionParameter, {ptr_id, base}));
    std::vector<uint32_t> type_operands = {bound++, insts[k].w[1]};
    for (const Inst& param : params) type_operands.push_back(param.w[1]);
    types.push_back(make(kOpTypeFunction, type_operands));
    size_t label = old_params.empty() ? k + 1 : old_params.back() + 1;
    if (label >= insts.size() || insts[label].op != kOpLabel) {
      return "kernel '" + t.name + "' has no body";
    }
    size_t after = label + 1;
    while (after < insts.size() &&
           (insts[after].op == kOpVariable || insts[after].op == kOpLine || insts[after].op == kOpNoLine)) {
      ++after;
    }
    std::vector<Inst> head;
    Inst function = insts[k];
    function.w[4] = type_operands[0];
    head.push_back(function);
    head.insert(head.end(), params.begin(), params.end());
    for (size_t i = label; i < after; ++i) head.push_back(insts[i]);
    for (size_t i = 0; i < locals.size(); ++i) {
      const uint32_t at = bound++;
      head.push_back(make(kOpInBoundsPtrAccessChain, {ptr_id, at, base, offsets[i]}));
      head.push_back(make(locals[i].first == ptr_id ? kOpCopyObject : kOpBitcast,
                          {locals[i].first, locals[i].second, at}));
    }
    for (size_t i = 0; i < globals.size(); ++i) {
      const Global& g = globals[i];
      const uint32_t bytes_type = uchar_ptr(g.storage);
      uint32_t bytes = g.fresh;
      if (g.type != bytes_type) {
        bytes = bound++;
        head.push_back(make(kOpBitcast, {bytes_type, bytes, g.fresh}));
      }
      const uint32_t at = bound++;
      head.push_back(make(kOpInBoundsPtrAccessChain, {bytes_type, at, bytes, global_offset_ids[i]}));
      head.push_back(make(g.type == bytes_type ? kOpCopyObject : kOpBitcast, {g.type, g.id, at}));
    }
    replacement[k] = std::move(head);
    head_end[k] = after;
    if (t.entry != t.body) {
      // The wrapper takes the same new parameters and passes them on.
      const size_t e = t.entry;
      const std::vector<size_t> wrapper_params = params_of(e);
      std::vector<Inst> wrapper;
      Inst entry_function = insts[e];
      entry_function.w[4] = type_operands[0];
      wrapper.push_back(entry_function);
      std::vector<uint32_t> call = {insts[k].w[1], bound++, insts[k].w[2]};
      for (const Inst& param : params) {
        const uint32_t id = bound++;
        wrapper.push_back(make(kOpFunctionParameter, {param.w[1], id}));
        call.push_back(id);
      }
      for (size_t p : wrapper_params) removed.insert(insts[p].w[2]);
      const size_t label_at = wrapper_params.empty() ? e + 1 : wrapper_params.back() + 1;
      wrapper.push_back(insts[label_at]);
      wrapper.push_back(make(kOpFunctionCall, call));
      replacement[e] = std::move(wrapper);
      head_end[e] = label_at + 2;  // the label and the call; OpReturn and the end stay
    }
    names.insert(t.name);
  }
  // Decorations of the replaced parameters go (they decorated parameters), and so does the
  // kernel-argument metadata of the rewritten kernels.
  std::vector<Inst> out;
  out.reserve(insts.size() + types.size() + 16);
  bool types_placed = false;
  bool capability_placed = false;
  for (size_t k = 0; k < insts.size(); ++k) {
    Inst& i = insts[k];
    if (!capability_placed && i.op != kOpCapability) {
      if (!has_int8) out.push_back(make(kOpCapability, {kCapabilityInt8}));
      if (global_offsets && !has_int64) out.push_back(make(kOpCapability, {kCapabilityInt64}));
      capability_placed = true;
    }
    if ((i.op == kOpDecorate || i.op == kOpDecorateId) && i.w.size() >= 2 && removed.count(i.w[1])) {
      continue;
    }
    if (i.op == kOpGroupDecorate && i.w.size() >= 2) {
      std::vector<uint32_t> operands = {i.w[1]};
      for (size_t j = 2; j < i.w.size(); ++j) {
        if (!removed.count(i.w[j])) operands.push_back(i.w[j]);
      }
      if (operands.size() == 1) continue;
      i = make(kOpGroupDecorate, operands);
    }
    if (i.op == kOpString && i.w.size() >= 3) {
      const std::string text = literal_of(i, 2);
      bool metadata = false;
      for (const std::string& name : names) {
        metadata = metadata || text.rfind("kernel_arg_type." + name + ".", 0) == 0;
      }
      if (metadata) continue;
    }
    if (!types_placed && i.op == kOpFunction) {
      out.insert(out.end(), types.begin(), types.end());
      types_placed = true;
    }
    auto head = replacement.find(k);
    if (head != replacement.end()) {
      out.insert(out.end(), head->second.begin(), head->second.end());
      k = head_end[k] - 1;
      continue;
    }
    out.push_back(std::move(i));
  }
  std::vector<uint32_t> result(in.begin(), in.begin() + 5);
  result[3] = bound;
  for (const Inst& i : out) result.insert(result.end(), i.w.begin(), i.w.end());
  *words = std::move(result);
  for (Kernel& kernel : info->kernels) {
    if (names.count(kernel.name)) {
      kernel.local_offsets = true;
      kernel.global_offsets = global_offsets;
    }
  }
  return {};
}

void rewrite_cpp_spec_constants(std::vector<uint32_t>* words, Info* info) {
  constexpr uint32_t kOpName = 5;
  constexpr uint32_t kOpConstantComposite = 44;
  constexpr uint32_t kOpSpecConstantComposite = 51;
  std::vector<uint32_t>& in = *words;
  if (in.size() < 5) return;
  std::vector<Inst> insts;
  for (size_t at = 5; at < in.size();) {
    const uint32_t n = in[at] >> 16;
    if (n == 0 || at + n > in.size()) return;
    Inst inst;
    inst.op = in[at] & 0xffffu;
    inst.w.assign(in.begin() + static_cast<std::ptrdiff_t>(at), in.begin() + static_cast<std::ptrdiff_t>(at + n));
    insts.push_back(std::move(inst));
    at += n;
  }
  // Struct types named "struct.cl::__spirv::OpSpecConstant<T, N>" -> N.
  std::map<uint32_t, uint32_t> struct_ids;
  const std::string prefix = "struct.cl::__spirv::OpSpecConstant<";
  for (const Inst& i : insts) {
    if (i.op != kOpName || i.w.size() < 3) continue;
    const std::string name = literal_of(i, 2);
    if (name.rfind(prefix, 0) != 0) continue;
    const auto comma = name.rfind(',');
    const auto close = name.rfind('>');
    if (comma == std::string::npos || close == std::string::npos || close < comma) continue;
    try {
      struct_ids[i.w[1]] = static_cast<uint32_t>(std::stoul(name.substr(comma + 1, close - comma - 1)));
    } catch (...) {
    }
  }
  if (struct_ids.empty()) return;
  std::set<uint32_t> declared;
  for (const SpecConstant& c : info->spec_constants) declared.insert(c.id);
  std::map<uint32_t, const Inst*> constants;  // OpConstant id -> instruction
  std::map<uint32_t, uint32_t> widths;        // int/float type id -> bits
  for (const Inst& i : insts) {
    if (i.op == kOpConstant && i.w.size() >= 4) constants[i.w[2]] = &i;
    if ((i.op == kOpTypeInt || i.op == kOpTypeFloat) && i.w.size() >= 3) widths[i.w[1]] = i.w[2];
  }
  uint32_t bound = in[3];
  std::vector<Inst> added_constants;  // placed before their composites
  std::vector<Inst> added_decorations;
  std::map<size_t, std::vector<Inst>> before;  // instruction index -> new instructions
  for (size_t k = 0; k < insts.size(); ++k) {
    Inst& i = insts[k];
    if (i.op != kOpConstantComposite || i.w.size() != 4) continue;
    auto spec = struct_ids.find(i.w[1]);
    if (spec == struct_ids.end() || declared.count(spec->second)) continue;
    auto value = constants.find(i.w[3]);
    if (value == constants.end()) continue;
    auto width = widths.find(value->second->w[1]);
    if (width == widths.end() || width->second % 8 != 0 || width->second > 64) continue;
    Inst constant = *value->second;
    const uint32_t id = bound++;
    constant.op = kOpSpecConstant;
    constant.w[0] = (constant.w[0] & 0xffff0000u) | kOpSpecConstant;
    constant.w[2] = id;
    before[k].push_back(std::move(constant));
    added_decorations.push_back(make(kOpDecorate, {id, kDecorationSpecId, spec->second}));
    i.op = kOpSpecConstantComposite;
    i.w[0] = (i.w[0] & 0xffff0000u) | kOpSpecConstantComposite;
    i.w[3] = id;
    info->spec_constants.push_back({spec->second, width->second / 8});
    declared.insert(spec->second);
  }
  if (added_decorations.empty()) return;
  std::vector<uint32_t> result(in.begin(), in.begin() + 5);
  result[3] = bound;
  bool decorations_placed = false;
  for (size_t k = 0; k < insts.size(); ++k) {
    // Annotations come before the types: put the new ones before the first decoration.
    if (!decorations_placed && (insts[k].op == kOpDecorate || insts[k].op == 73 /*OpDecorationGroup*/ ||
                                insts[k].op == kOpGroupDecorate)) {
      for (const Inst& d : added_decorations) result.insert(result.end(), d.w.begin(), d.w.end());
      decorations_placed = true;
    }
    if (!decorations_placed && (insts[k].op == kOpTypeVoid || insts[k].op == kOpTypeInt ||
                                insts[k].op == kOpTypeFloat || insts[k].op == kOpTypeBool)) {
      for (const Inst& d : added_decorations) result.insert(result.end(), d.w.begin(), d.w.end());
      decorations_placed = true;
    }
    auto extra = before.find(k);
    if (extra != before.end()) {
      for (const Inst& c : extra->second) result.insert(result.end(), c.w.begin(), c.w.end());
    }
    result.insert(result.end(), insts[k].w.begin(), insts[k].w.end());
  }
  *words = std::move(result);
}

const Kernel* find_kernel(const Info& info, const std::string& name) noexcept {
  for (const Kernel& k : info.kernels) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

}  // namespace udal::ze::spirv
