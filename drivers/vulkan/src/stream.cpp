#include "stream.h"

#include <algorithm>
#include <cstring>

#include "buffer.h"
#include "event.h"
#include "kernel.h"

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

}  // namespace

// ===========================================================================================
// StreamState: batches, submission, the worker
// ===========================================================================================

VkResult StreamState::init() {
  const VkDevice vk = device_->vk();
  {
    std::lock_guard lock(device_->retired_mutex);
    if (!device_->retired_streams.empty()) {
      auto& [pool, timeline] = device_->retired_streams.back();
      pool_ = std::move(pool);
      timeline_ = std::move(timeline);
      device_->retired_streams.pop_back();
      // The timeline goes on from where its last stream left it.
      if (VkResult r = vkGetSemaphoreCounterValue(vk, timeline_->get(), &last_value_); r != VK_SUCCESS)
        return r;
      if (VkResult r = vkResetCommandPool(vk, pool_.get(), 0); r != VK_SUCCESS) return r;
      worker_ = std::thread([this] { run_worker(); });
      return VK_SUCCESS;
    }
  }
  VkCommandPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool_info.queueFamilyIndex = device_->queue_family;
  VkCommandPool pool = VK_NULL_HANDLE;
  if (VkResult r = vkCreateCommandPool(vk, &pool_info, nullptr, &pool); r != VK_SUCCESS) return r;
  pool_ = UniqueCommandPool(vk, pool);

  VkSemaphoreTypeCreateInfo type{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO};
  type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  type.initialValue = 0;
  VkSemaphoreCreateInfo info{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
  info.pNext = &type;
  VkSemaphore semaphore = VK_NULL_HANDLE;
  if (VkResult r = vkCreateSemaphore(vk, &info, nullptr, &semaphore); r != VK_SUCCESS) return r;
  timeline_ = std::make_shared<UniqueSemaphore>(vk, semaphore);
  worker_ = std::thread([this] { run_worker(); });
  return VK_SUCCESS;
}

StreamState::Retire::~Retire() {
  StreamState& s = *stream;
  if (s.worker_.joinable()) {
    {
      std::lock_guard lock(s.mutex_);
      s.stopping_ = true;
    }
    s.wake_.notify_all();
    s.worker_.join();
  }
  // Only a stream whose work all completed hands its pool and timeline on.
  if (s.lost_ == VK_SUCCESS && s.pool_ && s.timeline_ && s.in_flight_.empty() && !s.open_) {
    for (VkCommandBuffer cb : s.free_command_buffers_) {
      vkFreeCommandBuffers(s.device_->vk(), s.pool_.get(), 1, &cb);
    }
    s.free_command_buffers_.clear();
    std::lock_guard lock(s.device_->retired_mutex);
    s.device_->retired_streams.emplace_back(std::move(s.pool_), std::move(s.timeline_));
  }
}

StreamState::~StreamState() {
  if (worker_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }
}

udal_result_t StreamState::check_lost(const char* fn) const {
  if (lost_ == VK_SUCCESS) return UDAL_SUCCESS;
  return fail(UDAL_ERROR_DEVICE_LOST, "{}: the stream's device failed earlier ({})", fn,
              vk_result_name(lost_));
}

VkResult StreamState::open_command_buffer() {
  if (!open_) open_.emplace();
  if (open_->command_buffer != VK_NULL_HANDLE) return VK_SUCCESS;
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
  open_->command_buffer = cb;
  return VK_SUCCESS;
}

// Called with mutex_ held.
VkResult StreamState::flush() {
  if (!open_) return VK_SUCCESS;
  Open batch = std::move(*open_);
  open_.reset();
  if (batch.command_buffer != VK_NULL_HANDLE) {
    // Host reads of host-visible memory after the timeline signal see the batch's writes.
    VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_HOST_WRITE_BIT;
    vkCmdPipelineBarrier(batch.command_buffer, kWorkStages, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                         &barrier, 0, nullptr, 0, nullptr);
    if (VkResult r = vkEndCommandBuffer(batch.command_buffer); r != VK_SUCCESS) {
      lost_ = r;
      return r;
    }
  }
  // Wait for the stream's previous value (which a host step may signal later: a
  // wait-before-signal, which timeline semaphores allow), then for the events waited on.
  const uint64_t value = last_value_ + 1;
  std::vector<VkSemaphore> waits;
  std::vector<uint64_t> wait_values;
  if (last_value_ > 0) {
    waits.push_back(timeline_->get());
    wait_values.push_back(last_value_);
  }
  waits.insert(waits.end(), batch.wait_semaphores.begin(), batch.wait_semaphores.end());
  wait_values.insert(wait_values.end(), batch.wait_values.begin(), batch.wait_values.end());
  std::vector<VkPipelineStageFlags> stages(waits.size(), VK_PIPELINE_STAGE_ALL_COMMANDS_BIT);
  VkSemaphore signal = timeline_->get();
  VkTimelineSemaphoreSubmitInfo timeline{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO};
  timeline.waitSemaphoreValueCount = static_cast<uint32_t>(wait_values.size());
  timeline.pWaitSemaphoreValues = wait_values.data();
  timeline.signalSemaphoreValueCount = 1;
  timeline.pSignalSemaphoreValues = &value;
  VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  submit.pNext = &timeline;
  submit.waitSemaphoreCount = static_cast<uint32_t>(waits.size());
  submit.pWaitSemaphores = waits.data();
  submit.pWaitDstStageMask = stages.data();
  submit.commandBufferCount = batch.command_buffer != VK_NULL_HANDLE ? 1 : 0;
  submit.pCommandBuffers = &batch.command_buffer;
  submit.signalSemaphoreCount = 1;
  submit.pSignalSemaphores = &signal;
  if (VkResult r = device_->submit(submit); r != VK_SUCCESS) {
    lost_ = r;
    return r;
  }
  last_value_ = value;
  in_flight_.push_back(Item{value, batch.command_buffer, {}, std::move(batch.keep)});
  wake_.notify_all();
  return VK_SUCCESS;
}

// Called with mutex_ held after an operation joined the open batch.
void StreamState::kick() {
  if (open_ && (in_flight_.empty() || open_->operations >= kMaxBatchOperations)) flush();
}

void StreamState::run_worker() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (in_flight_.empty()) {
      if (stopping_) return;
      wake_.wait(lock);
      continue;
    }
    Item& front = in_flight_.front();
    const uint64_t value = front.signal_value;
    if (front.host_task) {
      // Everything before it has completed: the items before it were retired in order.
      auto task = std::move(front.host_task);
      lock.unlock();
      task();
      VkSemaphoreSignalInfo info{VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO};
      info.semaphore = timeline_->get();
      info.value = value;
      const VkResult r = vkSignalSemaphore(device_->vk(), &info);
      lock.lock();
      if (r != VK_SUCCESS) lost_ = r;
    } else {
      lock.unlock();
      const VkResult r = wait_timeline(device_->vk(), timeline_->get(), value, UINT64_MAX);
      lock.lock();
      if (r != VK_SUCCESS) lost_ = r;
    }
    Item done = std::move(in_flight_.front());
    in_flight_.pop_front();
    if (done.command_buffer != VK_NULL_HANDLE) free_command_buffers_.push_back(done.command_buffer);
    if (lost_ != VK_SUCCESS) {
      // Nothing after a failure can be waited for; drop it so destruction does not hang.
      in_flight_.clear();
      continue;
    }
    if (in_flight_.empty() && open_) flush();
    // |done.keep| is released here, outside nothing but this stream's lock: allocations
    // take only the memory pool's lock.
  }
}

