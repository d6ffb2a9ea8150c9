// buffer.h — buffers: a VkBuffer over sub-allocated memory of the kind's memory type.
#ifndef UDAL_VULKAN_BUFFER_H_
#define UDAL_VULKAN_BUFFER_H_

#include <atomic>
#include <memory>

#include "device.h"

namespace udal::vulkan {

// The object behind a udal_buffer_t.
struct Buffer {
  const udal_driver_table_t* dispatch;
  udal_device_t device_handle;
  DeviceState* device;
  std::shared_ptr<Allocation> allocation;
  udal_buffer_kind_t kind;
  uint64_t size;
  uint64_t alignment;
  udal_buffer_flags_t flags;
  uint64_t device_address;  // with UDAL_BUFFER_FLAG_DEVICE_ADDRESS, else 0
  std::atomic<bool> mapped;
};
UDAL_SDK_DISPATCHABLE(Buffer);

inline Buffer* to_buffer(udal_buffer_t handle) noexcept {
  return udal::sdk::from_handle<Buffer>(handle);
}

// The host address of the buffer's byte 0 when the host may read and write it directly at
// execution time, else nullptr (the data goes through a staging buffer).
std::byte* host_address(const Buffer& buffer) noexcept;

// Checks that [offset, offset + size) lies in |buffer|; else sets the message
// "<function>: <what> of <size> bytes at offset <offset> runs past the end of buffer ..."
// and returns UDAL_ERROR_OUT_OF_RANGE.
udal_result_t check_range(const char* function, const char* what, const Buffer& buffer,
                          uint64_t offset, uint64_t size) noexcept;

// Checks that |buffer| belongs to |device| (the stream's); else UDAL_ERROR_INVALID_HANDLE
// with a message naming |what|.
udal_result_t check_device(const char* function, const char* what, const Buffer& buffer,
                           const DeviceState& device) noexcept;

udal_result_t buffer_create(udal_device_t device, const udal_buffer_desc_t* desc,
                            udal_buffer_t* out_buffer);
udal_result_t buffer_destroy(udal_buffer_t buffer);
udal_result_t buffer_get_info(udal_buffer_t buffer, udal_buffer_info_t* out_info);
udal_result_t buffer_map(udal_buffer_t buffer, uint64_t offset, uint64_t size, void** out_ptr);
udal_result_t buffer_unmap(udal_buffer_t buffer);
udal_result_t buffer_get_device_address(udal_buffer_t buffer, uint64_t* out_address);

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_BUFFER_H_
