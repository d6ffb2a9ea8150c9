// spirv.h — what the driver reads from a SPIR-V module itself: its GLCompute entry points
// and, for each, the storage buffers of set 0 and the push-constant block (the argument
// convention of docs/spec.md section 14.1). A structural check, not a validator: it refuses
// what is not SPIR-V or is cut short, and leaves the rest to the Vulkan implementation.
#ifndef UDAL_VULKAN_SPIRV_H_
#define UDAL_VULKAN_SPIRV_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace udal::vulkan {

inline constexpr uint32_t kUnknownCount = UINT32_MAX;

struct EntryPoint {
  std::string name;
  uint32_t buffer_count = 0;       // bindings 0 … n-1 of set 0 the kernel may use
  uint32_t push_constant_bytes = 0;  // the block's size rounded up to 4; 0 without a block
  // Value arguments, when the block's members are all scalars or vectors (one argument
  // each); kUnknownCount when it holds arrays, matrices or structs.
  uint32_t value_count = 0;
  // The local size fixed in the shader (LocalSize, no WorkgroupSize specialization
  // constants): a launch must use exactly it. Unset for kernels that follow the convention.
  std::optional<std::array<uint32_t, 3>> fixed_group_size;
};

struct SpirvModule {
  std::vector<EntryPoint> entry_points;
};

// Parses |words|. On failure returns nullopt and says why in |*error|.
std::optional<SpirvModule> parse_spirv(std::span<const uint32_t> words, std::string* error);

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_SPIRV_H_
