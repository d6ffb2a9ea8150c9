// Events. A record is a marker on the stream's in-order queue; a HOST_SIGNAL event is an
// OpenCL user event. Waits with a finite timeout poll the event's status (OpenCL has no
// timed wait), infinite ones block in clWaitForEvents.
#include "event.h"

#include <chrono>
#include <thread>

namespace udal::opencl {

using udal::sdk::fail;

udal_result_t wait_cl_event(const char* function, cl_event event, uint64_t timeout_ns) noexcept {
  cl_int status = event_status(event);
  if (status > 0 && timeout_ns == UDAL_TIMEOUT_INFINITE) {
    const cl_int waited = clWaitForEvents(1, &event);
    status = waited == CL_SUCCESS ? CL_COMPLETE : event_status(event);
    if (status > 0)
      status = waited;
  } else if (status > 0 && timeout_ns > 0) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto limit = std::chrono::nanoseconds(
        std::min<uint64_t>(timeout_ns, uint64_t{365} * 24 * 3600 * 1'000'000'000ull));
    auto pause = std::chrono::microseconds(20);
    while ((status = event_status(event)) > 0) {
      const auto elapsed = clock::now() - start;
      if (elapsed >= limit)
        break;
      // Short work completes within the first checks; long waits cost at most a millisecond
      // of latency each.
      std::this_thread::sleep_for(std::min<clock::duration>(pause, limit - elapsed));
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
    }
  }
  if (status == CL_COMPLETE)
    return UDAL_SUCCESS;
  if (status > 0)
    return UDAL_TIMEOUT;
  return fail(UDAL_ERROR_DEVICE_LOST, "{}: the work waited for failed with {} ({})", function,
              cl_error_name(status), status);
}

udal_result_t event_create(udal_device_t device_handle, const udal_event_desc_t* desc_in,
                           udal_event_t* out_event) {
  constexpr const char* fn = "udal_event_create";
  if (out_event == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_event is NULL", fn);
  *out_event = nullptr;
  if (desc_in != nullptr) {
    if (udal_result_t r = udal::sdk::check_struct(fn, "desc", desc_in))
      return r;
  }
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    Device* device = to_device(device_handle);
    DeviceState& state = *device->state;
    const udal_event_desc_t desc = udal::sdk::read_struct(desc_in);
    const udal_event_flags_t known = UDAL_EVENT_FLAG_TIMING | UDAL_EVENT_FLAG_HOST_SIGNAL;
    if ((desc.flags & ~known) != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->flags {:#x} has unknown bits", fn,
                  desc.flags);
    }
    if ((desc.flags & known) == known) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: UDAL_EVENT_FLAG_TIMING and UDAL_EVENT_FLAG_HOST_SIGNAL do not combine", fn);
    }
    if ((desc.flags & UDAL_EVENT_FLAG_TIMING) != 0 && !state.caps.profiling) {
      return fail(UDAL_ERROR_UNSUPPORTED,
                  "{}: device '{}' has no UDAL_DEVICE_FEATURE_TIMESTAMPS (its queues cannot "
                  "profile), so UDAL_EVENT_FLAG_TIMING is unsupported",
                  fn, state.info.name);
    }
    auto event = std::make_unique<Event>();
    event->dispatch = device->dispatch;
    event->device = device;
    event->flags = desc.flags;
    event->signalled = false;
    if ((desc.flags & UDAL_EVENT_FLAG_HOST_SIGNAL) != 0) {
      cl_int created = CL_SUCCESS;
      event->record = ClEvent(clCreateUserEvent(state.context.get(), &created));
      if (created != CL_SUCCESS)
        return fail_cl(fn, "clCreateUserEvent", created);
    }
    state.events.add(event.get());
    *out_event = udal::sdk::to_handle<udal_event_t>(event.release());
    return UDAL_SUCCESS;
  });
}

void release_event_waiters(Event* event) noexcept {
  if (!event->host_signal())
    return;
  std::lock_guard lock(event->mutex);
  if (!event->signalled && event->record) {
    clSetUserEventStatus(event->record.get(), CL_COMPLETE);
    event->signalled = true;
  }
}

