// Events. A record is a Level Zero event (a slot) the stream signals after the work before
// it; a TIMING record also writes the device's global timestamp into the slot's host cell.
// A HOST_SIGNAL event owns one slot that zeEventHostSignal completes.
#include <chrono>

#include "ze_driver.h"

namespace udal::level_zero {

using udal::sdk::fail;

namespace {

udal_result_t wait_slot(const char* fn, const SlotRef& slot, uint64_t timeout_ns) {
  const ze_result_t r = zeEventHostSynchronize(slot->event, timeout_ns);
  if (r == ZE_RESULT_SUCCESS) return UDAL_SUCCESS;
  if (r == ZE_RESULT_NOT_READY) return UDAL_TIMEOUT;
  return fail_ze(fn, "zeEventHostSynchronize", r, UDAL_ERROR_DEVICE_LOST);
}

}  // namespace

udal_result_t event_create(udal_device_t device_handle, const udal_event_desc_t* desc_in, udal_event_t* out_event) {
  static constexpr const char* fn = "udal_event_create";
  if (out_event == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_event is NULL", fn);
  *out_event = nullptr;
  if (desc_in != nullptr) {
    if (udal_result_t r = udal::sdk::check_struct(fn, "desc", desc_in)) return r;
  }
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    Device* device = to_device(device_handle);
    const udal_event_desc_t desc = udal::sdk::read_struct(desc_in);
    const udal_event_flags_t known = UDAL_EVENT_FLAG_TIMING | UDAL_EVENT_FLAG_HOST_SIGNAL;
    if ((desc.flags & ~known) != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->flags {:#x} has unknown bits", fn, desc.flags);
    }
    if ((desc.flags & known) == known) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: UDAL_EVENT_FLAG_TIMING and UDAL_EVENT_FLAG_HOST_SIGNAL do not combine", fn);
    }
    auto event = std::make_unique<Event>();
    event->dispatch = device->dispatch;
    event->device = device;
    event->flags = desc.flags;
    if (event->host_signal()) {
      ze_result_t r = ZE_RESULT_SUCCESS;
      event->current = device->state->slots->take(false, &r);
      if (!event->current) return fail_ze(fn, "zeEventPoolCreate", r);
    }
    device->state->events.add(event.get());
    *out_event = udal::sdk::to_handle<udal_event_t>(event.release());
    return UDAL_SUCCESS;
  });
}

void destroy_event(Event* event) noexcept {
  std::unique_ptr<Event> owned(event);
  event->device->state->events.remove(event);
  std::lock_guard lock(event->mutex);
  // An unsignalled HOST_SIGNAL event releases the streams that wait on it, as if signalled;
  // its slot lives on in those streams' pending work until they pass the wait.
  if (event->host_signal() && !event->signalled && event->current) zeEventHostSignal(event->current->event);
  event->current.reset();
}

udal_result_t event_destroy(udal_event_t handle) {
  destroy_event(to_event(handle));
  return UDAL_SUCCESS;
}

udal_result_t event_query(udal_event_t handle) {
  SlotRef slot = to_event(handle)->latest();
  if (!slot) return UDAL_SUCCESS;
  const ze_result_t r = zeEventQueryStatus(slot->event);
  if (r == ZE_RESULT_SUCCESS) return UDAL_SUCCESS;
  if (r == ZE_RESULT_NOT_READY) return UDAL_NOT_READY;
  return fail_ze("udal_event_query", "zeEventQueryStatus", r, UDAL_ERROR_DEVICE_LOST);
}

udal_result_t event_wait(udal_event_t handle, uint64_t timeout_ns) {
  SlotRef slot = to_event(handle)->latest();
  if (!slot) return UDAL_SUCCESS;
  return wait_slot("udal_event_wait", slot, timeout_ns);
}

udal_result_t event_elapsed_ns(udal_event_t start_handle, udal_event_t end_handle, uint64_t* out_ns) {
  static constexpr const char* fn = "udal_event_elapsed_ns";
  if (out_ns == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_ns is NULL", fn);
  *out_ns = 0;
  Event* start = to_event(start_handle);
  Event* end = to_event(end_handle);
  if (start->device != end->device) {
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: start {} is an event of device '{}' and end {} one of device '{}'",
                fn, fmt::ptr(start_handle), start->device->state->info.name, fmt::ptr(end_handle),
                end->device->state->info.name);
  }
  const Event* events[2] = {start, end};
  const char* which[2] = {"start", "end"};
  for (int i = 0; i < 2; ++i) {
    if ((events[i]->flags & UDAL_EVENT_FLAG_TIMING) == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: {} event {} was created without UDAL_EVENT_FLAG_TIMING", fn,
                  which[i], fmt::ptr(i == 0 ? start_handle : end_handle));
    }
  }
  SlotRef slots[2] = {start->latest(), end->latest()};
  for (int i = 0; i < 2; ++i) {
    if (!slots[i]) {
      return fail(UDAL_ERROR_INVALID_STATE, "{}: {} event {} was never recorded", fn, which[i],
                  fmt::ptr(i == 0 ? start_handle : end_handle));
    }
  }
  for (int i = 0; i < 2; ++i) {
    const ze_result_t r = zeEventQueryStatus(slots[i]->event);
    if (r == ZE_RESULT_NOT_READY) return UDAL_NOT_READY;
    if (r != ZE_RESULT_SUCCESS) return fail_ze(fn, "zeEventQueryStatus", r, UDAL_ERROR_DEVICE_LOST);
  }
  const DeviceState& state = *start->device->state;
  const uint64_t a = *slots[0]->stamp & state.timestamp_mask;
  const uint64_t b = *slots[1]->stamp & state.timestamp_mask;
  // Only a timer that wrapped between the two makes b < a with b recorded later; an end that
  // completed first is 0, never a wrapped value.
  const uint64_t ticks = b >= a ? b - a : 0;
  *out_ns = static_cast<uint64_t>(static_cast<double>(ticks) * state.ns_per_tick);
  return UDAL_SUCCESS;
}

udal_result_t event_signal(udal_event_t handle) {
  static constexpr const char* fn = "udal_event_signal";
  Event* event = to_event(handle);
  if (!event->host_signal()) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: event {} was created without UDAL_EVENT_FLAG_HOST_SIGNAL", fn,
                fmt::ptr(handle));
  }
  std::lock_guard lock(event->mutex);
  if (event->signalled) {
    return fail(UDAL_ERROR_INVALID_STATE, "{}: event {} was already signalled", fn, fmt::ptr(handle));
  }
  const ze_result_t r = zeEventHostSignal(event->current->event);
  if (r != ZE_RESULT_SUCCESS) return fail_ze(fn, "zeEventHostSignal", r);
  event->signalled = true;
  return UDAL_SUCCESS;
}

}  // namespace udal::level_zero
