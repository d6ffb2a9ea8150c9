// Submission: which of the stream's nodes go to the queue, and when (stream_engine.h).
// Every function here runs with the engine's mutex held.
#include <algorithm>

#include "stream_engine.h"

namespace udal::vulkan {
namespace {

// While earlier work of the stream runs, an open batch is submitted once it holds this many
// operations (so the device always has the next batch queued when one completes, and one
// command buffer does not grow without bound), else when that work completes.
constexpr uint32_t kBatchOperations = 256;

}  // namespace

VkResult StreamEngine::submit(Node& batch, const std::vector<std::shared_ptr<SyncPoint>>& holds) {
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
  KeepAlive waited;
  for (const auto& point : holds) {
    waits.push_back(point->timeline()->get());
    wait_values.push_back(point->value());
    waited.push_back(point);  // its semaphore lives while the submission waits on it
  }
  deletions_.defer(batch.value, std::move(waited));
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

void StreamEngine::mark_queued(uint64_t value, Wake* wake) {
  queued_value_ = std::max(queued_value_, value);
  auto first_unqueued = std::partition(unqueued_points_.begin(), unqueued_points_.end(),
                                       [this](const auto& p) { return p->value() > queued_value_; });
  for (auto it = first_unqueued; it != unqueued_points_.end(); ++it) {
    auto waiters = (*it)->mark_queued();
    wake->insert(wake->end(), waiters.begin(), waiters.end());
  }
  unqueued_points_.erase(first_unqueued, unqueued_points_.end());
}

void StreamEngine::advance(Wake* wake) {
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
            // A later batch waits for this one's value, so for what this one waited for.
            holds.clear();
            in_flight = true;
            continue;
          }
          // An open batch gathers operations while earlier work runs.
          if (!node.sealed && in_flight && node.operations < kBatchOperations) return;
          if (VkResult r = seal(node); r != VK_SUCCESS) return fail_stream(r);
          if (VkResult r = submit(node, holds); r != VK_SUCCESS) return fail_stream(r);
          holds.clear();
          in_flight = true;
          mark_queued(node.value, wake);
          continue;
      }
    }
  } catch (const std::bad_alloc&) {
    fail_stream(VK_ERROR_OUT_OF_HOST_MEMORY);
  }
}

}  // namespace udal::vulkan
