// The SDK's SPIR-V reader (udal/sdk/spirv.h): one pass over the words that checks each
// instruction it reads and records types, constants, decorations, globals and functions;
// then each entry point is reflected from those records.
#include "udal/sdk/spirv.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

namespace udal::sdk::spirv {
namespace {

// ---------------------------------------------------------------------------------------
// Opcodes, decorations and modes the reader looks at
// ---------------------------------------------------------------------------------------

enum Op : uint32_t {
  kOpLine = 8,
  kOpCapability = 17,
  kOpExtInst = 12,
  kOpMemoryModel = 14,
  kOpEntryPoint = 15,
  kOpExecutionMode = 16,
  kOpTypeVoid = 19,
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
  kOpTypeOpaque = 31,
  kOpTypePointer = 32,
  kOpTypeFunction = 33,
  kOpTypeEvent = 34,
  kOpTypeDeviceEvent = 35,
  kOpTypeReserveId = 36,
  kOpTypeQueue = 37,
  kOpTypePipe = 38,
  kOpConstantTrue = 41,
  kOpConstantFalse = 42,
  kOpConstant = 43,
  kOpConstantComposite = 44,
  kOpConstantNull = 46,
  kOpSpecConstantTrue = 48,
  kOpSpecConstantFalse = 49,
  kOpSpecConstant = 50,
  kOpSpecConstantComposite = 51,
  kOpSpecConstantOp = 52,
  kOpFunction = 54,
  kOpFunctionParameter = 55,
  kOpFunctionEnd = 56,
  kOpFunctionCall = 57,
  kOpVariable = 59,
  kOpLoad = 61,
  kOpStore = 62,
  kOpCopyMemory = 63,
  kOpCopyMemorySized = 64,
  kOpDecorate = 71,
  kOpMemberDecorate = 72,
  kOpDecorationGroup = 73,
  kOpGroupDecorate = 74,
  kOpVectorShuffle = 79,
  kOpCompositeExtract = 81,
  kOpCompositeInsert = 82,
  kOpLoopMerge = 246,
  kOpSelectionMerge = 247,
  kOpLabel = 248,
  kOpBranch = 249,
  kOpBranchConditional = 250,
  kOpSwitch = 251,
  kOpLifetimeStart = 256,
  kOpLifetimeStop = 257,
  kOpNoLine = 317,
  kOpExecutionModeId = 331,
};

enum Decoration : uint32_t {
  kDecorationSpecId = 1,
  kDecorationBlock = 2,
  kDecorationBufferBlock = 3,
  kDecorationArrayStride = 6,
  kDecorationMatrixStride = 7,
  kDecorationCPacked = 10,
  kDecorationBuiltIn = 11,
  kDecorationNonWritable = 24,
  kDecorationNonReadable = 25,
  kDecorationBinding = 33,
  kDecorationDescriptorSet = 34,
  kDecorationOffset = 35,
  kDecorationFuncParamAttr = 38,
  kDecorationLinkageAttributes = 41,
};

constexpr uint32_t kCapabilityLinkage = 5;
constexpr uint32_t kBuiltInWorkgroupSize = 25;
constexpr uint32_t kLinkageImport = 1;
constexpr uint32_t kParamAttrByVal = 2;
constexpr uint32_t kParamAttrNoWrite = 6;
constexpr uint32_t kParamAttrNoReadWrite = 7;
constexpr uint32_t kModeLocalSize = 17;
constexpr uint32_t kModeLocalSizeHint = 18;
constexpr uint32_t kModeVecTypeHint = 30;
constexpr uint32_t kModeSubgroupSize = 35;
constexpr uint32_t kModeLocalSizeId = 38;

// Type graphs can nest (and, through forward pointers, loop): every walk over them stops
// at this depth and treats what lies deeper as unknown.
constexpr int kMaxTypeDepth = 32;

// ---------------------------------------------------------------------------------------
// What the pass records
// ---------------------------------------------------------------------------------------

struct Type {
  uint32_t op = 0;
  std::vector<uint32_t> operands; // the instruction's words after the result id
};

struct Function {
  std::vector<std::pair<uint32_t, uint32_t>> parameters; // (id, type)
  std::unordered_set<uint32_t> references; // ids its instructions may take as operands
  std::vector<uint32_t> calls;             // callees, in order
  std::vector<uint32_t> first_call_args;   // the first call's arguments
  bool has_body = false;                   // an OpLabel was seen
};

struct Global {
  uint32_t pointer_type = 0;
  uint32_t storage = 0;
};

struct RawEntry {
  uint32_t model = 0;
  uint32_t function = 0;
  std::string name;
  size_t at = 0; // word of the OpEntryPoint
};

struct Modes {
  std::optional<Size3> local_size;
  std::optional<Size3> local_size_hint;
  std::optional<uint32_t> vec_type_hint;
  std::optional<uint32_t> subgroup_size;
  bool local_size_id = false;
};

struct Layout {
  uint64_t size = 0;
  uint64_t align = 1;
};

std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r))
    return std::nullopt;
  return r;
}

std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  if (__builtin_add_overflow(a, b, &r))
    return std::nullopt;
  return r;
}

// A literal string starting at word |first| of an instruction of |n| words; nullopt when it
// is not NUL-terminated inside the instruction. |*words| gets the words it occupies.
std::optional<std::string> literal_string(const uint32_t* w, uint32_t n, uint32_t first,
                                          uint32_t* words = nullptr) {
  if (first >= n)
    return std::nullopt;
  const char* begin = reinterpret_cast<const char*>(w + first);
  const size_t bytes = static_cast<size_t>(n - first) * 4;
  const void* nul = std::memchr(begin, '\0', bytes);
  if (nul == nullptr)
    return std::nullopt;
  const size_t length = static_cast<size_t>(static_cast<const char*>(nul) - begin);
  if (words != nullptr)
    *words = static_cast<uint32_t>(length / 4 + 1);
  return std::string(begin, length);
}

class Reader {
public:
  Reader(std::span<const uint32_t> words, Module* out) : words_(words), out_(out) {}

