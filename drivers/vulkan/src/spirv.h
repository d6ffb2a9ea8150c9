// spirv.h — what the driver reads from a SPIR-V module: its GLCompute entry points and, for
// each, the arguments of the convention of docs/spec.md section 14.1 (storage buffers of
// set 0, the push-constant block), whether it uses dynamic local memory and whether it
// fixes its group size.
//
// The module is first checked and reflected by the SDK's reader (udal/sdk/spirv.h), then
// validated with SPIRV-Tools' validator for the device's Vulkan version: an entry point's
// resources are the globals its static call tree references, so the kernels of a linked
// module each get their own. Whatever the driver does not model
// (descriptor sets other than 0, descriptor arrays, images, samplers, uniform buffers, a
// push-constant block over the device's limit) is refused here, at module creation, so
// nothing reaches vkCreateComputePipelines that could fail there or crash the
// implementation.
#ifndef UDAL_VULKAN_SPIRV_H_
#define UDAL_VULKAN_SPIRV_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace udal::vulkan {

// A storage buffer argument: binding b of set 0 is buffer argument b.
struct BufferArgument {
  // UDAL_ARG_ACCESS_* bits the kernel needs: READ unless every member (or the variable) is
  // NonReadable, WRITE unless it is NonWritable. A binding below the highest one that the
  // kernel never uses declares READ (it must still be passed).
  uint32_t access = 0;
};

// A value argument: one member of the push-constant block (an array of scalars or vectors
// counts as one argument per element, as a GLSL `uint v[31]` takes 31 values).
struct ValueArgument {
  uint32_t offset = 0;  // in the push-constant block
  uint32_t size = 0;
  // On the first element of an array member whose elements are tightly packed: the number
  // of elements, so a launch may also pass the whole array as one value of
  // |array_elements| * |size| bytes. 0 elsewhere.
  uint32_t array_elements = 0;
};

struct EntryPoint {
  std::string name;
  std::vector<BufferArgument> buffers;  // one per binding 0 … n-1 of set 0
  uint32_t push_constant_bytes = 0;     // the block's size rounded up to 4; 0 without one
  // The value arguments, when the block's members are scalars, vectors and arrays of them
  // at the offsets docs/spec.md 14.1 packs them at; nullopt when the block holds something
  // else (structs, matrices, other offsets): then only the packed size is checked.
  std::optional<std::vector<ValueArgument>> values;
  // The kernel sizes a Workgroup array with specialization constant 3 (dynamic local
  // memory): a launch with local_memory_bytes 0 would leave it at its default and run past
  // it.
  bool uses_local_memory = false;
  // The local size fixed in the shader (LocalSize, no WorkgroupSize built from
  // specialization constants): a launch must use exactly it.
  std::optional<std::array<uint32_t, 3>> fixed_group_size;
};

struct SpirvModule {
  uint32_t version = 0;  // the header's SPIR-V version word
  std::vector<EntryPoint> entry_points;
  // The module's scalar specialization constants: SpecId -> byte size (booleans are 4,
  // a VkBool32).
  std::map<uint32_t, uint32_t> specialization_constants;
};

// What the device lets a module use.
struct SpirvLimits {
  uint32_t vulkan_api_version = 0;      // VkPhysicalDeviceProperties::apiVersion
  uint32_t max_push_constant_bytes = 0;  // maxPushConstantsSize
  bool scalar_block_layout = false;      // the device enabled scalarBlockLayout
  std::array<uint32_t, 3> max_group_size = {0, 0, 0};  // maxComputeWorkGroupSize
  uint32_t max_group_invocations = 0;                  // maxComputeWorkGroupInvocations
};

// Validates and parses |words|. On failure returns nullopt and says why in |*error|.
// Throws std::bad_alloc.
std::optional<SpirvModule> parse_spirv(std::span<const uint32_t> words, const SpirvLimits& limits,
                                       std::string* error);

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_SPIRV_H_
