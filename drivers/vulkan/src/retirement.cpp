// Retirement: the stream's worker thread takes the front node once it is done, releases what
// it kept alive and advances; and what happens when the stream fails (stream_engine.h).
#include "stream_engine.h"

namespace udal::vulkan {
namespace {

VkResult signal_from_host(VkDevice device, VkSemaphore timeline, uint64_t value) {
  VkSemaphoreSignalInfo info{VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO};
  info.semaphore = timeline;
  info.value = value;
  return vkSignalSemaphore(device, &info);
}

}  // namespace

// With mutex_ held.
void StreamEngine::fail_stream(VkResult error) {
  if (error_ != VK_SUCCESS) return;
  error_ = error;
  // What was submitted completes normally (unless the device is lost); the rest never runs.
  health_->failed_from.store(queued_value_ + 1, std::memory_order_release);
  health_->error.store(error, std::memory_order_release);
  wake_.notify_all();
}

// With mutex_ held. After a failure, once nothing submitted is pending: the timeline is
// taken to its last value so host waits end, and streams holding for this stream's points
// go on (they see the points complete; the failure is this stream's).
void StreamEngine::release_waiters(Wake* wake) {
  if (released_) return;
  released_ = true;
  // On a device really lost this fails too, and waits end with VK_ERROR_DEVICE_LOST anyway.
  uint64_t reached = 0;
  if (vkGetSemaphoreCounterValue(device_->vk(), timeline_->get(), &reached) == VK_SUCCESS &&
      reached < last_value_) {
    signal_from_host(device_->vk(), timeline_->get(), last_value_);
  }
  mark_queued(last_value_, wake);
}

bool StreamEngine::needs_worker() const noexcept {
  if (stopping_ || error_ != VK_SUCCESS || release_at_end_) return true;
  for (const Node& node : queue_) {
    if (node.kind != Kind::kBatch || !node.submitted) return true;
  }
  return false;
}

void StreamEngine::retire_completed(DeletionQueue::Entries* released, Wake* wake) noexcept {
  if (queue_.empty() || queue_.front().kind != Kind::kBatch || !queue_.front().submitted) return;
  uint64_t reached = 0;
  if (vkGetSemaphoreCounterValue(device_->vk(), timeline_->get(), &reached) != VK_SUCCESS) return;
  uint64_t retired = 0;
  while (!queue_.empty() && queue_.front().kind == Kind::kBatch && queue_.front().submitted &&
         queue_.front().value <= reached) {
    Node& done = queue_.front();
    if (done.command_buffer != VK_NULL_HANDLE) commands_.recycle(done.command_buffer);
    retired = done.value;
    // A batch keeps nothing but its command buffer (its objects are in deletions_).
    queue_.pop_front();
  }
  if (retired == 0) return;
  deletions_.collect(retired, released);
  advance(wake);
}

void StreamEngine::run_worker() {
  Wake wake;
  DeletionQueue::Entries released;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (queue_.empty()) {
      if (error_ != VK_SUCCESS || release_at_end_) release_waiters(&wake);
      // Every value is reached (or was never going to be: dropped work).
      deletions_.collect(UINT64_MAX, &released);
    }
    if (!wake.empty() || !released.empty()) {
      lock.unlock();
      released.clear();
      wake_streams(wake);
      lock.lock();
      continue;
    }
    if (queue_.empty() && stopping_) return;
    if (queue_.empty() || !needs_worker()) {
      // Nothing, or only submitted batches: whoever sees them complete retires them. The
      // worker too, before it sleeps: a synchronize that saw them complete while a hold or
      // host step was still in front of them retired nothing.
      retire_completed(&released, &wake);
      if (!released.empty() || !wake.empty()) continue;
      wake_.wait(lock);
      continue;
    }
    Node& front = queue_.front();
    VkResult result = VK_SUCCESS;
    const bool submitted_batch = front.kind == Kind::kBatch && front.submitted;
    if (error_ != VK_SUCCESS && !submitted_batch) {
      // Never submitted, never run: dropped.
    } else if (front.kind == Kind::kBatch) {
      if (!front.submitted) {
        wake_.wait(lock);  // advance() submits it
        continue;
      }
      const uint64_t value = front.value;
      lock.unlock();
      result = wait_timeline(device_->vk(), timeline_->get(), value, UINT64_MAX);
      lock.lock();
      // A synchronize or an enqueue may have retired it meanwhile.
      if (queue_.empty() || queue_.front().kind != Kind::kBatch || queue_.front().value != value) {
        if (result != VK_SUCCESS) fail_stream(result);
        continue;
      }
    } else if (front.kind == Kind::kHost) {
      // Everything before it has completed: the nodes before it were retired in order.
      auto task = std::move(front.task);
      const uint64_t value = front.value;
      lock.unlock();
      task();
      result = signal_from_host(device_->vk(), timeline_->get(), value);
      lock.lock();
      if (result == VK_SUCCESS) mark_queued(value, &wake);
    } else {
      if (!front.point->queued()) {
        wake_.wait(lock);  // the point wakes the stream once its signal is queued
        continue;
      }
      auto point = front.point;
      lock.unlock();
      result = point->wait(device_->vk(), UINT64_MAX);
      lock.lock();
      // Another stream's failure is its own; only a lost device is this stream's too.
      if (result != VK_ERROR_DEVICE_LOST) result = VK_SUCCESS;
    }
    Node done = std::move(queue_.front());
    queue_.pop_front();
    if (done.command_buffer != VK_NULL_HANDLE) commands_.recycle(done.command_buffer);
    // A batch or host step that is over (completed, failed with the device, or dropped):
    // what it and everything before it kept alive is no longer used.
    if (done.value != 0) deletions_.collect(done.value, &released);
    if (result != VK_SUCCESS) fail_stream(result);
    advance(&wake);
    // What was kept alive (buffers destroyed meanwhile, staging, kernels) is released, and
    // woken streams advance, outside this stream's lock.
    lock.unlock();
    done = Node{};
    released.clear();
    wake_streams(wake);
    lock.lock();
  }
}

}  // namespace udal::vulkan
