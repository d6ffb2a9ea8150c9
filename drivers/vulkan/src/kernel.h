// kernel.h — a kernel: one entry point of a module, its pipeline layout, and its compute
// pipelines, one per group size and local memory size launched with.
#ifndef UDAL_VULKAN_KERNEL_H_
#define UDAL_VULKAN_KERNEL_H_

#include <array>
#include <map>
#include <memory>
#include <mutex>

#include "module.h"

namespace udal::vulkan {

// Shared by the kernel and every batch in flight that launches it.
class KernelState {
 public:
  KernelState(DeviceState* device, std::shared_ptr<ModuleCode> code, EntryPoint entry)
      : device_(device), code_(std::move(code)), entry_(std::move(entry)) {}

  // Creates the set and pipeline layouts; a VkResult on failure.
  VkResult init();

  // The pipeline of |group_size| with |local_words| 32-bit words of dynamic local memory
  // (specialization constants 0, 1, 2 and 3), created on first use.
  VkResult pipeline(const uint32_t group_size[3], uint32_t local_words, VkPipeline* out);

  const EntryPoint& entry() const noexcept { return entry_; }
  VkPipelineLayout layout() const noexcept { return layout_.get(); }
  DeviceState* device() const noexcept { return device_; }

 private:
  DeviceState* device_;
  std::shared_ptr<ModuleCode> code_;
  EntryPoint entry_;
  UniqueDescriptorSetLayout set_layout_;
  UniquePipelineLayout layout_;
  std::mutex mutex_;
  std::map<std::array<uint32_t, 4>, UniquePipeline> pipelines_;
};

// The object behind a udal_kernel_t.
struct Kernel {
  const udal_driver_table_t* dispatch;
  std::shared_ptr<KernelState> state;
};
UDAL_SDK_DISPATCHABLE(Kernel);

inline Kernel* to_kernel(udal_kernel_t handle) noexcept {
  return udal::sdk::from_handle<Kernel>(handle);
}

udal_result_t kernel_create(udal_module_t module, const char* name, udal_kernel_t* out_kernel);
udal_result_t kernel_destroy(udal_kernel_t kernel);
udal_result_t kernel_get_info(udal_kernel_t kernel, udal_kernel_info_t* out_info);
udal_result_t kernel_get_argument_info(udal_kernel_t kernel, uint32_t index,
                                       udal_kernel_arg_info_t* out_info);

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_KERNEL_H_
