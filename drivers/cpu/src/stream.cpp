#include "stream.h"

#include <cstring>

#include "buffer.h"
#include "driver.h"
#include "event.h"
#include "kernel.h"
#include "launch.h"
#include "transfer.h"
#include "udal/sdk/checks.h"

namespace udal::cpu {

using udal::sdk::fail;

namespace {

// A buffer given to |stream| must be this device's.
udal_result_t check_buffer_device(const char* function, const char* which, const Stream& stream,
                                  const Buffer& buffer) noexcept {
  if (buffer.device != stream.device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: {} buffer {} belongs to device '{}', not to the stream's device '{}'",
                function, which, fmt::ptr(&buffer), buffer.device->info.name,
                stream.device->info.name);
  }
  return UDAL_SUCCESS;
}

// An event given to |stream| must be this device's.
udal_result_t check_event_device(const char* function, const Stream& stream,
                                 const Event& event) noexcept {
  if (event.device != stream.device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: event {} belongs to device '{}', not to the stream's device '{}'", function,
                fmt::ptr(&event), event.device->info.name, stream.device->info.name);
  }
  return UDAL_SUCCESS;
}

}  // namespace

StreamWork::StreamWork(Device& device)
    : context{*device.node->pool, local},
      executor("udal-cpu-stream", [&device] {
        bind_current_thread(*device.topology, device.node->node.cpuset.get());
      }) {}

