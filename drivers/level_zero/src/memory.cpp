// Event slots and buffers. A buffer is one zeMemAlloc{Device,Host,Shared} allocation; its
// pointer is its device address. Work enqueued on a stream holds the allocation until a
// later checkpoint of that stream has completed, so destroying a buffer with work in flight
// frees the memory only after that work.
#include "ze_driver.h"
#include "udal/sdk/buffer_info.h"

namespace udal::level_zero {

using udal::sdk::fail;

// ----- slots ------------------------------------------------------------------------------

namespace {
constexpr uint32_t kSlotsPerBlock = 256;
}

Slot::~Slot() {
  if (device != nullptr && device->slots != nullptr) device->slots->give_back(this);
}

SlotRef SlotPool::take(bool timing, ze_result_t* result) {
  *result = ZE_RESULT_SUCCESS;
  std::pair<ze_event_handle_t, uint64_t*> got{nullptr, nullptr};
  {
    std::lock_guard lock(mutex_);
    auto& list = free_[timing ? 1 : 0];
    if (list.empty()) {
      Block block;
      ze_event_pool_desc_t desc{ZE_STRUCTURE_TYPE_EVENT_POOL_DESC, nullptr,
                                ZE_EVENT_POOL_FLAG_HOST_VISIBLE, kSlotsPerBlock};
      *result = zeEventPoolCreate(device_->context, &desc, 1, &device_->device, &block.pool);
      if (*result != ZE_RESULT_SUCCESS) return nullptr;
      if (timing) {
        ze_host_mem_alloc_desc_t host{ZE_STRUCTURE_TYPE_HOST_MEM_ALLOC_DESC, nullptr, 0};
        void* cells = nullptr;
        *result = zeMemAllocHost(device_->context, &host, kSlotsPerBlock * sizeof(uint64_t), 64, &cells);
        if (*result != ZE_RESULT_SUCCESS) {
          zeEventPoolDestroy(block.pool);
          return nullptr;
        }
        block.stamps = static_cast<uint64_t*>(cells);
      }
      std::vector<std::pair<ze_event_handle_t, uint64_t*>> made;
      for (uint32_t i = 0; i < kSlotsPerBlock; ++i) {
        ze_event_desc_t event_desc{ZE_STRUCTURE_TYPE_EVENT_DESC, nullptr, i, ZE_EVENT_SCOPE_FLAG_HOST,
                                   ZE_EVENT_SCOPE_FLAG_HOST};
        ze_event_handle_t event = nullptr;
        *result = zeEventCreate(block.pool, &event_desc, &event);
        if (*result != ZE_RESULT_SUCCESS) {
          for (auto& m : made) zeEventDestroy(m.first);
          if (block.stamps != nullptr) zeMemFree(device_->context, block.stamps);
          zeEventPoolDestroy(block.pool);
          return nullptr;
        }
        made.emplace_back(event, block.stamps != nullptr ? block.stamps + i : nullptr);
      }
      blocks_.push_back(block);
      // Handed out from the back: keep the block's order.
      list.insert(list.end(), made.rbegin(), made.rend());
    }
    got = list.back();
    list.pop_back();
  }
  auto slot = std::make_shared<Slot>();
  slot->device = device_;
  slot->event = got.first;
  slot->stamp = got.second;
  slot->timing = timing;
  return slot;
}

void SlotPool::give_back(Slot* slot) noexcept {
  zeEventHostReset(slot->event);
  try {
    std::lock_guard lock(mutex_);
    free_[slot->timing ? 1 : 0].emplace_back(slot->event, slot->stamp);
  } catch (...) {
    // Out of memory: the event stays in its pool, destroyed with it.
  }
}

SlotPool::~SlotPool() {
  for (auto& list : free_) {
    for (auto& [event, stamp] : list) zeEventDestroy(event);
  }
  for (Block& b : blocks_) {
    if (b.stamps != nullptr) zeMemFree(device_->context, b.stamps);
    zeEventPoolDestroy(b.pool);
  }
}

// ----- buffers ----------------------------------------------------------------------------

Allocation::~Allocation() {
  if (pointer != nullptr) zeMemFree(device->context, pointer);
  (kind == UDAL_BUFFER_KIND_DEVICE ? device->device_allocated : device->host_allocated) -= size;
}

udal_result_t buffer_create(udal_device_t device_handle, const udal_buffer_desc_t* desc_in,
                            udal_buffer_t* out_buffer) {
  static constexpr const char* fn = "udal_buffer_create";
  if (out_buffer == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_buffer is NULL", fn);
  *out_buffer = nullptr;
  if (desc_in == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", fn);
  if (udal_result_t r = udal::sdk::check_struct(fn, "desc", desc_in)) return r;
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    Device* device = to_device(device_handle);
    DeviceState& state = *device->state;
    const udal_buffer_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->size is 0", fn);
    if (desc.kind != UDAL_BUFFER_KIND_DEVICE && desc.kind != UDAL_BUFFER_KIND_HOST &&
        desc.kind != UDAL_BUFFER_KIND_SHARED) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->kind {} is not a udal_buffer_kind_t", fn,
                  static_cast<int>(desc.kind));
    }
    if (desc.alignment != 0 && (desc.alignment & (desc.alignment - 1)) != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->alignment {} is not a power of two", fn, desc.alignment);
    }
    if ((desc.flags & ~UDAL_BUFFER_FLAG_DEVICE_ADDRESS) != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->flags {:#x} has unknown bits", fn, desc.flags);
    }
    const udal_device_features_t need = desc.kind == UDAL_BUFFER_KIND_HOST     ? UDAL_DEVICE_FEATURE_HOST_BUFFERS
                                        : desc.kind == UDAL_BUFFER_KIND_SHARED ? UDAL_DEVICE_FEATURE_SHARED_BUFFERS
                                                                               : 0;
    if (need != 0 && (state.info.features & need) == 0) {
      return fail(UDAL_ERROR_UNSUPPORTED, "{}: device '{}' has no {} buffers", fn, state.info.name,
                  desc.kind == UDAL_BUFFER_KIND_HOST ? "HOST" : "SHARED");
    }
    if (desc.size > state.info.max_allocation_bytes) {
      return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, "{}: {} bytes exceed max_allocation_bytes ({}) of device '{}'",
                  fn, desc.size, state.info.max_allocation_bytes, state.info.name);
    }
    const bool host_kind = desc.kind != UDAL_BUFFER_KIND_DEVICE;
    std::atomic<uint64_t>& counter = host_kind ? state.host_allocated : state.device_allocated;
    const uint64_t budget = host_kind ? state.info.host_visible_memory_bytes : state.info.device_memory_bytes;
    uint64_t before = counter.load();
    do {
      if (desc.size > budget || before > budget - desc.size) {
        return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                    "{}: {} bytes of {} memory exceed what is left of device '{}' ({} of {} bytes in use)",
                    fn, desc.size, host_kind ? "host-visible" : "device", state.info.name, before, budget);
      }
    } while (!counter.compare_exchange_weak(before, before + desc.size));
    auto allocation = std::make_shared<Allocation>();
    allocation->device = &state;
    allocation->size = desc.size;
    allocation->kind = desc.kind;
    const uint64_t alignment = std::max<uint64_t>(desc.alignment, state.info.min_buffer_alignment);
    ze_device_mem_alloc_desc_t device_desc{ZE_STRUCTURE_TYPE_DEVICE_MEM_ALLOC_DESC, nullptr, 0, 0};
    ze_host_mem_alloc_desc_t host_desc{ZE_STRUCTURE_TYPE_HOST_MEM_ALLOC_DESC, nullptr, 0};
    ze_result_t r = ZE_RESULT_SUCCESS;
    switch (desc.kind) {
      case UDAL_BUFFER_KIND_HOST:
        r = zeMemAllocHost(state.context, &host_desc, desc.size, alignment, &allocation->pointer);
        break;
      case UDAL_BUFFER_KIND_SHARED:
        r = zeMemAllocShared(state.context, &device_desc, &host_desc, desc.size, alignment, state.device,
                             &allocation->pointer);
        break;
      default:
        r = zeMemAllocDevice(state.context, &device_desc, desc.size, alignment, state.device, &allocation->pointer);
        break;
    }
    if (r != ZE_RESULT_SUCCESS) {
      allocation->pointer = nullptr;
      return fail_ze(fn, "zeMemAlloc", r,
                     r == ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT || r == ZE_RESULT_ERROR_UNSUPPORTED_SIZE
                         ? UDAL_ERROR_UNSUPPORTED
                         : UDAL_ERROR_OUT_OF_DEVICE_MEMORY);
    }
    auto buffer = std::make_unique<Buffer>();
    buffer->dispatch = device->dispatch;
    buffer->device = device;
    buffer->memory = std::move(allocation);
    buffer->size = desc.size;
    buffer->alignment = alignment;
    buffer->flags = desc.flags;
    buffer->kind = desc.kind;
    buffer->mapped = false;
    state.buffers.add(buffer.get());
    *out_buffer = udal::sdk::to_handle<udal_buffer_t>(buffer.release());
    return UDAL_SUCCESS;
  });
}