  std::string run();

private:
  std::string header();
  std::string instruction(uint32_t op, const uint32_t* w, uint32_t n, size_t at);
  std::string define(uint32_t id, const char* what);
  std::string check_id(uint32_t id, const char* what) const;
  void record_references(uint32_t op, const uint32_t* w, uint32_t n, Function& f);
  std::string finish();

  // Reflection.
  void reflect(const RawEntry& raw, EntryPoint* entry);
  void reflect_resources(const RawEntry& raw, EntryPoint* entry);
  void reflect_parameters(const RawEntry& raw, EntryPoint* entry);
  std::vector<uint32_t> used_globals(uint32_t function);
  std::optional<uint32_t> decoration(uint32_t id, uint32_t which) const;
  std::optional<uint32_t> member_decoration(uint32_t type, uint32_t member, uint32_t which) const;
  bool has_decoration(uint32_t id, uint32_t which) const {
    return decoration(id, which).has_value();
  }
  bool has_decoration_literal(uint32_t id, uint32_t which, uint32_t literal) const;
  const Type* type_of(uint32_t id) const;
  std::optional<uint64_t> constant_value(uint32_t id) const;
  std::optional<uint64_t> explicit_size(uint32_t type, uint32_t matrix_stride, int depth);
  std::optional<Layout> c_layout(uint32_t type, int depth);
  MemberKind member_kind(uint32_t type) const;
  ResourceKind resource_kind(uint32_t type) const;
  std::string opaque_name(uint32_t type) const;
  void collect_spec_ids(uint32_t type, std::unordered_set<uint32_t>* visited,
                        std::set<uint32_t>* spec_ids);
  void spec_ids_of(uint32_t constant, std::set<uint32_t>* spec_ids);

  std::span<const uint32_t> words_;
  Module* out_;
  uint32_t bound_ = 0;
  bool memory_model_ = false;
  bool linkage_ = false;
  uint32_t current_function_ = 0; // 0: outside a function
  std::vector<bool> defined_;
  std::vector<RawEntry> entries_;
  std::unordered_map<uint32_t, Modes> modes_; // by function
  std::unordered_map<uint32_t, Type> types_;
  std::unordered_map<uint32_t, uint64_t> constants_; // OpConstant values (up to 64 bits)
  std::unordered_map<uint32_t, std::vector<uint32_t>> constant_composites_;
  std::unordered_set<uint32_t> spec_composites_;
  std::vector<std::pair<uint32_t, uint32_t>> spec_scalars_; // (id, type) in module order
  std::unordered_set<uint32_t> spec_scalar_ids_;
  std::unordered_map<uint32_t, std::vector<uint32_t>> spec_operations_; // id -> id operands
  std::unordered_map<uint32_t, std::vector<std::pair<uint32_t, uint32_t>>> decorations_;
  std::map<std::pair<uint32_t, uint32_t>, std::vector<std::pair<uint32_t, uint32_t>>>
      member_decorations_;
  std::unordered_set<uint32_t> decoration_groups_;
  std::unordered_map<uint32_t, std::vector<uint32_t>> groups_of_; // target -> its groups
  // What reflection may still spend (entries x references, members, parameters, ...): a
  // module crafted to multiply them is refused instead of taking minutes or gigabytes.
  int64_t budget_ = int64_t{1} << 26;
  bool spend(uint64_t units) {
    budget_ -= static_cast<int64_t>(std::min<uint64_t>(units, uint64_t{1} << 40));
    return budget_ >= 0;
  }
  std::vector<uint32_t> workgroup_size_decorated_;
  std::unordered_set<uint32_t> imported_;
  std::unordered_set<uint32_t> builtins_;
  std::unordered_map<uint32_t, Global> globals_;
  std::unordered_map<uint32_t, Function> functions_;
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> explicit_sizes_; // successes only
  std::unordered_map<uint32_t, Layout> c_layouts_;                   // successes only
};

// ---------------------------------------------------------------------------------------
// The pass
// ---------------------------------------------------------------------------------------

std::string Reader::header() {
  if (words_.size() < 5) {
    return fmt::format("{} words is shorter than the 5-word SPIR-V header: the image is truncated",
                       words_.size());
  }
  if (words_[0] != kMagic) {
    return words_[0] == 0x03022307u
               ? std::string("the module is byte-swapped SPIR-V (the magic number reads "
                             "0x03022307); write it in the host's byte order")
               : fmt::format("the first word is {:#010x}, not the SPIR-V magic number {:#010x}",
                             words_[0], kMagic);
  }
  const uint32_t major = (words_[1] >> 16) & 0xffu;
  const uint32_t minor = (words_[1] >> 8) & 0xffu;
  if (major != 1 || minor > 6 || (words_[1] & 0xff0000ffu) != 0) {
    return fmt::format("the version word {:#010x} is not SPIR-V 1.0 - 1.6", words_[1]);
  }
  bound_ = words_[3];
  if (bound_ == 0 || bound_ > kMaxIdBound) {
    return fmt::format("the id bound {} is not in 1..{}", bound_, kMaxIdBound);
  }
  if (words_[4] != 0) {
    return fmt::format("the header's reserved word (word 4) is {}, not 0", words_[4]);
  }
  out_->version = words_[1];
  out_->generator = words_[2];
  out_->bound = bound_;
  defined_.assign(bound_, false);
  return {};
}

std::string Reader::check_id(uint32_t id, const char* what) const {
  if (id == 0 || id >= bound_) {
    return fmt::format("{} %{} is outside the id bound {}", what, id, bound_);
  }
  return {};
}

std::string Reader::define(uint32_t id, const char* what) {
  if (std::string e = check_id(id, what); !e.empty())
    return e;
  if (defined_[id])
    return fmt::format("{} %{} is defined twice", what, id);
  defined_[id] = true;
  return {};
}