udal_result_t StreamState::record(const char* fn, const std::function<void(VkCommandBuffer)>& body,
                                  KeepAlive keep, uint64_t* submitted_value) {
  std::lock_guard lock(mutex_);
  if (udal_result_t r = check_lost(fn); r != UDAL_SUCCESS) return r;
  if (VkResult r = open_command_buffer(); r != VK_SUCCESS) {
    return fail_vk(fn, "starting a command buffer", r);
  }
  if (open_->operations > 0) order_after_previous(open_->command_buffer);
  body(open_->command_buffer);
  ++open_->operations;
  open_->keep.insert(open_->keep.end(), std::make_move_iterator(keep.begin()),
                     std::make_move_iterator(keep.end()));
  if (submitted_value) {
    if (VkResult r = flush(); r != VK_SUCCESS) return fail_vk(fn, "vkQueueSubmit", r);
    *submitted_value = last_value_;
    return UDAL_SUCCESS;
  }
  kick();
  return check_lost(fn);
}

udal_result_t StreamState::host_step(const char* fn, std::function<void()> task, KeepAlive keep) {
  std::lock_guard lock(mutex_);
  if (udal_result_t r = check_lost(fn); r != UDAL_SUCCESS) return r;
  if (VkResult r = flush(); r != VK_SUCCESS) return fail_vk(fn, "vkQueueSubmit", r);
  last_value_ += 1;
  in_flight_.push_back(Item{last_value_, VK_NULL_HANDLE, std::move(task), std::move(keep)});
  wake_.notify_all();
  return UDAL_SUCCESS;
}

