// Transfers: copies, fills, host writes and reads.
#include <algorithm>
#include <cstring>

#include "buffer.h"
#include "stream.h"

namespace udal::vulkan {
namespace {

using udal::sdk::fail;

// A host-visible staging buffer of |size| bytes, or nullptr with the message set.
std::shared_ptr<Allocation> make_staging(const char* fn, DeviceState& device, uint64_t size,
                                         udal_result_t* result) {
  if (device.staging_type == kNoMemoryType) {
    *result = fail(UDAL_ERROR_UNSUPPORTED, "{}: device {} has no host-visible memory for staging",
                   fn, device.info.name);
    return nullptr;
  }
  VkResult error = VK_SUCCESS;
  AllocationRequest request;
  request.type = device.staging_type;
  request.size = size;
  request.alignment = 16;
  auto staging = device.memory->allocate(request, &error);
  if (!staging) {
    *result = fail(udal_code_of(error) == UDAL_ERROR_INTERNAL ? UDAL_ERROR_INTERNAL
                                                              : UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                   "{}: cannot allocate a staging buffer of {} bytes ({})", fn, size,
                   vk_result_name(error));
  }
  return staging;
}

}  // namespace

udal_result_t stream_copy_buffer(udal_stream_t handle, udal_buffer_t src_handle,
                                 uint64_t src_offset, udal_buffer_t dst_handle,
                                 uint64_t dst_offset, uint64_t size) {
  constexpr const char* fn = "udal_stream_copy_buffer";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    StreamEngine& stream = *to_stream(handle)->state;
    const Buffer& src = *to_buffer(src_handle);
    const Buffer& dst = *to_buffer(dst_handle);
    if (auto r = check_device(fn, "src", src, *stream.device()); r != UDAL_SUCCESS) return r;
    if (auto r = check_device(fn, "dst", dst, *stream.device()); r != UDAL_SUCCESS) return r;
    if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
    if (auto r = check_range(fn, "copy source", src, src_offset, size); r != UDAL_SUCCESS) return r;
    if (auto r = check_range(fn, "copy destination", dst, dst_offset, size); r != UDAL_SUCCESS)
      return r;
    if (&src == &dst && src_offset < dst_offset + size && dst_offset < src_offset + size) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: source [{}, {}) and destination [{}, {}) overlap in one buffer", fn,
                  src_offset, src_offset + size, dst_offset, dst_offset + size);
    }
    const VkBuffer s = src.allocation->buffer(), d = dst.allocation->buffer();
    const VkBufferCopy region{src_offset, dst_offset, size};
    return stream.record(
        fn, [&](VkCommandBuffer cb) { vkCmdCopyBuffer(cb, s, d, 1, &region); },
        {src.allocation, dst.allocation});
  });
}

udal_result_t stream_fill_buffer(udal_stream_t handle, udal_buffer_t dst_handle, uint64_t offset,
                                 uint64_t size, const void* pattern, uint32_t pattern_size) {
  constexpr const char* fn = "udal_stream_fill_buffer";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    StreamEngine& stream = *to_stream(handle)->state;
    const Buffer& dst = *to_buffer(dst_handle);
    if (auto r = check_device(fn, "dst", dst, *stream.device()); r != UDAL_SUCCESS) return r;
    if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
    if (pattern == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern is NULL", fn);
    if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 && pattern_size != 8 &&
        pattern_size != 16) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern_size {} is not 1, 2, 4, 8 or 16", fn,
                  pattern_size);
    }
    if (auto r = check_range(fn, "fill", dst, offset, size); r != UDAL_SUCCESS) return r;
    DeviceState& device = *stream.device();
    const auto* bytes = static_cast<const uint8_t*>(pattern);
    const VkBuffer d = dst.allocation->buffer();

    if (pattern_size <= 4) {
      // A pattern that divides 4 repeats every word: vkCmdFillBuffer covers the 4-aligned
      // middle, a small staging copy the (up to 3) bytes at each end.
      const uint64_t head = std::min<uint64_t>(size, (4 - offset % 4) % 4);
      const uint64_t middle = (size - head) / 4 * 4;
      const uint64_t tail = size - head - middle;
      uint32_t word = 0;
      for (uint32_t j = 0; j < 4; ++j) {
        word |= uint32_t{bytes[(head + j) % pattern_size]} << (8 * j);  // little-endian
      }
      std::shared_ptr<Allocation> staging;
      if (head + tail > 0) {
        udal_result_t result = UDAL_SUCCESS;
        staging = make_staging(fn, device, 8, &result);
        if (!staging) return result;
        for (uint64_t k = 0; k < head; ++k) staging->mapped()[k] = std::byte{bytes[k % pattern_size]};
        for (uint64_t k = 0; k < tail; ++k) {
          staging->mapped()[4 + k] = std::byte{bytes[(head + middle + k) % pattern_size]};
        }
      }
      const VkBuffer s = staging ? staging->buffer() : VK_NULL_HANDLE;
      KeepAlive keep = {dst.allocation};
      if (staging) keep.push_back(staging);
      return stream.record(fn, [&](VkCommandBuffer cb) {
        if (middle > 0) vkCmdFillBuffer(cb, d, offset + head, middle, word);
        VkBufferCopy regions[2];
        uint32_t n = 0;
        if (head > 0) regions[n++] = {0, offset, head};
        if (tail > 0) regions[n++] = {4, offset + head + middle, tail};
        if (n > 0) vkCmdCopyBuffer(cb, s, d, n, regions);
      }, std::move(keep));
    }
    // 8- and 16-byte patterns: one staging chunk of whole repetitions, copied as often as
    // the range needs.
    const uint64_t chunk = std::min<uint64_t>(size + pattern_size, 1u << 20) / pattern_size *
                           pattern_size;
    udal_result_t result = UDAL_SUCCESS;
    auto staging = make_staging(fn, device, chunk, &result);
    if (!staging) return result;
    for (uint64_t k = 0; k < chunk; k += pattern_size) {
      std::memcpy(staging->mapped() + k, bytes, pattern_size);
    }
    std::vector<VkBufferCopy> regions;
    for (uint64_t done = 0; done < size; done += chunk) {
      regions.push_back({0, offset + done, std::min(chunk, size - done)});
    }
    const VkBuffer s = staging->buffer();
    return stream.record(fn, [&](VkCommandBuffer cb) {
      vkCmdCopyBuffer(cb, s, d, static_cast<uint32_t>(regions.size()), regions.data());
    }, {dst.allocation, staging});
  });
}

