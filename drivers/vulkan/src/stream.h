// stream.h — the object behind a udal_stream_t and the stream entries. A stream is an
// in-order queue on the device's one queue; its engine (submission, retirement, failure)
// is stream_engine.h.
#ifndef UDAL_VULKAN_STREAM_H_
#define UDAL_VULKAN_STREAM_H_

#include <memory>

#include "stream_engine.h"

namespace udal::vulkan {

// The object behind a udal_stream_t.
struct Stream {
  const udal_driver_table_t* dispatch;
  std::shared_ptr<StreamEngine> state;
};
UDAL_SDK_DISPATCHABLE(Stream);

inline Stream* to_stream(udal_stream_t handle) noexcept {
  return udal::sdk::from_handle<Stream>(handle);
}

// Stops and frees a stream its user never destroyed (the device's teardown).
void destroy_stream_object(Stream* stream) noexcept;

udal_result_t stream_create(udal_device_t device, const udal_stream_desc_t* desc,
                            udal_stream_t* out_stream);
udal_result_t stream_destroy(udal_stream_t stream);
udal_result_t stream_synchronize(udal_stream_t stream, uint64_t timeout_ns);
udal_result_t stream_record_event(udal_stream_t stream, udal_event_t event);
udal_result_t stream_wait_event(udal_stream_t stream, udal_event_t event);
udal_result_t stream_enqueue_host_function(udal_stream_t stream, udal_host_function_t fn,
                                           void* user_data);

// transfer.cpp
udal_result_t stream_copy_buffer(udal_stream_t stream, udal_buffer_t src, uint64_t src_offset,
                                 udal_buffer_t dst, uint64_t dst_offset, uint64_t size);
udal_result_t stream_fill_buffer(udal_stream_t stream, udal_buffer_t dst, uint64_t offset,
                                 uint64_t size, const void* pattern, uint32_t pattern_size);
udal_result_t stream_write_buffer(udal_stream_t stream, udal_buffer_t dst, uint64_t dst_offset,
                                  const void* src, uint64_t size);
udal_result_t stream_read_buffer(udal_stream_t stream, udal_buffer_t src, uint64_t src_offset,
                                 void* dst, uint64_t size);

// launch.cpp
udal_result_t stream_launch(udal_stream_t stream, udal_kernel_t kernel,
                            const udal_launch_desc_t* desc);

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_STREAM_H_
