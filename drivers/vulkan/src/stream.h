// stream.h — in-order streams: the submission engine.
//
// A stream is a queue of nodes in enqueue order, each of which signals the stream's
// timeline semaphore at its own value (values are consecutive in queue order):
//   - a batch: operations recorded into one command buffer, a memory barrier between them;
//     submitted waiting for the previous value, so the stream stays in order across batches;
//   - a host step: a function the worker thread runs once everything before it has
//     completed (host copies of mapped memory, udal_stream_enqueue_host_function), then
//     signals the value from the host;
//   - a hold: a wait for a sync point of another stream or of a HOST_SIGNAL event (no value
//     of its own).
//
// Submission (advance): nodes are submitted front to back. A batch is submitted when nothing
// before it is held back — every earlier batch submitted, every earlier host step done, every
// earlier hold's point queued — so no submission ever waits in the queue for a signal that
// is not yet submitted, which would hold back every other stream on the one queue. An open
// batch is submitted at once when nothing of the stream is in flight (no latency when idle)
// and gathers operations while work runs (the worker submits it when that work completes);
// a record, a synchronize, a host step or a hold seals it, and a sealed batch is submitted as
// soon as nothing before it is held back.
//
// The worker thread retires the front node: waits for a batch, runs a host step, waits for
// a hold's point; then releases what the node kept alive (buffers destroyed meanwhile,
// staging memory, kernels) and advances.
//
// Failure: a submission that fails (out of memory, a lost device) fails the stream with that
// code: what was never submitted is dropped, what was is still waited for before anything it
// uses is freed, and then the timeline is signalled from the host to its last value so that
// no synchronize or event wait hangs (they report the failure). Other streams and the device
// go on.
#ifndef UDAL_VULKAN_STREAM_H_
#define UDAL_VULKAN_STREAM_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "device.h"
#include "event.h"

namespace udal::vulkan {

using KeepAlive = std::vector<std::shared_ptr<const void>>;

class StreamState : public std::enable_shared_from_this<StreamState> {
 public:
  explicit StreamState(DeviceState* device);
  ~StreamState();
  StreamState(const StreamState&) = delete;
  StreamState& operator=(const StreamState&) = delete;

  // Creates (or takes a retired stream's) command pool and timeline and starts the worker.
  // The object must be owned by a shared_ptr already.
  VkResult init();

  DeviceState* device() const noexcept { return device_; }
  const std::shared_ptr<UniqueSemaphore>& timeline() const noexcept { return timeline_; }

  // Enqueues GPU work: |body| records into the stream's open command buffer, after a
  // barrier that orders it behind the stream's earlier operations. |keep| lives until the
  // work has completed.
  udal_result_t record(const char* fn, const std::function<void(VkCommandBuffer)>& body,
                       KeepAlive keep);
  // Enqueues |task|, run on the worker thread once everything before it has completed and
  // before anything after it starts.
  udal_result_t host_step(const char* fn, std::function<void()> task, KeepAlive keep);
  // The point at which everything enqueued so far has completed, with |timestamp| (if any)
  // written there.
  udal_result_t record_point(const char* fn, std::shared_ptr<TimestampQuery> timestamp,
                             std::shared_ptr<SyncPoint>* out);
  // Makes work enqueued after this wait until |point| has completed.
  udal_result_t wait_point(const char* fn, std::shared_ptr<SyncPoint> point);
  udal_result_t synchronize(const char* fn, uint64_t timeout_ns);

  // Looks again at what can be submitted: a point the stream holds for was queued.
  void poke() noexcept;
  // Waits for everything submitted, drops what is still held back (never started), and
  // ends the worker. Idempotent.
  void stop() noexcept;

 private:
  enum class Kind { kBatch, kHost, kHold };
  struct Node {
    Kind kind = Kind::kBatch;
    uint64_t value = 0;  // the timeline value it signals; batches get theirs when sealed
    // Batches.
    VkCommandBuffer command_buffer = VK_NULL_HANDLE;
    uint32_t operations = 0;
    bool sealed = false;
    bool submitted = false;
    // Host steps.
    std::function<void()> task;
    // Holds.
    std::shared_ptr<SyncPoint> point;
    KeepAlive keep;
  };

  udal_result_t check_failed(const char* fn) const;
  // After an enqueue's advance(): the failure its submission met, if any.
  udal_result_t check_submitted(const char* fn) const;
  // The open batch at the tail, made when there is none (with a command buffer when
  // |commands|).
  VkResult open_batch(bool commands, Node** out);
  VkResult seal(Node& batch);
  VkResult seal_tail();
  VkResult submit(Node& batch, const std::vector<std::shared_ptr<SyncPoint>>& holds);
  void advance(std::vector<std::weak_ptr<StreamState>>* wake);
  void mark_queued(uint64_t value, std::vector<std::weak_ptr<StreamState>>* wake);
  void fail_stream(VkResult error);
  void release_waiters(std::vector<std::weak_ptr<StreamState>>* wake);
  void run_worker();

  DeviceState* device_;
  UniqueCommandPool pool_;
  std::shared_ptr<UniqueSemaphore> timeline_;
  std::shared_ptr<StreamHealth> health_;
  std::mutex mutex_;
  std::condition_variable wake_;  // the worker's
  std::deque<Node> queue_;
  uint64_t last_value_ = 0;    // the value of the latest node that has one
  uint64_t queued_value_ = 0;  // signals up to it are submitted or done
  std::vector<std::shared_ptr<SyncPoint>> unqueued_points_;
  std::vector<VkCommandBuffer> free_command_buffers_;
  VkResult error_ = VK_SUCCESS;
  bool release_at_end_ = false;  // stop() dropped held work: release its values at the end
  bool released_ = false;        // after a failure: the timeline was taken to last_value_
  bool stopping_ = false;
  std::thread worker_;
};

// The object behind a udal_stream_t.
struct Stream {
  const udal_driver_table_t* dispatch;
  std::shared_ptr<StreamState> state;
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
