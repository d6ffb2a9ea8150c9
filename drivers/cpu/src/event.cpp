#include "event.h"

#include "driver.h"

namespace udal::cpu {

using udal::sdk::fail;

namespace {

constexpr udal_event_flags_t kKnownFlags = UDAL_EVENT_FLAG_TIMING | UDAL_EVENT_FLAG_HOST_SIGNAL;

bool is_host_signal(const Event& event) noexcept {
  return (event.flags & UDAL_EVENT_FLAG_HOST_SIGNAL) != 0;
}

}  // namespace

std::shared_ptr<EventRecord> latest_record(Event& event) noexcept {
  std::lock_guard<std::mutex> lock(event.mutex);
  return event.latest;
}

void set_latest_record(Event& event, std::shared_ptr<EventRecord> record) noexcept {
  std::shared_ptr<EventRecord> previous;  // released outside the lock
  std::lock_guard<std::mutex> lock(event.mutex);
  previous = std::exchange(event.latest, std::move(record));
}

void release_host_signal(Event& event) noexcept {
  if (!is_host_signal(event) || event.signalled.exchange(true, std::memory_order_acq_rel)) return;
  if (auto record = latest_record(event)) record->complete();
}

udal_result_t event_create(udal_device_t device_handle, const udal_event_desc_t* desc_in,
                           udal_event_t* out_event) {
  constexpr const char* kFn = "udal_event_create";
  if (out_event == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_event is NULL", kFn);
  *out_event = nullptr;
  if (desc_in != nullptr) {
    if (udal_result_t r = udal::sdk::check_struct(kFn, "desc", desc_in)) return r;
  }
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    const udal_event_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.flags & ~kKnownFlags) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->flags {:#x} has bits no version defines",
                  kFn, desc.flags & ~kKnownFlags);
    }
    if ((desc.flags & UDAL_EVENT_FLAG_TIMING) && (desc.flags & UDAL_EVENT_FLAG_HOST_SIGNAL)) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->flags combines UDAL_EVENT_FLAG_TIMING with "
                  "UDAL_EVENT_FLAG_HOST_SIGNAL (a host-signalled event has no device time)",
                  kFn);
    }
    Device* device = to_device(device_handle);
    auto event = std::make_unique<Event>();
    event->dispatch = device->dispatch;
    event->device = device;
    event->flags = desc.flags;
    event->signalled.store(false);
    // Pending from the start: one record that only udal_event_signal (or destroy) completes.
    if (desc.flags & UDAL_EVENT_FLAG_HOST_SIGNAL) event->latest = std::make_shared<EventRecord>(false);
    device->driver->events.add(event.get());
    *out_event = udal::sdk::to_handle<udal_event_t>(event.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t event_destroy(udal_event_t handle) {
  Event* event = to_event(handle);
  event->device->driver->events.remove(event);
  // Streams waiting on an unsignalled HOST_SIGNAL event go on; records pending on streams
  // are shared with the streams that complete them.
  release_host_signal(*event);
  std::unique_ptr<Event> owned(event);
  return UDAL_SUCCESS;
}

udal_result_t event_query(udal_event_t handle) {
  auto record = latest_record(*to_event(handle));
  // Statuses carry libudal's static message (they are polled), so none is formatted here.
  return !record || record->done() ? UDAL_SUCCESS : UDAL_NOT_READY;
}

udal_result_t event_wait(udal_event_t handle, uint64_t timeout_ns) {
  return udal::sdk::guard("udal_event_wait", [&]() -> udal_result_t {
    auto record = latest_record(*to_event(handle));
    if (!record || record->wait(Deadline::after(timeout_ns))) return UDAL_SUCCESS;
    return UDAL_TIMEOUT;
  });
}

udal_result_t event_elapsed_ns(udal_event_t start_handle, udal_event_t end_handle,
                               uint64_t* out_ns) {
  constexpr const char* kFn = "udal_event_elapsed_ns";
  if (out_ns == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_ns is NULL", kFn);
  *out_ns = 0;
  Event* start = to_event(start_handle);
  Event* end = to_event(end_handle);
  if (start->device != end->device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: start event {} belongs to device '{}', end event {} to device '{}'", kFn,
                fmt::ptr(start), start->device->info.name, fmt::ptr(end), end->device->info.name);
  }
  for (const Event* event : {start, end}) {
    if ((event->flags & UDAL_EVENT_FLAG_TIMING) == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: the {} event {} was created without UDAL_EVENT_FLAG_TIMING, so its "
                  "records take no timestamp",
                  kFn, event == start ? "start" : "end", fmt::ptr(event));
    }
  }
  auto start_record = latest_record(*start);
  auto end_record = latest_record(*end);
  if (!start_record || !end_record) {
    return fail(UDAL_ERROR_INVALID_STATE, "{}: the {} event {} was never recorded", kFn,
                !start_record ? "start" : "end", fmt::ptr(!start_record ? start : end));
  }
  if (!start_record->done() || !end_record->done()) return UDAL_NOT_READY;
  const uint64_t t0 = start_record->timestamp_ns();
  const uint64_t t1 = end_record->timestamp_ns();
  // An end that completed first (another stream ran it earlier) gives 0, never a wrap.
  *out_ns = t1 > t0 ? t1 - t0 : 0;
  return UDAL_SUCCESS;
}

udal_result_t event_signal(udal_event_t handle) {
  constexpr const char* kFn = "udal_event_signal";
  Event* event = to_event(handle);
  if (!is_host_signal(*event)) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: event {} was created without UDAL_EVENT_FLAG_HOST_SIGNAL; it completes "
                "when a stream reaches its record",
                kFn, fmt::ptr(event));
  }
  if (event->signalled.exchange(true, std::memory_order_acq_rel)) {
    return fail(UDAL_ERROR_INVALID_STATE, "{}: event {} was already signalled (it completes once)",
                kFn, fmt::ptr(event));
  }
  if (auto record = latest_record(*event)) record->complete();
  return UDAL_SUCCESS;
}

}  // namespace udal::cpu
