#include "stream.h"

#include <algorithm>

namespace udal::vulkan {
namespace {

using udal::sdk::fail;

// A batch this long is submitted even while earlier work runs, so one command buffer does
// not grow without bound.
constexpr uint32_t kMaxBatchOperations = 256;

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

VkResult signal_from_host(VkDevice device, VkSemaphore timeline, uint64_t value) {
  VkSemaphoreSignalInfo info{VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO};
  info.semaphore = timeline;
  info.value = value;
  return vkSignalSemaphore(device, &info);
}

}  // namespace

// ===========================================================================================
// Set-up and teardown
// ===========================================================================================

StreamState::StreamState(DeviceState* device)
    : device_(device), health_(std::make_shared<StreamHealth>()) {}

VkResult StreamState::init() {
  const VkDevice vk = device_->vk();
  {
    std::lock_guard lock(device_->retired_mutex);
    if (!device_->retired_streams.empty()) {
      auto& [pool, timeline] = device_->retired_streams.back();
      pool_ = std::move(pool);
      timeline_ = std::move(timeline);
      device_->retired_streams.pop_back();
    }
  }
  if (pool_) {
    // The timeline goes on from where its last stream left it: records of that stream stay
    // complete.
    if (VkResult r = vkGetSemaphoreCounterValue(vk, timeline_->get(), &last_value_); r != VK_SUCCESS)
      return r;
    if (VkResult r = vkResetCommandPool(vk, pool_.get(), 0); r != VK_SUCCESS) return r;
    queued_value_ = last_value_;
  } else {
    VkCommandPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pool_info.queueFamilyIndex = device_->queue_family;
    VkCommandPool pool = VK_NULL_HANDLE;
    if (VkResult r = vkCreateCommandPool(vk, &pool_info, nullptr, &pool); r != VK_SUCCESS) return r;
    pool_ = UniqueCommandPool(vk, pool);
    VkResult error = VK_SUCCESS;
    timeline_ = make_timeline(vk, 0, &error);
    if (!timeline_) return error;
  }
  worker_ = std::thread([this] { run_worker(); });
  return VK_SUCCESS;
}

void StreamState::stop() noexcept {
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
        if (it->command_buffer != VK_NULL_HANDLE) free_command_buffers_.push_back(it->command_buffer);
        if (it->value != 0 && health_->error.load(std::memory_order_relaxed) == VK_SUCCESS) {
          health_->failed_from.store(it->value, std::memory_order_release);
          health_->error.store(VK_INCOMPLETE, std::memory_order_release);
        }
      }
      dropped.insert(dropped.end(), std::make_move_iterator(held),
                     std::make_move_iterator(queue_.end()));
      queue_.erase(held, queue_.end());
      // Their values are signalled from the host once the rest has run, so nothing that
      // waits for them hangs.
      release_at_end_ = true;
    }
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

StreamState::~StreamState() {
  stop();
  if (!pool_ || !timeline_) return;
  const VkDevice vk = device_->vk();
  for (VkCommandBuffer cb : free_command_buffers_) vkFreeCommandBuffers(vk, pool_.get(), 1, &cb);
  free_command_buffers_.clear();
  // Only a stream whose work all completed normally hands its pool and timeline on.
  if (error_ != VK_SUCCESS || release_at_end_) return;
  try {
    std::lock_guard lock(device_->retired_mutex);
    device_->retired_streams.emplace_back(std::move(pool_), std::move(timeline_));
  } catch (const std::bad_alloc&) {
    // Not kept for reuse: the pool and timeline go with this stream.
  }
}

// ===========================================================================================
// The engine (every function here runs with mutex_ held)
// ===========================================================================================

udal_result_t StreamState::check_failed(const char* fn) const {
  if (error_ == VK_SUCCESS) return UDAL_SUCCESS;
  return fail(udal_code_of(error_), "{}: the stream failed earlier ({}); it takes no more work",
              fn, vk_result_name(error_));
}

