// The engine's set-up and teardown, and what enqueues into it: operations recorded into the
// open batch, host steps, records and waits of sync points, synchronize.
#include "stream_engine.h"

#include <algorithm>

namespace udal::vulkan {
namespace {

using udal::sdk::fail;

constexpr VkPipelineStageFlags kWorkStages =
    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;

// Orders everything recorded before it in |cb| before everything after it: the stream is
// in order, and operations may read what earlier ones wrote.
void order_after_previous(VkCommandBuffer cb) {
  VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                          VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  vkCmdPipelineBarrier(cb, kWorkStages, kWorkStages, 0, 1, &barrier, 0, nullptr, 0, nullptr);
}

}  // namespace

// ===========================================================================================
// Set-up and teardown
// ===========================================================================================

StreamEngine::StreamEngine(DeviceState* device)
    : device_(device), health_(std::make_shared<StreamHealth>()) {}

VkResult StreamEngine::init() {
  const VkDevice vk = device_->vk();
  UniqueCommandPool retired_pool;
  {
    std::lock_guard lock(device_->retired_mutex);
    if (!device_->retired_streams.empty()) {
      auto& [pool, timeline] = device_->retired_streams.back();
      retired_pool = std::move(pool);
      timeline_ = std::move(timeline);
      device_->retired_streams.pop_back();
    }
  }
  if (retired_pool) {
    // The timeline goes on from where its last stream left it: records of that stream stay
    // complete.
    if (VkResult r = vkGetSemaphoreCounterValue(vk, timeline_->get(), &last_value_); r != VK_SUCCESS)
      return r;
    if (VkResult r = commands_.adopt(vk, std::move(retired_pool), true); r != VK_SUCCESS) return r;
    queued_value_ = last_value_;
  } else {
    if (VkResult r = commands_.create(vk, device_->queue_family); r != VK_SUCCESS) return r;
    VkResult error = VK_SUCCESS;
    timeline_ = make_timeline(vk, 0, &error);
    if (!timeline_) return error;
  }
  worker_ = std::thread([this] { run_worker(); });
  return VK_SUCCESS;
}

void StreamEngine::stop() noexcept {
  std::deque<Node> dropped;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    // Work held back behind a point that is not even queued (an unsignalled event, or a
    // stream that is itself held) never started and never will: it is dropped. What is
    // before it still runs, and the worker waits for it.
    auto held = std::find_if(queue_.begin(), queue_.end(), [](const Node& n) {
      return n.kind == Kind::kHold && !n.point->queued();
    });
    if (held != queue_.end()) {
      for (auto it = held; it != queue_.end(); ++it) {
        if (it->command_buffer != VK_NULL_HANDLE) commands_.recycle(it->command_buffer);
        if (it->value != 0 && health_->error.load(std::memory_order_relaxed) == VK_SUCCESS) {
          health_->failed_from.store(it->value, std::memory_order_release);
          health_->error.store(VK_INCOMPLETE, std::memory_order_release);
        }
      }
      dropped.insert(dropped.end(), std::make_move_iterator(held),
                     std::make_move_iterator(queue_.end()));
      queue_.erase(held, queue_.end());
      // Their values are signalled from the host once the rest has run, so nothing that
      // waits for them hangs; what they kept alive goes then.
      release_at_end_ = true;
    }
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

StreamEngine::~StreamEngine() {
  stop();
  UniqueCommandPool pool = commands_.release_pool();
  if (!pool || !timeline_) return;
  // Only a stream whose work all completed normally hands its pool and timeline on.
  if (error_ != VK_SUCCESS || release_at_end_) return;
  try {
    std::lock_guard lock(device_->retired_mutex);
    device_->retired_streams.emplace_back(std::move(pool), std::move(timeline_));
  } catch (const std::bad_alloc&) {
    // Not kept for reuse: the pool and timeline go with this stream.
  }
}

// ===========================================================================================
// Batches (with mutex_ held)
// ===========================================================================================

udal_result_t StreamEngine::check_failed(const char* fn) const {
  if (error_ == VK_SUCCESS) return UDAL_SUCCESS;
  return fail(udal_code_of(error_), "{}: the stream failed earlier ({}); it takes no more work",
              fn, vk_result_name(error_));
}

udal_result_t StreamEngine::check_submitted(const char* fn) const {
  if (error_ == VK_SUCCESS) return UDAL_SUCCESS;
  return fail(udal_code_of(error_), "{}: submitting the stream's work failed with {}; the "
              "stream's work not yet submitted is dropped and it takes no more", fn,
              vk_result_name(error_));
}

VkResult StreamEngine::open_batch(bool commands, Node** out) {
  if (queue_.empty() || queue_.back().kind != Kind::kBatch || queue_.back().sealed) {
    queue_.emplace_back();
  }
  Node& batch = queue_.back();
  *out = &batch;
  if (!commands || batch.command_buffer != VK_NULL_HANDLE) return VK_SUCCESS;
  return commands_.begin(&batch.command_buffer);
}

VkResult StreamEngine::seal(Node& batch) {
  if (batch.sealed) return VK_SUCCESS;
  if (batch.command_buffer != VK_NULL_HANDLE) {
    // Host reads of host-visible memory after the timeline signal see the batch's writes.
    VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_HOST_WRITE_BIT;
    vkCmdPipelineBarrier(batch.command_buffer, kWorkStages, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                         &barrier, 0, nullptr, 0, nullptr);
    if (VkResult r = vkEndCommandBuffer(batch.command_buffer); r != VK_SUCCESS) return r;
  }
  batch.sealed = true;
  batch.value = ++last_value_;
  return VK_SUCCESS;
}

VkResult StreamEngine::seal_tail() {
  if (queue_.empty() || queue_.back().kind != Kind::kBatch) return VK_SUCCESS;
  return seal(queue_.back());
}

// ===========================================================================================
// Enqueueing
// ===========================================================================================

udal_result_t StreamEngine::record(const char* fn, const std::function<void(VkCommandBuffer)>& body,
                                   KeepAlive keep, VkPipeline pipeline) {
  Wake wake;
  DeletionQueue::Entries released;
  udal_result_t result = UDAL_SUCCESS;
  {
    std::lock_guard lock(mutex_);
    if (udal_result_t r = check_failed(fn); r != UDAL_SUCCESS) return r;
    // What completed since the last call goes first: the stream may be idle again.
    retire_completed(&released, &wake);
    Node* batch = nullptr;
    if (VkResult r = open_batch(true, &batch); r != VK_SUCCESS) {
      return fail_vk(fn, "starting a command buffer", r);
    }
    // Deferred first: a failed allocation leaves nothing recorded.
    deletions_.defer(open_value(), std::move(keep));
    if (batch->operations > 0) order_after_previous(batch->command_buffer);
    if (pipeline != VK_NULL_HANDLE && pipeline != batch->bound_pipeline) {
      vkCmdBindPipeline(batch->command_buffer, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
      batch->bound_pipeline = pipeline;
    }
    body(batch->command_buffer);
    ++batch->operations;
    advance(&wake);
    // A batch left gathering behind work in flight is the worker's to submit.
    if (needs_worker()) wake_.notify_all();
    result = check_submitted(fn);
  }
  released.clear();
  wake_streams(wake);
  return result;
}

udal_result_t StreamEngine::host_step(const char* fn, std::function<void()> task, KeepAlive keep) {
  Wake wake;
  udal_result_t result = UDAL_SUCCESS;
  {
    std::lock_guard lock(mutex_);
    if (udal_result_t r = check_failed(fn); r != UDAL_SUCCESS) return r;
    if (VkResult r = seal_tail(); r != VK_SUCCESS) return fail_vk(fn, "vkEndCommandBuffer", r);
    deletions_.defer(last_value_ + 1, std::move(keep));
    Node& node = queue_.emplace_back();
    node.kind = Kind::kHost;
    node.value = ++last_value_;
    node.task = std::move(task);
    advance(&wake);
    wake_.notify_all();
    result = check_submitted(fn);
  }
  wake_streams(wake);
  return result;
}

udal_result_t StreamEngine::record_point(const char* fn, std::shared_ptr<TimestampQuery> timestamp,
                                         std::shared_ptr<SyncPoint>* out) {
  Wake wake;
  udal_result_t result = UDAL_SUCCESS;
  {
    std::lock_guard lock(mutex_);
    if (udal_result_t r = check_failed(fn); r != UDAL_SUCCESS) return r;
    if (timestamp || (!queue_.empty() && queue_.back().kind == Kind::kHold)) {
      // A timestamp is a command; after a hold the point needs a node of its own to signal.
      Node* batch = nullptr;
      if (VkResult r = open_batch(timestamp != nullptr, &batch); r != VK_SUCCESS) {
        return fail_vk(fn, "starting a command buffer", r);
      }
      if (timestamp) {
        deletions_.defer(open_value(), {timestamp});
        // BOTTOM_OF_PIPE: written once every earlier command has completed.
        vkCmdResetQueryPool(batch->command_buffer, timestamp->pool(), timestamp->index(), 1);
        vkCmdWriteTimestamp(batch->command_buffer, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
                            timestamp->pool(), timestamp->index());
        ++batch->operations;
      }
    }
    if (VkResult r = seal_tail(); r != VK_SUCCESS) return fail_vk(fn, "vkEndCommandBuffer", r);
    auto point = std::make_shared<SyncPoint>(timeline_, last_value_, health_, std::move(timestamp));
    if (last_value_ <= queued_value_) {
      point->mark_queued();
    } else {
      unqueued_points_.push_back(point);
    }
    advance(&wake);
    if (needs_worker()) wake_.notify_all();
    result = check_submitted(fn);
    if (result == UDAL_SUCCESS) *out = std::move(point);
  }
  wake_streams(wake);
  return result;
}

udal_result_t StreamEngine::wait_point(const char* fn, std::shared_ptr<SyncPoint> point) {
  // In-order: a point of this stream is behind everything enqueued after it anyway.
  if (point->timeline() == timeline_) return UDAL_SUCCESS;
  if (point->status(device_->vk()) != VK_NOT_READY) return UDAL_SUCCESS;
  Wake wake;
  udal_result_t result = UDAL_SUCCESS;
  {
    std::lock_guard lock(mutex_);
    if (udal_result_t r = check_failed(fn); r != UDAL_SUCCESS) return r;
    if (VkResult r = seal_tail(); r != VK_SUCCESS) return fail_vk(fn, "vkEndCommandBuffer", r);
    if (!point->queued()) point->notify_when_queued(weak_from_this());
    Node& node = queue_.emplace_back();
    node.kind = Kind::kHold;
    node.point = std::move(point);
    advance(&wake);
    wake_.notify_all();
    result = check_submitted(fn);
  }
  wake_streams(wake);
  return result;
}

udal_result_t StreamEngine::synchronize(const char* fn, uint64_t timeout_ns) {
  uint64_t target = 0;
  Wake wake;
  {
    std::lock_guard lock(mutex_);
    if (error_ == VK_SUCCESS && !queue_.empty() && queue_.back().kind == Kind::kHold) {
      // A wait is the stream's last work: an empty batch after it gives the timeline a value
      // that is reached only once the wait is over (as a record after a hold does).
      Node* batch = nullptr;
      if (VkResult r = open_batch(false, &batch); r != VK_SUCCESS) fail_stream(r);
    }
    if (error_ == VK_SUCCESS) {
      if (VkResult r = seal_tail(); r != VK_SUCCESS) fail_stream(r);
      advance(&wake);
    }
    if (needs_worker()) wake_.notify_all();
    target = last_value_;
  }
  wake_streams(wake);
  const VkResult r = wait_timeline(device_->vk(), timeline_->get(), target, timeout_ns);
  if (r == VK_TIMEOUT) {
    return fail(UDAL_TIMEOUT, "{}: the stream's work did not complete within {} ns", fn,
                timeout_ns);
  }
  if (r != VK_SUCCESS) return fail_vk(fn, "vkWaitSemaphores", r);
  DeletionQueue::Entries released;
  udal_result_t result = UDAL_SUCCESS;
  {
    std::lock_guard lock(mutex_);
    retire_completed(&released, &wake);
    result = check_failed(fn);
  }
  released.clear();
  wake_streams(wake);
  return result;
}

void StreamEngine::poke() noexcept {
  Wake wake;
  {
    std::lock_guard lock(mutex_);
    advance(&wake);
    if (needs_worker()) wake_.notify_all();
  }
  wake_streams(wake);
}

}  // namespace udal::vulkan
