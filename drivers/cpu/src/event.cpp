#include "event.h"

namespace udal::cpu {

using udal::sdk::fail;

std::shared_ptr<EventRecord> latest_record(Event& event) {
  std::lock_guard<std::mutex> lock(event.mutex);
  return event.latest;
}

void set_latest_record(Event& event, std::shared_ptr<EventRecord> record) {
  std::shared_ptr<EventRecord> previous;  // released outside the lock
  std::lock_guard<std::mutex> lock(event.mutex);
  previous = std::exchange(event.latest, std::move(record));
}

udal_result_t event_create(udal_device_t device_handle, const udal_event_desc_t* desc_in,
                           udal_event_t* out_event) {
  if (out_event == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_event_create: out_event is NULL");
  }
  *out_event = nullptr;
  return udal::sdk::guard("udal_event_create", [&]() -> udal_result_t {
    const udal_event_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.flags != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "udal_event_create: desc->flags {:#x} has bits no version defines", desc.flags);
    }
    Device* device = to_device(device_handle);
    auto event = std::make_unique<Event>();
    event->dispatch = device->dispatch;
    event->device = device;
    *out_event = udal::sdk::to_handle<udal_event_t>(event.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t event_destroy(udal_event_t handle) {
  // Pending records are shared with the streams that complete them.
  std::unique_ptr<Event> event(to_event(handle));
  return UDAL_SUCCESS;
}

udal_result_t event_query(udal_event_t handle) {
  return udal::sdk::guard("udal_event_query", [&]() -> udal_result_t {
    auto record = latest_record(*to_event(handle));
    // Statuses carry libudal's static message (it is polled), so none is formatted here.
    return !record || record->done() ? UDAL_SUCCESS : UDAL_NOT_READY;
  });
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
  if (out_ns == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_event_elapsed_ns: out_ns is NULL");
  }
  *out_ns = 0;
  return udal::sdk::guard("udal_event_elapsed_ns", [&]() -> udal_result_t {
    Event* start = to_event(start_handle);
    Event* end = to_event(end_handle);
    if (start->device != end->device) {
      return fail(UDAL_ERROR_INVALID_HANDLE,
                  "udal_event_elapsed_ns: start event {} and end event {} belong to different "
                  "devices",
                  fmt::ptr(start), fmt::ptr(end));
    }
    auto start_record = latest_record(*start);
    auto end_record = latest_record(*end);
    if (!start_record || !end_record) {
      return fail(UDAL_ERROR_INVALID_STATE, "udal_event_elapsed_ns: the {} event {} was never recorded",
                  !start_record ? "start" : "end", fmt::ptr(!start_record ? start : end));
    }
    if (!start_record->done() || !end_record->done()) {
      return UDAL_NOT_READY;
    }
    const uint64_t t0 = start_record->timestamp_ns();
    const uint64_t t1 = end_record->timestamp_ns();
    if (t1 < t0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "udal_event_elapsed_ns: end event {} completed {} ns before start event {}",
                  fmt::ptr(end), t0 - t1, fmt::ptr(start));
    }
    *out_ns = t1 - t0;
    return UDAL_SUCCESS;
  });
}

}  // namespace udal::cpu
