// The udal_stream_* entries: streams, their synchronize and host functions, and the
// records and waits of events on them. The engine behind a stream is stream_engine.h.
#include "stream.h"

namespace udal::vulkan {

using udal::sdk::fail;

void destroy_stream_object(Stream* stream) noexcept {
  std::unique_ptr<Stream> owner(stream);
  owner->state->stop();
}

udal_result_t stream_create(udal_device_t device_handle, const udal_stream_desc_t* desc_in,
                            udal_stream_t* out_stream) {
  constexpr const char* fn = "udal_stream_create";
  if (out_stream == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_stream is NULL", fn);
  *out_stream = nullptr;
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const udal_stream_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc_in != nullptr) {
      if (udal_result_t r = refuse_chain(fn, "desc", desc_in->next); r != UDAL_SUCCESS) return r;
    }
    if (desc.flags != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: flags {:#x} are not defined (must be 0)", fn,
                  desc.flags);
    }
    DeviceState& device = *to_device(device_handle)->state;
    auto state = std::make_shared<StreamEngine>(&device);
    if (VkResult r = state->init(); r != VK_SUCCESS) return fail_vk(fn, "creating the stream", r);
    auto stream = std::make_unique<Stream>();
    stream->dispatch = to_device(device_handle)->dispatch;
    stream->state = std::move(state);
    {
      std::lock_guard lock(device.streams_mutex);
      device.streams.insert(stream.get());
    }
    *out_stream = udal::sdk::to_handle<udal_stream_t>(stream.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_destroy(udal_stream_t handle) {
  std::unique_ptr<Stream> stream(to_stream(handle));
  DeviceState& device = *stream->state->device();
  {
    std::lock_guard lock(device.streams_mutex);
    device.streams.erase(stream.get());
  }
  const udal_result_t r = udal::sdk::guard("udal_stream_destroy", [&]() -> udal_result_t {
    return stream->state->synchronize("udal_stream_destroy", UDAL_TIMEOUT_INFINITE);
  });
  stream->state->stop();
  // The handle is gone either way; an earlier failure of the stream (out of memory) was
  // reported by the calls it failed, only a lost device is news here.
  return r == UDAL_ERROR_DEVICE_LOST ? r : UDAL_SUCCESS;
}

udal_result_t stream_synchronize(udal_stream_t handle, uint64_t timeout_ns) {
  return udal::sdk::guard("udal_stream_synchronize", [&] {
    return to_stream(handle)->state->synchronize("udal_stream_synchronize", timeout_ns);
  });
}

udal_result_t stream_enqueue_host_function(udal_stream_t handle, udal_host_function_t fn,
                                           void* user_data) {
  constexpr const char* name = "udal_stream_enqueue_host_function";
  if (fn == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: fn is NULL", name);
  return udal::sdk::guard(name, [&] {
    return to_stream(handle)->state->host_step(name, [fn, user_data] { fn(user_data); }, {});
  });
}

udal_result_t stream_record_event(udal_stream_t handle, udal_event_t event_handle) {
  constexpr const char* fn = "udal_stream_record_event";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    StreamEngine& stream = *to_stream(handle)->state;
    EventState& event = *to_event(event_handle)->state;
    DeviceState& device = *stream.device();
    if (event.device != &device) {
      return fail(UDAL_ERROR_INVALID_HANDLE, "{}: event {} belongs to device {}, the stream to "
                  "another device ({})", fn, static_cast<void*>(event_handle),
                  event.device->info.name, device.info.name);
    }
    if (event.flags & UDAL_EVENT_FLAG_HOST_SIGNAL) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: event {} is a HOST_SIGNAL event: only "
                  "udal_event_signal completes it, a stream cannot record it", fn,
                  static_cast<void*>(event_handle));
    }
    std::shared_ptr<TimestampQuery> timestamp;
    if (event.flags & UDAL_EVENT_FLAG_TIMING) {
      VkResult error = VK_SUCCESS;
      timestamp = device.queries->acquire(&error);
      if (!timestamp) return fail_vk(fn, "vkCreateQueryPool", error);
    }
    std::shared_ptr<SyncPoint> point;
    if (udal_result_t r = stream.record_point(fn, std::move(timestamp), &point); r != UDAL_SUCCESS) {
      return r;
    }
    std::lock_guard lock(event.mutex);
    event.latest = std::move(point);
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_wait_event(udal_stream_t handle, udal_event_t event_handle) {
  constexpr const char* fn = "udal_stream_wait_event";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    StreamEngine& stream = *to_stream(handle)->state;
    EventState& event = *to_event(event_handle)->state;
    if (event.device != stream.device()) {
      return fail(UDAL_ERROR_INVALID_HANDLE, "{}: event {} belongs to device {}, the stream to "
                  "another device ({})", fn, static_cast<void*>(event_handle),
                  event.device->info.name, stream.device()->info.name);
    }
    // The record that is latest now: a later record does not change what this waits for.
    auto point = event.record();
    if (!point) return UDAL_SUCCESS;
    return stream.wait_point(fn, std::move(point));
  });
}

}  // namespace udal::vulkan
