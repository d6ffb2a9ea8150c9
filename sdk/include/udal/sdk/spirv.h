// spirv.h — reading SPIR-V that came from an application: well-formedness checks of the
// untrusted words, then what a driver needs to know to launch the module's entry points.
//
//   udal::sdk::spirv::Module module;
//   if (std::string why = udal::sdk::spirv::read(words, &module); !why.empty()) {
//     return udal::sdk::fail(UDAL_ERROR_INVALID_MODULE, "udal_module_create: {}", why);
//   }
//
// read() checks what it relies on and what a consumer must never be fed: the header, the
// bounds of every instruction and of every operand it reads, result and referenced ids
// inside the id bound, ids defined once, functions opened and closed, entry points that
// name defined functions, literal strings terminated inside their instruction. It is not a
// validator (SPIRV-Tools' spirv-val is one): a driver that hands the words to a compiler
// that may crash on a semantically invalid module still validates them.
//
// It reflects both flavours of SPIR-V:
//   Shader (GLCompute, Vulkan): the descriptor bindings and push-constant blocks each entry
//     point's static call tree uses, with access and explicit layout; LocalSize, LocalSizeId
//     and the WorkgroupSize built-in; the spec constants that size its Workgroup arrays.
//   Kernel (OpenCL, Level Zero): each entry point's parameters (pointer storage classes,
//     NoWrite / NoReadWrite, ByVal structs and their sizes, local pointers, values and their
//     sizes by the OpenCL C layout), reqd_work_group_size (LocalSize), the hints, the
//     addressing model.
// and both: specialization constants with their SpecId and size.
//
// The reader links as the static library udal::sdk_spirv. It allocates (std::bad_alloc is
// the only exception it throws) and keeps no state between calls.
#ifndef UDAL_SDK_SPIRV_H_
#define UDAL_SDK_SPIRV_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace udal::sdk::spirv {

inline constexpr uint32_t kMagic = 0x07230203u;
// The smallest id bound every SPIR-V consumer must accept (the spec's universal limit).
inline constexpr uint32_t kMaxIdBound = 0x3fffffu;

// The values SPIR-V gives these enumerants (unified1/spirv.h), for comparing against what
// read() reports.
enum ExecutionModel : uint32_t {
  kExecutionModelGLCompute = 5,
  kExecutionModelKernel = 6,
};
enum AddressingModel : uint32_t {
  kAddressingLogical = 0,
  kAddressingPhysical32 = 1,
  kAddressingPhysical64 = 2,
  kAddressingPhysicalStorageBuffer64 = 5348,
};
enum StorageClass : uint32_t {
  kStorageUniformConstant = 0,
  kStorageInput = 1,
  kStorageUniform = 2,
  kStorageWorkgroup = 4,
  kStorageCrossWorkgroup = 5,
  kStorageFunction = 7,
  kStorageGeneric = 8,
  kStoragePushConstant = 9,
  kStorageStorageBuffer = 12,
  kStoragePhysicalStorageBuffer = 5349,
};

using Size3 = std::array<uint32_t, 3>;

// ---------------------------------------------------------------------------------------
// Shader flavour
// ---------------------------------------------------------------------------------------

enum class ResourceKind {
  kStorageBuffer, // StorageBuffer, or Uniform with a BufferBlock struct
  kUniformBuffer, // Uniform with a Block struct
  kImage,
  kSampler,
  kSampledImage,
  kOther, // any other UniformConstant (acceleration structures, ...)
};

// A global in a descriptor set that an entry point's static call tree references.
struct Binding {
  uint32_t variable = 0;           // the OpVariable's id
  std::optional<uint32_t> set;     // DescriptorSet, if decorated
  std::optional<uint32_t> binding; // Binding, if decorated
  ResourceKind kind = ResourceKind::kOther;
  bool is_array = false; // an array of descriptors (the variable's type is an array)
  // false when the variable is NonReadable / NonWritable, or every member of its struct is.
  bool readable = true;
  bool writable = true;
};

