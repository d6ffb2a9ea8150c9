#include "event.h"

#include "driver.h"

namespace udal::cpu {

using udal::sdk::fail;

udal_result_t event_create(udal_device_t device_handle, const udal_event_desc_t* desc_in,
                           udal_event_t* out_event) {
  constexpr const char* kFn = "udal_event_create";
  if (out_event == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_event is NULL", kFn);
  *out_event = nullptr;
  if (desc_in != nullptr) {
    if (udal_result_t r = udal::sdk::check_struct(kFn, "desc", desc_in))
      return r;
  }
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    const udal_event_desc_t desc = udal::sdk::read_struct(desc_in);
    if (udal_result_t r = udal::sdk::check_event_flags(kFn, desc.flags))
      return r;
    Device* device = to_device(device_handle);
    auto event = std::make_unique<Event>();
    event->dispatch = device->dispatch;
    event->device = device;
    event->state.init(desc.flags);
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
  event->state.release_host_signal();
  std::unique_ptr<Event> owned(event);
  return UDAL_SUCCESS;
}

udal_result_t event_query(udal_event_t handle) {
  return to_event(handle)->state.query();
}

udal_result_t event_wait(udal_event_t handle, uint64_t timeout_ns) {
  return udal::sdk::guard("udal_event_wait", [&]() -> udal_result_t {
    return to_event(handle)->state.wait(timeout_ns);
  });
}

udal_result_t event_elapsed_ns(udal_event_t start_handle, udal_event_t end_handle,
                               uint64_t* out_ns) {
  constexpr const char* kFn = "udal_event_elapsed_ns";
  if (out_ns == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_ns is NULL", kFn);
  *out_ns = 0;
  Event* start = to_event(start_handle);
  Event* end = to_event(end_handle);
  if (start->device != end->device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: start event {} belongs to device '{}', end event {} to device '{}'", kFn,
                fmt::ptr(start), start->device->info.name, fmt::ptr(end), end->device->info.name);
  }
  return udal::sdk::EventState::elapsed_ns(kFn, start->state, start, end->state, end, *out_ns);
}

udal_result_t event_signal(udal_event_t handle) {
  Event* event = to_event(handle);
  return event->state.signal("udal_event_signal", event);
}

} // namespace udal::cpu
