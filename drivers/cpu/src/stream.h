// stream.h — streams: in-order queues, each run by its own executor thread.
#ifndef UDAL_CPU_STREAM_H_
#define UDAL_CPU_STREAM_H_

#include <memory>

#include "device.h"
#include "executor.h"
#include "udal/sdk/sdk.h"

namespace udal::cpu {

// The object behind a udal_stream_t.
struct Stream {
  const udal_driver_table_t* dispatch;
  Device* device;
  std::unique_ptr<Executor> executor;
};
UDAL_SDK_DISPATCHABLE(Stream);

inline Stream* to_stream(udal_stream_t handle) noexcept {
  return udal::sdk::from_handle<Stream>(handle);
}

udal_result_t stream_create(udal_device_t device, const udal_stream_desc_t* desc,
                            udal_stream_t* out_stream);
udal_result_t stream_destroy(udal_stream_t stream);
udal_result_t stream_copy_buffer(udal_stream_t stream, udal_buffer_t src, uint64_t src_offset,
                                 udal_buffer_t dst, uint64_t dst_offset, uint64_t size);
udal_result_t stream_fill_buffer(udal_stream_t stream, udal_buffer_t dst, uint64_t offset,
                                 uint64_t size, const void* pattern, uint32_t pattern_size);
udal_result_t stream_write_buffer(udal_stream_t stream, udal_buffer_t dst, uint64_t dst_offset,
                                  const void* src, uint64_t size);
udal_result_t stream_read_buffer(udal_stream_t stream, udal_buffer_t src, uint64_t src_offset,
                                 void* dst, uint64_t size);
udal_result_t stream_launch(udal_stream_t stream, udal_kernel_t kernel,
                            const udal_launch_desc_t* desc);
udal_result_t stream_record_event(udal_stream_t stream, udal_event_t event);
udal_result_t stream_wait_event(udal_stream_t stream, udal_event_t event);
udal_result_t stream_synchronize(udal_stream_t stream, uint64_t timeout_ns);

}  // namespace udal::cpu

#endif  // UDAL_CPU_STREAM_H_