// What one member of a push-constant block holds.
enum class MemberKind {
  kScalar, // int, float, bool
  kVector,
  kDeviceAddress, // a PhysicalStorageBuffer pointer (64 bits)
  kArray,         // a fixed-length array (see the array_* fields)
  kOther,         // structs, matrices, runtime arrays, ...
};

struct PushConstantMember {
  std::optional<uint32_t> offset; // its Offset decoration
  std::optional<uint64_t> size;   // bytes by the block's explicit layout; nullopt: unknown
  MemberKind kind = MemberKind::kOther;
  // kArray only: the length (nullopt when it is not a plain constant), ArrayStride, and the
  // element: its kind and size.
  std::optional<uint64_t> array_length;
  std::optional<uint32_t> array_stride;
  MemberKind element_kind = MemberKind::kOther;
  std::optional<uint64_t> element_size;
};

struct PushConstantBlock {
  uint32_t variable = 0;
  // The block's extent by its members' Offsets and sizes; nullopt when a member has no
  // Offset or a type whose size cannot be derived.
  std::optional<uint64_t> size;
  std::vector<PushConstantMember> members; // empty when the block is not a struct
};

// ---------------------------------------------------------------------------------------
// Kernel flavour
// ---------------------------------------------------------------------------------------

enum class ParameterKind {
  kPointer, // see storage_class
  kValue,   // int, float, vector, struct, array: bytes
  kOpaque,  // image, sampler, event, pipe, queue, bool, ...: see |what|
};

struct Parameter {
  uint32_t id = 0;   // the entry point's OpFunctionParameter
  uint32_t type = 0; // its type's id
  ParameterKind kind = ParameterKind::kOpaque;
  uint32_t storage_class = 0; // kPointer
  // FuncParamAttr decorations, on the parameter or (compilers wrap a kernel in an entry
  // point that only calls its body) on the body's parameter at the same place.
  bool by_val = false;
  bool no_write = false;
  bool no_read_write = false;
  // kValue: the value's bytes by the OpenCL C layout; kPointer: the pointer's bytes (by the
  // addressing model). nullopt when the type's size cannot be derived.
  std::optional<uint64_t> size;
  // kPointer: the pointee's bytes (what a ByVal struct passes); nullopt when unknown.
  std::optional<uint64_t> pointee_size;
  std::string what; // kOpaque: "an image", "a sampler", "a bool", "an undefined type %7", ...
};

// ---------------------------------------------------------------------------------------
// The module
// ---------------------------------------------------------------------------------------

struct EntryPoint {
  uint32_t model = 0;    // ExecutionModel
  uint32_t function = 0; // its OpFunction's id
  std::string name;
  std::optional<Size3> local_size; // ExecutionMode LocalSize
  bool local_size_id = false;      // ExecutionMode(Id) LocalSizeId
  // The group size a launch must use: Kernel: LocalSize (reqd_work_group_size). Shader:
  // the module's WorkgroupSize built-in when one is decorated (the last: what
  // implementations take), if it is a plain constant; else LocalSize unless LocalSizeId.
  std::optional<Size3> fixed_group_size;
  std::optional<Size3> local_size_hint;  // LocalSizeHint (work_group_size_hint)
  std::optional<uint32_t> vec_type_hint; // VecTypeHint's operand
  std::optional<uint32_t> subgroup_size; // SubgroupSize (intel_reqd_sub_group_size)

  // Shader: what the static call tree references, each once, by variable id.
  std::vector<Binding> bindings;
  std::vector<PushConstantBlock> push_constants;
  // SpecIds on which the length of an array in a Workgroup variable it uses depends
  // (directly, or through OpSpecConstantOp), ascending.
  std::vector<uint32_t> workgroup_spec_ids;

  // Kernel (any entry point with parameters): its parameters in order.
  std::vector<Parameter> parameters;
};