udal_result_t StreamState::submit_all(const char* fn, uint64_t* value) {
  std::lock_guard lock(mutex_);
  if (udal_result_t r = check_lost(fn); r != UDAL_SUCCESS) return r;
  if (VkResult r = flush(); r != VK_SUCCESS) return fail_vk(fn, "vkQueueSubmit", r);
  *value = last_value_;
  return UDAL_SUCCESS;
}

udal_result_t StreamState::wait_for(const char* fn, std::shared_ptr<UniqueSemaphore> timeline,
                                    uint64_t value) {
  std::lock_guard lock(mutex_);
  if (udal_result_t r = check_lost(fn); r != UDAL_SUCCESS) return r;
  // A wait covers a whole submission, so work already in the open batch goes first.
  if (open_ && open_->operations > 0) {
    if (VkResult r = flush(); r != VK_SUCCESS) return fail_vk(fn, "vkQueueSubmit", r);
  }
  if (!open_) open_.emplace();
  open_->wait_semaphores.push_back(timeline->get());
  open_->wait_values.push_back(value);
  open_->keep.push_back(std::move(timeline));
  kick();
  return check_lost(fn);
}

udal_result_t StreamState::synchronize(const char* fn, uint64_t timeout_ns) {
  uint64_t target = 0;
  if (udal_result_t r = submit_all(fn, &target); r != UDAL_SUCCESS) return r;
  const VkResult r = wait_timeline(device_->vk(), timeline_->get(), target, timeout_ns);
  if (r == VK_SUCCESS) return UDAL_SUCCESS;
  if (r == VK_TIMEOUT) {
    return fail(UDAL_TIMEOUT, "{}: the stream's work did not complete within {} ns", fn,
                timeout_ns);
  }
  return fail_vk(fn, "vkWaitSemaphores", r);
}

// ===========================================================================================
// Entries: streams
// ===========================================================================================

