#include "stream.h"

#include <cstring>

#include "buffer.h"
#include "driver.h"
#include "event.h"
#include "kernel.h"
#include "launch.h"
#include "transfer.h"

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
      stream->executor = std::make_shared<Executor>(*device);
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
    if (src_offset > src->size || size > src->size - src_offset) {
      return fail(UDAL_ERROR_OUT_OF_RANGE,
                  "{}: copy of {} bytes at source offset {} runs past the end of buffer {} ({} "
                  "bytes)",
                  kFn, size, src_offset, fmt::ptr(src), src->size);
    }
    if (dst_offset > dst->size || size > dst->size - dst_offset) {
      return fail(UDAL_ERROR_OUT_OF_RANGE,
                  "{}: copy of {} bytes at destination offset {} runs past the end of buffer {} "
                  "({} bytes)",
                  kFn, size, dst_offset, fmt::ptr(dst), dst->size);
    }
    if (src == dst && src_offset < dst_offset + size && dst_offset < src_offset + size) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: source [{}, {}) and destination [{}, {}) overlap in buffer {}", kFn,
                  src_offset, src_offset + size, dst_offset, dst_offset + size, fmt::ptr(src));
    }
    stream->executor->submit(make_operation(
        [src_memory = src->memory, dst_memory = dst->memory, src_offset, dst_offset,
         size](ExecContext& context) noexcept {
          copy_bytes(context, dst_memory->data() + dst_offset, src_memory->data() + src_offset,
                     size);
        }));
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
    if (pattern == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern is NULL", kFn);
    if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 && pattern_size != 8 &&
        pattern_size != 16) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: pattern_size {} is not 1, 2, 4, 8 or 16", kFn, pattern_size);
    }
    if (udal_result_t r = check_buffer_device(kFn, "destination", *stream, *dst)) return r;
    if (udal_result_t r = check_range(kFn, "fill", *dst, offset, size)) return r;
    FillPattern captured{};
    std::memcpy(captured.bytes, pattern, pattern_size);
    captured.size = pattern_size;
    stream->executor->submit(make_operation(
        [memory = dst->memory, offset, size, captured](ExecContext& context) noexcept {
          fill_bytes(context, memory->data() + offset, size, captured);
        }));
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
    if (udal_result_t r = check_range(kFn, "write", *dst, dst_offset, size)) return r;
    const auto* host = static_cast<const std::byte*>(src);
    stream->executor->submit(make_operation(
        [memory = dst->memory, dst_offset, host, size](ExecContext& context) noexcept {
          copy_bytes(context, memory->data() + dst_offset, host, size);
        }));
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
    if (udal_result_t r = check_range(kFn, "read", *src, src_offset, size)) return r;
    auto* host = static_cast<std::byte*>(dst);
    stream->executor->submit(make_operation(
        [memory = src->memory, src_offset, host, size](ExecContext& context) noexcept {
          copy_bytes(context, host, memory->data() + src_offset, size);
        }));
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
    std::unique_ptr<Operation> operation;
    if (udal_result_t r = prepare_launch(*stream->device, *to_kernel(kernel_handle), desc,
                                         operation)) {
      return r;
    }
    stream->executor->submit(std::move(operation));
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_record_event(udal_stream_t handle, udal_event_t event_handle) {
  constexpr const char* kFn = "udal_stream_record_event";
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Stream* stream = to_stream(handle);
    Event* event = to_event(event_handle);
    if (udal_result_t r = check_event_device(kFn, *stream, *event)) return r;
    if (event->flags & UDAL_EVENT_FLAG_HOST_SIGNAL) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: event {} is a HOST_SIGNAL event: only udal_event_signal completes it",
                  kFn, fmt::ptr(event));
    }
    auto record = std::make_shared<EventRecord>((event->flags & UDAL_EVENT_FLAG_TIMING) != 0);
    // Submitted before it becomes the latest record, so a wait that captures it always
    // waits for a record some stream will complete.
    stream->executor->submit(
        make_operation([record](ExecContext&) noexcept { record->complete(); }));
    set_latest_record(*event, std::move(record));
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_wait_event(udal_stream_t handle, udal_event_t event_handle) {
  constexpr const char* kFn = "udal_stream_wait_event";
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Stream* stream = to_stream(handle);
    Event* event = to_event(event_handle);
    if (udal_result_t r = check_event_device(kFn, *stream, *event)) return r;
    auto record = latest_record(*event);
    if (!record || record->done()) return UDAL_SUCCESS;  // nothing to wait for
    // Each stream has its own thread, so holding this one until the record completes holds
    // only this stream's later work.
    stream->executor->submit(make_operation([record](ExecContext&) noexcept {
      // The record was submitted before this wait was (or is a HOST_SIGNAL record, which
      // its signal, its event's destroy or driver_destroy completes): no deadlock.
      (void)record->wait(Deadline::after(UINT64_MAX));
    }));
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_synchronize(udal_stream_t handle, uint64_t timeout_ns) {
  return udal::sdk::guard("udal_stream_synchronize", [&]() -> udal_result_t {
    Stream* stream = to_stream(handle);
    // UDAL_TIMEOUT is a status: libudal gives it its static message.
    return stream->executor->synchronize(Deadline::after(timeout_ns)) ? UDAL_SUCCESS
                                                                      : UDAL_TIMEOUT;
  });
}

udal_result_t stream_enqueue_host_function(udal_stream_t handle, udal_host_function_t fn,
                                           void* user_data) {
  constexpr const char* kFn = "udal_stream_enqueue_host_function";
  if (fn == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: fn is NULL", kFn);
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    // The executor runs operations one after another: fn runs after every earlier operation
    // of the stream completed, and the next starts when fn has returned.
    to_stream(handle)->executor->submit(
        make_operation([fn, user_data](ExecContext&) noexcept { fn(user_data); }));
    return UDAL_SUCCESS;
  });
}

}  // namespace udal::cpu