udal_result_t StreamState::check_submitted(const char* fn) const {
  if (error_ == VK_SUCCESS) return UDAL_SUCCESS;
  return fail(udal_code_of(error_), "{}: submitting the stream's work failed with {}; the "
              "stream's work not yet submitted is dropped and it takes no more", fn,
              vk_result_name(error_));
}

VkResult StreamState::open_batch(bool commands, Node** out) {
  if (queue_.empty() || queue_.back().kind != Kind::kBatch || queue_.back().sealed) {
    queue_.emplace_back();
  }
  Node& batch = queue_.back();
  *out = &batch;
  if (!commands || batch.command_buffer != VK_NULL_HANDLE) return VK_SUCCESS;
  VkCommandBuffer cb = VK_NULL_HANDLE;
  if (!free_command_buffers_.empty()) {
    cb = free_command_buffers_.back();
    free_command_buffers_.pop_back();
  } else {
    VkCommandBufferAllocateInfo info{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    info.commandPool = pool_.get();
    info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    info.commandBufferCount = 1;
    if (VkResult r = vkAllocateCommandBuffers(device_->vk(), &info, &cb); r != VK_SUCCESS) return r;
  }
  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  if (VkResult r = vkBeginCommandBuffer(cb, &begin); r != VK_SUCCESS) {
    free_command_buffers_.push_back(cb);
    return r;
  }
  batch.command_buffer = cb;
  return VK_SUCCESS;
}

VkResult StreamState::seal(Node& batch) {
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

VkResult StreamState::seal_tail() {
  if (queue_.empty() || queue_.back().kind != Kind::kBatch) return VK_SUCCESS;
  return seal(queue_.back());
}

VkResult StreamState::submit(Node& batch, const std::vector<std::shared_ptr<SyncPoint>>& holds) {
  std::vector<VkSemaphore> waits;
  std::vector<uint64_t> wait_values;
  waits.reserve(holds.size() + 1);
  wait_values.reserve(holds.size() + 1);
  // The node before it (values are consecutive): in order across submissions. Its signal
  // is queued already, so this never waits in the queue for the host.
  if (batch.value > 1) {
    waits.push_back(timeline_->get());
    wait_values.push_back(batch.value - 1);
  }
  for (const auto& point : holds) {
    waits.push_back(point->timeline()->get());
    wait_values.push_back(point->value());
    batch.keep.push_back(point);
  }
  std::vector<VkPipelineStageFlags> stages(waits.size(), VK_PIPELINE_STAGE_ALL_COMMANDS_BIT);
  VkSemaphore signal = timeline_->get();
  VkTimelineSemaphoreSubmitInfo timeline{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO};
  timeline.waitSemaphoreValueCount = static_cast<uint32_t>(wait_values.size());
  timeline.pWaitSemaphoreValues = wait_values.data();
  timeline.signalSemaphoreValueCount = 1;
  timeline.pSignalSemaphoreValues = &batch.value;
  VkSubmitInfo info{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  info.pNext = &timeline;
  info.waitSemaphoreCount = static_cast<uint32_t>(waits.size());
  info.pWaitSemaphores = waits.data();
  info.pWaitDstStageMask = stages.data();
  info.commandBufferCount = batch.command_buffer != VK_NULL_HANDLE ? 1 : 0;
  info.pCommandBuffers = &batch.command_buffer;
  info.signalSemaphoreCount = 1;
  info.pSignalSemaphores = &signal;
  if (VkResult r = device_->submit(info); r != VK_SUCCESS) return r;
  batch.submitted = true;
  return VK_SUCCESS;
}

void StreamState::mark_queued(uint64_t value, std::vector<std::weak_ptr<StreamState>>* wake) {
  queued_value_ = std::max(queued_value_, value);
  auto first_unqueued = std::partition(unqueued_points_.begin(), unqueued_points_.end(),
                                       [this](const auto& p) { return p->value() > queued_value_; });
  for (auto it = first_unqueued; it != unqueued_points_.end(); ++it) {
    auto waiters = (*it)->mark_queued();
    wake->insert(wake->end(), waiters.begin(), waiters.end());
  }
  unqueued_points_.erase(first_unqueued, unqueued_points_.end());
}

void StreamState::advance(std::vector<std::weak_ptr<StreamState>>* wake) {
  if (error_ != VK_SUCCESS) return;
  try {
    bool in_flight = false;
    std::vector<std::shared_ptr<SyncPoint>> holds;
    for (Node& node : queue_) {
      switch (node.kind) {
        case Kind::kHost:
          return;  // later work waits until the worker has run it
        case Kind::kHold:
          if (!node.point->queued()) return;
          if (node.point->timeline() != timeline_) holds.push_back(node.point);
          continue;
        case Kind::kBatch:
          if (node.submitted) {
            in_flight = true;
            continue;
          }
          // An open batch gathers operations while earlier work runs.
          if (!node.sealed && in_flight && node.operations < kMaxBatchOperations) return;
          if (VkResult r = seal(node); r != VK_SUCCESS) return fail_stream(r);
          if (VkResult r = submit(node, holds); r != VK_SUCCESS) return fail_stream(r);
          in_flight = true;
          mark_queued(node.value, wake);
          wake_.notify_all();
          continue;
      }
    }
  } catch (const std::bad_alloc&) {
    fail_stream(VK_ERROR_OUT_OF_HOST_MEMORY);
  }
}

void StreamState::fail_stream(VkResult error) {
  if (error_ != VK_SUCCESS) return;
  error_ = error;
  // What was submitted completes normally (unless the device is lost); the rest never runs.
  health_->failed_from.store(queued_value_ + 1, std::memory_order_release);
  health_->error.store(error, std::memory_order_release);
  wake_.notify_all();
}

// After a failure, once nothing submitted is pending: the timeline is taken to its last
// value so host waits end, and streams holding for this stream's points go on (they see
// the points complete; the failure is this stream's).
void StreamState::release_waiters(std::vector<std::weak_ptr<StreamState>>* wake) {
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

void StreamState::run_worker() {
  std::vector<std::weak_ptr<StreamState>> wake;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (queue_.empty()) {
      if (error_ != VK_SUCCESS || release_at_end_) release_waiters(&wake);
      if (!wake.empty()) {
        lock.unlock();
        wake_streams(wake);
        lock.lock();
        continue;
      }
      if (stopping_) return;
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
    if (done.command_buffer != VK_NULL_HANDLE) free_command_buffers_.push_back(done.command_buffer);
    if (result != VK_SUCCESS) fail_stream(result);
    advance(&wake);
    // What the node kept alive (buffers destroyed meanwhile, staging, kernels) is released,
    // and woken streams advance, outside this stream's lock.
    lock.unlock();
    done = Node{};
    wake_streams(wake);
    lock.lock();
  }
}

// ===========================================================================================
// Enqueueing
// ===========================================================================================

udal_result_t StreamState::record(const char* fn, const std::function<void(VkCommandBuffer)>& body,
                                  KeepAlive keep) {
  std::vector<std::weak_ptr<StreamState>> wake;
  udal_result_t result = UDAL_SUCCESS;
  {
    std::lock_guard lock(mutex_);
    if (udal_result_t r = check_failed(fn); r != UDAL_SUCCESS) return r;
    Node* batch = nullptr;
    if (VkResult r = open_batch(true, &batch); r != VK_SUCCESS) {
      return fail_vk(fn, "starting a command buffer", r);
    }
    batch->keep.reserve(batch->keep.size() + keep.size());
    if (batch->operations > 0) order_after_previous(batch->command_buffer);
    body(batch->command_buffer);
    ++batch->operations;
    batch->keep.insert(batch->keep.end(), std::make_move_iterator(keep.begin()),
                       std::make_move_iterator(keep.end()));
    advance(&wake);
    wake_.notify_all();
    result = check_submitted(fn);
  }
  wake_streams(wake);
  return result;
}

udal_result_t StreamState::host_step(const char* fn, std::function<void()> task, KeepAlive keep) {
  std::vector<std::weak_ptr<StreamState>> wake;
  udal_result_t result = UDAL_SUCCESS;
  {
    std::lock_guard lock(mutex_);
    if (udal_result_t r = check_failed(fn); r != UDAL_SUCCESS) return r;
    if (VkResult r = seal_tail(); r != VK_SUCCESS) return fail_vk(fn, "vkEndCommandBuffer", r);
    Node& node = queue_.emplace_back();
    node.kind = Kind::kHost;
    node.value = ++last_value_;
    node.task = std::move(task);
    node.keep = std::move(keep);
    advance(&wake);
    wake_.notify_all();
    result = check_submitted(fn);
  }
  wake_streams(wake);
  return result;
}

udal_result_t StreamState::record_point(const char* fn, std::shared_ptr<TimestampQuery> timestamp,
                                        std::shared_ptr<SyncPoint>* out) {
  std::vector<std::weak_ptr<StreamState>> wake;
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
        // BOTTOM_OF_PIPE: written once every earlier command has completed.
        vkCmdResetQueryPool(batch->command_buffer, timestamp->pool(), timestamp->index(), 1);
        vkCmdWriteTimestamp(batch->command_buffer, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
                            timestamp->pool(), timestamp->index());
        ++batch->operations;
        batch->keep.push_back(timestamp);
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
    wake_.notify_all();
    result = check_submitted(fn);
    if (result == UDAL_SUCCESS) *out = std::move(point);
  }
  wake_streams(wake);
  return result;
}

udal_result_t StreamState::wait_point(const char* fn, std::shared_ptr<SyncPoint> point) {
  // In-order: a point of this stream is behind everything enqueued after it anyway.
  if (point->timeline() == timeline_) return UDAL_SUCCESS;
  if (point->status(device_->vk()) != VK_NOT_READY) return UDAL_SUCCESS;
  std::vector<std::weak_ptr<StreamState>> wake;
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

udal_result_t StreamState::synchronize(const char* fn, uint64_t timeout_ns) {
  uint64_t target = 0;
  std::vector<std::weak_ptr<StreamState>> wake;
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
      wake_.notify_all();
    }
    target = last_value_;
  }
  wake_streams(wake);
  const VkResult r = wait_timeline(device_->vk(), timeline_->get(), target, timeout_ns);
  if (r == VK_TIMEOUT) {
    return fail(UDAL_TIMEOUT, "{}: the stream's work did not complete within {} ns", fn,
                timeout_ns);
  }
  if (r != VK_SUCCESS) return fail_vk(fn, "vkWaitSemaphores", r);
  std::lock_guard lock(mutex_);
  return check_failed(fn);
}

void StreamState::poke() noexcept {
  std::vector<std::weak_ptr<StreamState>> wake;
  {
    std::lock_guard lock(mutex_);
    advance(&wake);
    wake_.notify_all();
  }
  wake_streams(wake);
}

// ===========================================================================================
// Entries
// ===========================================================================================

void destroy_stream_object(Stream* stream) noexcept {
  std::unique_ptr<Stream> owner(stream);
  owner->state->stop();
}

udal_result_t stream_create(udal_device_t device_handle, const udal_stream_desc_t* desc_in,
                            udal_stream_t* out_stream) {
  constexpr const char* fn = "udal_stream_create";
  if (out_stream == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_stream is NULL", fn);
  *out_stream = nullptr;
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const udal_stream_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc_in != nullptr) {
      if (udal_result_t r = refuse_chain(fn, "desc", desc_in->next); r != UDAL_SUCCESS) return r;
    }
    if (desc.flags != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: flags {:#x} are not defined (must be 0)", fn,
                  desc.flags);
    }
    DeviceState& device = *to_device(device_handle)->state;
    auto state = std::make_shared<StreamState>(&device);
    if (VkResult r = state->init(); r != VK_SUCCESS) return fail_vk(fn, "creating the stream", r);
    auto stream = std::make_unique<Stream>();
    stream->dispatch = to_device(device_handle)->dispatch;
    stream->state = std::move(state);
    {
      std::lock_guard lock(device.streams_mutex);
      device.streams.insert(stream.get());
    }
    *out_stream = udal::sdk::to_handle<udal_stream_t>(stream.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_destroy(udal_stream_t handle) {
  std::unique_ptr<Stream> stream(to_stream(handle));
  DeviceState& device = *stream->state->device();
  {
    std::lock_guard lock(device.streams_mutex);
    device.streams.erase(stream.get());
  }
  const udal_result_t r = udal::sdk::guard("udal_stream_destroy", [&]() -> udal_result_t {
    return stream->state->synchronize("udal_stream_destroy", UDAL_TIMEOUT_INFINITE);
  });
  stream->state->stop();
  // The handle is gone either way; an earlier failure of the stream (out of memory) was
  // reported by the calls it failed, only a lost device is news here.
  return r == UDAL_ERROR_DEVICE_LOST ? r : UDAL_SUCCESS;
}

udal_result_t stream_synchronize(udal_stream_t handle, uint64_t timeout_ns) {
  return udal::sdk::guard("udal_stream_synchronize", [&] {
    return to_stream(handle)->state->synchronize("udal_stream_synchronize", timeout_ns);
  });
}

udal_result_t stream_enqueue_host_function(udal_stream_t handle, udal_host_function_t fn,
                                           void* user_data) {
  constexpr const char* name = "udal_stream_enqueue_host_function";
  if (fn == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: fn is NULL", name);
  return udal::sdk::guard(name, [&] {
    return to_stream(handle)->state->host_step(name, [fn, user_data] { fn(user_data); }, {});
  });
}

udal_result_t stream_record_event(udal_stream_t handle, udal_event_t event_handle) {
  constexpr const char* fn = "udal_stream_record_event";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    StreamState& stream = *to_stream(handle)->state;
    EventState& event = *to_event(event_handle)->state;
    DeviceState& device = *stream.device();
    if (event.device != &device) {
      return fail(UDAL_ERROR_INVALID_HANDLE, "{}: event {} belongs to device {}, the stream to "
                  "another device ({})", fn, static_cast<void*>(event_handle),
                  event.device->info.name, device.info.name);
    }
    if (event.flags & UDAL_EVENT_FLAG_HOST_SIGNAL) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: event {} is a HOST_SIGNAL event: only "
                  "udal_event_signal completes it, a stream cannot record it", fn,
                  static_cast<void*>(event_handle));
    }
    std::shared_ptr<TimestampQuery> timestamp;
    if (event.flags & UDAL_EVENT_FLAG_TIMING) {
      VkResult error = VK_SUCCESS;
      timestamp = device.queries->acquire(&error);
      if (!timestamp) return fail_vk(fn, "vkCreateQueryPool", error);
    }
    std::shared_ptr<SyncPoint> point;
    if (udal_result_t r = stream.record_point(fn, std::move(timestamp), &point); r != UDAL_SUCCESS) {
      return r;
    }
    std::lock_guard lock(event.mutex);
    event.latest = std::move(point);
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_wait_event(udal_stream_t handle, udal_event_t event_handle) {
  constexpr const char* fn = "udal_stream_wait_event";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    StreamState& stream = *to_stream(handle)->state;
    EventState& event = *to_event(event_handle)->state;
    if (event.device != stream.device()) {
      return fail(UDAL_ERROR_INVALID_HANDLE, "{}: event {} belongs to device {}, the stream to "
                  "another device ({})", fn, static_cast<void*>(event_handle),
                  event.device->info.name, stream.device()->info.name);
    }
    // The record that is latest now: a later record does not change what this waits for.
    auto point = event.record();
    if (!point) return UDAL_SUCCESS;
    return stream.wait_point(fn, std::move(point));
  });
}

}  // namespace udal::vulkan
