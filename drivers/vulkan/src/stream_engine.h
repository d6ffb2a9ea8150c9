// stream_engine.h — the submission engine behind each stream.
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
// Submission (advance): nodes are submitted front to back, from the thread that enqueues
// (or from the worker, when what held a node back is done). A batch is submitted when
// nothing before it is held back — every earlier batch submitted, every earlier host step
// done, every earlier hold's point queued — so no submission ever waits in the queue for a
// signal that is not yet submitted, which would hold back every other stream on the one
// queue. An open batch is submitted at once when nothing of the stream is in flight (no
// latency when idle); while work runs it gathers operations, and is submitted (several
// batches may then be in flight) as soon as it has kBatchOperations of them or the work
// before it completes. A record, a synchronize, a host step or a hold seals it.
//
// Retirement: batches that completed are retired by the thread that sees them complete —
// synchronize after its wait, and the next enqueue (which reads the timeline) — so a launch
// followed by a synchronize involves no other thread of the driver: the worker is not woken.
// The worker thread is woken only for what needs a thread of its own: a host step to run, a
// hold to wait for, a batch gathering behind work in flight (submitted once that work
// completes), a failure or the stream's end. It waits for the front node — a batch's value,
// a hold's point — or runs a host step and signals its value. Retiring a node recycles its
// command buffer and hands what its value kept alive (deletion_queue.h) back to be dropped
// outside the lock; then the engine advances. What completed work kept alive is therefore
// released when the stream is next synchronized, enqueued to, or woken, or when it goes.
//
// Failure: a submission that fails (out of memory, a lost device) fails the stream with that
// code: what was never submitted is dropped, what was is still waited for before anything it
// uses is freed, and then the timeline is signalled from the host to its last value so that
// no synchronize or event wait hangs (they report the failure). Other streams and the device
// go on.
#ifndef UDAL_VULKAN_STREAM_ENGINE_H_
#define UDAL_VULKAN_STREAM_ENGINE_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "command_buffers.h"
#include "deletion_queue.h"
#include "device.h"
#include "event.h"

namespace udal::vulkan {

class StreamEngine : public std::enable_shared_from_this<StreamEngine> {
 public:
  explicit StreamEngine(DeviceState* device);
  ~StreamEngine();
  StreamEngine(const StreamEngine&) = delete;
  StreamEngine& operator=(const StreamEngine&) = delete;

  // Creates (or takes a retired stream's) command pool and timeline and starts the worker.
  // The object must be owned by a shared_ptr already.
  VkResult init();

  DeviceState* device() const noexcept { return device_; }
  const std::shared_ptr<UniqueSemaphore>& timeline() const noexcept { return timeline_; }

  // Enqueues GPU work: |body| records into the stream's open command buffer, after a
  // barrier that orders it behind the stream's earlier operations. |keep| lives until the
  // work has completed. A |pipeline| (a launch's) is bound before |body| runs unless the
  // command buffer has it bound already: rebinding the same compute pipeline for every
  // launch of a batch cost lavapipe a third of its launch throughput.
  udal_result_t record(const char* fn, const std::function<void(VkCommandBuffer)>& body,
                       KeepAlive keep, VkPipeline pipeline = VK_NULL_HANDLE);
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
    VkPipeline bound_pipeline = VK_NULL_HANDLE;  // the compute pipeline its commands left bound
    bool sealed = false;
    bool submitted = false;
    // Host steps.
    std::function<void()> task;
    // Holds.
    std::shared_ptr<SyncPoint> point;
  };
  using Wake = std::vector<std::weak_ptr<StreamEngine>>;

  // --- enqueueing (stream_engine.cpp), with mutex_ held ---
  udal_result_t check_failed(const char* fn) const;
  // After an enqueue's advance(): the failure its submission met, if any.
  udal_result_t check_submitted(const char* fn) const;
  // The open batch at the tail, made when there is none (with a command buffer when
  // |commands|).
  VkResult open_batch(bool commands, Node** out);
  // The value the open batch at the tail will signal once sealed.
  uint64_t open_value() const noexcept { return last_value_ + 1; }
  VkResult seal(Node& batch);
  VkResult seal_tail();

  // --- submission (submission.cpp), with mutex_ held ---
  void advance(Wake* wake);
  VkResult submit(Node& batch, const std::vector<std::shared_ptr<SyncPoint>>& holds);
  void mark_queued(uint64_t value, Wake* wake);

  // --- retirement (retirement.cpp) ---
  // Whether the worker has something to do (a node that is not a submitted batch, a failure,
  // the end). With mutex_ held.
  bool needs_worker() const noexcept;
  // Retires the front batches that have completed (the timeline is read once) into
  // |*released|, and advances. With mutex_ held; never throws.
  void retire_completed(DeletionQueue::Entries* released, Wake* wake) noexcept;
  void run_worker();
  void fail_stream(VkResult error);
  void release_waiters(Wake* wake);

  DeviceState* device_;
  CommandBuffers commands_;
  std::shared_ptr<UniqueSemaphore> timeline_;
  std::shared_ptr<StreamHealth> health_;
  std::mutex mutex_;
  std::condition_variable wake_;  // the worker's
  std::deque<Node> queue_;
  DeletionQueue deletions_;
  uint64_t last_value_ = 0;    // the value of the latest node that has one
  uint64_t queued_value_ = 0;  // signals up to it are submitted or done
  std::vector<std::shared_ptr<SyncPoint>> unqueued_points_;
  VkResult error_ = VK_SUCCESS;
  bool release_at_end_ = false;  // stop() dropped held work: release its values at the end
  bool released_ = false;        // after a failure: the timeline was taken to last_value_
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_STREAM_ENGINE_H_
