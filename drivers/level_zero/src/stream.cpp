// Streams: an immediate command list of the device's compute queue group, in order through a
// barrier before each command, and a worker thread. Copies, fills, reads and writes, event
// records and waits, host functions and synchronization.
#include <cstring>

#include "ze_driver.h"

namespace udal::level_zero {

using udal::sdk::fail;

namespace {

// A checkpoint every this many enqueues releases what finished work used.
constexpr uint32_t kCheckpointEvery = 64;

const char* kind_name(udal_buffer_kind_t kind) {
  return kind == UDAL_BUFFER_KIND_HOST ? "HOST" : kind == UDAL_BUFFER_KIND_SHARED ? "SHARED" : "DEVICE";
}

udal_result_t check_buffer(const Stream& stream, const Buffer* buffer, udal_buffer_t handle,
                           const char* fn, const char* what) {
  if (buffer->device != stream.device) {
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: {} {} is a buffer of device '{}', not of the stream's device '{}'",
                fn, what, fmt::ptr(handle), buffer->device->state->info.name, stream.device->state->info.name);
  }
  return UDAL_SUCCESS;
}

udal_result_t check_range(const Buffer* buffer, udal_buffer_t handle, uint64_t offset, uint64_t size,
                          const char* fn, const char* what) {
  if (offset > buffer->size || size > buffer->size - offset) {
    return fail(UDAL_ERROR_OUT_OF_RANGE,
                "{}: {} bytes at {} offset {} run past the end of buffer {} ({} bytes, {})", fn, size,
                what, offset, fmt::ptr(handle), buffer->size, kind_name(buffer->kind));
  }
  return UDAL_SUCCESS;
}

}  // namespace

// ----- stream machinery -------------------------------------------------------------------

ze_result_t Stream::barrier() noexcept { return zeCommandListAppendBarrier(list, nullptr, 0, nullptr); }

udal_result_t Stream::checkpoint(const char* function, std::function<void()> action, SlotRef gate) {
  ze_result_t r = ZE_RESULT_SUCCESS;
  SlotRef marker = device->state->slots->take(false, &r);
  if (!marker) return fail_ze(function, "zeEventPoolCreate", r);
  r = zeCommandListAppendBarrier(list, marker->event, 0, nullptr);
  if (r != ZE_RESULT_SUCCESS) return fail_ze(function, "zeCommandListAppendBarrier", r);
  Task task;
  task.marker = std::move(marker);
  task.action = std::move(action);
  task.gate = std::move(gate);
  task.release.swap(pending);
  since_checkpoint = 0;
  {
    std::lock_guard lock(task_mutex);
    tasks.push_back(std::move(task));
    ++tasks_pushed;
  }
  task_cv.notify_all();
  return UDAL_SUCCESS;
}

void Stream::after_enqueue(const char* function) noexcept {
  ++submitted;
  if (++since_checkpoint < kCheckpointEvery) return;
  try {
    checkpoint(function);
  } catch (...) {
  }
}

void Stream::run_worker() noexcept {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(task_mutex);
      task_cv.wait(lock, [&] { return stopping || !tasks.empty(); });  // (also woken by progress)
      if (tasks.empty()) return;  // stopping, nothing left
      task = std::move(tasks.front());
      tasks.pop_front();
    }
    zeEventHostSynchronize(task.marker->event, UINT64_MAX);
    if (task.action) {
      try {
        task.action();
      } catch (...) {
      }
    }
    if (task.gate) zeEventHostSignal(task.gate->event);
    task.release.clear();
    {
      std::lock_guard lock(task_mutex);
      ++tasks_done;
    }
    task_cv.notify_all();
  }
}

udal_result_t Stream::synchronize(uint64_t timeout_ns, const char* function) {
  std::unique_lock lock(mutex);
  if (completed == submitted) return UDAL_SUCCESS;  // idle: nothing since the last synchronize
  const uint64_t target = submitted;
  ze_result_t r = ZE_RESULT_SUCCESS;
  SlotRef marker = device->state->slots->take(false, &r);
  if (!marker) return fail_ze(function, "zeEventPoolCreate", r);
  r = zeCommandListAppendBarrier(list, marker->event, 0, nullptr);
  if (r != ZE_RESULT_SUCCESS) return fail_ze(function, "zeCommandListAppendBarrier", r);
  std::vector<std::shared_ptr<void>> release;
  release.swap(pending);
  since_checkpoint = 0;
  uint64_t tasks_before = 0;
  {
    std::lock_guard tl(task_mutex);
    tasks_before = tasks_pushed;
  }
  lock.unlock();
  r = zeEventHostSynchronize(marker->event, timeout_ns);
  if (r == ZE_RESULT_SUCCESS) {  // |release| goes now: the work is done
    // The worker's tasks before the marker are done too (their markers were signalled
    // first): what they release is released before this returns.
    {
      std::unique_lock tl(task_mutex);
      task_cv.wait(tl, [&] { return tasks_done >= tasks_before; });
    }
    lock.lock();
    if (completed < target) completed = target;
    return UDAL_SUCCESS;
  }
  if (r == ZE_RESULT_NOT_READY) {
    // Still running: the worker releases it once it is done.
    Task task;
    task.marker = std::move(marker);
    task.release = std::move(release);
    {
      std::lock_guard tl(task_mutex);
      tasks.push_back(std::move(task));
      ++tasks_pushed;
    }
    task_cv.notify_all();
    return UDAL_TIMEOUT;
  }
  return fail_ze(function, "zeEventHostSynchronize", r, UDAL_ERROR_DEVICE_LOST);
}