udal_result_t stream_write_buffer(udal_stream_t handle, udal_buffer_t dst_handle,
                                  uint64_t dst_offset, const void* src, uint64_t size) {
  constexpr const char* fn = "udal_stream_write_buffer";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    StreamEngine& stream = *to_stream(handle)->state;
    const Buffer& dst = *to_buffer(dst_handle);
    if (auto r = check_device(fn, "dst", dst, *stream.device()); r != UDAL_SUCCESS) return r;
    if (src == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: src is NULL", fn);
    if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
    if (auto r = check_range(fn, "write", dst, dst_offset, size); r != UDAL_SUCCESS) return r;
    if (std::byte* address = host_address(dst)) {
      // Host-visible: the host copies when the stream reaches the write (no staging).
      return stream.host_step(fn, [=] { std::memcpy(address + dst_offset, src, size); },
                              {dst.allocation});
    }
    // Device-only memory: the bytes are staged now, so the caller's memory is free at once.
    udal_result_t result = UDAL_SUCCESS;
    auto staging = make_staging(fn, *stream.device(), size, &result);
    if (!staging) return result;
    std::memcpy(staging->mapped(), src, size);
    const VkBuffer s = staging->buffer(), d = dst.allocation->buffer();
    const VkBufferCopy region{0, dst_offset, size};
    return stream.record(fn, [&](VkCommandBuffer cb) { vkCmdCopyBuffer(cb, s, d, 1, &region); },
                         {dst.allocation, staging});
  });
}

udal_result_t stream_read_buffer(udal_stream_t handle, udal_buffer_t src_handle,
                                 uint64_t src_offset, void* dst, uint64_t size) {
  constexpr const char* fn = "udal_stream_read_buffer";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    StreamEngine& stream = *to_stream(handle)->state;
    const Buffer& src = *to_buffer(src_handle);
    if (auto r = check_device(fn, "src", src, *stream.device()); r != UDAL_SUCCESS) return r;
    if (dst == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: dst is NULL", fn);
    if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
    if (auto r = check_range(fn, "read", src, src_offset, size); r != UDAL_SUCCESS) return r;
    if (const std::byte* address = host_address(src)) {
      return stream.host_step(fn, [=] { std::memcpy(dst, address + src_offset, size); },
                              {src.allocation});
    }
    udal_result_t result = UDAL_SUCCESS;
    auto staging = make_staging(fn, *stream.device(), size, &result);
    if (!staging) return result;
    const VkBuffer s = src.allocation->buffer(), d = staging->buffer();
    const VkBufferCopy region{src_offset, 0, size};
    if (auto r = stream.record(fn, [&](VkCommandBuffer cb) { vkCmdCopyBuffer(cb, s, d, 1, &region); },
                               {src.allocation, staging});
        r != UDAL_SUCCESS)
      return r;
    const std::byte* staged = staging->mapped();
    return stream.host_step(fn, [=] { std::memcpy(dst, staged, size); }, {staging});
  });
}


}  // namespace udal::vulkan