udal_result_t stream_create(udal_device_t device_handle, const udal_stream_desc_t* desc_in,
                            udal_stream_t* out_stream) {
  constexpr const char* fn = "udal_stream_create";
  if (out_stream == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_stream is NULL", fn);
  *out_stream = nullptr;
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const udal_stream_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.flags != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: flags {:#x} are not defined (must be 0)", fn,
                  desc.flags);
    }
    auto state = std::make_unique<StreamState>(to_device(device_handle)->state.get());
    if (VkResult r = state->init(); r != VK_SUCCESS) return fail_vk(fn, "creating the stream", r);
    auto stream = std::make_unique<Stream>();
    stream->dispatch = to_device(device_handle)->dispatch;
    stream->state = std::move(state);
    *out_stream = udal::sdk::to_handle<udal_stream_t>(stream.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_destroy(udal_stream_t handle) {
  std::unique_ptr<Stream> stream(to_stream(handle));
  return udal::sdk::guard("udal_stream_destroy", [&]() -> udal_result_t {
    return stream->state->synchronize("udal_stream_destroy", UINT64_MAX);
  });
}

udal_result_t stream_synchronize(udal_stream_t handle, uint64_t timeout_ns) {
  return udal::sdk::guard("udal_stream_synchronize", [&] {
    return to_stream(handle)->state->synchronize("udal_stream_synchronize", timeout_ns);
  });
}

// ===========================================================================================
// Entries: transfers
// ===========================================================================================

namespace {

// A host-visible staging buffer of |size| bytes, or nullptr with the message set.
std::shared_ptr<Allocation> make_staging(const char* fn, DeviceState& device, uint64_t size,
                                         udal_result_t* result) {
  if (device.staging_type == kNoMemoryType) {
    *result = fail(UDAL_ERROR_UNSUPPORTED, "{}: device {} has no host-visible memory for staging",
                   fn, device.info.name);
    return nullptr;
  }
  VkResult error = VK_SUCCESS;
  auto staging = device.memory->allocate(device.staging_type, size, 16, &error);
  if (!staging) {
    *result = fail(udal_code_of(error) == UDAL_ERROR_INTERNAL ? UDAL_ERROR_INTERNAL
                                                              : UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                   "{}: cannot allocate a staging buffer of {} bytes ({})", fn, size,
                   vk_result_name(error));
  }
  return staging;
}

}  // namespace

udal_result_t stream_copy_buffer(udal_stream_t handle, udal_buffer_t src_handle,
                                 uint64_t src_offset, udal_buffer_t dst_handle,
                                 uint64_t dst_offset, uint64_t size) {
  constexpr const char* fn = "udal_stream_copy_buffer";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const Buffer& src = *to_buffer(src_handle);
    const Buffer& dst = *to_buffer(dst_handle);
    if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
    if (auto r = check_range(fn, "copy source", src, src_offset, size); r != UDAL_SUCCESS) return r;
    if (auto r = check_range(fn, "copy destination", dst, dst_offset, size); r != UDAL_SUCCESS)
      return r;
    if (&src == &dst && src_offset < dst_offset + size && dst_offset < src_offset + size) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: source [{}, {}) and destination [{}, {}) overlap in one buffer", fn,
                  src_offset, src_offset + size, dst_offset, dst_offset + size);
    }
    const VkBuffer s = src.allocation->buffer(), d = dst.allocation->buffer();
    const VkBufferCopy region{src_offset, dst_offset, size};
    return to_stream(handle)->state->record(
        fn, [&](VkCommandBuffer cb) { vkCmdCopyBuffer(cb, s, d, 1, &region); },
        {src.allocation, dst.allocation});
  });
}

udal_result_t stream_fill_buffer(udal_stream_t handle, udal_buffer_t dst_handle, uint64_t offset,
                                 uint64_t size, const void* pattern, uint32_t pattern_size) {
  constexpr const char* fn = "udal_stream_fill_buffer";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const Buffer& dst = *to_buffer(dst_handle);
    if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
    if (pattern == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern is NULL", fn);
    if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 && pattern_size != 8 &&
        pattern_size != 16) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern_size {} is not 1, 2, 4, 8 or 16", fn,
                  pattern_size);
    }
    if (auto r = check_range(fn, "fill", dst, offset, size); r != UDAL_SUCCESS) return r;
    StreamState& stream = *to_stream(handle)->state;
    DeviceState& device = *stream.device();
    const auto* bytes = static_cast<const uint8_t*>(pattern);
    const VkBuffer d = dst.allocation->buffer();

    if (pattern_size <= 4) {
      // A pattern that divides 4 repeats every word: vkCmdFillBuffer covers the 4-aligned
      // middle, a small staging copy the (up to 3) bytes at each end.
      const uint64_t head = std::min<uint64_t>(size, (4 - offset % 4) % 4);
      const uint64_t middle = (size - head) / 4 * 4;
      const uint64_t tail = size - head - middle;
      uint32_t word = 0;
      for (uint32_t j = 0; j < 4; ++j) {
        word |= uint32_t{bytes[(head + j) % pattern_size]} << (8 * j);  // little-endian
      }
      std::shared_ptr<Allocation> staging;
      if (head + tail > 0) {
        udal_result_t result = UDAL_SUCCESS;
        staging = make_staging(fn, device, 8, &result);
        if (!staging) return result;
        for (uint64_t k = 0; k < head; ++k) staging->mapped()[k] = std::byte{bytes[k % pattern_size]};
        for (uint64_t k = 0; k < tail; ++k) {
          staging->mapped()[4 + k] = std::byte{bytes[(head + middle + k) % pattern_size]};
        }
      }
      const VkBuffer s = staging ? staging->buffer() : VK_NULL_HANDLE;
      KeepAlive keep = {dst.allocation};
      if (staging) keep.push_back(staging);
      return stream.record(fn, [&](VkCommandBuffer cb) {
        if (middle > 0) vkCmdFillBuffer(cb, d, offset + head, middle, word);
        VkBufferCopy regions[2];
        uint32_t n = 0;
        if (head > 0) regions[n++] = {0, offset, head};
        if (tail > 0) regions[n++] = {4, offset + head + middle, tail};
        if (n > 0) vkCmdCopyBuffer(cb, s, d, n, regions);
      }, std::move(keep));
    }
    // 8- and 16-byte patterns: one staging chunk of whole repetitions, copied as often as
    // the range needs.
    const uint64_t chunk = std::min<uint64_t>(size + pattern_size, 1u << 20) / pattern_size *
                           pattern_size;
    udal_result_t result = UDAL_SUCCESS;
    auto staging = make_staging(fn, device, chunk, &result);
    if (!staging) return result;
    for (uint64_t k = 0; k < chunk; k += pattern_size) {
      std::memcpy(staging->mapped() + k, bytes, pattern_size);
    }
    std::vector<VkBufferCopy> regions;
    for (uint64_t done = 0; done < size; done += chunk) {
      regions.push_back({0, offset + done, std::min(chunk, size - done)});
    }
    const VkBuffer s = staging->buffer();
    return stream.record(fn, [&](VkCommandBuffer cb) {
      vkCmdCopyBuffer(cb, s, d, static_cast<uint32_t>(regions.size()), regions.data());
    }, {dst.allocation, staging});
  });
}

