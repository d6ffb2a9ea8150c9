// Copies, fills, host writes and reads: one or a few OpenCL commands each, never blocking.
#include <cstring>

#include "buffer.h"
#include "stream.h"

namespace udal::opencl {

using udal::sdk::fail;

namespace {

udal_result_t check_buffer(const char* fn, const char* what, const Stream* stream,
                           udal_buffer_t handle, uint64_t offset, uint64_t size) noexcept {
  const Buffer* buffer = to_buffer(handle);
  if (buffer->device != stream->device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: {} buffer {} belongs to device '{}', not to the stream's device '{}'", fn,
                what, fmt::ptr(handle), buffer->device->state->info.name,
                stream->device->state->info.name);
  }
  if (offset > buffer->size || size > buffer->size - offset) {
    return fail(UDAL_ERROR_OUT_OF_RANGE,
                "{}: {} bytes at {} offset {} run past the end of buffer {} ({} bytes)", fn, size,
                what, offset, fmt::ptr(handle), buffer->size);
  }
  return UDAL_SUCCESS;
}

} // namespace

udal_result_t stream_copy_buffer(udal_stream_t stream_handle, udal_buffer_t src,
                                 uint64_t src_offset, udal_buffer_t dst, uint64_t dst_offset,
                                 uint64_t size) {
  constexpr const char* fn = "udal_stream_copy_buffer";
  Stream* stream = to_stream(stream_handle);
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (udal_result_t r = check_buffer(fn, "source", stream, src, src_offset, size))
    return r;
  if (udal_result_t r = check_buffer(fn, "destination", stream, dst, dst_offset, size))
    return r;
  if (src == dst && src_offset < dst_offset + size && dst_offset < src_offset + size) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: the source [{}, {}) and destination [{}, {}) overlap in buffer {}", fn,
                src_offset, src_offset + size, dst_offset, dst_offset + size, fmt::ptr(src));
  }
  std::lock_guard lock(stream->mutex);
  const cl_int error =
      clEnqueueCopyBuffer(stream->queue.get(), to_buffer(src)->mem.get(), to_buffer(dst)->mem.get(),
                          src_offset, dst_offset, size, 0, nullptr, stream->next_event());
  if (error != CL_SUCCESS)
    return fail_cl(fn, "clEnqueueCopyBuffer", error);
  return UDAL_SUCCESS;
}

// A fill starts its pattern at |offset|, which need not be aligned, and truncates the last
// repetition; clEnqueueFillBuffer wants offset and size multiples of the pattern size. So:
// the aligned middle is one fill with the pattern rotated to its phase there, and the few
// bytes before and after it are fills of 8, 4, 2 or 1 bytes (whatever their alignment
// allows) with the pattern's bytes at those places. Fills copy their pattern at enqueue
// time, so nothing needs to outlive the call.
udal_result_t stream_fill_buffer(udal_stream_t stream_handle, udal_buffer_t dst, uint64_t offset,
                                 uint64_t size, const void* pattern, uint32_t pattern_size) {
  constexpr const char* fn = "udal_stream_fill_buffer";
  Stream* stream = to_stream(stream_handle);
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (pattern == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern is NULL", fn);
  if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 && pattern_size != 8 &&
      pattern_size != 16) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern_size {} is not 1, 2, 4, 8 or 16", fn,
                pattern_size);
  }
  if (udal_result_t r = check_buffer(fn, "destination", stream, dst, offset, size))
    return r;
  cl_mem mem = to_buffer(dst)->mem.get();
  const auto* bytes = static_cast<const unsigned char*>(pattern);
  const auto byte_at = [&](uint64_t position) { return bytes[(position - offset) % pattern_size]; };

  const uint64_t end = offset + size;
  const uint64_t middle_begin =
      std::min(end, (offset + pattern_size - 1) / pattern_size * pattern_size);
  const uint64_t middle_end = middle_begin + (end - middle_begin) / pattern_size * pattern_size;

  std::lock_guard lock(stream->mutex);
  cl_command_queue queue = stream->queue.get();
  // [from, to) with pieces of 8, 4, 2, 1 bytes as the position's alignment allows.
  const auto fill_edge = [&](uint64_t from, uint64_t to) -> cl_int {
    while (from < to) {
      uint64_t piece = 8;
      while (piece > 1 && (from % piece != 0 || piece > to - from))
        piece /= 2;
      unsigned char piece_bytes[8];
      for (uint64_t i = 0; i < piece; ++i)
        piece_bytes[i] = byte_at(from + i);
      const cl_int error = clEnqueueFillBuffer(queue, mem, piece_bytes, piece, from, piece, 0,
                                               nullptr, stream->next_event());
      if (error != CL_SUCCESS)
        return error;
      from += piece;
    }
    return CL_SUCCESS;
  };
  cl_int error = fill_edge(offset, middle_begin);
  if (error == CL_SUCCESS && middle_end > middle_begin) {
    unsigned char rotated[16];
    for (uint32_t i = 0; i < pattern_size; ++i)
      rotated[i] = byte_at(middle_begin + i);
    error = clEnqueueFillBuffer(queue, mem, rotated, pattern_size, middle_begin,
                                middle_end - middle_begin, 0, nullptr, stream->next_event());
  }
  if (error == CL_SUCCESS)
    error = fill_edge(std::max(middle_end, middle_begin), end);
  if (error != CL_SUCCESS)
    return fail_cl(fn, "clEnqueueFillBuffer", error);
  return UDAL_SUCCESS;
}

udal_result_t stream_write_buffer(udal_stream_t stream_handle, udal_buffer_t dst,
                                  uint64_t dst_offset, const void* src, uint64_t size) {
  constexpr const char* fn = "udal_stream_write_buffer";
  Stream* stream = to_stream(stream_handle);
  if (src == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: src is NULL", fn);
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (udal_result_t r = check_buffer(fn, "destination", stream, dst, dst_offset, size))
    return r;
  std::lock_guard lock(stream->mutex);
  const cl_int error =
      clEnqueueWriteBuffer(stream->queue.get(), to_buffer(dst)->mem.get(), CL_FALSE, dst_offset,
                           size, src, 0, nullptr, stream->next_event());
  if (error != CL_SUCCESS)
    return fail_cl(fn, "clEnqueueWriteBuffer", error);
  return UDAL_SUCCESS;
}

udal_result_t stream_read_buffer(udal_stream_t stream_handle, udal_buffer_t src,
                                 uint64_t src_offset, void* dst, uint64_t size) {
  constexpr const char* fn = "udal_stream_read_buffer";
  Stream* stream = to_stream(stream_handle);
  if (dst == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: dst is NULL", fn);
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (udal_result_t r = check_buffer(fn, "source", stream, src, src_offset, size))
    return r;
  std::lock_guard lock(stream->mutex);
  const cl_int error = clEnqueueReadBuffer(stream->queue.get(), to_buffer(src)->mem.get(), CL_FALSE,
                                           src_offset, size, dst, 0, nullptr, stream->next_event());
  if (error != CL_SUCCESS)
    return fail_cl(fn, "clEnqueueReadBuffer", error);
  return UDAL_SUCCESS;
}

} // namespace udal::opencl
