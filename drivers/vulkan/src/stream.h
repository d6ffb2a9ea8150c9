// stream.h — in-order streams. Operations are recorded into a command buffer (the open
// batch) and submitted with a timeline semaphore signal; host steps (reads and writes of
// host-visible memory, copies out of staging buffers) run on the stream's worker thread,
// which signals the same timeline from the host. Every submission waits for the stream's
// previous value, so the stream is in order across batches; pipeline barriers order the
// operations inside one.
//
// Submission policy: an operation enqueued while the stream has nothing in flight is
// submitted at once; while work is in flight, operations gather in the open batch, which
// the worker submits when that work completes (batching under load, no latency when idle).
// Recording an event, a host step and synchronize submit the open batch.
#ifndef UDAL_VULKAN_STREAM_H_
#define UDAL_VULKAN_STREAM_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "device.h"

namespace udal::vulkan {

using KeepAlive = std::vector<std::shared_ptr<const void>>;

class StreamState {
 public:
  explicit StreamState(DeviceState* device) noexcept : device_(device) {}
  ~StreamState();
  StreamState(const StreamState&) = delete;
  StreamState& operator=(const StreamState&) = delete;

  // Creates the command pool and the timeline and starts the worker.
  VkResult init();

  DeviceState* device() const noexcept { return device_; }
  const std::shared_ptr<UniqueSemaphore>& timeline() const noexcept { return timeline_; }

  // Records GPU work: |record| gets the open batch's command buffer, after a barrier that
  // orders it behind the stream's earlier operations; |keep| lives until the batch completes.
  // With |submitted_value|, the batch is submitted at once and that is the value at which
  // it completes (an event record).
  udal_result_t record(const char* fn, const std::function<void(VkCommandBuffer)>& record,
                       KeepAlive keep, uint64_t* submitted_value = nullptr);
  // Enqueues |task|, run on the host once everything before it has completed.
  udal_result_t host_step(const char* fn, std::function<void()> task, KeepAlive keep);
  // Submits the open batch; |*value| is then the value at which everything enqueued so far
  // has completed.
  udal_result_t submit_all(const char* fn, uint64_t* value);
  // Makes work enqueued after this wait until |timeline| reaches |value|.
  udal_result_t wait_for(const char* fn, std::shared_ptr<UniqueSemaphore> timeline,
                         uint64_t value);
  udal_result_t synchronize(const char* fn, uint64_t timeout_ns);

 private:
  struct Item {
    uint64_t signal_value = 0;
    VkCommandBuffer command_buffer = VK_NULL_HANDLE;
    std::function<void()> host_task;  // set: a host step, signalled by the worker
    KeepAlive keep;
  };
  struct Open {
    VkCommandBuffer command_buffer = VK_NULL_HANDLE;
    uint32_t operations = 0;
    std::vector<VkSemaphore> wait_semaphores;
    std::vector<uint64_t> wait_values;
    KeepAlive keep;
  };

  udal_result_t check_lost(const char* fn) const;
  VkResult open_command_buffer();
  VkResult flush();
  void kick();
  void run_worker();

  DeviceState* device_;
  UniqueCommandPool pool_;
  std::shared_ptr<UniqueSemaphore> timeline_;
  std::mutex mutex_;
  std::condition_variable wake_;
  uint64_t last_value_ = 0;
  std::optional<Open> open_;
  std::deque<Item> in_flight_;
  std::vector<VkCommandBuffer> free_command_buffers_;
  bool stopping_ = false;
  VkResult lost_ = VK_SUCCESS;
  std::thread worker_;
  // Declared last: the worker stops before anything else goes.
  struct Retire {
    StreamState* stream;
    ~Retire();
  } retire_{this};
};

// The object behind a udal_stream_t.
struct Stream {
  const udal_driver_table_t* dispatch;
  std::unique_ptr<StreamState> state;
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

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_STREAM_H_