// A scalar specialization constant with a SpecId.
struct SpecConstant {
  uint32_t spec_id = 0;
  uint32_t id = 0; // the OpSpecConstant*'s result id
  uint32_t type = 0;
  uint32_t size = 0; // the scalar's bytes (width / 8); a bool counts 1
  bool is_bool = false;
};

// An object decorated BuiltIn WorkgroupSize that is a constant, not a variable.
struct WorkgroupSizeBuiltin {
  uint32_t id = 0;
  bool specialized = false;   // an OpSpecConstantComposite
  std::optional<Size3> value; // when it is a composite of three 32-bit OpConstants
};

struct Module {
  uint32_t version = 0;   // the header's version word
  uint32_t generator = 0; // the header's generator word
  uint32_t bound = 0;     // the header's id bound
  uint32_t addressing_model = 0;
  uint32_t memory_model = 0;
  std::vector<EntryPoint> entry_points;     // in module order, every execution model
  std::vector<SpecConstant> spec_constants; // in module order
  std::vector<WorkgroupSizeBuiltin> workgroup_size_builtins; // in decoration order
  bool imports = false;          // LinkageAttributes Import on anything but a built-in
  bool global_variables = false; // module-scope CrossWorkgroup variables (program scope)

  // The bytes of a Kernel pointer: 4 under Physical32, else 8.
  uint32_t pointer_bytes() const noexcept {
    return addressing_model == kAddressingPhysical32 ? 4u : 8u;
  }
};

// Checks and reflects |words|. Returns "" and fills |*out|, or says what is wrong (naming
// the word where it was found) and leaves |*out| empty. Throws std::bad_alloc only.
std::string read(std::span<const uint32_t> words, Module* out);

// The same for |size| bytes at |data|, which need not be 4-byte aligned; refuses a size
// that is not a whole number of words.
std::string read_bytes(const void* data, std::size_t size, Module* out);

// Walks the instructions after the 5-word header of |words| in order: calls
// |visit(opcode, instruction, at)| with each instruction's words (the first holds its word
// count and opcode) and its word index; |visit| returns "" to go on, or a reason to stop,
// which is returned. Also stops at a word count of 0 or one that runs past the end, saying
// so. Checks nothing else (read() does): for a driver's or a tool's own scan of words that
// read() accepted, or of any words, safely. Throws what |visit| throws and std::bad_alloc.
//   udal::sdk::spirv::for_each_instruction(words, [&](uint32_t op, auto instruction, size_t) {
//     if (op == 17 /* OpCapability */ && instruction.size() > 1) capabilities.insert(instruction[1]);
//     return std::string();
//   });
template <typename Visit>
std::string for_each_instruction(std::span<const uint32_t> words, Visit&& visit) {
  for (std::size_t at = 5; at < words.size();) {
    const uint32_t count = words[at] >> 16;
    const uint32_t op = words[at] & 0xffffu;
    if (count == 0) {
      return "the instruction at word " + std::to_string(at) + " (opcode " + std::to_string(op) +
             ") has a word count of 0";
    }
    if (count > words.size() - at) {
      return "the instruction at word " + std::to_string(at) + " (opcode " + std::to_string(op) +
             ", " + std::to_string(count) + " words) runs past the end of the module (" +
             std::to_string(words.size()) + " words): the image is truncated (cut short) or corrupt";
    }
    if (std::string why = visit(op, words.subspan(at, count), at); !why.empty()) return why;
    at += count;
  }
  return {};
}

// The entry point named |name| with execution model |model|, or null.
const EntryPoint* find_entry_point(const Module& module, std::string_view name,
                                   uint32_t model) noexcept;

// "CrossWorkgroup", "Workgroup", ... or the number, for messages.
std::string storage_class_name(uint32_t storage_class);

} // namespace udal::sdk::spirv

#endif // UDAL_SDK_SPIRV_H_
