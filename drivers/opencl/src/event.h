// event.h — a UDAL event: the marker of its latest record on a stream's queue, or, for a
// host-signalled event, an OpenCL user event.
#ifndef UDAL_OPENCL_EVENT_H_
#define UDAL_OPENCL_EVENT_H_

#include <mutex>

#include "device.h"

namespace udal::opencl {

struct Event {
  const udal_driver_table_t* dispatch;
  Device* device;
  udal_event_flags_t flags;
  std::mutex mutex;
  // The latest record's marker; for a HOST_SIGNAL event, its user event (from creation).
  ClEvent record;
  bool signalled; // HOST_SIGNAL: completed by udal_event_signal or destroy

  bool host_signal() const noexcept { return (flags & UDAL_EVENT_FLAG_HOST_SIGNAL) != 0; }
  // What a wait on the event waits for now: a reference to the record, or nothing (never
  // recorded, or signalled).
  ClEvent current() {
    std::lock_guard lock(mutex);
    if (host_signal() && signalled)
      return {};
    return record;
  }
};
UDAL_SDK_DISPATCHABLE(Event);

inline Event* to_event(udal_event_t handle) noexcept {
  return udal::sdk::from_handle<Event>(handle);
}

// Completes a HOST_SIGNAL event that was not signalled, releasing the streams waiting on it.
void release_event_waiters(Event* event) noexcept;
void destroy_event(Event* event) noexcept;

// Waits for |event| (an OpenCL event) up to |timeout_ns|: UDAL_SUCCESS, UDAL_TIMEOUT, or
// DEVICE_LOST when the work behind it failed. |function| names the caller in messages.
udal_result_t wait_cl_event(const char* function, cl_event event, uint64_t timeout_ns) noexcept;

} // namespace udal::opencl

#endif // UDAL_OPENCL_EVENT_H_
