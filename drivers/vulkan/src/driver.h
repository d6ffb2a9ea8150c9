// driver.h — the driver's root object: one VkInstance and the UDAL devices over it.
#ifndef UDAL_VULKAN_DRIVER_H_
#define UDAL_VULKAN_DRIVER_H_

#include <memory>
#include <vector>

#include "device.h"

namespace udal::vulkan {

// Owns the VkInstance; declared first in Driver so it outlives the devices.
class Instance {
 public:
  explicit Instance(VkInstance instance) noexcept : instance_(instance) {}
  ~Instance() {
    if (instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
  }
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  VkInstance get() const noexcept { return instance_; }

 private:
  VkInstance instance_;
};

struct DriverState {
  explicit DriverState(VkInstance vk_instance) noexcept : instance(vk_instance) {}
  Instance instance;
  std::vector<std::unique_ptr<Device>> devices;
};

// The object behind a udal_driver_t.
struct Driver {
  const udal_driver_table_t* dispatch;
  // Sole owner; a shared_ptr because libstdc++'s unique_ptr is not standard-layout to
  // clang (UDAL_SDK_DISPATCHABLE), which builds the fuzz target.
  std::shared_ptr<DriverState> state;
};
UDAL_SDK_DISPATCHABLE(Driver);

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_DRIVER_H_