udal_result_t stream_write_buffer(udal_stream_t handle, udal_buffer_t dst_handle,
                                  uint64_t dst_offset, const void* src, uint64_t size) {
  constexpr const char* fn = "udal_stream_write_buffer";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const Buffer& dst = *to_buffer(dst_handle);
    if (src == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: src is NULL", fn);
    if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
    if (auto r = check_range(fn, "write", dst, dst_offset, size); r != UDAL_SUCCESS) return r;
    StreamState& stream = *to_stream(handle)->state;
    if (std::byte* address = host_address(dst)) {
      // Host-visible: the host copies when the stream reaches the write (no staging).
      return stream.host_step(fn, [=] { std::memcpy(address + dst_offset, src, size); },
                              {dst.allocation});
    }
    // Device-only memory: the bytes are staged now, so the caller's memory is free at once.
    udal_result_t result = UDAL_SUCCESS;
    auto staging = make_staging(fn, *stream.device(), size, &result);
    if (!staging) return result;
    std::memcpy(staging->mapped(), src, size);
    const VkBuffer s = staging->buffer(), d = dst.allocation->buffer();
    const VkBufferCopy region{0, dst_offset, size};
    return stream.record(fn, [&](VkCommandBuffer cb) { vkCmdCopyBuffer(cb, s, d, 1, &region); },
                         {dst.allocation, staging});
  });
}

udal_result_t stream_read_buffer(udal_stream_t handle, udal_buffer_t src_handle,
                                 uint64_t src_offset, void* dst, uint64_t size) {
  constexpr const char* fn = "udal_stream_read_buffer";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const Buffer& src = *to_buffer(src_handle);
    if (dst == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: dst is NULL", fn);
    if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
    if (auto r = check_range(fn, "read", src, src_offset, size); r != UDAL_SUCCESS) return r;
    StreamState& stream = *to_stream(handle)->state;
    if (const std::byte* address = host_address(src)) {
      return stream.host_step(fn, [=] { std::memcpy(dst, address + src_offset, size); },
                              {src.allocation});
    }
    udal_result_t result = UDAL_SUCCESS;
    auto staging = make_staging(fn, *stream.device(), size, &result);
    if (!staging) return result;
    const VkBuffer s = src.allocation->buffer(), d = staging->buffer();
    const VkBufferCopy region{src_offset, 0, size};
    if (auto r = stream.record(fn, [&](VkCommandBuffer cb) { vkCmdCopyBuffer(cb, s, d, 1, &region); },
                               {src.allocation, staging});
        r != UDAL_SUCCESS)
      return r;
    const std::byte* staged = staging->mapped();
    return stream.host_step(fn, [=] { std::memcpy(dst, staged, size); }, {staging});
  });
}