void Reader::record_references(uint32_t op, const uint32_t* w, uint32_t n, Function& f) {
  // The ids among the operands: exact for the instructions with literals that a kernel
  // commonly carries; every word for the rest (an id set can only grow by a literal that
  // happens to equal a global's id, which at worst adds that global to the entry point).
  auto add = [&](uint32_t first, uint32_t last) {
    for (uint32_t i = first; i < n && i <= last; ++i)
      f.references.insert(w[i]);
  };
  switch (op) {
  case kOpLine:
  case kOpNoLine:
  case kOpLabel:
  case kOpLoopMerge:
  case kOpSelectionMerge:
  case kOpBranch:
    break;
  case kOpExtInst:
    add(3, 3);
    add(5, n);
    break;
  case kOpLoad:
    add(3, 3);
    break;
  case kOpStore:
  case kOpCopyMemory:
    add(1, 2);
    break;
  case kOpCopyMemorySized:
    add(1, 3);
    break;
  case kOpVectorShuffle:
    add(3, 4);
    break;
  case kOpCompositeExtract:
    add(3, 3);
    break;
  case kOpCompositeInsert:
    add(3, 4);
    break;
  case kOpVariable:
    add(4, 4);
    break;
  case kOpBranchConditional:
  case kOpSwitch:
  case kOpLifetimeStart:
  case kOpLifetimeStop:
    add(1, 1);
    break;
  default:
    add(1, n);
    break;
  }
}

