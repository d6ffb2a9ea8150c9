// event.h — events and the sync points they hold.
//
// A sync point is a value of a timeline semaphore: a stream's timeline and the value at
// which the work enqueued before a record completes, or, for a HOST_SIGNAL event, a
// timeline of its own that udal_event_signal takes to 1. The host waits on a point with
// vkWaitSemaphores, which may start before the value's signal is even submitted. A stream
// may only make the *queue* wait on a point once its signal is queued (submitted, or
// signalled from the host): the queue runs submissions in order, so a submission waiting
// for a signal not yet submitted would hold back every stream behind it. Until then the
// waiting stream holds its later work on the host, and the point wakes it when queued.
#ifndef UDAL_VULKAN_EVENT_H_
#define UDAL_VULKAN_EVENT_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "device.h"

namespace udal::vulkan {

class StreamEngine;

// What a stream tells the points it recorded when it fails: values from |failed_from| on
// will never complete normally (their timeline is signalled from the host so that no
// waiter hangs, and waiters report |error|).
struct StreamHealth {
  std::atomic<int32_t> error{VK_SUCCESS};  // a VkResult
  std::atomic<uint64_t> failed_from{UINT64_MAX};
};

class SyncPoint {
 public:
  SyncPoint(std::shared_ptr<UniqueSemaphore> timeline, uint64_t value,
            std::shared_ptr<const StreamHealth> health,
            std::shared_ptr<TimestampQuery> timestamp) noexcept
      : timeline_(std::move(timeline)), value_(value), health_(std::move(health)),
        timestamp_(std::move(timestamp)) {}

  const std::shared_ptr<UniqueSemaphore>& timeline() const noexcept { return timeline_; }
  uint64_t value() const noexcept { return value_; }
  const std::shared_ptr<TimestampQuery>& timestamp() const noexcept { return timestamp_; }

  bool queued() const noexcept { return queued_.load(std::memory_order_acquire); }
  // Marks the point's signal queued; the streams waiting for that are returned, to be
  // woken (wake_streams) once the caller holds no stream's lock.
  std::vector<std::weak_ptr<StreamEngine>> mark_queued();
  // Registers |stream| to be woken when the point is queued; false when it already is.
  bool notify_when_queued(std::weak_ptr<StreamEngine> stream);

  // VK_SUCCESS when complete, VK_NOT_READY when not yet, else the failure.
  VkResult status(VkDevice device) const;
  // Waits until complete or |timeout_ns| passes: VK_SUCCESS, VK_TIMEOUT or the failure.
  VkResult wait(VkDevice device, uint64_t timeout_ns) const;

 private:
  VkResult failure() const noexcept;

  std::shared_ptr<UniqueSemaphore> timeline_;
  uint64_t value_;
  std::shared_ptr<const StreamHealth> health_;  // null for a host-signalled point
  std::shared_ptr<TimestampQuery> timestamp_;   // set for the records of TIMING events
  std::atomic<bool> queued_{false};
  std::mutex mutex_;
  std::vector<std::weak_ptr<StreamEngine>> waiters_;
};

// Wakes the streams a point returned from mark_queued.
void wake_streams(std::vector<std::weak_ptr<StreamEngine>>& streams);

struct EventState {
  DeviceState* device = nullptr;
  udal_event_flags_t flags = 0;
  std::mutex mutex;
  // The latest record; null: never recorded (complete). A HOST_SIGNAL event's is its own
  // point from creation on.
  std::shared_ptr<SyncPoint> latest;
  bool signalled = false;  // HOST_SIGNAL: udal_event_signal (or destroy) happened

  std::shared_ptr<SyncPoint> record() {
    std::lock_guard lock(mutex);
    return latest;
  }
};

// The object behind a udal_event_t.
struct Event {
  const udal_driver_table_t* dispatch;
  // Sole owner; a shared_ptr because libstdc++'s unique_ptr is not standard-layout to
  // clang (UDAL_SDK_DISPATCHABLE), which builds the fuzz target.
  std::shared_ptr<EventState> state;
};
UDAL_SDK_DISPATCHABLE(Event);

inline Event* to_event(udal_event_t handle) noexcept {
  return udal::sdk::from_handle<Event>(handle);
}

// Frees an event its user never destroyed (the device's teardown).
void destroy_event_object(Event* event) noexcept;

// Waits until |timeline| reaches |value| or |timeout_ns| passes: VK_SUCCESS, VK_TIMEOUT or
// an error.
VkResult wait_timeline(VkDevice device, VkSemaphore timeline, uint64_t value, uint64_t timeout_ns);

// A new timeline semaphore at |initial|, or nullptr with the VkResult in |*error|.
std::shared_ptr<UniqueSemaphore> make_timeline(VkDevice device, uint64_t initial, VkResult* error);

udal_result_t event_create(udal_device_t device, const udal_event_desc_t* desc,
                           udal_event_t* out_event);
udal_result_t event_destroy(udal_event_t event);
udal_result_t event_query(udal_event_t event);
udal_result_t event_wait(udal_event_t event, uint64_t timeout_ns);
udal_result_t event_elapsed_ns(udal_event_t start, udal_event_t end, uint64_t* out_ns);
udal_result_t event_signal(udal_event_t event);

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_EVENT_H_
