// Command queues and command lists. A regular list records each append as a Command (a
// closure over what the append captured) and replays the commands on a queue's lane at
// every execution; an immediate list runs each command on its own lane at once. Every
// command enqueues: its waits, then (for a timestamp event) a TIMING record, its work, and
// the signal of its event.
#include <algorithm>
#include <cstring>

#include "ze_udal.h"

namespace udal::ze {

namespace {

// ----- helpers --------------------------------------------------------------------------

// The host address of |r| when the host can touch it: plain host memory, or a host / shared
// allocation (mapped for its life); NULL for device memory.
void* host_address(const Resolved& r) {
  if (r.allocation == nullptr) return const_cast<void*>(r.pointer);
  if (r.allocation->host != nullptr) return static_cast<char*>(r.allocation->host) + r.offset;
  return nullptr;
}

// Whether the lane's device can use the allocation's buffer directly.
bool on_lane(const Resolved& r, const Lane& lane) {
  return r.allocation != nullptr && r.allocation->device == lane.device;
}

ze_result_t check_events(ze_event_handle_t hSignal, uint32_t numWaits, ze_event_handle_t* phWaits,
                         Event** signal, std::vector<Event*>* waits, const char* fn) {
  *signal = nullptr;
  if (hSignal != nullptr) {
    *signal = from_handle<Event>(hSignal);
    if (*signal == nullptr) {
      return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: hSignalEvent is not a live event", fn);
    }
  }
  if (numWaits > 0 && phWaits == nullptr) {
    return fail(ZE_RESULT_ERROR_INVALID_SIZE, "{}: phWaitEvents is NULL with {} events", fn,
                numWaits);
  }
  for (uint32_t i = 0; i < numWaits; ++i) {
    Event* e = from_handle<Event>(phWaits[i]);
    if (e == nullptr) {
      return fail(phWaits[i] == nullptr ? ZE_RESULT_ERROR_INVALID_NULL_HANDLE
                                        : ZE_RESULT_ERROR_INVALID_ARGUMENT,
                  "{}: phWaitEvents[{}] is not a live event", fn, i);
    }
    waits->push_back(e);
  }
  return ZE_RESULT_SUCCESS;
}

// Runs or records |body| with its waits and signal.
ze_result_t append(CommandList* list, Event* signal, std::vector<Event*> waits, Command body,
                   const char* fn) {
  Command command = [signal, waits = std::move(waits), body = std::move(body),
                     fn](Lane& lane) -> ze_result_t {
    for (Event* e : waits) {
      if (ze_result_t z = lane.wait(e, fn); z != ZE_RESULT_SUCCESS) return z;
    }
    udal_event_t start = nullptr;
    if (signal != nullptr && signal->pool->timestamps() && lane.device->timestamps) {
      udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
      desc.flags = UDAL_EVENT_FLAG_TIMING;
      if (udal_event_create(lane.device->udal, &desc, &start) == UDAL_SUCCESS &&
          udal_stream_record_event(lane.stream, start) != UDAL_SUCCESS) {
        udal_event_destroy(start);
        start = nullptr;
      }
    }
    if (body) {
      if (ze_result_t z = body(lane); z != ZE_RESULT_SUCCESS) {
        if (start != nullptr) udal_event_destroy(start);
        return z;
      }
    }
    return lane.signal(signal, start, fn);
  };
  std::lock_guard lock(list->mutex);
  if (list->immediate) {
    ze_result_t z = command(*list->lane);
    if (z == ZE_RESULT_SUCCESS && list->mode == ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS) {
      z = list->lane->synchronize(UINT64_MAX, fn);
    }
    return z;
  }
  if (list->closed) {
    return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: the command list is closed", fn);
  }
  list->commands.push_back(std::move(command));
  return ZE_RESULT_SUCCESS;
}

// Keeps |owned| alive until the lane has passed everything enqueued so far.
template <typename T>
ze_result_t keep_until_done(Lane& lane, std::shared_ptr<T> owned, const char* fn) {
  return lane.host([owned = std::move(owned)]() mutable { owned.reset(); }, fn);
}

// Enqueues a copy of |size| bytes between two resolved locations.
ze_result_t enqueue_copy(Lane& lane, const Resolved& dst, const Resolved& src, uint64_t size,
                         const char* fn) {
  if (size == 0) return ZE_RESULT_SUCCESS;
  const bool d_on = on_lane(dst, lane);
  const bool s_on = on_lane(src, lane);
  udal_result_t r = UDAL_SUCCESS;
  if (d_on && s_on) {
    const bool same = dst.allocation->buffer == src.allocation->buffer;
    const bool overlap = same && dst.offset < src.offset + size && src.offset < dst.offset + size;
    if (!overlap) {
      r = udal_stream_copy_buffer(lane.stream, src.allocation->buffer, src.offset,
                                  dst.allocation->buffer, dst.offset, size);
      return r == UDAL_SUCCESS ? ZE_RESULT_SUCCESS : from_udal(r, fn);
    }
    auto staging = std::make_shared<std::vector<uint8_t>>(size);
    r = udal_stream_read_buffer(lane.stream, src.allocation->buffer, src.offset, staging->data(), size);
    if (r == UDAL_SUCCESS) {
      r = udal_stream_write_buffer(lane.stream, dst.allocation->buffer, dst.offset, staging->data(),
                                   size);
    }
    if (r != UDAL_SUCCESS) {
      udal_stream_synchronize(lane.stream, UDAL_TIMEOUT_INFINITE);
      return from_udal(r, fn);
    }
    return keep_until_done(lane, staging, fn);
  }
  void* d_host = host_address(dst);
  void* s_host = host_address(src);
  if (d_on && s_host != nullptr) {
    r = udal_stream_write_buffer(lane.stream, dst.allocation->buffer, dst.offset, s_host, size);
    return r == UDAL_SUCCESS ? ZE_RESULT_SUCCESS : from_udal(r, fn);
  }
  if (s_on && d_host != nullptr) {
    r = udal_stream_read_buffer(lane.stream, src.allocation->buffer, src.offset, d_host, size);
    return r == UDAL_SUCCESS ? ZE_RESULT_SUCCESS : from_udal(r, fn);
  }
  if (d_host != nullptr && s_host != nullptr) {
    return lane.host([d_host, s_host, size] { std::memmove(d_host, s_host, size); }, fn);
  }
  return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
              "{}: a copy between device memory of another device and this command list's "
              "device '{}' is not implemented",
              fn, lane.device->info.name);
}

void fill_host(void* ptr, const std::vector<uint8_t>& pattern, uint64_t size) {
  auto* out = static_cast<uint8_t*>(ptr);
  const size_t n = pattern.size();
  for (uint64_t at = 0; at < size; at += n) {
    std::memcpy(out + at, pattern.data(), static_cast<size_t>(std::min<uint64_t>(n, size - at)));
  }
}

ze_result_t enqueue_fill(Lane& lane, const Resolved& dst, const std::vector<uint8_t>& pattern,
                         uint64_t size, const char* fn) {
  if (size == 0) return ZE_RESULT_SUCCESS;
  const size_t n = pattern.size();
  if (on_lane(dst, lane)) {
    if (n == 1 || n == 2 || n == 4 || n == 8 || n == 16) {
      udal_result_t r = udal_stream_fill_buffer(lane.stream, dst.allocation->buffer, dst.offset,
                                                size, pattern.data(), static_cast<uint32_t>(n));
      return r == UDAL_SUCCESS ? ZE_RESULT_SUCCESS : from_udal(r, fn);
    }
    auto staging = std::make_shared<std::vector<uint8_t>>(size);
    fill_host(staging->data(), pattern, size);
    udal_result_t r = udal_stream_write_buffer(lane.stream, dst.allocation->buffer, dst.offset,
                                               staging->data(), size);
    if (r != UDAL_SUCCESS) return from_udal(r, fn);
    return keep_until_done(lane, staging, fn);
  }
  void* host = host_address(dst);
  if (host == nullptr) {
    return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                "{}: a fill of device memory of another device is not implemented", fn);
  }
  return lane.host([host, pattern, size] { fill_host(host, pattern, size); }, fn);
}

