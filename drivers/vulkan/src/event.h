// event.h — events: a (timeline semaphore, value) pair taken when recorded, and a timestamp
// query written when the record executes.
#ifndef UDAL_VULKAN_EVENT_H_
#define UDAL_VULKAN_EVENT_H_

#include <memory>
#include <mutex>
#include <optional>

#include "device.h"

namespace udal::vulkan {

// One record of an event: complete once |timeline| reaches |value|.
struct EventRecord {
  std::shared_ptr<UniqueSemaphore> timeline;
  uint64_t value = 0;
  std::shared_ptr<UniqueQueryPool> timestamp;  // null without UDAL_DEVICE_FEATURE_TIMESTAMPS
};

struct EventState {
  DeviceState* device;
  std::mutex mutex;
  std::optional<EventRecord> record;  // the latest; none: never recorded (complete)

  std::optional<EventRecord> latest() {
    std::lock_guard lock(mutex);
    return record;
  }
};

// The object behind a udal_event_t.
struct Event {
  const udal_driver_table_t* dispatch;
  std::unique_ptr<EventState> state;
};
UDAL_SDK_DISPATCHABLE(Event);

inline Event* to_event(udal_event_t handle) noexcept {
  return udal::sdk::from_handle<Event>(handle);
}

// Waits until |timeline| reaches |value| or |timeout_ns| passes: VK_SUCCESS, VK_TIMEOUT or
// an error.
VkResult wait_timeline(VkDevice device, VkSemaphore timeline, uint64_t value, uint64_t timeout_ns);

udal_result_t event_create(udal_device_t device, const udal_event_desc_t* desc,
                           udal_event_t* out_event);
udal_result_t event_destroy(udal_event_t event);
udal_result_t event_query(udal_event_t event);
udal_result_t event_wait(udal_event_t event, uint64_t timeout_ns);
udal_result_t event_elapsed_ns(udal_event_t start, udal_event_t end, uint64_t* out_ns);

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_EVENT_H_