std::string Reader::instruction(uint32_t op, const uint32_t* w, uint32_t n, size_t at) {
  (void)at;
  auto need = [&](uint32_t words) -> std::string {
    return n < words ? fmt::format("opcode {} has {} words; it needs at least {}", op, n, words)
                     : std::string();
  };
#define UDAL_SPIRV_TRY(expr)                                                                       \
  do {                                                                                             \
    if (std::string e_ = (expr); !e_.empty())                                                      \
      return e_;                                                                                   \
  } while (false)

  if (current_function_ != 0) {
    Function& f = functions_[current_function_];
    switch (op) {
    case kOpFunction:
      return fmt::format("function %{} begins inside function %{} (no OpFunctionEnd)",
                         n >= 3 ? w[2] : 0, current_function_);
    case kOpFunctionParameter: {
      UDAL_SPIRV_TRY(need(3));
      if (f.has_body)
        return "OpFunctionParameter after the function's first block";
      UDAL_SPIRV_TRY(check_id(w[1], "parameter type"));
      UDAL_SPIRV_TRY(define(w[2], "parameter"));
      f.parameters.emplace_back(w[2], w[1]);
      return {};
    }
    case kOpFunctionEnd:
      current_function_ = 0;
      return {};
    case kOpLabel:
      f.has_body = true;
      break;
    case kOpFunctionCall:
      UDAL_SPIRV_TRY(need(4));
      UDAL_SPIRV_TRY(check_id(w[1], "call result type"));
      UDAL_SPIRV_TRY(check_id(w[3], "callee"));
      if (f.calls.empty())
        f.first_call_args.assign(w + 4, w + n);
      f.calls.push_back(w[3]);
      break;
    default:
      break;
    }
    record_references(op, w, n, f);
    return {};
  }

  switch (op) {
  case kOpCapability:
    UDAL_SPIRV_TRY(need(2));
    if (w[1] == kCapabilityLinkage)
      linkage_ = true;
    break;
  case kOpMemoryModel:
    UDAL_SPIRV_TRY(need(3));
    if (memory_model_)
      return "a second OpMemoryModel";
    memory_model_ = true;
    out_->addressing_model = w[1];
    out_->memory_model = w[2];
    break;
  case kOpEntryPoint: {
    UDAL_SPIRV_TRY(need(4));
    UDAL_SPIRV_TRY(check_id(w[2], "entry point function"));
    uint32_t name_words = 0;
    auto name = literal_string(w, n, 3, &name_words);
    if (!name)
      return "OpEntryPoint's name is not a NUL-terminated string inside the instruction";
    for (uint32_t i = 3 + name_words; i < n; ++i)
      UDAL_SPIRV_TRY(check_id(w[i], "interface"));
    entries_.push_back({w[1], w[2], std::move(*name), 0});
    break;
  }
  case kOpExecutionMode:
  case kOpExecutionModeId: {
    UDAL_SPIRV_TRY(need(3));
    UDAL_SPIRV_TRY(check_id(w[1], "execution mode target"));
    Modes& m = modes_[w[1]];
    const uint32_t mode = w[2];
    if (op == kOpExecutionMode && (mode == kModeLocalSize || mode == kModeLocalSizeHint)) {
      UDAL_SPIRV_TRY(need(6));
      (mode == kModeLocalSize ? m.local_size : m.local_size_hint) = Size3{w[3], w[4], w[5]};
    } else if (op == kOpExecutionMode && mode == kModeVecTypeHint) {
      UDAL_SPIRV_TRY(need(4));
      m.vec_type_hint = w[3];
    } else if (op == kOpExecutionMode && mode == kModeSubgroupSize) {
      UDAL_SPIRV_TRY(need(4));
      m.subgroup_size = w[3];
    } else if (mode == kModeLocalSizeId) {
      m.local_size_id = true;
    }
    break;
  }
  case kOpDecorate: {
    UDAL_SPIRV_TRY(need(3));
    UDAL_SPIRV_TRY(check_id(w[1], "decoration target"));
    const uint32_t d = w[2];
    if (d == kDecorationLinkageAttributes) {
      uint32_t name_words = 0;
      if (!literal_string(w, n, 3, &name_words) || 3 + name_words >= n) {
        return "LinkageAttributes without a terminated name and a linkage type";
      }
      if (w[3 + name_words] == kLinkageImport)
        imported_.insert(w[1]);
    }
    if (d == kDecorationBuiltIn) {
      UDAL_SPIRV_TRY(need(4));
      builtins_.insert(w[1]);
      if (w[3] == kBuiltInWorkgroupSize)
        workgroup_size_decorated_.push_back(w[1]);
    }
    if ((d == kDecorationSpecId || d == kDecorationFuncParamAttr || d == kDecorationDescriptorSet ||
         d == kDecorationBinding || d == kDecorationArrayStride || d == kDecorationOffset)) {
      UDAL_SPIRV_TRY(need(4));
    }
    decorations_[w[1]].emplace_back(d, n >= 4 ? w[3] : 0);
    break;
  }
  case kOpMemberDecorate: {
    UDAL_SPIRV_TRY(need(4));
    UDAL_SPIRV_TRY(check_id(w[1], "member decoration target"));
    const uint32_t d = w[3];
    if (d == kDecorationOffset || d == kDecorationMatrixStride)
      UDAL_SPIRV_TRY(need(5));
    member_decorations_[{w[1], w[2]}].emplace_back(d, n >= 5 ? w[4] : 0);
    break;
  }
  case kOpDecorationGroup:
    UDAL_SPIRV_TRY(need(2));
    UDAL_SPIRV_TRY(define(w[1], "decoration group"));
    decoration_groups_.insert(w[1]);
    break;
  case kOpGroupDecorate: {
    UDAL_SPIRV_TRY(need(2));
    if (!decoration_groups_.contains(w[1])) {
      return fmt::format("OpGroupDecorate names %{}, which is no earlier OpDecorationGroup", w[1]);
    }
    // Membership, not copies: a group of many decorations applied to many targets
    // would otherwise cost their product.
    for (uint32_t i = 2; i < n; ++i) {
      UDAL_SPIRV_TRY(check_id(w[i], "group decoration target"));
      groups_of_[w[i]].push_back(w[1]);
    }
    break;
  }
  case kOpTypeVoid:
  case kOpTypeBool:
  case kOpTypeSampler:
  case kOpTypeEvent:
  case kOpTypeDeviceEvent:
  case kOpTypeReserveId:
  case kOpTypeQueue:
  case kOpTypeInt:
  case kOpTypeFloat:
  case kOpTypeVector:
  case kOpTypeMatrix:
  case kOpTypeImage:
  case kOpTypeSampledImage:
  case kOpTypeArray:
  case kOpTypeRuntimeArray:
  case kOpTypeStruct:
  case kOpTypeOpaque:
  case kOpTypePointer:
  case kOpTypeFunction:
  case kOpTypePipe: {
    uint32_t minimum = 2;
    uint32_t id_operands = 0; // leading operands after the result that are ids
    switch (op) {
    case kOpTypeInt:
      minimum = 4;
      break;
    case kOpTypeFloat:
      minimum = 3;
      break;
    case kOpTypeVector:
    case kOpTypeMatrix:
      minimum = 4;
      id_operands = 1;
      break;
    case kOpTypeImage:
      minimum = 9;
      id_operands = 1;
      break;
    case kOpTypeSampledImage:
    case kOpTypeRuntimeArray:
      minimum = 3;
      id_operands = 1;
      break;
    case kOpTypeArray:
      minimum = 4;
      id_operands = 2;
      break;
    case kOpTypeStruct:
      id_operands = n - 2;
      break;
    case kOpTypeOpaque:
      minimum = 3;
      break;
    case kOpTypePointer:
      minimum = 4;
      break;
    case kOpTypeFunction:
      minimum = 3;
      id_operands = n - 2;
      break;
    case kOpTypePipe:
      minimum = 3;
      break;
    default:
      break;
    }
    UDAL_SPIRV_TRY(need(minimum));
    UDAL_SPIRV_TRY(define(w[1], "type"));
    for (uint32_t i = 0; i < id_operands; ++i)
      UDAL_SPIRV_TRY(check_id(w[2 + i], "type operand"));
    if (op == kOpTypePointer)
      UDAL_SPIRV_TRY(check_id(w[3], "pointee type"));
    types_[w[1]] = Type{op, std::vector<uint32_t>(w + 2, w + n)};
    break;
  }
  case kOpConstantTrue:
  case kOpConstantFalse:
  case kOpConstantNull:
  case kOpConstant:
  case kOpConstantComposite:
  case kOpSpecConstantTrue:
  case kOpSpecConstantFalse:
  case kOpSpecConstant:
  case kOpSpecConstantComposite:
  case kOpSpecConstantOp: {
    const bool has_value = op == kOpConstant || op == kOpSpecConstant || op == kOpSpecConstantOp;
    UDAL_SPIRV_TRY(need(has_value ? 4 : 3));
    UDAL_SPIRV_TRY(check_id(w[1], "constant type"));
    UDAL_SPIRV_TRY(define(w[2], "constant"));
    if (op == kOpConstant) {
      constants_[w[2]] = n >= 5 ? (uint64_t{w[4]} << 32) | w[3] : w[3];
    } else if (op == kOpConstantComposite || op == kOpSpecConstantComposite) {
      for (uint32_t i = 3; i < n; ++i)
        UDAL_SPIRV_TRY(check_id(w[i], "constituent"));
      if (op == kOpConstantComposite) {
        constant_composites_[w[2]].assign(w + 3, w + n);
      } else {
        spec_composites_.insert(w[2]);
      }
    } else if (op == kOpSpecConstantTrue || op == kOpSpecConstantFalse || op == kOpSpecConstant) {
      spec_scalars_.emplace_back(w[2], w[1]);
      spec_scalar_ids_.insert(w[2]);
    } else if (op == kOpSpecConstantOp) {
      spec_operations_[w[2]].assign(w + 4, w + n);
    }
    break;
  }
  case kOpVariable:
    UDAL_SPIRV_TRY(need(4));
    UDAL_SPIRV_TRY(check_id(w[1], "variable type"));
    UDAL_SPIRV_TRY(define(w[2], "variable"));
    if (n >= 5)
      UDAL_SPIRV_TRY(check_id(w[4], "initializer"));
    globals_[w[2]] = Global{w[1], w[3]};
    if (w[3] == kStorageCrossWorkgroup)
      out_->global_variables = true;
    break;
  case kOpFunction:
    UDAL_SPIRV_TRY(need(5));
    UDAL_SPIRV_TRY(check_id(w[1], "function result type"));
    UDAL_SPIRV_TRY(define(w[2], "function"));
    UDAL_SPIRV_TRY(check_id(w[4], "function type"));
    current_function_ = w[2];
    functions_[w[2]];
    break;
  case kOpFunctionParameter:
    return "OpFunctionParameter outside a function";
  case kOpFunctionEnd:
    return "OpFunctionEnd outside a function";
  case kOpFunctionCall:
  case kOpLabel:
    return fmt::format("opcode {} outside a function", op);
  default:
    break;
  }
  return {};
#undef UDAL_SPIRV_TRY
}