void destroy_buffer(Buffer* buffer) noexcept {
  std::unique_ptr<Buffer> owned(buffer);
  buffer->device->state->buffers.remove(buffer);
  // The allocation goes when the last stream that used it has passed a later checkpoint.
}

udal_result_t buffer_destroy(udal_buffer_t handle) {
  Buffer* buffer = to_buffer(handle);
  if (buffer->mapped) {
    return fail(UDAL_ERROR_INVALID_STATE, "udal_buffer_destroy: buffer {} is mapped; unmap it first",
                fmt::ptr(handle));
  }
  destroy_buffer(buffer);
  return UDAL_SUCCESS;
}

udal_result_t buffer_get_info(udal_buffer_t handle, udal_buffer_info_t* out_info) {
  return udal::sdk::get_buffer_info(*to_buffer(handle), out_info);
}

udal_result_t buffer_map(udal_buffer_t handle, uint64_t offset, uint64_t size, void** out_ptr) {
  static constexpr const char* fn = "udal_buffer_map";
  if (out_ptr == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_ptr is NULL", fn);
  *out_ptr = nullptr;
  Buffer* buffer = to_buffer(handle);
  if (buffer->kind == UDAL_BUFFER_KIND_DEVICE) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: buffer {} is a DEVICE buffer, which is not mappable", fn,
                fmt::ptr(handle));
  }
  if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (offset > buffer->size || size > buffer->size - offset) {
    return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: {} bytes at offset {} run past the end of buffer {} ({} bytes)", fn,
                size, offset, fmt::ptr(handle), buffer->size);
  }
  bool expected = false;
  if (!buffer->mapped.compare_exchange_strong(expected, true)) {
    return fail(UDAL_ERROR_INVALID_STATE, "{}: buffer {} is already mapped", fn, fmt::ptr(handle));
  }
  // Host and shared memory is the host's: the mapping is the allocation itself.
  *out_ptr = buffer->base() + offset;
  return UDAL_SUCCESS;
}

udal_result_t buffer_unmap(udal_buffer_t handle) {
  Buffer* buffer = to_buffer(handle);
  bool expected = true;
  if (!buffer->mapped.compare_exchange_strong(expected, false)) {
    return fail(UDAL_ERROR_INVALID_STATE, "udal_buffer_unmap: buffer {} is not mapped", fmt::ptr(handle));
  }
  return UDAL_SUCCESS;
}

udal_result_t buffer_get_device_address(udal_buffer_t handle, uint64_t* out_address) {
  static constexpr const char* fn = "udal_buffer_get_device_address";
  if (out_address == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_address is NULL", fn);
  *out_address = 0;
  const Buffer* buffer = to_buffer(handle);
  if ((buffer->flags & UDAL_BUFFER_FLAG_DEVICE_ADDRESS) == 0) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: buffer {} was created without UDAL_BUFFER_FLAG_DEVICE_ADDRESS", fn, fmt::ptr(handle));
  }
  *out_address = reinterpret_cast<uintptr_t>(buffer->memory->pointer);
  return UDAL_SUCCESS;
}

}  // namespace udal::level_zero