udal_result_t stream_create(udal_device_t device_handle, const udal_stream_desc_t* desc_in,
                            udal_stream_t* out_stream) {
  static constexpr const char* fn = "udal_stream_create";
  if (out_stream == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_stream is NULL", fn);
  *out_stream = nullptr;
  if (desc_in != nullptr) {
    if (udal_result_t r = udal::sdk::check_struct(fn, "desc", desc_in)) return r;
  }
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const udal_stream_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.flags != 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->flags {:#x} has unknown bits", fn, desc.flags);
    Device* device = to_device(device_handle);
    DeviceState& state = *device->state;
    auto stream = std::make_unique<Stream>();
    stream->dispatch = device->dispatch;
    stream->device = device;
    ze_command_queue_desc_t queue{ZE_STRUCTURE_TYPE_COMMAND_QUEUE_DESC, nullptr, state.compute_ordinal, 0, 0,
                                  ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS, ZE_COMMAND_QUEUE_PRIORITY_NORMAL};
    ze_result_t r = zeCommandListCreateImmediate(state.context, state.device, &queue, &stream->list);
    if (r != ZE_RESULT_SUCCESS) return fail_ze(fn, "zeCommandListCreateImmediate", r);
    Stream* raw = stream.get();
    try {
      stream->worker = std::thread([raw] { raw->run_worker(); });
    } catch (...) {
      zeCommandListDestroy(stream->list);
      return fail(UDAL_ERROR_OUT_OF_HOST_MEMORY, "{}: cannot start the stream's thread", fn);
    }
    state.streams.add(raw);
    *out_stream = udal::sdk::to_handle<udal_stream_t>(stream.release());
    return UDAL_SUCCESS;
  });
}

void destroy_stream(Stream* stream) noexcept {
  std::unique_ptr<Stream> owned(stream);
  stream->device->state->streams.remove(stream);
  // All work, host functions included, completes first.
  try {
    stream->synchronize(UINT64_MAX, "udal_stream_destroy");
  } catch (...) {
  }
  {
    std::lock_guard lock(stream->task_mutex);
    stream->stopping = true;
  }
  stream->task_cv.notify_one();
  if (stream->worker.joinable()) stream->worker.join();
  stream->pending.clear();
  if (stream->list != nullptr) zeCommandListDestroy(stream->list);
}

udal_result_t stream_destroy(udal_stream_t handle) {
  destroy_stream(to_stream(handle));
  return UDAL_SUCCESS;
}

udal_result_t stream_synchronize(udal_stream_t handle, uint64_t timeout_ns) {
  return udal::sdk::guard("udal_stream_synchronize",
                          [&] { return to_stream(handle)->synchronize(timeout_ns, "udal_stream_synchronize"); });
}

// ----- transfers --------------------------------------------------------------------------