std::string Reader::run() {
  if (std::string e = header(); !e.empty())
    return e;
  auto visit = [&](uint32_t op, std::span<const uint32_t> w, size_t at) -> std::string {
    const size_t entries_before = entries_.size();
    if (std::string e = instruction(op, w.data(), static_cast<uint32_t>(w.size()), at);
        !e.empty()) {
      return fmt::format("{} (the instruction at word {})", e, at);
    }
    if (entries_.size() != entries_before)
      entries_.back().at = at;
    return {};
  };
  if (std::string e = for_each_instruction(words_, visit); !e.empty())
    return e;
  if (current_function_ != 0) {
    return fmt::format("the module ends inside function %{} (no OpFunctionEnd): the image is "
                       "truncated (cut short)",
                       current_function_);
  }
  return finish();
}

std::string Reader::finish() {
  if (!memory_model_)
    return "the module has no OpMemoryModel";
  // SPIR-V's own rule; it also catches a module cut short before its entry points. Kernel
  // modules (the OpenCL memory model) are let through without one: Level Zero programs, and
  // Intel's conformance suite (zeModuleGetKernelNames of a module of no kernels), create such
  // modules, and Level Zero's own drivers take them; a driver finds no kernel in one, and a
  // Kernel module cut before its first OpEntryPoint reads as one.
  constexpr uint32_t kMemoryModelOpenCL = 2;
  if (entries_.empty() && !linkage_ && out_->memory_model != kMemoryModelOpenCL) {
    return "the module has no OpEntryPoint and no Linkage capability (it is not a library): "
           "the image is truncated (cut short) or not a kernel module";
  }
  for (const auto& [id, f] : functions_) {
    for (uint32_t callee : f.calls) {
      if (!functions_.contains(callee)) {
        return fmt::format("function %{} calls %{}, which is no function of the module (the "
                           "image is truncated or corrupt)",
                           id, callee);
      }
    }
    for (const auto& [param, type] : f.parameters) {
      if (!types_.contains(type)) {
        return fmt::format("parameter %{} of function %{} has type %{}, which is no type of "
                           "the module",
                           param, id, type);
      }
    }
  }
  std::set<std::pair<uint32_t, std::string>> seen;
  for (const RawEntry& raw : entries_) {
    if (!functions_.contains(raw.function)) {
      return fmt::format("entry point '{}' (word {}) names function %{}, which the module does "
                         "not define",
                         raw.name, raw.at, raw.function);
    }
    if (!seen.emplace(raw.model, raw.name).second) {
      return fmt::format("two entry points of execution model {} are named '{}'", raw.model,
                         raw.name);
    }
  }
  for (uint32_t id : workgroup_size_decorated_) {
    if (globals_.contains(id))
      continue; // an Input variable (Kernel): not a fixed size
    WorkgroupSizeBuiltin b;
    b.id = id;
    b.specialized = spec_composites_.contains(id);
    if (auto composite = constant_composites_.find(id);
        composite != constant_composites_.end() && composite->second.size() == 3) {
      Size3 size{};
      bool known = true;
      for (int axis = 0; axis < 3 && known; ++axis) {
        auto value = constants_.find(composite->second[axis]);
        known = value != constants_.end() && value->second <= UINT32_MAX;
        if (known)
          size[axis] = static_cast<uint32_t>(value->second);
      }
      if (known)
        b.value = size;
    }
    out_->workgroup_size_builtins.push_back(b);
  }
  for (const auto& [id, type] : spec_scalars_) {
    auto spec = decoration(id, kDecorationSpecId);
    const Type* t = type_of(type);
    if (!spec || t == nullptr)
      continue;
    SpecConstant c;
    c.spec_id = *spec;
    c.id = id;
    c.type = type;
    if (t->op == kOpTypeBool) {
      c.size = 1;
      c.is_bool = true;
    } else if ((t->op == kOpTypeInt || t->op == kOpTypeFloat) && !t->operands.empty() &&
               t->operands[0] % 8 == 0 && t->operands[0] >= 8 && t->operands[0] <= 64) {
      c.size = t->operands[0] / 8;
    } else {
      continue;
    }
    out_->spec_constants.push_back(c);
  }
  for (uint32_t id : imported_) {
    if (!builtins_.contains(id))
      out_->imports = true;
  }
  for (const RawEntry& raw : entries_) {
    EntryPoint entry;
    reflect(raw, &entry);
    if (budget_ < 0) {
      return fmt::format("the module is too large to reflect: its {} entry points reference more "
                         "than {} objects, types and members together (a limit of the reader)",
                         entries_.size(), int64_t{1} << 26);
    }
    out_->entry_points.push_back(std::move(entry));
  }
  return {};
}

// ---------------------------------------------------------------------------------------
// Reflection
// ---------------------------------------------------------------------------------------

std::optional<uint32_t> Reader::decoration(uint32_t id, uint32_t which) const {
  if (auto it = decorations_.find(id); it != decorations_.end()) {
    for (auto [d, literal] : it->second) {
      if (d == which)
        return literal;
    }
  }
  if (auto groups = groups_of_.find(id); groups != groups_of_.end()) {
    for (uint32_t group : groups->second) {
      if (group != id) {
        if (auto literal = decoration(group, which))
          return literal;
      }
    }
  }
  return std::nullopt;
}

bool Reader::has_decoration_literal(uint32_t id, uint32_t which, uint32_t literal) const {
  auto has = [&](uint32_t target) {
    auto it = decorations_.find(target);
    return it != decorations_.end() &&
           std::any_of(it->second.begin(), it->second.end(),
                       [&](const auto& d) { return d.first == which && d.second == literal; });
  };
  if (has(id))
    return true;
  auto groups = groups_of_.find(id);
  return groups != groups_of_.end() &&
         std::any_of(groups->second.begin(), groups->second.end(), has);
}