// Writes |bytes| to |dst| in stream order, after the host functions enqueued before (which
// may compute them): into host-reachable memory from a host function, into device memory
// with a write from a staging copy.
ze_result_t enqueue_store(Lane& lane, const Resolved& dst, std::shared_ptr<std::vector<uint8_t>> bytes,
                          const char* fn) {
  void* host = host_address(dst);
  if (host != nullptr && !on_lane(dst, lane)) {
    return lane.host([host, bytes] { std::memcpy(host, bytes->data(), bytes->size()); }, fn);
  }
  if (on_lane(dst, lane)) {
    if (dst.offset + bytes->size() > dst.allocation->size) {
      return fail(ZE_RESULT_ERROR_INVALID_SIZE, "{}: the results run past the allocation", fn);
    }
    udal_result_t r = udal_stream_write_buffer(lane.stream, dst.allocation->buffer, dst.offset,
                                               bytes->data(), bytes->size());
    if (r != UDAL_SUCCESS) return from_udal(r, fn);
    return keep_until_done(lane, bytes, fn);
  }
  return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
              "{}: results into device memory of another device are not implemented", fn);
}

// ----- queues ---------------------------------------------------------------------------

ze_result_t check_queue_desc(Device* device, const ze_command_queue_desc_t* desc, const char* fn) {
  if (desc->ordinal != 0) {
    return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "{}: desc->ordinal {} is not a command queue group of device '{}' (it has 1)", fn,
                desc->ordinal, device->info.name);
  }
  if (desc->index >= 64) {
    return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: desc->index {} is not below numQueues 64",
                fn, desc->index);
  }
  if (desc->mode > ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS) {
    return fail(ZE_RESULT_ERROR_INVALID_ENUMERATION, "{}: desc->mode {} is not a mode", fn,
                static_cast<int>(desc->mode));
  }
  if (desc->priority > ZE_COMMAND_QUEUE_PRIORITY_PRIORITY_HIGH) {
    return fail(ZE_RESULT_ERROR_INVALID_ENUMERATION, "{}: desc->priority {} is not a priority", fn,
                static_cast<int>(desc->priority));
  }
  if (desc->flags & ~static_cast<ze_command_queue_flags_t>(ZE_COMMAND_QUEUE_FLAG_EXPLICIT_ONLY)) {
    return fail(ZE_RESULT_ERROR_INVALID_ENUMERATION, "{}: desc->flags {:#x} has unknown bits", fn,
                desc->flags);
  }
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL queue_create(ze_context_handle_t hContext, ze_device_handle_t hDevice,
                                    const ze_command_queue_desc_t* desc,
                                    ze_command_queue_handle_t* phCommandQueue) {
  static constexpr const char* fn = "zeCommandQueueCreate";
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(desc, fn);
  ZE_NOT_NULL(phCommandQueue, fn);
  *phCommandQueue = nullptr;
  if (ze_result_t z = check_queue_desc(device, desc, fn); z != ZE_RESULT_SUCCESS) return z;
  return guard(fn, [&] {
    auto queue = std::make_unique<Queue>();
    queue->context = context;
    queue->device = device;
    queue->desc = *desc;
    if (ze_result_t z = make_lane(device, &queue->lane, fn); z != ZE_RESULT_SUCCESS) return z;
    queue->magic = Queue::kMagic;
    *phCommandQueue = to_handle<ze_command_queue_handle_t>(queue.release());
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL queue_destroy(ze_command_queue_handle_t hCommandQueue) {
  static constexpr const char* fn = "zeCommandQueueDestroy";
  ZE_OBJECT(Queue, queue, hCommandQueue, fn);
  queue->magic = 0;
  std::unique_ptr<Queue> owned(queue);  // the lane waits for the queue's work
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL queue_execute(ze_command_queue_handle_t hCommandQueue, uint32_t count,
                                     ze_command_list_handle_t* phCommandLists,
                                     ze_fence_handle_t hFence) {
  static constexpr const char* fn = "zeCommandQueueExecuteCommandLists";
  ZE_OBJECT(Queue, queue, hCommandQueue, fn);
  ZE_NOT_NULL(phCommandLists, fn);
  if (count == 0) return fail(ZE_RESULT_ERROR_INVALID_SIZE, "{}: numCommandLists is 0", fn);
  Fence* fence = nullptr;
  if (hFence != nullptr) {
    fence = from_handle<Fence>(hFence);
    if (fence == nullptr) return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: hFence is not a fence", fn);
    if (fence->queue != queue) {
      return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: hFence belongs to another queue", fn);
    }
  }
  std::vector<CommandList*> lists;
  for (uint32_t i = 0; i < count; ++i) {
    CommandList* list = from_handle<CommandList>(phCommandLists[i]);
    if (list == nullptr) {
      return fail(phCommandLists[i] == nullptr ? ZE_RESULT_ERROR_INVALID_NULL_HANDLE
                                               : ZE_RESULT_ERROR_INVALID_ARGUMENT,
                  "{}: phCommandLists[{}] is not a command list", fn, i);
    }
    if (list->immediate) {
      return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,
                  "{}: phCommandLists[{}] is an immediate command list", fn, i);
    }
    if (list->device != queue->device) {
      return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,
                  "{}: phCommandLists[{}] was created for another device", fn, i);
    }
    lists.push_back(list);
  }
  return guard(fn, [&] {
    std::lock_guard submit(queue->submit_mutex);
    Lane& lane = *queue->lane;
    for (CommandList* list : lists) {
      std::lock_guard lock(list->mutex);
      for (Command& command : list->commands) {
        if (ze_result_t z = command(lane); z != ZE_RESULT_SUCCESS) return z;
      }
    }
    if (fence != nullptr) {
      {
        std::lock_guard lock(fence->mutex);
        ++fence->pending;
        fence->signaled = false;
      }
      ze_result_t z = lane.host(
          [fence] {
            {
              std::lock_guard lock(fence->mutex);
              --fence->pending;
              fence->signaled = true;
            }
            fence->changed.notify_all();
          },
          fn);
      if (z != ZE_RESULT_SUCCESS) {
        std::lock_guard lock(fence->mutex);
        --fence->pending;
        return z;
      }
    }
    if (queue->desc.mode == ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS) {
      return lane.synchronize(UINT64_MAX, fn);
    }
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL queue_synchronize(ze_command_queue_handle_t hCommandQueue,
                                         uint64_t timeout) {
  static constexpr const char* fn = "zeCommandQueueSynchronize";
  ZE_OBJECT(Queue, queue, hCommandQueue, fn);
  return queue->lane->synchronize(timeout, fn);
}

// ----- command lists --------------------------------------------------------------------

ze_result_t ZE_APICALL list_create(ze_context_handle_t hContext, ze_device_handle_t hDevice,
                                   const ze_command_list_desc_t* desc,
                                   ze_command_list_handle_t* phCommandList) {
  static constexpr const char* fn = "zeCommandListCreate";
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(desc, fn);
  ZE_NOT_NULL(phCommandList, fn);
  *phCommandList = nullptr;
  if (desc->commandQueueGroupOrdinal != 0) {
    return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "{}: desc->commandQueueGroupOrdinal {} is not a group of device '{}' (it has 1)",
                fn, desc->commandQueueGroupOrdinal, device->info.name);
  }
  const ze_command_list_flags_t known = ZE_COMMAND_LIST_FLAG_RELAXED_ORDERING |
                                        ZE_COMMAND_LIST_FLAG_MAXIMIZE_THROUGHPUT |
                                        ZE_COMMAND_LIST_FLAG_EXPLICIT_ONLY;
  if (desc->flags & ~known) {
    return fail(ZE_RESULT_ERROR_INVALID_ENUMERATION, "{}: desc->flags {:#x} has unknown bits", fn,
                desc->flags);
  }
  return guard(fn, [&] {
    auto list = std::make_unique<CommandList>();
    list->context = context;
    list->device = device;
    list->flags = desc->flags;
    list->magic = CommandList::kMagic;
    *phCommandList = to_handle<ze_command_list_handle_t>(list.release());
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL list_create_immediate(ze_context_handle_t hContext,
                                             ze_device_handle_t hDevice,
                                             const ze_command_queue_desc_t* altdesc,
                                             ze_command_list_handle_t* phCommandList) {
  static constexpr const char* fn = "zeCommandListCreateImmediate";
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(altdesc, fn);
  ZE_NOT_NULL(phCommandList, fn);
  *phCommandList = nullptr;
  if (ze_result_t z = check_queue_desc(device, altdesc, fn); z != ZE_RESULT_SUCCESS) return z;
  return guard(fn, [&] {
    auto list = std::make_unique<CommandList>();
    list->context = context;
    list->device = device;
    list->immediate = true;
    list->mode = altdesc->mode;
    if (ze_result_t z = make_lane(device, &list->lane, fn); z != ZE_RESULT_SUCCESS) return z;
    list->magic = CommandList::kMagic;
    *phCommandList = to_handle<ze_command_list_handle_t>(list.release());
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL list_destroy(ze_command_list_handle_t hCommandList) {
  static constexpr const char* fn = "zeCommandListDestroy";
  ZE_OBJECT(CommandList, list, hCommandList, fn);
  list->magic = 0;
  std::unique_ptr<CommandList> owned(list);
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL list_close(ze_command_list_handle_t hCommandList) {
  static constexpr const char* fn = "zeCommandListClose";
  ZE_OBJECT(CommandList, list, hCommandList, fn);
  std::lock_guard lock(list->mutex);
  list->closed = true;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL list_reset(ze_command_list_handle_t hCommandList) {
  static constexpr const char* fn = "zeCommandListReset";
  ZE_OBJECT(CommandList, list, hCommandList, fn);
  std::lock_guard lock(list->mutex);
  list->commands.clear();
  list->closed = false;
  return ZE_RESULT_SUCCESS;
}

#define ZE_LIST_AND_EVENTS(fn)                                                                  \
  ZE_OBJECT(CommandList, list, hCommandList, fn);                                             \
  Event* signal = nullptr;                                                                    \
  std::vector<Event*> waits;                                                                  \
  if (ze_result_t z = check_events(hSignalEvent, numWaitEvents, phWaitEvents, &signal, &waits, fn); \
      z != ZE_RESULT_SUCCESS) {                                                               \
    return z;                                                                                 \
  }

ze_result_t ZE_APICALL append_barrier(ze_command_list_handle_t hCommandList,
                                      ze_event_handle_t hSignalEvent, uint32_t numWaitEvents,
                                      ze_event_handle_t* phWaitEvents) {
  static constexpr const char* fn = "zeCommandListAppendBarrier";
  ZE_LIST_AND_EVENTS(fn);
  // Lanes are in order: a barrier is its waits and its signal.
  return guard(fn, [&] { return append(list, signal, std::move(waits), nullptr, fn); });
}

ze_result_t ZE_APICALL append_memory_ranges_barrier(ze_command_list_handle_t hCommandList,
                                                    uint32_t numRanges, const size_t* pRangeSizes,
                                                    const void** pRanges,
                                                    ze_event_handle_t hSignalEvent,
                                                    uint32_t numWaitEvents,
                                                    ze_event_handle_t* phWaitEvents) {
  static constexpr const char* fn = "zeCommandListAppendMemoryRangesBarrier";
  ZE_LIST_AND_EVENTS(fn);
  if (numRanges > 0 && (pRangeSizes == nullptr || pRanges == nullptr)) {
    return fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "{}: pRangeSizes or pRanges is NULL", fn);
  }
  return guard(fn, [&] { return append(list, signal, std::move(waits), nullptr, fn); });
}

ze_result_t ZE_APICALL append_memory_copy(ze_command_list_handle_t hCommandList, void* dstptr,
                                          const void* srcptr, size_t size,
                                          ze_event_handle_t hSignalEvent, uint32_t numWaitEvents,
                                          ze_event_handle_t* phWaitEvents) {
  static constexpr const char* fn = "zeCommandListAppendMemoryCopy";
  ZE_LIST_AND_EVENTS(fn);
  ZE_NOT_NULL(dstptr, fn);
  ZE_NOT_NULL(srcptr, fn);
  Resolved dst = resolve(dstptr);
  Resolved src = resolve(srcptr);
  if ((dst.allocation && dst.offset + size > dst.allocation->size) ||
      (src.allocation && src.offset + size > src.allocation->size)) {
    return fail(ZE_RESULT_ERROR_INVALID_SIZE, "{}: {} bytes run past the end of an allocation", fn,
                size);
  }
  return guard(fn, [&] {
    return append(list, signal, std::move(waits),
                  [dst, src, size](Lane& lane) { return enqueue_copy(lane, dst, src, size, fn); },
                  fn);
  });
}

ze_result_t ZE_APICALL append_memory_copy_from_context(
    ze_command_list_handle_t hCommandList, void* dstptr, ze_context_handle_t hContextSrc,
    const void* srcptr, size_t size, ze_event_handle_t hSignalEvent, uint32_t numWaitEvents,
    ze_event_handle_t* phWaitEvents) {
  static constexpr const char* fn = "zeCommandListAppendMemoryCopyFromContext";
  ZE_OBJECT(Context, source, hContextSrc, fn);
  (void)source;
  return append_memory_copy(hCommandList, dstptr, srcptr, size, hSignalEvent, numWaitEvents,
                            phWaitEvents);
}

ze_result_t ZE_APICALL append_memory_fill(ze_command_list_handle_t hCommandList, void* ptr,
                                          const void* pattern, size_t pattern_size, size_t size,
                                          ze_event_handle_t hSignalEvent, uint32_t numWaitEvents,
                                          ze_event_handle_t* phWaitEvents) {
  static constexpr const char* fn = "zeCommandListAppendMemoryFill";
  ZE_LIST_AND_EVENTS(fn);
  ZE_NOT_NULL(ptr, fn);
  ZE_NOT_NULL(pattern, fn);
  if (pattern_size == 0 || (pattern_size & (pattern_size - 1)) != 0 || pattern_size > 128) {
    return fail(ZE_RESULT_ERROR_INVALID_SIZE,
                "{}: pattern_size {} is not a power of two up to maxMemoryFillPatternSize 128", fn,
                pattern_size);
  }
  Resolved dst = resolve(ptr);
  if (dst.allocation && dst.offset + size > dst.allocation->size) {
    return fail(ZE_RESULT_ERROR_INVALID_SIZE, "{}: {} bytes run past the end of the allocation",
                fn, size);
  }
  return guard(fn, [&] {
    std::vector<uint8_t> bytes(static_cast<const uint8_t*>(pattern),
                               static_cast<const uint8_t*>(pattern) + pattern_size);
    return append(list, signal, std::move(waits),
                  [dst, bytes = std::move(bytes), size](Lane& lane) {
                    return enqueue_fill(lane, dst, bytes, size, fn);
                  },
                  fn);
  });
}

ze_result_t ZE_APICALL append_memory_copy_region(
    ze_command_list_handle_t hCommandList, void* dstptr, const ze_copy_region_t* dstRegion,
    uint32_t dstPitch, uint32_t dstSlicePitch, const void* srcptr, const ze_copy_region_t* srcRegion,
    uint32_t srcPitch, uint32_t srcSlicePitch, ze_event_handle_t hSignalEvent,
    uint32_t numWaitEvents, ze_event_handle_t* phWaitEvents) {
  static constexpr const char* fn = "zeCommandListAppendMemoryCopyRegion";
  ZE_LIST_AND_EVENTS(fn);
  ZE_NOT_NULL(dstptr, fn);
  ZE_NOT_NULL(srcptr, fn);
  ZE_NOT_NULL(dstRegion, fn);
  ZE_NOT_NULL(srcRegion, fn);
  if (dstRegion->width != srcRegion->width || dstRegion->height != srcRegion->height ||
      dstRegion->depth != srcRegion->depth) {
    return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "{}: the regions differ in size ({}x{}x{} and {}x{}x{})", fn, dstRegion->width,
                dstRegion->height, dstRegion->depth, srcRegion->width, srcRegion->height,
                srcRegion->depth);
  }
  struct Row {
    Resolved dst, src;
  };
  const uint64_t width = srcRegion->width;
  const uint32_t height = std::max<uint32_t>(srcRegion->height, 1);
  const uint32_t depth = std::max<uint32_t>(srcRegion->depth, 1);
  return guard(fn, [&] {
    std::vector<Row> rows;
    rows.reserve(static_cast<size_t>(height) * depth);
    for (uint32_t z = 0; z < depth; ++z) {
      for (uint32_t y = 0; y < height; ++y) {
        const uint64_t d = uint64_t{dstRegion->originZ + z} * dstSlicePitch +
                           uint64_t{dstRegion->originY + y} * dstPitch + dstRegion->originX;
        const uint64_t s = uint64_t{srcRegion->originZ + z} * srcSlicePitch +
                           uint64_t{srcRegion->originY + y} * srcPitch + srcRegion->originX;
        Row row{resolve(static_cast<char*>(dstptr) + d), resolve(static_cast<const char*>(srcptr) + s)};
        if ((row.dst.allocation && row.dst.offset + width > row.dst.allocation->size) ||
            (row.src.allocation && row.src.offset + width > row.src.allocation->size)) {
          return fail(ZE_RESULT_ERROR_INVALID_SIZE,
                      "{}: row {} of slice {} runs past the end of an allocation", fn, y, z);
        }
        rows.push_back(std::move(row));
      }
    }
    return append(list, signal, std::move(waits),
                  [rows = std::move(rows), width](Lane& lane) {
                    for (const Row& row : rows) {
                      if (ze_result_t z = enqueue_copy(lane, row.dst, row.src, width, fn);
                          z != ZE_RESULT_SUCCESS) {
                        return z;
                      }
                    }
                    return ZE_RESULT_SUCCESS;
                  },
                  fn);
  });
}

ze_result_t ZE_APICALL append_memory_prefetch(ze_command_list_handle_t hCommandList,
                                              const void* ptr, size_t) {
  static constexpr const char* fn = "zeCommandListAppendMemoryPrefetch";
  ZE_OBJECT(CommandList, list, hCommandList, fn);
  ZE_NOT_NULL(ptr, fn);
  (void)list;
  return ZE_RESULT_SUCCESS;  // a hint; UDAL memory does not migrate
}

ze_result_t ZE_APICALL append_mem_advise(ze_command_list_handle_t hCommandList,
                                         ze_device_handle_t hDevice, const void* ptr, size_t,
                                         ze_memory_advice_t advice) {
  static constexpr const char* fn = "zeCommandListAppendMemAdvise";
  ZE_OBJECT(CommandList, list, hCommandList, fn);
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(ptr, fn);
  (void)list, (void)device;
  if (advice > ZE_MEMORY_ADVICE_BIAS_UNCACHED) {
    return fail(ZE_RESULT_ERROR_INVALID_ENUMERATION, "{}: advice {} is not a ze_memory_advice_t",
                fn, static_cast<int>(advice));
  }
  return ZE_RESULT_SUCCESS;  // a hint
}

ze_result_t ZE_APICALL append_signal_event(ze_command_list_handle_t hCommandList,
                                           ze_event_handle_t hEvent) {
  static constexpr const char* fn = "zeCommandListAppendSignalEvent";
  ZE_OBJECT(CommandList, list, hCommandList, fn);
  ZE_OBJECT(Event, event, hEvent, fn);
  return guard(fn, [&] { return append(list, event, {}, nullptr, fn); });
}

ze_result_t ZE_APICALL append_wait_on_events(ze_command_list_handle_t hCommandList,
                                             uint32_t numEvents, ze_event_handle_t* phEvents) {
  static constexpr const char* fn = "zeCommandListAppendWaitOnEvents";
  ZE_OBJECT(CommandList, list, hCommandList, fn);
  ZE_NOT_NULL(phEvents, fn);
  Event* none = nullptr;
  std::vector<Event*> waits;
  if (ze_result_t z = check_events(nullptr, numEvents, phEvents, &none, &waits, fn);
      z != ZE_RESULT_SUCCESS) {
    return z;
  }
  return guard(fn, [&] { return append(list, nullptr, std::move(waits), nullptr, fn); });
}

ze_result_t ZE_APICALL append_event_reset(ze_command_list_handle_t hCommandList,
                                          ze_event_handle_t hEvent) {
  static constexpr const char* fn = "zeCommandListAppendEventReset";
  ZE_OBJECT(CommandList, list, hCommandList, fn);
  ZE_OBJECT(Event, event, hEvent, fn);
  return guard(fn, [&] {
    return append(list, nullptr, {},
                  [event](Lane& lane) { return lane.host([event] { event->host_reset(); }, fn); },
                  fn);
  });
}

ze_result_t ZE_APICALL append_write_global_timestamp(ze_command_list_handle_t hCommandList,
                                                     uint64_t* dstptr,
                                                     ze_event_handle_t hSignalEvent,
                                                     uint32_t numWaitEvents,
                                                     ze_event_handle_t* phWaitEvents) {
  static constexpr const char* fn = "zeCommandListAppendWriteGlobalTimestamp";
  ZE_LIST_AND_EVENTS(fn);
  ZE_NOT_NULL(dstptr, fn);
  Resolved dst = resolve(dstptr);
  return guard(fn, [&] {
    return append(list, signal, std::move(waits),
                  [dst](Lane& lane) -> ze_result_t {
                    Device* device = lane.device;
                    udal_event_t stamp = nullptr;
                    if (device->timestamps) {
                      udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
                      desc.flags = UDAL_EVENT_FLAG_TIMING;
                      if (udal_event_create(device->udal, &desc, &stamp) == UDAL_SUCCESS &&
                          udal_stream_record_event(lane.stream, stamp) != UDAL_SUCCESS) {
                        udal_event_destroy(stamp);
                        stamp = nullptr;
                      }
                    }
                    auto bytes = std::make_shared<std::vector<uint8_t>>(sizeof(uint64_t));
                    ze_result_t z = lane.host(
                        [bytes, device, stamp] {
                          const uint64_t now = device->device_ns(stamp);
                          if (stamp != nullptr) udal_event_destroy(stamp);
                          std::memcpy(bytes->data(), &now, sizeof(now));
                        },
                        fn);
                    if (z != ZE_RESULT_SUCCESS) {
                      if (stamp != nullptr) udal_event_destroy(stamp);
                      return z;
                    }
                    return enqueue_store(lane, dst, bytes, fn);
                  },
                  fn);
  });
}

ze_result_t ZE_APICALL append_query_kernel_timestamps(
    ze_command_list_handle_t hCommandList, uint32_t numEvents, ze_event_handle_t* phEvents,
    void* dstptr, const size_t* pOffsets, ze_event_handle_t hSignalEvent, uint32_t numWaitEvents,
    ze_event_handle_t* phWaitEvents) {
  static constexpr const char* fn = "zeCommandListAppendQueryKernelTimestamps";
  ZE_LIST_AND_EVENTS(fn);
  ZE_NOT_NULL(phEvents, fn);
  ZE_NOT_NULL(dstptr, fn);
  std::vector<Event*> events;
  for (uint32_t i = 0; i < numEvents; ++i) {
    Event* e = from_handle<Event>(phEvents[i]);
    if (e == nullptr) return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: phEvents[{}] is not an event", fn, i);
    if (!e->pool->timestamps()) {
      return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,
                  "{}: phEvents[{}]'s pool has no ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP", fn, i);
    }
    events.push_back(e);
  }
  std::vector<size_t> offsets;
  for (uint32_t i = 0; i < numEvents; ++i) {
    offsets.push_back(pOffsets != nullptr ? pOffsets[i] : i * sizeof(ze_kernel_timestamp_result_t));
  }
  return guard(fn, [&] {
    return append(
        list, signal, std::move(waits),
        [events, offsets, dstptr](Lane& lane) -> ze_result_t {
          for (size_t i = 0; i < events.size(); ++i) {
            auto bytes = std::make_shared<std::vector<uint8_t>>(sizeof(ze_kernel_timestamp_result_t));
            Event* e = events[i];
            ze_result_t z = lane.host(
                [bytes, e] {
                  std::lock_guard lock(event_mutex());
                  std::memcpy(bytes->data(), &e->timestamp, sizeof(e->timestamp));
                },
                fn);
            if (z == ZE_RESULT_SUCCESS) {
              z = enqueue_store(lane, resolve(static_cast<char*>(dstptr) + offsets[i]), bytes, fn);
            }
            if (z != ZE_RESULT_SUCCESS) return z;
          }
          return ZE_RESULT_SUCCESS;
        },
        fn);
  });
}

ze_result_t launch(ze_command_list_handle_t hCommandList, ze_kernel_handle_t hKernel,
                   const ze_group_count_t* groups, ze_event_handle_t hSignalEvent,
                   uint32_t numWaitEvents, ze_event_handle_t* phWaitEvents, const char* fn) {
  ZE_LIST_AND_EVENTS(fn);
  ZE_OBJECT(Kernel, kernel, hKernel, fn);
  ZE_NOT_NULL(groups, fn);
  if (kernel->device != list->device) {
    return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "{}: the kernel's module was built for another device", fn);
  }
  return guard(fn, [&] {
    std::shared_ptr<LaunchCapture> capture;
    if (ze_result_t z = capture_launch(kernel, *groups, &capture, fn); z != ZE_RESULT_SUCCESS) {
      return z;
    }
    if (groups->groupCountX == 0 || groups->groupCountY == 0 || groups->groupCountZ == 0) {
      return append(list, signal, std::move(waits), nullptr, fn);  // no work
    }
    return append(list, signal, std::move(waits),
                  [capture, fn](Lane& lane) -> ze_result_t {
                    udal_result_t r = udal_stream_launch(lane.stream, capture->kernel, &capture->desc);
                    return r == UDAL_SUCCESS ? ZE_RESULT_SUCCESS : from_udal(r, fn);
                  },
                  fn);
  });
}

ze_result_t ZE_APICALL append_launch_kernel(ze_command_list_handle_t hCommandList,
                                            ze_kernel_handle_t hKernel,
                                            const ze_group_count_t* pLaunchFuncArgs,
                                            ze_event_handle_t hSignalEvent, uint32_t numWaitEvents,
                                            ze_event_handle_t* phWaitEvents) {
  return launch(hCommandList, hKernel, pLaunchFuncArgs, hSignalEvent, numWaitEvents,
                phWaitEvents, "zeCommandListAppendLaunchKernel");
}

ze_result_t ZE_APICALL append_launch_cooperative_kernel(ze_command_list_handle_t hCommandList,
                                                        ze_kernel_handle_t hKernel,
                                                        const ze_group_count_t* pLaunchFuncArgs,
                                                        ze_event_handle_t hSignalEvent,
                                                        uint32_t numWaitEvents,
                                                        ze_event_handle_t* phWaitEvents) {
  return launch(hCommandList, hKernel, pLaunchFuncArgs, hSignalEvent, numWaitEvents,
                phWaitEvents, "zeCommandListAppendLaunchCooperativeKernel");
}

// Reads |bytes| bytes at |where| in stream order into |staging| (host-reachable memory is
// read by the deferred function itself; device memory is read into the staging copy first).
ze_result_t stage_read(Lane& lane, const Resolved& where, size_t bytes,
                       const std::shared_ptr<std::vector<uint8_t>>& staging, const void** from,
                       const char* fn) {
  staging->resize(bytes);
  if (const void* host = host_address(where); host != nullptr && !on_lane(where, lane)) {
    *from = host;
    return ZE_RESULT_SUCCESS;
  }
  if (!on_lane(where, lane)) {
    return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                "{}: launch arguments in memory of another device are not implemented", fn);
  }
  if (where.offset + bytes > where.allocation->size) {
    return fail(ZE_RESULT_ERROR_INVALID_SIZE, "{}: the launch arguments run past the allocation",
                fn);
  }
  udal_result_t r = udal_stream_read_buffer(lane.stream, where.allocation->buffer, where.offset,
                                            staging->data(), bytes);
  if (r != UDAL_SUCCESS) return from_udal(r, fn);
  *from = staging->data();
  return ZE_RESULT_SUCCESS;
}

// Indirect launches: the group counts (and the kernel count) are read when the lane gets
// there, then the launches run on the lane's helper stream while the lane waits for them.
ze_result_t indirect(ze_command_list_handle_t hCommandList, uint32_t numKernels,
                     ze_kernel_handle_t* phKernels, const uint32_t* pCountBuffer,
                     const ze_group_count_t* pLaunchArgumentsBuffer, ze_event_handle_t hSignalEvent,
                     uint32_t numWaitEvents, ze_event_handle_t* phWaitEvents, const char* fn) {
  ZE_LIST_AND_EVENTS(fn);
  ZE_NOT_NULL(phKernels, fn);
  ZE_NOT_NULL(pLaunchArgumentsBuffer, fn);
  return guard(fn, [&] {
    std::vector<std::shared_ptr<LaunchCapture>> captures;
    for (uint32_t i = 0; i < numKernels; ++i) {
      Kernel* kernel = from_handle<Kernel>(phKernels[i]);
      if (kernel == nullptr) {
        return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "{}: phKernels[{}] is not a kernel", fn, i);
      }
      if (kernel->device != list->device) {
        return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,
                    "{}: kernel {}'s module was built for another device", fn, i);
      }
      std::shared_ptr<LaunchCapture> capture;
      const ze_group_count_t one{1, 1, 1};
      if (ze_result_t z = capture_launch(kernel, one, &capture, fn); z != ZE_RESULT_SUCCESS) {
        return z;
      }
      captures.push_back(std::move(capture));
    }
    const Resolved counts = resolve(pLaunchArgumentsBuffer);
    const Resolved count = pCountBuffer != nullptr ? resolve(pCountBuffer) : Resolved{};
    return append(
        list, signal, std::move(waits),
        [captures, counts, count, has_count = pCountBuffer != nullptr, fn](Lane& lane) -> ze_result_t {
          auto group_bytes = std::make_shared<std::vector<uint8_t>>();
          auto count_bytes = std::make_shared<std::vector<uint8_t>>();
          const void* groups_at = nullptr;
          const void* count_at = nullptr;
          ze_result_t z = stage_read(lane, counts, captures.size() * sizeof(ze_group_count_t),
                                     group_bytes, &groups_at, fn);
          if (z == ZE_RESULT_SUCCESS && has_count) {
            z = stage_read(lane, count, sizeof(uint32_t), count_bytes, &count_at, fn);
          }
          if (z != ZE_RESULT_SUCCESS) return z;
          return lane.deferred(
              [captures, group_bytes, count_bytes, groups_at, count_at, fn](udal_stream_t helper) {
                uint32_t n = static_cast<uint32_t>(captures.size());
                if (count_at != nullptr) {
                  uint32_t actual = 0;
                  std::memcpy(&actual, count_at, sizeof(actual));
                  n = std::min(n, actual);
                }
                for (uint32_t i = 0; i < n; ++i) {
                  ze_group_count_t groups{};
                  std::memcpy(&groups, static_cast<const uint8_t*>(groups_at) + i * sizeof(groups),
                              sizeof(groups));
                  if (groups.groupCountX == 0 || groups.groupCountY == 0 || groups.groupCountZ == 0) {
                    continue;
                  }
                  udal_launch_desc_t desc = captures[i]->desc;
                  desc.group_count[0] = groups.groupCountX;
                  desc.group_count[1] = groups.groupCountY;
                  desc.group_count[2] = groups.groupCountZ;
                  if (udal_result_t r = udal_stream_launch(helper, captures[i]->kernel, &desc);
                      r != UDAL_SUCCESS) {
                    from_udal(r, fn);  // logged; the launch is lost
                  }
                }
              },
              fn);
        },
        fn);
  });
}

ze_result_t ZE_APICALL append_launch_kernel_indirect(ze_command_list_handle_t hCommandList,
                                                     ze_kernel_handle_t hKernel,
                                                     const ze_group_count_t* pLaunchArgumentsBuffer,
                                                     ze_event_handle_t hSignalEvent,
                                                     uint32_t numWaitEvents,
                                                     ze_event_handle_t* phWaitEvents) {
  ze_kernel_handle_t kernels[1] = {hKernel};
  if (hKernel == nullptr) {
    return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "zeCommandListAppendLaunchKernelIndirect: hKernel is NULL");
  }
  return indirect(hCommandList, 1, kernels, nullptr, pLaunchArgumentsBuffer, hSignalEvent,
                  numWaitEvents, phWaitEvents, "zeCommandListAppendLaunchKernelIndirect");
}

ze_result_t ZE_APICALL append_launch_multiple_kernels_indirect(
    ze_command_list_handle_t hCommandList, uint32_t numKernels, ze_kernel_handle_t* phKernels,
    const uint32_t* pCountBuffer, const ze_group_count_t* pLaunchArgumentsBuffer,
    ze_event_handle_t hSignalEvent, uint32_t numWaitEvents, ze_event_handle_t* phWaitEvents) {
  static constexpr const char* fn = "zeCommandListAppendLaunchMultipleKernelsIndirect";
  ZE_NOT_NULL(pCountBuffer, fn);
  return indirect(hCommandList, numKernels, phKernels, pCountBuffer, pLaunchArgumentsBuffer,
                  hSignalEvent, numWaitEvents, phWaitEvents, fn);
}

}  // namespace

void fill(ze_command_queue_dditable_t* t) noexcept {
  t->pfnCreate = queue_create;
  t->pfnDestroy = queue_destroy;
  t->pfnExecuteCommandLists = queue_execute;
  t->pfnSynchronize = queue_synchronize;
}

void fill(ze_command_list_dditable_t* t) noexcept {
  t->pfnCreate = list_create;
  t->pfnCreateImmediate = list_create_immediate;
  t->pfnDestroy = list_destroy;
  t->pfnClose = list_close;
  t->pfnReset = list_reset;
  t->pfnAppendWriteGlobalTimestamp = append_write_global_timestamp;
  t->pfnAppendBarrier = append_barrier;
  t->pfnAppendMemoryRangesBarrier = append_memory_ranges_barrier;
  t->pfnAppendMemoryCopy = append_memory_copy;
  t->pfnAppendMemoryFill = append_memory_fill;
  t->pfnAppendMemoryCopyRegion = append_memory_copy_region;
  t->pfnAppendMemoryCopyFromContext = append_memory_copy_from_context;
  t->pfnAppendMemoryPrefetch = append_memory_prefetch;
  t->pfnAppendMemAdvise = append_mem_advise;
  t->pfnAppendSignalEvent = append_signal_event;
  t->pfnAppendWaitOnEvents = append_wait_on_events;
  t->pfnAppendEventReset = append_event_reset;
  t->pfnAppendQueryKernelTimestamps = append_query_kernel_timestamps;
  t->pfnAppendLaunchKernel = append_launch_kernel;
  t->pfnAppendLaunchCooperativeKernel = append_launch_cooperative_kernel;
  t->pfnAppendLaunchKernelIndirect = append_launch_kernel_indirect;
  t->pfnAppendLaunchMultipleKernelsIndirect = append_launch_multiple_kernels_indirect;
}

}  // namespace udal::ze
