// vk_util.h — RAII for Vulkan handles and turning VkResult into UDAL results with messages.
#ifndef UDAL_VULKAN_VK_UTIL_H_
#define UDAL_VULKAN_VK_UTIL_H_

#include <vulkan/vulkan.h>

#include <utility>

#include "udal/sdk/sdk.h"

namespace udal::vulkan {

// Owns one handle created from a VkDevice; |Destroy| is the matching vkDestroy*/vkFree*.
template <typename T, void (*Destroy)(VkDevice, T, const VkAllocationCallbacks*)>
class DeviceHandle {
 public:
  DeviceHandle() noexcept = default;
  DeviceHandle(VkDevice device, T handle) noexcept : device_(device), handle_(handle) {}
  DeviceHandle(const DeviceHandle&) = delete;
  DeviceHandle& operator=(const DeviceHandle&) = delete;
  DeviceHandle(DeviceHandle&& other) noexcept
      : device_(other.device_), handle_(std::exchange(other.handle_, VK_NULL_HANDLE)) {}
  DeviceHandle& operator=(DeviceHandle&& other) noexcept {
    if (this != &other) {
      reset();
      device_ = other.device_;
      handle_ = std::exchange(other.handle_, VK_NULL_HANDLE);
    }
    return *this;
  }
  ~DeviceHandle() { reset(); }

  void reset() noexcept {
    if (handle_ != VK_NULL_HANDLE) Destroy(device_, handle_, nullptr);
    handle_ = VK_NULL_HANDLE;
  }
  T get() const noexcept { return handle_; }
  explicit operator bool() const noexcept { return handle_ != VK_NULL_HANDLE; }

 private:
  VkDevice device_ = VK_NULL_HANDLE;
  T handle_ = VK_NULL_HANDLE;
};

using UniqueBuffer = DeviceHandle<VkBuffer, vkDestroyBuffer>;
using UniqueMemory = DeviceHandle<VkDeviceMemory, vkFreeMemory>;
using UniqueSemaphore = DeviceHandle<VkSemaphore, vkDestroySemaphore>;
using UniqueCommandPool = DeviceHandle<VkCommandPool, vkDestroyCommandPool>;
using UniqueQueryPool = DeviceHandle<VkQueryPool, vkDestroyQueryPool>;
using UniqueShaderModule = DeviceHandle<VkShaderModule, vkDestroyShaderModule>;
using UniquePipeline = DeviceHandle<VkPipeline, vkDestroyPipeline>;
using UniquePipelineLayout = DeviceHandle<VkPipelineLayout, vkDestroyPipelineLayout>;
using UniqueDescriptorSetLayout = DeviceHandle<VkDescriptorSetLayout, vkDestroyDescriptorSetLayout>;

// Vulkan's name of |result| ("VK_ERROR_OUT_OF_DEVICE_MEMORY").
const char* vk_result_name(VkResult result) noexcept;

// The UDAL code for a failed Vulkan call: memory exhaustion maps to the two OUT_OF_*
// codes, a lost device to DEVICE_LOST, anything else to INTERNAL.
inline udal_result_t udal_code_of(VkResult result) noexcept {
  switch (result) {
    case VK_ERROR_OUT_OF_HOST_MEMORY: return UDAL_ERROR_OUT_OF_HOST_MEMORY;
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return UDAL_ERROR_OUT_OF_DEVICE_MEMORY;
    case VK_ERROR_DEVICE_LOST: return UDAL_ERROR_DEVICE_LOST;
    default: return UDAL_ERROR_INTERNAL;
  }
}

// Fails with the code of |result| and "<function>: <call> failed with VK_...".
inline udal_result_t fail_vk(const char* function, const char* call, VkResult result) noexcept {
  return udal::sdk::fail(udal_code_of(result), "{}: {} failed with {}", function, call,
                         vk_result_name(result));
}

// libudal refuses chained structs of core types itself, so a chain that reaches the driver
// starts with a vendor type: this driver knows none and must refuse it (never ignore it).
inline udal_result_t refuse_chain(const char* function, const char* what,
                                  const void* next) noexcept {
  return udal::sdk::check_chain(function, what, next);
}

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_VK_UTIL_H_