std::optional<uint32_t> Reader::member_decoration(uint32_t type, uint32_t member,
                                                  uint32_t which) const {
  auto it = member_decorations_.find({type, member});
  if (it == member_decorations_.end())
    return std::nullopt;
  for (auto [d, literal] : it->second) {
    if (d == which)
      return literal;
  }
  return std::nullopt;
}

const Type* Reader::type_of(uint32_t id) const {
  auto it = types_.find(id);
  return it == types_.end() ? nullptr : &it->second;
}

std::optional<uint64_t> Reader::constant_value(uint32_t id) const {
  auto it = constants_.find(id);
  if (it == constants_.end())
    return std::nullopt;
  return it->second;
}

std::vector<uint32_t> Reader::used_globals(uint32_t function) {
  std::unordered_set<uint32_t> seen{function};
  std::vector<uint32_t> stack{function};
  std::set<uint32_t> used;
  while (!stack.empty()) {
    auto it = functions_.find(stack.back());
    stack.pop_back();
    if (it == functions_.end())
      continue;
    if (!spend(it->second.references.size() + it->second.calls.size())) {
      return {};
    }
    for (uint32_t id : it->second.references) {
      if (globals_.contains(id))
        used.insert(id);
    }
    for (uint32_t callee : it->second.calls) {
      if (seen.insert(callee).second)
        stack.push_back(callee);
    }
  }
  return {used.begin(), used.end()};
}

// Bytes of |type| in an explicitly laid out block (Offset, ArrayStride, MatrixStride).
std::optional<uint64_t> Reader::explicit_size(uint32_t type, uint32_t matrix_stride, int depth) {
  if (depth > kMaxTypeDepth)
    return std::nullopt;
  if (auto cached = explicit_sizes_.find({type, matrix_stride}); cached != explicit_sizes_.end()) {
    return cached->second;
  }
  const Type* t = type_of(type);
  if (t == nullptr)
    return std::nullopt;
  std::optional<uint64_t> size;
  switch (t->op) {
  case kOpTypeBool:
    size = 4;
    break;
  case kOpTypeInt:
  case kOpTypeFloat:
    if (t->operands[0] % 8 == 0 && t->operands[0] != 0)
      size = t->operands[0] / 8;
    break;
  case kOpTypePointer: // a device address (buffer_reference): 64 bits
    if (t->operands[0] == kStoragePhysicalStorageBuffer)
      size = 8;
    break;
  case kOpTypeVector:
    if (auto component = explicit_size(t->operands[0], 0, depth + 1)) {
      size = checked_mul(*component, t->operands[1]);
    }
    break;
  case kOpTypeMatrix:
    if (matrix_stride != 0) {
      size = checked_mul(matrix_stride, t->operands[1]);
    } else if (auto column = explicit_size(t->operands[0], 0, depth + 1)) {
      size = checked_mul(*column, t->operands[1]);
    }
    break;
  case kOpTypeArray: {
    auto length = constant_value(t->operands[1]);
    if (!length)
      break;
    if (auto stride = decoration(type, kDecorationArrayStride)) {
      size = checked_mul(*stride, *length);
    } else if (auto element = explicit_size(t->operands[0], 0, depth + 1)) {
      size = checked_mul(*element, *length);
    }
    break;
  }
  case kOpTypeStruct: {
    uint64_t end = 0;
    bool known = true;
    for (uint32_t m = 0; m < t->operands.size() && known; ++m) {
      auto offset = member_decoration(type, m, kDecorationOffset);
      auto member =
          explicit_size(t->operands[m],
                        member_decoration(type, m, kDecorationMatrixStride).value_or(0), depth + 1);
      auto member_end = offset && member ? checked_add(*offset, *member) : std::nullopt;
      known = member_end.has_value();
      if (known)
        end = std::max(end, *member_end);
    }
    if (known)
      size = end;
    break;
  }
  default:
    break;
  }
  if (size)
    explicit_sizes_[{type, matrix_stride}] = *size;
  return size;
}

// Size and alignment of |type| by the OpenCL C layout (natural alignment, a 3-vector takes
// four lanes, CPacked structs without padding).
std::optional<Layout> Reader::c_layout(uint32_t type, int depth) {
  if (depth > kMaxTypeDepth)
    return std::nullopt;
  if (auto cached = c_layouts_.find(type); cached != c_layouts_.end())
    return cached->second;
  const Type* t = type_of(type);
  if (t == nullptr)
    return std::nullopt;
  std::optional<Layout> layout;
  switch (t->op) {
  case kOpTypeInt:
  case kOpTypeFloat: {
    const uint32_t width = t->operands[0];
    if (width == 8 || width == 16 || width == 32 || width == 64) {
      layout = Layout{width / 8u, width / 8u};
    }
    break;
  }
  case kOpTypePointer:
    layout = Layout{out_->pointer_bytes(), out_->pointer_bytes()};
    break;
  case kOpTypeVector: {
    const uint32_t count = t->operands[1];
    auto component = c_layout(t->operands[0], depth + 1);
    if (component && (count == 2 || count == 3 || count == 4 || count == 8 || count == 16)) {
      const uint64_t size = component->size * (count == 3 ? 4u : count);
      layout = Layout{size, size};
    }
    break;
  }
  case kOpTypeArray: {
    auto element = c_layout(t->operands[0], depth + 1);
    auto length = constant_value(t->operands[1]);
    if (element && length && *length <= (1u << 24)) {
      if (auto size = checked_mul(element->size, *length))
        layout = Layout{*size, element->align};
    }
    break;
  }
  case kOpTypeStruct: {
    const bool packed = has_decoration(type, kDecorationCPacked);
    Layout s{0, 1};
    bool known = true;
    for (uint32_t member : t->operands) {
      auto m = c_layout(member, depth + 1);
      if (!m || s.size > (uint64_t{1} << 40) || m->size > (uint64_t{1} << 40)) {
        known = false;
        break;
      }
      const uint64_t align = packed ? 1 : m->align;
      s.size = (s.size + align - 1) / align * align + m->size;
      s.align = std::max(s.align, align);
    }
    if (known) {
      s.size = (s.size + s.align - 1) / s.align * s.align;
      layout = s;
    }
    break;
  }
  default:
    break;
  }
  if (layout)
    c_layouts_[type] = *layout;
  return layout;
}

