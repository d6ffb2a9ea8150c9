// device.h — a UDAL device: one Vulkan physical device, its VkDevice and one compute queue.
#ifndef UDAL_VULKAN_DEVICE_H_
#define UDAL_VULKAN_DEVICE_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "memory.h"
#include "pipeline_cache.h"
#include "query.h"
#include "spirv.h"
#include "vk_util.h"

namespace udal::vulkan {

inline constexpr uint32_t kNoMemoryType = UINT32_MAX;

struct Stream;
struct Event;

struct DeviceState {
  VkDevice device = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties properties{};
  VkPhysicalDeviceMemoryProperties memory_properties{};
  uint32_t queue_family = 0;
  VkQueue queue = VK_NULL_HANDLE;
  std::mutex queue_mutex;  // vkQueueSubmit needs the queue externally synchronized
  uint32_t timestamp_valid_bits = 0;
  uint64_t max_allocation = 0;
  uint64_t min_alignment = 0;             // of every buffer (>= minStorageBufferOffsetAlignment)
  uint64_t storage_offset_alignment = 0;  // minStorageBufferOffsetAlignment
  uint64_t max_storage_range = 0;         // maxStorageBufferRange
  uint32_t max_buffer_arguments = 0;
  // Memory types of each buffer kind, and of staging buffers; kNoMemoryType when none.
  uint32_t device_type = kNoMemoryType;
  uint32_t host_type = kNoMemoryType;
  uint32_t shared_type = kNoMemoryType;
  uint32_t staging_type = kNoMemoryType;
  // Whether host reads and writes of DEVICE buffers may use their mapping (memory that is
  // device-local and host-visible, as on integrated GPUs and lavapipe). Off, they go
  // through staging buffers; UDAL_VULKAN_FORCE_STAGING=1 turns it off for tests.
  bool map_device_buffers = false;
  bool device_address = false;  // bufferDeviceAddress enabled
  bool memory_budget = false;   // VK_EXT_memory_budget enabled
  SpirvLimits spirv_limits;
  udal_device_info_t info{};
  // VK_KHR_push_descriptor is an extension: its command comes from vkGetDeviceProcAddr.
  PFN_vkCmdPushDescriptorSetKHR push_descriptor_set = nullptr;
  // Bytes of UDAL buffers alive, per udal_memory_usage_t field.
  std::atomic<uint64_t> device_buffer_bytes{0};
  std::atomic<uint64_t> host_visible_buffer_bytes{0};
  // Command pools and timelines of destroyed streams, reused by new streams and destroyed
  // with the device: lavapipe's queue thread may still touch a submission's semaphore and
  // command buffer for a moment after the signal a waiter saw (a crash seen under the
  // validation layer's timing), and reuse keeps stream churn from creating objects.
  std::mutex retired_mutex;
  std::vector<std::pair<UniqueCommandPool, std::shared_ptr<UniqueSemaphore>>> retired_streams;
  std::string render_node;  // the DRM render node of the same PCI device; "" when none
  std::unique_ptr<TimestampQueries> queries;
  std::unique_ptr<MemoryPool> memory;
  // Every pipeline is created through it; persisted in the user's cache directory.
  std::unique_ptr<PipelineCache> pipeline_cache;
  // Streams not yet destroyed: the device stops them (and their worker threads) before it
  // goes, so no driver code runs after udal_instance_release unloads the driver.
  std::mutex streams_mutex;
  std::unordered_set<Stream*> streams;
  // Events not yet destroyed, freed with the device (after the streams that wait on them).
  std::mutex events_mutex;
  std::unordered_set<Event*> events;

  DeviceState() = default;
  // Tears down in an explicit order: streams, then (with the device idle) everything made
  // from the VkDevice, then the VkDevice.
  ~DeviceState();
  DeviceState(const DeviceState&) = delete;
  DeviceState& operator=(const DeviceState&) = delete;

  VkDevice vk() const noexcept { return device; }

  // Submits under the queue lock.
  VkResult submit(const VkSubmitInfo& submit_info) {
    std::lock_guard lock(queue_mutex);
    return vkQueueSubmit(queue, 1, &submit_info, VK_NULL_HANDLE);
  }

  // The budget of |heap|: VK_EXT_memory_budget's heapBudget where the device has it, else
  // the heap's size.
  uint64_t heap_budget(uint32_t heap) const noexcept;
};

// The object behind a udal_device_t. Owned by its Driver.
struct Device {
  const udal_driver_table_t* dispatch;
  // Sole owner; a shared_ptr because libstdc++'s unique_ptr is not standard-layout to
  // clang (UDAL_SDK_DISPATCHABLE), which builds the fuzz target.
  std::shared_ptr<DeviceState> state;
};
UDAL_SDK_DISPATCHABLE(Device);

inline Device* to_device(udal_device_t handle) noexcept {
  return udal::sdk::from_handle<Device>(handle);
}

// Makes the UDAL device of |physical|, or nullptr with |*why| when it cannot be one (no
// compute queue, Vulkan older than 1.2, no timeline semaphores or push descriptors). With
// |copies| > 1 (UDAL_VULKAN_DEVICE_COPIES) it is copy |copy| of that many, told apart by
// its name and UUID. |log| takes the pipeline cache's diagnostics. Throws std::bad_alloc.
std::unique_ptr<Device> make_device(const udal_driver_table_t* dispatch,
                                    VkPhysicalDevice physical, const char* driver_name,
                                    uint32_t driver_version, uint32_t copy, uint32_t copies,
                                    const LogFunction& log, std::string* why);

udal_result_t device_get_info(udal_device_t device, udal_device_info_t* out_info);
udal_result_t device_get_memory_usage(udal_device_t device, udal_memory_usage_t* out_usage);

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_DEVICE_H_