// ===========================================================================================
// Entries: launches
// ===========================================================================================

udal_result_t stream_launch(udal_stream_t handle, udal_kernel_t kernel_handle,
                            const udal_launch_desc_t* desc_in) {
  constexpr const char* fn = "udal_stream_launch";
  if (desc_in == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", fn);
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const udal_launch_desc_t desc = udal::sdk::read_struct(desc_in);
    StreamState& stream = *to_stream(handle)->state;
    DeviceState& device = *stream.device();
    const udal_device_info_t& info = device.info;
    const std::shared_ptr<KernelState>& kernel = to_kernel(kernel_handle)->state;
    const EntryPoint& entry = kernel->entry();
    uint64_t invocations = 1;
    for (int axis = 0; axis < 3; ++axis) {
      if (desc.group_count[axis] == 0 || desc.group_size[axis] == 0) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: group_count[{}] and group_size[{}] must be "
                    "at least 1 (they are {} and {})", fn, axis, axis, desc.group_count[axis],
                    desc.group_size[axis]);
      }
      if (desc.group_size[axis] > info.max_group_size[axis]) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: group_size[{}] = {} is over the device's "
                    "max_group_size[{}] = {}", fn, axis, desc.group_size[axis], axis,
                    info.max_group_size[axis]);
      }
      if (desc.group_count[axis] > info.max_group_count[axis]) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: group_count[{}] = {} is over the device's "
                    "max_group_count[{}] = {}", fn, axis, desc.group_count[axis], axis,
                    info.max_group_count[axis]);
      }
      invocations *= desc.group_size[axis];
    }
    if (invocations > info.max_group_invocations) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: a group of {}x{}x{} = {} items is over the "
                  "device's max_group_invocations = {}", fn, desc.group_size[0],
                  desc.group_size[1], desc.group_size[2], invocations, info.max_group_invocations);
    }
    if (const auto& fixed = entry.fixed_group_size;
        fixed && ((*fixed)[0] != desc.group_size[0] || (*fixed)[1] != desc.group_size[1] ||
                  (*fixed)[2] != desc.group_size[2])) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kernel '{}' fixes its group size at {}x{}x{} "
                  "in the shader (no local_size_x_id = 0, ...), the launch asks for {}x{}x{}", fn,
                  entry.name, (*fixed)[0], (*fixed)[1], (*fixed)[2], desc.group_size[0],
                  desc.group_size[1], desc.group_size[2]);
    }
    if (desc.local_memory_bytes > info.max_local_memory_bytes) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: local_memory_bytes {} is over the device's "
                  "max_local_memory_bytes {}", fn, desc.local_memory_bytes,
                  info.max_local_memory_bytes);
    }
    if (desc.arg_count > 0 && desc.args == nullptr) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args is NULL but arg_count is {}", fn,
                  desc.arg_count);
    }

    // Arguments: buffers to bindings in order, values packed as docs/spec.md 14.1 states.
    std::vector<const Buffer*> buffers;
    std::vector<uint64_t> offsets;
    std::vector<uint8_t> values;
    uint32_t value_count = 0;
    for (uint32_t i = 0; i < desc.arg_count; ++i) {
      const udal_kernel_arg_t& arg = desc.args[i];
      if (arg.kind == UDAL_ARG_KIND_BUFFER) {
        if (arg.buffer == nullptr) {
          return fail(UDAL_ERROR_INVALID_HANDLE, "{}: args[{}] is a buffer argument with a NULL "
                      "buffer", fn, i);
        }
        const Buffer& buffer = *to_buffer(arg.buffer);
        if (arg.offset >= buffer.size) {
          return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: args[{}]: offset {} is not inside buffer {} "
                      "({} bytes)", fn, i, arg.offset, static_cast<void*>(arg.buffer), buffer.size);
        }
        buffers.push_back(&buffer);
        offsets.push_back(arg.offset);
      } else if (arg.kind == UDAL_ARG_KIND_VALUE) {
        if (arg.value == nullptr || arg.value_size == 0) {
          return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] is a value argument with {}", fn,
                      i, arg.value == nullptr ? "a NULL value" : "value_size 0");
        }
        // Alignment: the largest power of two dividing the size, at most 16.
        const uint32_t alignment = std::min(16u, arg.value_size & (~arg.value_size + 1));
        const size_t at = (values.size() + alignment - 1) / alignment * alignment;
        values.resize(at + arg.value_size, 0);
        std::memcpy(values.data() + at, arg.value, arg.value_size);
        ++value_count;
      } else {
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}].kind {} is not a udal_arg_kind_t",
                    fn, i, static_cast<int>(arg.kind));
      }
    }
    values.resize((values.size() + 3) / 4 * 4, 0);
    if (buffers.size() != entry.buffer_count) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kernel '{}' takes {} buffer arguments "
                  "(storage buffers at set 0), the launch passes {}", fn, entry.name,
                  entry.buffer_count, buffers.size());
    }
    if (entry.value_count != kUnknownCount && value_count != entry.value_count) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kernel '{}' takes {} value arguments (members "
                  "of its push-constant block), the launch passes {}", fn, entry.name,
                  entry.value_count, value_count);
    }
    if (values.size() != entry.push_constant_bytes) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kernel '{}' has a push-constant block of {} "
                  "bytes, the launch's value arguments pack into {}", fn, entry.name,
                  entry.push_constant_bytes, values.size());
    }
    if (values.size() > info.max_value_argument_bytes) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: {} bytes of value arguments is over the "
                  "device's max_value_argument_bytes {}", fn, values.size(),
                  info.max_value_argument_bytes);
    }

    // A storage buffer must start at a multiple of minStorageBufferOffsetAlignment. An
    // argument at another offset runs on an aligned copy of the buffer's tail, copied back
    // after the launch; two arguments on one buffer would then see different copies.
    KeepAlive keep = {kernel};
    struct Shadow {
      size_t argument;
      std::shared_ptr<Allocation> copy;
    };
    std::vector<Shadow> shadows;
    for (size_t b = 0; b < buffers.size(); ++b) {
      keep.push_back(buffers[b]->allocation);
      if (offsets[b] % device.storage_offset_alignment == 0) continue;
      for (size_t other = 0; other < buffers.size(); ++other) {
        if (other != b && buffers[other] == buffers[b]) {
          return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: buffer argument {} starts at offset {}, "
                      "not a multiple of {} (minStorageBufferOffsetAlignment), and its buffer is "
                      "also argument {}: the driver cannot give both the same memory", fn, b,
                      offsets[b], device.storage_offset_alignment, other);
        }
      }
      VkResult error = VK_SUCCESS;
      auto copy = device.memory->allocate(device.device_type, buffers[b]->size - offsets[b],
                                          device.storage_offset_alignment, &error);
      if (!copy) {
        return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, "{}: cannot allocate the aligned copy of "
                    "buffer argument {} ({} bytes): {}", fn, b, buffers[b]->size - offsets[b],
                    vk_result_name(error));
      }
      keep.push_back(copy);
      shadows.push_back({b, std::move(copy)});
    }

    const uint32_t local_words = static_cast<uint32_t>((desc.local_memory_bytes + 3) / 4);
    VkPipeline pipeline = VK_NULL_HANDLE;
    if (VkResult r = kernel->pipeline(desc.group_size, local_words, &pipeline); r != VK_SUCCESS) {
      return fail_vk(fn, "vkCreateComputePipelines", r);
    }
    std::vector<VkDescriptorBufferInfo> buffer_infos(buffers.size());
    for (size_t b = 0; b < buffers.size(); ++b) {
      buffer_infos[b] = {buffers[b]->allocation->buffer(), offsets[b], VK_WHOLE_SIZE};
    }
    for (const Shadow& shadow : shadows) {
      buffer_infos[shadow.argument] = {shadow.copy->buffer(), 0, VK_WHOLE_SIZE};
    }
    std::vector<VkWriteDescriptorSet> writes(buffers.size());
    for (size_t b = 0; b < buffers.size(); ++b) {
      writes[b] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
      writes[b].dstBinding = static_cast<uint32_t>(b);
      writes[b].descriptorCount = 1;
      writes[b].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      writes[b].pBufferInfo = &buffer_infos[b];
    }
    auto shadow_copies = [&](VkCommandBuffer cb, bool in) {
      for (const Shadow& shadow : shadows) {
        const Buffer& buffer = *buffers[shadow.argument];
        const uint64_t at = offsets[shadow.argument];
        const VkBufferCopy region{in ? at : 0, in ? 0 : at, buffer.size - at};
        vkCmdCopyBuffer(cb, in ? buffer.allocation->buffer() : shadow.copy->buffer(),
                        in ? shadow.copy->buffer() : buffer.allocation->buffer(), 1, &region);
      }
      if (!shadows.empty()) order_after_previous(cb);
    };
    return stream.record(fn, [&](VkCommandBuffer cb) {
      shadow_copies(cb, true);
      vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
      if (!writes.empty()) {
        device.push_descriptor_set(cb, VK_PIPELINE_BIND_POINT_COMPUTE, kernel->layout(), 0,
                                  static_cast<uint32_t>(writes.size()), writes.data());
      }
      if (!values.empty()) {
        vkCmdPushConstants(cb, kernel->layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0,
                           static_cast<uint32_t>(values.size()), values.data());
      }
      vkCmdDispatch(cb, desc.group_count[0], desc.group_count[1], desc.group_count[2]);
      if (!shadows.empty()) {
        order_after_previous(cb);
        shadow_copies(cb, false);
      }
    }, std::move(keep));
  });
}