udal_result_t stream_copy_buffer(udal_stream_t handle, udal_buffer_t src_handle, uint64_t src_offset,
                                 udal_buffer_t dst_handle, uint64_t dst_offset, uint64_t size) {
  static constexpr const char* fn = "udal_stream_copy_buffer";
  Stream* stream = to_stream(handle);
  Buffer* src = to_buffer(src_handle);
  Buffer* dst = to_buffer(dst_handle);
  if (udal_result_t r = check_buffer(*stream, src, src_handle, fn, "src")) return r;
  if (udal_result_t r = check_buffer(*stream, dst, dst_handle, fn, "dst")) return r;
  if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (udal_result_t r = check_range(src, src_handle, src_offset, size, fn, "source")) return r;
  if (udal_result_t r = check_range(dst, dst_handle, dst_offset, size, fn, "destination")) return r;
  if (src == dst && src_offset < dst_offset + size && dst_offset < src_offset + size) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: the ranges [{}, {}) and [{}, {}) of buffer {} overlap", fn, src_offset,
                src_offset + size, dst_offset, dst_offset + size, fmt::ptr(src_handle));
  }
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    std::lock_guard lock(stream->mutex);
    ze_result_t r = stream->barrier();
    if (r == ZE_RESULT_SUCCESS) {
      r = zeCommandListAppendMemoryCopy(stream->list, dst->base() + dst_offset, src->base() + src_offset, size,
                                        nullptr, 0, nullptr);
    }
    if (r != ZE_RESULT_SUCCESS) return fail_ze(fn, "zeCommandListAppendMemoryCopy", r);
    stream->pending.push_back(src->memory);
    stream->pending.push_back(dst->memory);
    stream->after_enqueue(fn);
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_fill_buffer(udal_stream_t handle, udal_buffer_t dst_handle, uint64_t offset, uint64_t size,
                                 const void* pattern, uint32_t pattern_size) {
  static constexpr const char* fn = "udal_stream_fill_buffer";
  Stream* stream = to_stream(handle);
  Buffer* dst = to_buffer(dst_handle);
  if (udal_result_t r = check_buffer(*stream, dst, dst_handle, fn, "dst")) return r;
  if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (pattern == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern is NULL", fn);
  if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 && pattern_size != 8 && pattern_size != 16) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern_size {} is not 1, 2, 4, 8 or 16", fn, pattern_size);
  }
  if (udal_result_t r = check_range(dst, dst_handle, offset, size, fn, "destination")) return r;
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    std::lock_guard lock(stream->mutex);
    ze_result_t r = stream->barrier();
    if (r != ZE_RESULT_SUCCESS) return fail_ze(fn, "zeCommandListAppendBarrier", r);
    // Level Zero fills whole patterns: the last partial one is written by a copy.
    const uint64_t whole = size / pattern_size * pattern_size;
    if (whole > 0 && pattern_size <= stream->device->state->fill_pattern_max) {
      r = zeCommandListAppendMemoryFill(stream->list, dst->base() + offset, pattern, pattern_size, whole, nullptr,
                                        0, nullptr);
      if (r != ZE_RESULT_SUCCESS) return fail_ze(fn, "zeCommandListAppendMemoryFill", r);
    }
    const uint64_t from = whole > 0 && pattern_size <= stream->device->state->fill_pattern_max ? whole : 0;
    if (from < size) {
      // The bytes the fill does not cover, from host memory kept until the copy has run.
      auto bytes = std::make_shared<std::vector<uint8_t>>(size - from);
      for (uint64_t i = 0; i < bytes->size(); ++i) {
        (*bytes)[i] = static_cast<const uint8_t*>(pattern)[(from + i) % pattern_size];
      }
      if (from > 0) {
        r = stream->barrier();
        if (r != ZE_RESULT_SUCCESS) return fail_ze(fn, "zeCommandListAppendBarrier", r);
      }
      r = zeCommandListAppendMemoryCopy(stream->list, dst->base() + offset + from, bytes->data(), bytes->size(),
                                        nullptr, 0, nullptr);
      if (r != ZE_RESULT_SUCCESS) return fail_ze(fn, "zeCommandListAppendMemoryCopy", r);
      stream->pending.push_back(bytes);
    }
    stream->pending.push_back(dst->memory);
    stream->after_enqueue(fn);
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_write_buffer(udal_stream_t handle, udal_buffer_t dst_handle, uint64_t dst_offset,
                                  const void* src, uint64_t size) {
  static constexpr const char* fn = "udal_stream_write_buffer";
  Stream* stream = to_stream(handle);
  Buffer* dst = to_buffer(dst_handle);
  if (udal_result_t r = check_buffer(*stream, dst, dst_handle, fn, "dst")) return r;
  if (src == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: src is NULL", fn);
  if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (udal_result_t r = check_range(dst, dst_handle, dst_offset, size, fn, "destination")) return r;
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    std::lock_guard lock(stream->mutex);
    ze_result_t r = stream->barrier();
    if (r == ZE_RESULT_SUCCESS) {
      r = zeCommandListAppendMemoryCopy(stream->list, dst->base() + dst_offset, src, size, nullptr, 0, nullptr);
    }
    if (r != ZE_RESULT_SUCCESS) return fail_ze(fn, "zeCommandListAppendMemoryCopy", r);
    stream->pending.push_back(dst->memory);
    stream->after_enqueue(fn);
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_read_buffer(udal_stream_t handle, udal_buffer_t src_handle, uint64_t src_offset, void* dst,
                                 uint64_t size) {
  static constexpr const char* fn = "udal_stream_read_buffer";
  Stream* stream = to_stream(handle);
  Buffer* src = to_buffer(src_handle);
  if (udal_result_t r = check_buffer(*stream, src, src_handle, fn, "src")) return r;
  if (dst == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: dst is NULL", fn);
  if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (udal_result_t r = check_range(src, src_handle, src_offset, size, fn, "source")) return r;
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    std::lock_guard lock(stream->mutex);
    ze_result_t r = stream->barrier();
    if (r == ZE_RESULT_SUCCESS) {
      r = zeCommandListAppendMemoryCopy(stream->list, dst, src->base() + src_offset, size, nullptr, 0, nullptr);
    }
    if (r != ZE_RESULT_SUCCESS) return fail_ze(fn, "zeCommandListAppendMemoryCopy", r);
    stream->pending.push_back(src->memory);
    stream->after_enqueue(fn);
    return UDAL_SUCCESS;
  });
}

// ----- events on streams ------------------------------------------------------------------

udal_result_t stream_record_event(udal_stream_t handle, udal_event_t event_handle) {
  static constexpr const char* fn = "udal_stream_record_event";
  Stream* stream = to_stream(handle);
  Event* event = to_event(event_handle);
  if (event->device != stream->device) {
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: event {} belongs to device '{}', not to the stream's device '{}'",
                fn, fmt::ptr(event_handle), event->device->state->info.name, stream->device->state->info.name);
  }
  if (event->host_signal()) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: event {} has UDAL_EVENT_FLAG_HOST_SIGNAL; only udal_event_signal completes it", fn,
                fmt::ptr(event_handle));
  }
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const bool timing = (event->flags & UDAL_EVENT_FLAG_TIMING) != 0;
    ze_result_t r = ZE_RESULT_SUCCESS;
    SlotRef slot = stream->device->state->slots->take(timing, &r);
    if (!slot) return fail_ze(fn, "zeEventPoolCreate", r);
    std::lock_guard lock(stream->mutex);
    if (timing) {
      r = stream->barrier();
      if (r == ZE_RESULT_SUCCESS) {
        r = zeCommandListAppendWriteGlobalTimestamp(stream->list, slot->stamp, slot->event, 0, nullptr);
      }
      if (r != ZE_RESULT_SUCCESS) return fail_ze(fn, "zeCommandListAppendWriteGlobalTimestamp", r);
    } else {
      r = zeCommandListAppendBarrier(stream->list, slot->event, 0, nullptr);
      if (r != ZE_RESULT_SUCCESS) return fail_ze(fn, "zeCommandListAppendBarrier", r);
    }
    stream->pending.push_back(slot);
    {
      std::lock_guard event_lock(event->mutex);
      event->current = std::move(slot);
    }
    stream->after_enqueue(fn);
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_wait_event(udal_stream_t handle, udal_event_t event_handle) {
  static constexpr const char* fn = "udal_stream_wait_event";
  Stream* stream = to_stream(handle);
  Event* event = to_event(event_handle);
  if (event->device != stream->device) {
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: event {} belongs to device '{}', not to the stream's device '{}'",
                fn, fmt::ptr(event_handle), event->device->state->info.name, stream->device->state->info.name);
  }
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    SlotRef slot = event->latest();
    if (!slot) return UDAL_SUCCESS;  // never recorded: complete
    std::lock_guard lock(stream->mutex);
    ze_result_t r = zeCommandListAppendWaitOnEvents(stream->list, 1, &slot->event);
    if (r != ZE_RESULT_SUCCESS) return fail_ze(fn, "zeCommandListAppendWaitOnEvents", r);
    stream->pending.push_back(std::move(slot));
    stream->after_enqueue(fn);
    return UDAL_SUCCESS;
  });
}