void destroy_event(Event* event) noexcept {
  std::unique_ptr<Event> owned(event);
  event->device->state->events.remove(event);
  release_event_waiters(event);
}

udal_result_t event_destroy(udal_event_t handle) {
  destroy_event(to_event(handle));
  return UDAL_SUCCESS;
}

udal_result_t event_query(udal_event_t handle) {
  Event* event = to_event(handle);
  ClEvent record = event->current();
  if (!record)
    return UDAL_SUCCESS;
  const cl_int status = event_status(record.get());
  if (status == CL_COMPLETE)
    return UDAL_SUCCESS;
  if (status > 0)
    return UDAL_NOT_READY;
  return fail(UDAL_ERROR_DEVICE_LOST, "udal_event_query: the recorded work failed with {} ({})",
              cl_error_name(status), status);
}

udal_result_t event_wait(udal_event_t handle, uint64_t timeout_ns) {
  ClEvent record = to_event(handle)->current();
  if (!record)
    return UDAL_SUCCESS;
  return wait_cl_event("udal_event_wait", record.get(), timeout_ns);
}

udal_result_t event_elapsed_ns(udal_event_t start_handle, udal_event_t end_handle,
                               uint64_t* out_ns) {
  constexpr const char* fn = "udal_event_elapsed_ns";
  if (out_ns == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_ns is NULL", fn);
  *out_ns = 0;
  Event* start = to_event(start_handle);
  Event* end = to_event(end_handle);
  if (start->device != end->device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: start {} is an event of device '{}' and end {} one of device '{}'", fn,
                fmt::ptr(start_handle), start->device->state->info.name, fmt::ptr(end_handle),
                end->device->state->info.name);
  }
  for (const auto& [event, handle, which] :
       {std::tuple{start, start_handle, "start"}, std::tuple{end, end_handle, "end"}}) {
    if ((event->flags & UDAL_EVENT_FLAG_TIMING) == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: {} event {} was created without UDAL_EVENT_FLAG_TIMING", fn, which,
                  fmt::ptr(handle));
    }
  }
  ClEvent records[2] = {start->current(), end->current()};
  for (int i = 0; i < 2; ++i) {
    if (!records[i]) {
      return fail(UDAL_ERROR_INVALID_STATE, "{}: {} event {} was never recorded", fn,
                  i == 0 ? "start" : "end", fmt::ptr(i == 0 ? start_handle : end_handle));
    }
  }
  cl_ulong stamps[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    const cl_int status = event_status(records[i].get());
    if (status > 0)
      return UDAL_NOT_READY;
    if (status < 0) {
      return fail(UDAL_ERROR_DEVICE_LOST, "{}: the work before the {} record failed with {}", fn,
                  i == 0 ? "start" : "end", cl_error_name(status));
    }
    const cl_int got = clGetEventProfilingInfo(records[i].get(), CL_PROFILING_COMMAND_END,
                                               sizeof(cl_ulong), &stamps[i], nullptr);
    if (got != CL_SUCCESS)
      return fail_cl(fn, "clGetEventProfilingInfo", got);
  }
  *out_ns = stamps[1] > stamps[0] ? stamps[1] - stamps[0] : 0;
  return UDAL_SUCCESS;
}

udal_result_t event_signal(udal_event_t handle) {
  constexpr const char* fn = "udal_event_signal";
  Event* event = to_event(handle);
  if (!event->host_signal()) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: event {} was created without UDAL_EVENT_FLAG_HOST_SIGNAL", fn,
                fmt::ptr(handle));
  }
  std::lock_guard lock(event->mutex);
  if (event->signalled) {
    return fail(UDAL_ERROR_INVALID_STATE, "{}: event {} was already signalled", fn,
                fmt::ptr(handle));
  }
  const cl_int set = clSetUserEventStatus(event->record.get(), CL_COMPLETE);
  if (set != CL_SUCCESS)
    return fail_cl(fn, "clSetUserEventStatus", set);
  event->signalled = true;
  return UDAL_SUCCESS;
}

} // namespace udal::opencl