MemberKind Reader::member_kind(uint32_t type) const {
  const Type* t = type_of(type);
  if (t == nullptr)
    return MemberKind::kOther;
  switch (t->op) {
  case kOpTypeBool:
  case kOpTypeInt:
  case kOpTypeFloat:
    return MemberKind::kScalar;
  case kOpTypeVector:
    return MemberKind::kVector;
  case kOpTypePointer:
    return t->operands[0] == kStoragePhysicalStorageBuffer ? MemberKind::kDeviceAddress
                                                           : MemberKind::kOther;
  case kOpTypeArray:
    return MemberKind::kArray;
  default:
    return MemberKind::kOther;
  }
}

ResourceKind Reader::resource_kind(uint32_t type) const {
  const Type* t = type_of(type);
  for (int depth = 0; t != nullptr && depth < kMaxTypeDepth; ++depth) {
    switch (t->op) {
    case kOpTypeImage:
      return ResourceKind::kImage;
    case kOpTypeSampler:
      return ResourceKind::kSampler;
    case kOpTypeSampledImage:
      return ResourceKind::kSampledImage;
    case kOpTypeArray:
    case kOpTypeRuntimeArray:
      t = type_of(t->operands[0]);
      break;
    default:
      return ResourceKind::kOther;
    }
  }
  return ResourceKind::kOther;
}

std::string Reader::opaque_name(uint32_t type) const {
  const Type* t = type_of(type);
  if (t == nullptr)
    return fmt::format("an undefined type %{}", type);
  switch (t->op) {
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
  case kOpTypeOpaque:
    return "an opaque type";
  default:
    return fmt::format("type %{} (opcode {})", type, t->op);
  }
}

void Reader::spec_ids_of(uint32_t constant, std::set<uint32_t>* spec_ids) {
  std::unordered_set<uint32_t> seen{constant};
  std::vector<uint32_t> stack{constant};
  while (!stack.empty() && spend(1)) {
    const uint32_t id = stack.back();
    stack.pop_back();
    if (auto spec = decoration(id, kDecorationSpecId)) {
      if (spec_scalar_ids_.contains(id))
        spec_ids->insert(*spec);
    }
    if (auto op = spec_operations_.find(id); op != spec_operations_.end()) {
      for (uint32_t operand : op->second) {
        if (seen.insert(operand).second)
          stack.push_back(operand);
      }
    }
  }
}

void Reader::collect_spec_ids(uint32_t type, std::unordered_set<uint32_t>* visited,
                              std::set<uint32_t>* spec_ids) {
  // Each type once: shared member types make a type graph a DAG, not a tree.
  std::vector<std::pair<uint32_t, int>> stack{{type, 0}};
  while (!stack.empty() && spend(1)) {
    const auto [id, depth] = stack.back();
    stack.pop_back();
    const Type* t = type_of(id);
    if (t == nullptr || depth > kMaxTypeDepth || !visited->insert(id).second)
      continue;
    if (t->op == kOpTypeArray) {
      spec_ids_of(t->operands[1], spec_ids);
      stack.emplace_back(t->operands[0], depth + 1);
    } else if (t->op == kOpTypeStruct) {
      for (uint32_t member : t->operands)
        stack.emplace_back(member, depth + 1);
    }
  }
}

void Reader::reflect_resources(const RawEntry& raw, EntryPoint* entry) {
  std::set<uint32_t> workgroup_spec_ids;
  std::unordered_set<uint32_t> workgroup_types;
  for (uint32_t id : used_globals(raw.function)) {
    const Global& var = globals_.at(id);
    const Type* pointer = type_of(var.pointer_type);
    if (pointer == nullptr || pointer->op != kOpTypePointer)
      continue;
    const uint32_t pointee = pointer->operands[1];
    const Type* pointee_type = type_of(pointee);
    const uint32_t storage = var.storage;
    if (storage == kStorageStorageBuffer || storage == kStorageUniform ||
        storage == kStorageUniformConstant) {
      Binding b;
      b.variable = id;
      b.set = decoration(id, kDecorationDescriptorSet);
      b.binding = decoration(id, kDecorationBinding);
      const bool array = pointee_type != nullptr && (pointee_type->op == kOpTypeArray ||
                                                     pointee_type->op == kOpTypeRuntimeArray);
      b.is_array = array;
      uint32_t block = pointee;
      if (array)
        block = pointee_type->operands[0];
      if (storage == kStorageStorageBuffer ||
          (storage == kStorageUniform && (has_decoration(pointee, kDecorationBufferBlock) ||
                                          has_decoration(block, kDecorationBufferBlock)))) {
        b.kind = ResourceKind::kStorageBuffer;
      } else if (storage == kStorageUniform) {
        b.kind = ResourceKind::kUniformBuffer;
      } else {
        b.kind = resource_kind(pointee);
      }
      b.readable = !has_decoration(id, kDecorationNonReadable);
      b.writable = !has_decoration(id, kDecorationNonWritable);
      if (const Type* s = type_of(block); s != nullptr && s->op == kOpTypeStruct &&
                                          !s->operands.empty() && spend(s->operands.size())) {
        bool all_non_readable = true, all_non_writable = true;
        for (uint32_t m = 0; m < s->operands.size(); ++m) {
          all_non_readable &= member_decoration(block, m, kDecorationNonReadable).has_value();
          all_non_writable &= member_decoration(block, m, kDecorationNonWritable).has_value();
        }
        b.readable = b.readable && !all_non_readable;
        b.writable = b.writable && !all_non_writable;
      }
      entry->bindings.push_back(b);
    } else if (storage == kStoragePushConstant) {
      PushConstantBlock block;
      block.variable = id;
      block.size = explicit_size(pointee, 0, 0);
      if (pointee_type != nullptr && pointee_type->op == kOpTypeStruct &&
          spend(pointee_type->operands.size())) {
        for (uint32_t m = 0; m < pointee_type->operands.size(); ++m) {
          const uint32_t type = pointee_type->operands[m];
          PushConstantMember member;
          member.offset = member_decoration(pointee, m, kDecorationOffset);
          member.size = explicit_size(
              type, member_decoration(pointee, m, kDecorationMatrixStride).value_or(0), 0);
          member.kind = member_kind(type);
          if (member.kind == MemberKind::kArray) {
            const Type* array = type_of(type);
            member.array_length = constant_value(array->operands[1]);
            member.array_stride = decoration(type, kDecorationArrayStride);
            member.element_kind = member_kind(array->operands[0]);
            member.element_size = explicit_size(array->operands[0], 0, 0);
          }
          block.members.push_back(member);
        }
      }
      entry->push_constants.push_back(std::move(block));
    } else if (storage == kStorageWorkgroup) {
      collect_spec_ids(pointee, &workgroup_types, &workgroup_spec_ids);
    }
  }
  entry->workgroup_spec_ids.assign(workgroup_spec_ids.begin(), workgroup_spec_ids.end());
}