udal_result_t stream_create(udal_device_t device_handle, const udal_stream_desc_t* desc_in,
                            udal_stream_t* out_stream) {
  constexpr const char* kFn = "udal_stream_create";
  if (out_stream == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_stream is NULL", kFn);
  *out_stream = nullptr;
  if (desc_in != nullptr) {
    if (udal_result_t r = udal::sdk::check_struct(kFn, "desc", desc_in)) return r;
  }
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    const udal_stream_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.flags != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "udal_stream_create: desc->flags {:#x} has bits no version defines", desc.flags);
    }
    Device* device = to_device(device_handle);
    auto stream = std::make_unique<Stream>();
    stream->dispatch = device->dispatch;
    stream->device = device;
    try {
      stream->work = std::make_shared<StreamWork>(*device);
    } catch (const std::system_error& e) {
      return fail(UDAL_ERROR_OUT_OF_HOST_MEMORY,
                  "udal_stream_create: could not start the stream's thread: {}", e.what());
    }
    device->driver->streams.add(stream.get());
    *out_stream = udal::sdk::to_handle<udal_stream_t>(stream.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_destroy(udal_stream_t handle) {
  Stream* stream = to_stream(handle);
  stream->device->driver->streams.remove(stream);
  // The executor's destructor runs what is queued, then joins its thread.
  std::unique_ptr<Stream> owned(stream);
  return UDAL_SUCCESS;
}

udal_result_t stream_copy_buffer(udal_stream_t handle, udal_buffer_t src_handle,
                                 uint64_t src_offset, udal_buffer_t dst_handle,
                                 uint64_t dst_offset, uint64_t size) {
  constexpr const char* kFn = "udal_stream_copy_buffer";
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Stream* stream = to_stream(handle);
    const Buffer* src = to_buffer(src_handle);
    const Buffer* dst = to_buffer(dst_handle);
    if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", kFn);
    if (udal_result_t r = check_buffer_device(kFn, "source", *stream, *src)) return r;
    if (udal_result_t r = check_buffer_device(kFn, "destination", *stream, *dst)) return r;
    if (udal_result_t r = udal::sdk::check_copy(kFn, src, src->size, src_offset, dst, dst->size,
                                                 dst_offset, size)) {
      return r;
    }
    StreamWork& work = *stream->work;
    work.executor.submit([context = &work.context, src_memory = src->memory,
                          dst_memory = dst->memory, src_offset, dst_offset, size]() noexcept {
      copy_bytes(*context, dst_memory->data() + dst_offset, src_memory->data() + src_offset, size);
    });
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_fill_buffer(udal_stream_t handle, udal_buffer_t dst_handle, uint64_t offset,
                                 uint64_t size, const void* pattern, uint32_t pattern_size) {
  constexpr const char* kFn = "udal_stream_fill_buffer";
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Stream* stream = to_stream(handle);
    const Buffer* dst = to_buffer(dst_handle);
    if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", kFn);
    if (udal_result_t r = udal::sdk::check_fill_pattern(kFn, pattern, pattern_size)) return r;
    if (udal_result_t r = check_buffer_device(kFn, "destination", *stream, *dst)) return r;
    if (udal_result_t r =
            udal::sdk::check_range(kFn, "fill", dst, dst->size, offset, size)) {
      return r;
    }
    FillPattern captured{};
    std::memcpy(captured.bytes, pattern, pattern_size);
    captured.size = pattern_size;
    StreamWork& work = *stream->work;
    work.executor.submit(
        [context = &work.context, memory = dst->memory, offset, size, captured]() noexcept {
          fill_bytes(*context, memory->data() + offset, size, captured);
        });
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_write_buffer(udal_stream_t handle, udal_buffer_t dst_handle,
                                  uint64_t dst_offset, const void* src, uint64_t size) {
  constexpr const char* kFn = "udal_stream_write_buffer";
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Stream* stream = to_stream(handle);
    const Buffer* dst = to_buffer(dst_handle);
    if (src == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: src is NULL", kFn);
    if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", kFn);
    if (udal_result_t r = check_buffer_device(kFn, "destination", *stream, *dst)) return r;
    if (udal_result_t r =
            udal::sdk::check_range(kFn, "write", dst, dst->size, dst_offset, size)) {
      return r;
    }
    const auto* host = static_cast<const std::byte*>(src);
    StreamWork& work = *stream->work;
    work.executor.submit(
        [context = &work.context, memory = dst->memory, dst_offset, host, size]() noexcept {
          copy_bytes(*context, memory->data() + dst_offset, host, size);
        });
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_read_buffer(udal_stream_t handle, udal_buffer_t src_handle,
                                 uint64_t src_offset, void* dst, uint64_t size) {
  constexpr const char* kFn = "udal_stream_read_buffer";
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Stream* stream = to_stream(handle);
    const Buffer* src = to_buffer(src_handle);
    if (dst == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: dst is NULL", kFn);
    if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", kFn);
    if (udal_result_t r = check_buffer_device(kFn, "source", *stream, *src)) return r;
    if (udal_result_t r =
            udal::sdk::check_range(kFn, "read", src, src->size, src_offset, size)) {
      return r;
    }
    auto* host = static_cast<std::byte*>(dst);
    StreamWork& work = *stream->work;
    work.executor.submit(
        [context = &work.context, memory = src->memory, src_offset, host, size]() noexcept {
          copy_bytes(*context, host, memory->data() + src_offset, size);
        });
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_launch(udal_stream_t handle, udal_kernel_t kernel_handle,
                            const udal_launch_desc_t* desc_in) {
  constexpr const char* kFn = "udal_stream_launch";
  if (desc_in == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", kFn);
  if (udal_result_t r = udal::sdk::check_struct(kFn, "desc", desc_in)) return r;
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Stream* stream = to_stream(handle);
    const udal_launch_desc_t desc = udal::sdk::read_struct(desc_in);
    return enqueue_launch(*stream->device, *to_kernel(kernel_handle), desc, *stream->work);
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_record_event(udal_stream_t handle, udal_event_t event_handle) {
  constexpr const char* kFn = "udal_stream_record_event";
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Stream* stream = to_stream(handle);
    Event* event = to_event(event_handle);
    if (udal_result_t r = check_event_device(kFn, *stream, *event)) return r;
    return event->state.record_on(kFn, event, stream->work->executor);
  });
}

udal_result_t stream_wait_event(udal_stream_t handle, udal_event_t event_handle) {
  constexpr const char* kFn = "udal_stream_wait_event";
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Stream* stream = to_stream(handle);
    Event* event = to_event(event_handle);
    if (udal_result_t r = check_event_device(kFn, *stream, *event)) return r;
    event->state.wait_on(stream->work->executor);
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_synchronize(udal_stream_t handle, uint64_t timeout_ns) {
  constexpr const char* kFn = "udal_stream_synchronize";
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    return to_stream(handle)->work->executor.synchronize(kFn, timeout_ns);
  });
}

udal_result_t stream_enqueue_host_function(udal_stream_t handle, udal_host_function_t fn,
                                           void* user_data) {
  constexpr const char* kFn = "udal_stream_enqueue_host_function";
  if (fn == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: fn is NULL", kFn);
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    // fn runs after every earlier operation of the stream completed, and the next starts
    // when fn has returned.
    to_stream(handle)->work->executor.host_function(fn, user_data);
    return UDAL_SUCCESS;
  });
}

}  // namespace udal::cpu
