// spirv.h — what libze_udal reads from an OpenCL-flavoured SPIR-V module: its kernels and
// their parameters (Level Zero passes arguments by index with a size; UDAL launches take
// typed arguments), required group sizes, specialization constants and their sizes (Level
// Zero gives only ids and value pointers), and whether the module imports symbols. The SDK's
// reader (udal/sdk/spirv.h) checks and reflects the module; parse() maps what it found.
#ifndef UDAL_ZE_SPIRV_H_
#define UDAL_ZE_SPIRV_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace udal::ze::spirv {

enum class ArgKind {
  kValue,   // bytes (scalars, vectors, structs by value)
  kGlobal,  // a global or constant pointer: a buffer
  kLocal,   // a local pointer: the launch's local memory
  kOther,   // images, samplers, events, ...: not launchable here
};

struct Arg {
  ArgKind kind = ArgKind::kOther;
  uint32_t size = 0;   // kValue: bytes; pointers: the pointer size
  bool read_only = false;  // kGlobal: a constant pointer, or NoWrite / NoReadWrite
  std::string what;    // kOther: what it is ("an image")
};

struct Kernel {
  std::string name;
  std::vector<Arg> args;
  uint32_t required_group_size[3] = {0, 0, 0};  // LocalSize, or zeros
  uint32_t required_subgroup_size = 0;           // SubgroupSize, or 0
  std::string attributes;  // OpenCL C attributes the SPIR-V keeps, e.g. "work_group_size_hint(1,1,1)"
  // rewrite_locals() gave the kernel, instead of its local-memory parameters, one 32-bit
  // byte offset per local parameter (in their order, after the other parameters) and one
  // trailing local pointer to all of them.
  bool local_offsets = false;
  // rewrite_kernels(..., true): every global pointer parameter is followed, after the local
  // offsets, by a 64-bit byte offset the kernel adds to it.
  bool global_offsets = false;
};

struct SpecConstant {
  uint32_t id = 0;
  uint32_t size = 0;  // 1 for bools
};

struct Info {
  std::vector<Kernel> kernels;
  std::vector<SpecConstant> spec_constants;
  bool imports = false;         // LinkageAttributes ... Import (built-in variables aside)
  bool global_variables = false;
  uint32_t pointer_bytes = 8;   // Physical32: 4
  uint32_t version = 0;         // the header's version word
};

// Reads |count| words with the SDK's reader. Returns "" on success, else why the module is
// not usable.
std::string parse(const uint32_t* words, size_t count, Info* out);

const Kernel* find_kernel(const Info& info, const std::string& name) noexcept;

// UDAL passes a launch's local memory as one trailing local pointer. For each kernel of
// |info| whose local-memory parameters are anything else (several, or one that is not last),
// rewrites |words| so the kernel takes the other parameters, then one uint byte offset per
// local parameter, then one local uchar pointer; its body derives each original pointer from
// those. Marks those kernels local_offsets. Returns "" or why the module cannot be rewritten.
std::string rewrite_locals(std::vector<uint32_t>* words, Info* info);

// rewrite_locals, and with |global_offsets| every kernel with global pointer parameters is
// rewritten too: parameters [others in order, one uint per local, one ulong per global
// pointer, a trailing local pointer when there are locals], each global pointer moved by
// its ulong in bytes. (A device whose buffer arguments must be aligned then takes any
// pointer: the buffer at offset 0, the offset as a value.)
std::string rewrite_kernels(std::vector<uint32_t>* words, Info* info, bool global_offsets);

// Intel's OpenCL C++ compiler writes a specialization constant as a global of type
// "struct cl::__spirv::OpSpecConstant<T, N>" with its default value, which Intel's driver
// specializes by id N. Rewrites each such default value into a real OpSpecConstant with
// SpecId N (an OpSpecConstantComposite for the struct), so UDAL specializes it, and adds it to
// info->spec_constants. Modules without them are unchanged.
void rewrite_cpp_spec_constants(std::vector<uint32_t>* words, Info* info);

}  // namespace udal::ze::spirv

#endif  // UDAL_ZE_SPIRV_H_
