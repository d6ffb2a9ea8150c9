// libze_udal's view of a SPIR-V module: the SDK's reader (udal/sdk/spirv.h) checks the words
// and reflects each Kernel entry point; parse() maps that onto Level Zero's argument kinds.
// The rewriters below change a module's kernels so UDAL can launch them (see spirv.h).
#include "spirv.h"

#include <fmt/format.h>
#include <udal/sdk/spirv.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace udal::ze::spirv {

namespace {

namespace sdk = udal::sdk::spirv;

constexpr uint32_t kOpEntryPoint = 15;
constexpr uint32_t kOpTypeVoid = 19;
constexpr uint32_t kOpTypeBool = 20;
constexpr uint32_t kOpTypeInt = 21;
constexpr uint32_t kOpTypeFloat = 22;
constexpr uint32_t kOpTypePointer = 32;
constexpr uint32_t kOpConstant = 43;
constexpr uint32_t kOpSpecConstant = 50;
constexpr uint32_t kOpFunction = 54;
constexpr uint32_t kOpFunctionParameter = 55;
constexpr uint32_t kOpFunctionEnd = 56;
constexpr uint32_t kOpVariable = 59;
constexpr uint32_t kOpDecorate = 71;
constexpr uint32_t kExecutionModelKernel = sdk::kExecutionModelKernel;
constexpr uint32_t kDecorationSpecId = 1;
constexpr uint32_t kStorageUniformConstant = sdk::kStorageUniformConstant;
constexpr uint32_t kStorageWorkgroup = sdk::kStorageWorkgroup;
constexpr uint32_t kStorageCrossWorkgroup = sdk::kStorageCrossWorkgroup;
constexpr uint32_t kStorageGeneric = sdk::kStorageGeneric;

// OpenCL's vec_type_hint operand: the low 16 bits name the scalar type, the high 16 bits
// the component count.
std::string vec_type_hint(uint32_t hint) {
  static const char* const kTypes[] = {"char", "short", "int", "long", "half", "float", "double"};
  const uint32_t type = hint & 0xffffu;
  const uint32_t count = hint >> 16;
  std::string name = type < 7 ? kTypes[type] : "int";
  if (count > 1) name += std::to_string(count);
  return "vec_type_hint(" + name + ")";
}

Arg describe(const sdk::Parameter& p) {
  Arg arg;
  switch (p.kind) {
    case sdk::ParameterKind::kPointer:
      arg.size = static_cast<uint32_t>(p.size.value_or(8));
      switch (p.storage_class) {
        case kStorageCrossWorkgroup:
        case kStorageUniformConstant:
        case kStorageGeneric:
          arg.kind = ArgKind::kGlobal;
          arg.read_only = p.storage_class == kStorageUniformConstant || p.no_write || p.no_read_write;
          return arg;
        case kStorageWorkgroup:
          arg.kind = ArgKind::kLocal;
          return arg;
        case sdk::kStorageFunction:  // a struct passed by value (ByVal)
          if (!p.pointee_size || *p.pointee_size > UINT32_MAX) {
            arg.what = "a by-value parameter of unknown size";
            return arg;
          }
          arg.kind = ArgKind::kValue;
          arg.size = static_cast<uint32_t>(*p.pointee_size);
          return arg;
        default:
          arg.what = fmt::format("a pointer in storage class {}", p.storage_class);
          return arg;
      }
    case sdk::ParameterKind::kValue:
      if (!p.size || *p.size > UINT32_MAX) {
        arg.what = "a value of a type UDAL does not model";
        return arg;
      }
      arg.kind = ArgKind::kValue;
      arg.size = static_cast<uint32_t>(*p.size);
      return arg;
    case sdk::ParameterKind::kOpaque:
    default:
      arg.what = p.what == "a bool" ? std::string("a value of a type UDAL does not model") : p.what;
      return arg;
  }
}

}  // namespace

std::string parse(const uint32_t* words, size_t count, Info* out) {
  *out = Info{};
  sdk::Module module;
  if (std::string why = sdk::read(std::span<const uint32_t>(words, count), &module); !why.empty()) {
    return why;
  }
  Info info;
  info.version = module.version;
  for (const sdk::EntryPoint& e : module.entry_points) {
    if (e.model != kExecutionModelKernel) continue;
    Kernel kernel;
    kernel.name = e.name;
    for (const sdk::Parameter& p : e.parameters) kernel.args.push_back(describe(p));
    std::vector<std::string> attributes;
    if (e.local_size) {
      for (int i = 0; i < 3; ++i) kernel.required_group_size[i] = (*e.local_size)[i];
      attributes.push_back(fmt::format("reqd_work_group_size({},{},{})", (*e.local_size)[0],
                                       (*e.local_size)[1], (*e.local_size)[2]));
    }
    if (e.local_size_hint) {
      attributes.push_back(fmt::format("work_group_size_hint({},{},{})", (*e.local_size_hint)[0],
                                       (*e.local_size_hint)[1], (*e.local_size_hint)[2]));
    }
    if (e.vec_type_hint) attributes.push_back(vec_type_hint(*e.vec_type_hint));
    for (const std::string& a : attributes) {
      kernel.attributes += (kernel.attributes.empty() ? "" : " ") + a;
    }
    kernel.required_subgroup_size = e.subgroup_size.value_or(0);
    info.kernels.push_back(std::move(kernel));
  }
  for (const sdk::SpecConstant& c : module.spec_constants) {
    // One entry per SpecId: Level Zero specializes by id.
    const bool seen = std::any_of(info.spec_constants.begin(), info.spec_constants.end(),
                                  [&](const SpecConstant& s) { return s.id == c.spec_id; });
    if (!seen) info.spec_constants.push_back({c.spec_id, c.size});
  }
  info.imports = module.imports;
  info.global_variables = module.global_variables;
  info.pointer_bytes = module.pointer_bytes();
  *out = std::move(info);
  return {};
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