void Reader::reflect_parameters(const RawEntry& raw, EntryPoint* entry) {
  const Function& f = functions_.at(raw.function);
  // Compilers wrap each kernel in an entry point that only calls the kernel's body with its
  // own parameters; the body's parameters may carry the decorations.
  std::vector<uint32_t> param_ids;
  for (const auto& [id, type] : f.parameters)
    param_ids.push_back(id);
  const Function* body = nullptr;
  if (f.calls.size() == 1 && f.first_call_args == param_ids) {
    auto callee = functions_.find(f.calls.front());
    if (callee != functions_.end() && callee->second.parameters.size() == param_ids.size()) {
      body = &callee->second;
    }
  }
  if (!spend(f.parameters.size()))
    return;
  for (size_t i = 0; i < f.parameters.size(); ++i) {
    const uint32_t id = f.parameters[i].first;
    const uint32_t type = f.parameters[i].second;
    Parameter p;
    p.id = id;
    p.type = type;
    auto attr = [&](uint32_t which) {
      return has_decoration_literal(id, kDecorationFuncParamAttr, which) ||
             (body != nullptr &&
              has_decoration_literal(body->parameters[i].first, kDecorationFuncParamAttr, which));
    };
    p.by_val = attr(kParamAttrByVal);
    p.no_write = attr(kParamAttrNoWrite);
    p.no_read_write = attr(kParamAttrNoReadWrite);
    const Type* t = type_of(type);
    if (t == nullptr) {
      p.what = opaque_name(type);
    } else if (t->op == kOpTypePointer) {
      p.kind = ParameterKind::kPointer;
      p.storage_class = t->operands[0];
      p.size = out_->pointer_bytes();
      if (auto pointee = c_layout(t->operands[1], 0))
        p.pointee_size = pointee->size;
    } else if (t->op == kOpTypeInt || t->op == kOpTypeFloat || t->op == kOpTypeVector ||
               t->op == kOpTypeStruct || t->op == kOpTypeArray) {
      p.kind = ParameterKind::kValue;
      if (auto layout = c_layout(type, 0))
        p.size = layout->size;
    } else {
      p.what = opaque_name(type);
    }
    entry->parameters.push_back(std::move(p));
  }
}

void Reader::reflect(const RawEntry& raw, EntryPoint* entry) {
  entry->model = raw.model;
  entry->function = raw.function;
  entry->name = raw.name;
  if (auto m = modes_.find(raw.function); m != modes_.end()) {
    entry->local_size = m->second.local_size;
    entry->local_size_id = m->second.local_size_id;
    entry->local_size_hint = m->second.local_size_hint;
    entry->vec_type_hint = m->second.vec_type_hint;
    entry->subgroup_size = m->second.subgroup_size;
  }
  if (raw.model == kExecutionModelKernel) {
    entry->fixed_group_size = entry->local_size;
  } else if (!out_->workgroup_size_builtins.empty()) {
    // WorkgroupSize overrides LocalSize; a specialized one leaves the size to the launch.
    entry->fixed_group_size = out_->workgroup_size_builtins.back().value;
  } else if (!entry->local_size_id) {
    entry->fixed_group_size = entry->local_size;
  }
  if (raw.model != kExecutionModelKernel)
    reflect_resources(raw, entry);
  reflect_parameters(raw, entry);
}

} // namespace

std::string read(std::span<const uint32_t> words, Module* out) {
  *out = Module{};
  Reader reader(words, out);
  std::string why = reader.run();
  if (!why.empty())
    *out = Module{};
  return why;
}

std::string read_bytes(const void* data, std::size_t size, Module* out) {
  *out = Module{};
  if (size < 20) {
    return fmt::format("{} bytes are too few for a SPIR-V module (its header alone is 20)", size);
  }
  if (size % 4 != 0) {
    return fmt::format("{} bytes is not a whole number of 32-bit words: the image is truncated "
                       "or corrupt",
                       size);
  }
  std::vector<uint32_t> words(size / 4);
  std::memcpy(words.data(), data, size);
  return read(words, out);
}

const EntryPoint* find_entry_point(const Module& module, std::string_view name,
                                   uint32_t model) noexcept {
  for (const EntryPoint& e : module.entry_points) {
    if (e.model == model && e.name == name)
      return &e;
  }
  return nullptr;
}

std::string storage_class_name(uint32_t storage_class) {
  switch (storage_class) {
  case kStorageUniformConstant:
    return "UniformConstant";
  case kStorageInput:
    return "Input";
  case kStorageUniform:
    return "Uniform";
  case kStorageWorkgroup:
    return "Workgroup";
  case kStorageCrossWorkgroup:
    return "CrossWorkgroup";
  case kStorageFunction:
    return "Function";
  case kStorageGeneric:
    return "Generic";
  case kStoragePushConstant:
    return "PushConstant";
  case kStorageStorageBuffer:
    return "StorageBuffer";
  case kStoragePhysicalStorageBuffer:
    return "PhysicalStorageBuffer";
  default:
    return fmt::format("{}", storage_class);
  }
}

} // namespace udal::sdk::spirv