// A host function: the stream signals a marker when the work before it is done, and waits on
// a gate; the worker waits for the marker, runs the function and signals the gate.
udal_result_t stream_enqueue_host_function(udal_stream_t handle, udal_host_function_t function, void* user_data) {
  static constexpr const char* fn = "udal_stream_enqueue_host_function";
  if (function == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: fn is NULL", fn);
  Stream* stream = to_stream(handle);
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    ze_result_t r = ZE_RESULT_SUCCESS;
    SlotRef gate = stream->device->state->slots->take(false, &r);
    if (!gate) return fail_ze(fn, "zeEventPoolCreate", r);
    std::lock_guard lock(stream->mutex);
    if (udal_result_t u = stream->checkpoint(fn, [function, user_data] { function(user_data); }, gate)) return u;
    r = zeCommandListAppendWaitOnEvents(stream->list, 1, &gate->event);
    if (r != ZE_RESULT_SUCCESS) {
      // The checkpoint signals the gate after running the function; nothing waits on it.
      return fail_ze(fn, "zeCommandListAppendWaitOnEvents", r);
    }
    stream->pending.push_back(std::move(gate));  // released by a later checkpoint
    ++stream->submitted;
    return UDAL_SUCCESS;
  });
}

}  // namespace udal::level_zero