// ===========================================================================================
// Entries: events
// ===========================================================================================

udal_result_t stream_record_event(udal_stream_t handle, udal_event_t event_handle) {
  constexpr const char* fn = "udal_stream_record_event";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    StreamState& stream = *to_stream(handle)->state;
    EventState& event = *to_event(event_handle)->state;
    DeviceState& device = *stream.device();
    if (event.device != &device) {
      return fail(UDAL_ERROR_INVALID_HANDLE, "{}: the event belongs to another device than the "
                  "stream", fn);
    }
    EventRecord record;
    record.timeline = stream.timeline();
    if (device.info.features & UDAL_DEVICE_FEATURE_TIMESTAMPS) {
      VkQueryPoolCreateInfo info{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
      info.queryType = VK_QUERY_TYPE_TIMESTAMP;
      info.queryCount = 1;
      VkQueryPool pool = VK_NULL_HANDLE;
      if (VkResult r = vkCreateQueryPool(device.vk(), &info, nullptr, &pool); r != VK_SUCCESS) {
        return fail_vk(fn, "vkCreateQueryPool", r);
      }
      record.timestamp = std::make_shared<UniqueQueryPool>(device.vk(), pool);
      if (auto r = stream.record(fn, [&](VkCommandBuffer cb) {
            vkCmdResetQueryPool(cb, pool, 0, 1);
            vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, 0);
          }, {record.timestamp}, &record.value);
          r != UDAL_SUCCESS)
        return r;
    } else if (auto r = stream.submit_all(fn, &record.value); r != UDAL_SUCCESS) {
      return r;
    }
    std::lock_guard lock(event.mutex);
    event.record = std::move(record);
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_wait_event(udal_stream_t handle, udal_event_t event_handle) {
  constexpr const char* fn = "udal_stream_wait_event";
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    StreamState& stream = *to_stream(handle)->state;
    EventState& event = *to_event(event_handle)->state;
    if (event.device != stream.device()) {
      return fail(UDAL_ERROR_INVALID_HANDLE, "{}: the event belongs to another device than the "
                  "stream", fn);
    }
    auto record = event.latest();
    // Never recorded, or recorded on this stream: nothing to wait for in an in-order stream.
    if (!record || record->value == 0 || record->timeline == stream.timeline()) return UDAL_SUCCESS;
    return stream.wait_for(fn, record->timeline, record->value);
  });
}

}  // namespace udal::vulkan
