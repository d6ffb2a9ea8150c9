// Events: created with a round trip; their completion is tracked here from the server's
// EventDone notifications, so query and wait never cost a round trip.
#include "objects.h"

namespace udal::remote {

using udal::sdk::fail;

namespace {

// Under the connection's mutex.
bool complete(const EventState& event) {
  if (event.flags & UDAL_EVENT_FLAG_HOST_SIGNAL) return event.signalled;
  return event.done_generation >= event.generation;
}

}  // namespace

udal_result_t event_create(udal_device_t device_handle, const udal_event_desc_t* desc_in,
                           udal_event_t* out_event) {
  *out_event = nullptr;
  constexpr const char* kFn = "udal_event_create";
  udal_event_desc_t desc;
  if (udal_result_t r = udal::sdk::read_optional_desc(kFn, "desc", desc_in, &desc)) return r;
  Device* device = to<Device>(device_handle);
  if ((desc.flags & UDAL_EVENT_FLAG_TIMING) &&
      !(device->info.features & UDAL_DEVICE_FEATURE_TIMESTAMPS)) {
    return fail(UDAL_ERROR_UNSUPPORTED,
                "{}: UDAL_EVENT_FLAG_TIMING needs UDAL_DEVICE_FEATURE_TIMESTAMPS, which device "
                "'{}' does not have",
                kFn, device->info.name);
  }
  Connection& connection = *device->connection;
  if (connection.lost()) return connection.lost_error(kFn);
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    auto event = std::make_unique<Event>();
    event->dispatch = device->dispatch;
    event->device = device;
    event->state = std::make_shared<EventState>();
    event->state->id = connection.new_id();
    event->state->device = device->index;
    event->state->flags = desc.flags;
    const uint64_t request = connection.new_id();
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder, wire::CreateEventCreate(builder, request, device->index,
                                                    event->state->id, desc.flags));
    connection.add_event(event->state);
    ReplyData reply;
    if (udal_result_t r = connection.call(kFn, request, make_frame(builder), reply)) {
      connection.remove_event(event->state->id);
      return r;
    }
    *out_event = udal::sdk::to_handle<udal_event_t>(device->live->adopt(std::move(event)));
    return UDAL_SUCCESS;
  });
}

udal_result_t event_destroy(udal_event_t handle) {
  Event* raw = to<Event>(handle);
  std::unique_ptr<Event> event = raw->device->live->release(raw);
  if (!event) return UDAL_SUCCESS;
  return udal::sdk::guard("udal_event_destroy", [&]() -> udal_result_t {
    Connection& connection = *event->device->connection;
    connection.remove_event(event->state->id);
    if (!connection.lost()) {
      // A host-signal event destroyed unsignalled releases its waiters on the server too.
      flatbuffers::FlatBufferBuilder builder(64);
      finish_message(builder, wire::CreateEventDestroy(builder, event->state->id));
      connection.send(make_frame(builder));
    }
    return UDAL_SUCCESS;
  });
}

namespace {

// A query (|query|: NOT_READY when pending) or a wait of at most |timeout_ns| (TIMEOUT).
udal_result_t wait_event(udal_event_t handle, uint64_t timeout_ns, bool query) {
  Event* event = to<Event>(handle);
  Connection& connection = *event->device->connection;
  const char* fn = query ? "udal_event_query" : "udal_event_wait";
  std::unique_lock lock(connection.mutex());
  EventState& state = *event->state;
  const bool done = connection.wait(lock, timeout_ns, [&] {
    return complete(state) || state.error != UDAL_SUCCESS;
  });
  if (state.error != UDAL_SUCCESS) {
    return fail(state.error, "{}: work before the event's record failed on udal-server {}: {}",
                fn, connection.address(), state.error_message);
  }
  if (done) return UDAL_SUCCESS;
  lock.unlock();
  if (connection.lost()) return connection.lost_error(fn);
  if (query) {
    return fail(UDAL_NOT_READY, "udal_event_query: event {} has not completed", fmt::ptr(event));
  }
  return fail(UDAL_TIMEOUT, "udal_event_wait: event {} did not complete within {} ns",
              fmt::ptr(event), timeout_ns);
}

}  // namespace

udal_result_t event_query(udal_event_t handle) { return wait_event(handle, 0, true); }

udal_result_t event_wait(udal_event_t handle, uint64_t timeout_ns) {
  return wait_event(handle, timeout_ns, false);
}

udal_result_t event_elapsed_ns(udal_event_t start_handle, udal_event_t end_handle,
                               uint64_t* out_ns) {
  *out_ns = 0;
  constexpr const char* kFn = "udal_event_elapsed_ns";
  Event* start = to<Event>(start_handle);
  Event* end = to<Event>(end_handle);
  if (start->device != end->device) {
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: events {} and {} belong to different devices",
                kFn, fmt::ptr(start), fmt::ptr(end));
  }
  for (const Event* event : {start, end}) {
    if (!(event->state->flags & UDAL_EVENT_FLAG_TIMING)) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: event {} was created without UDAL_EVENT_FLAG_TIMING", kFn,
                  fmt::ptr(event));
    }
  }
  Connection& connection = *start->device->connection;
  {
    std::lock_guard lock(connection.mutex());
    for (const Event* event : {start, end}) {
      if (event->state->generation == 0) {
        return fail(UDAL_ERROR_INVALID_STATE, "{}: event {} was never recorded", kFn,
                    fmt::ptr(event));
      }
    }
    for (const Event* event : {start, end}) {
      if (!complete(*event->state)) {
        return fail(UDAL_NOT_READY, "{}: event {} has not completed", kFn, fmt::ptr(event));
      }
    }
  }
  if (connection.lost()) return connection.lost_error(kFn);
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    const uint64_t request = connection.new_id();
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder, wire::CreateEventElapsed(builder, request, start->state->id,
                                                     end->state->id));
    ReplyData reply;
    if (udal_result_t r = connection.call(kFn, request, make_frame(builder), reply)) return r;
    *out_ns = reply.elapsed_ns;
    return UDAL_SUCCESS;
  });
}

udal_result_t event_signal(udal_event_t handle) {
  constexpr const char* kFn = "udal_event_signal";
  Event* event = to<Event>(handle);
  Connection& connection = *event->device->connection;
  if (!(event->state->flags & UDAL_EVENT_FLAG_HOST_SIGNAL)) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: event {} was created without UDAL_EVENT_FLAG_HOST_SIGNAL", kFn,
                fmt::ptr(event));
  }
  {
    std::lock_guard lock(connection.mutex());
    if (event->state->signalled) {
      return fail(UDAL_ERROR_INVALID_STATE, "{}: event {} was already signalled", kFn,
                  fmt::ptr(event));
    }
    event->state->signalled = true;
  }
  connection.notify();
  if (connection.lost()) return connection.lost_error(kFn);
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder, wire::CreateEventSignal(builder, event->state->id));
    connection.send(make_frame(builder), /*urgent=*/true);
    return UDAL_SUCCESS;
  });
}

}  // namespace udal::remote
