#include "buffer.h"

#include <algorithm>

namespace udal::vulkan {
namespace {

using udal::sdk::fail;

// The largest alignment a buffer may ask for: a huge page. Larger ones would mostly waste
// memory (a block is over-allocated by the alignment).
constexpr uint64_t kMaxAlignment = 2ull << 20;

const char* kind_name(udal_buffer_kind_t kind) noexcept {
  switch (kind) {
    case UDAL_BUFFER_KIND_DEVICE: return "DEVICE";
    case UDAL_BUFFER_KIND_HOST: return "HOST";
    case UDAL_BUFFER_KIND_SHARED: return "SHARED";
    default: return "(unknown)";
  }
}

}  // namespace

std::byte* host_address(const Buffer& buffer) noexcept {
  if (buffer.kind == UDAL_BUFFER_KIND_DEVICE && !buffer.device->map_device_buffers) return nullptr;
  return buffer.allocation->mapped();
}

udal_result_t check_range(const char* function, const char* what, const Buffer& buffer,
                          uint64_t offset, uint64_t size) noexcept {
  if (offset > buffer.size || size > buffer.size - offset) {
    return fail(UDAL_ERROR_OUT_OF_RANGE,
                "{}: {} of {} bytes at offset {} runs past the end of buffer {} ({} bytes)",
                function, what, size, offset, static_cast<const void*>(&buffer), buffer.size);
  }
  return UDAL_SUCCESS;
}

udal_result_t check_device(const char* function, const char* what, const Buffer& buffer,
                           const DeviceState& device) noexcept {
  if (buffer.device == &device) return UDAL_SUCCESS;
  return fail(UDAL_ERROR_INVALID_HANDLE,
              "{}: {} (buffer {}) belongs to device {}, not to the stream's device ({})", function,
              what, static_cast<const void*>(&buffer), buffer.device->info.name, device.info.name);
}

udal_result_t buffer_create(udal_device_t device_handle, const udal_buffer_desc_t* desc_in,
                            udal_buffer_t* out_buffer) {
  constexpr const char* fn = "udal_buffer_create";
  if (out_buffer == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_buffer is NULL", fn);
  *out_buffer = nullptr;
  if (desc_in == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", fn);
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const udal_buffer_desc_t desc = udal::sdk::read_struct(desc_in);
    if (udal_result_t r = refuse_chain(fn, "desc", desc_in->next); r != UDAL_SUCCESS) return r;
    DeviceState& device = *to_device(device_handle)->state;
    if (desc.size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
    if (desc.alignment & (desc.alignment - 1)) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: alignment {} is not a power of two", fn,
                  desc.alignment);
    }
    if (desc.alignment > kMaxAlignment) {
      return fail(UDAL_ERROR_UNSUPPORTED, "{}: alignment {} is over the largest the Vulkan driver "
                  "gives ({} bytes)", fn, desc.alignment, kMaxAlignment);
    }
    if (desc.flags & ~UDAL_BUFFER_FLAG_DEVICE_ADDRESS) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: flags {:#x} has bits no UDAL_BUFFER_FLAG_* "
                  "defines ({:#x})", fn, desc.flags, desc.flags & ~UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
    }
    const bool device_address = (desc.flags & UDAL_BUFFER_FLAG_DEVICE_ADDRESS) != 0;
    if (device_address && !device.device_address) {
      return fail(UDAL_ERROR_UNSUPPORTED, "{}: UDAL_BUFFER_FLAG_DEVICE_ADDRESS needs "
                  "bufferDeviceAddress, which device {} lacks", fn, device.info.name);
    }
    uint32_t type = kNoMemoryType;
    switch (desc.kind) {
      case UDAL_BUFFER_KIND_DEVICE: type = device.device_type; break;
      case UDAL_BUFFER_KIND_HOST: type = device.host_type; break;
      case UDAL_BUFFER_KIND_SHARED: type = device.shared_type; break;
      default:
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kind {} is not a udal_buffer_kind_t", fn,
                    static_cast<int>(desc.kind));
    }
    if (type == kNoMemoryType) {
      return fail(UDAL_ERROR_UNSUPPORTED, "{}: device {} has no memory for {} buffers", fn,
                  device.info.name, kind_name(desc.kind));
    }
    if (desc.size > device.max_allocation) {
      return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                  "{}: {} bytes is more than the largest allocation of device {} ({} bytes)", fn,
                  desc.size, device.info.name, device.max_allocation);
    }
    const uint32_t heap = device.memory_properties.memoryTypes[type].heapIndex;
    const uint64_t heap_size = device.memory_properties.memoryHeaps[heap].size;
    if (desc.size > heap_size) {
      return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                  "{}: {} bytes is more than the memory heap of device {} holds ({} bytes)", fn,
                  desc.size, device.info.name, heap_size);
    }
    AllocationRequest request;
    request.type = type;
    request.size = desc.size;
    request.alignment = desc.alignment;
    request.device_address = device_address;
    VkResult error = VK_SUCCESS;
    auto allocation = device.memory->allocate(request, &error);
    if (!allocation) {
      if (error == VK_ERROR_OUT_OF_HOST_MEMORY || error == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
        return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                    "{}: device {} cannot allocate {} bytes of {} memory ({}): its heap of {} "
                    "bytes (budget {}) holds {} bytes of UDAL memory already",
                    fn, device.info.name, desc.size, kind_name(desc.kind), vk_result_name(error),
                    heap_size, device.heap_budget(heap), device.memory->heap_bytes(heap));
      }
      return fail_vk(fn, "allocating the buffer's memory", error);
    }
    allocation->count_in(desc.kind == UDAL_BUFFER_KIND_DEVICE ? &device.device_buffer_bytes
                                                             : &device.host_visible_buffer_bytes,
                         desc.size);
    auto buffer = std::make_unique<Buffer>();
    buffer->dispatch = to_device(device_handle)->dispatch;
    buffer->device_handle = device_handle;
    buffer->device = &device;
    buffer->kind = desc.kind;
    buffer->size = desc.size;
    buffer->alignment = std::max(desc.alignment, device.min_alignment);
    buffer->flags = desc.flags;
    buffer->device_address = 0;
    if (device_address) {
      VkBufferDeviceAddressInfo info{VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO};
      info.buffer = allocation->buffer();
      buffer->device_address = vkGetBufferDeviceAddress(device.vk(), &info);
    }
    buffer->allocation = std::move(allocation);
    buffer->mapped = false;
    *out_buffer = udal::sdk::to_handle<udal_buffer_t>(buffer.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t buffer_destroy(udal_buffer_t handle) {
  Buffer* buffer = to_buffer(handle);
  if (buffer->mapped.load()) {
    return fail(UDAL_ERROR_INVALID_STATE, "udal_buffer_destroy: buffer {} is mapped; unmap it "
                "first", static_cast<void*>(handle));
  }
  // Work in flight holds the allocation; its memory goes back to the pool when the last of
  // it completes.
  std::unique_ptr<Buffer> owner(buffer);
  return UDAL_SUCCESS;
}

udal_result_t buffer_get_info(udal_buffer_t handle, udal_buffer_info_t* out_info) {
  constexpr const char* fn = "udal_buffer_get_info";
  if (out_info == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", fn);
  udal::sdk::clear_struct(out_info);
  if (udal_result_t r = refuse_chain(fn, "out_info", out_info->next); r != UDAL_SUCCESS) return r;
  const Buffer& buffer = *to_buffer(handle);
  udal_buffer_info_t info{};
  info.type = UDAL_STRUCTURE_TYPE_BUFFER_INFO;
  info.struct_size = sizeof(info);
  info.device = buffer.device_handle;
  info.kind = buffer.kind;
  info.size = buffer.size;
  info.alignment = buffer.alignment;
  info.flags = buffer.flags;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

udal_result_t buffer_get_device_address(udal_buffer_t handle, uint64_t* out_address) {
  constexpr const char* fn = "udal_buffer_get_device_address";
  if (out_address == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_address is NULL", fn);
  *out_address = 0;
  const Buffer& buffer = *to_buffer(handle);
  if (!(buffer.flags & UDAL_BUFFER_FLAG_DEVICE_ADDRESS)) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: buffer {} was created without "
                "UDAL_BUFFER_FLAG_DEVICE_ADDRESS", fn, static_cast<void*>(handle));
  }
  *out_address = buffer.device_address;
  return UDAL_SUCCESS;
}

udal_result_t buffer_map(udal_buffer_t handle, uint64_t offset, uint64_t size, void** out_ptr) {
  constexpr const char* fn = "udal_buffer_map";
  if (out_ptr == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_ptr is NULL", fn);
  *out_ptr = nullptr;
  Buffer& buffer = *to_buffer(handle);
  if (buffer.kind == UDAL_BUFFER_KIND_DEVICE) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: buffer {} is a DEVICE buffer, which cannot be mapped (use HOST or SHARED)",
                fn, static_cast<void*>(handle));
  }
  if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (udal_result_t r = check_range(fn, "mapping", buffer, offset, size); r != UDAL_SUCCESS) return r;
  if (buffer.mapped.exchange(true)) {
    return fail(UDAL_ERROR_INVALID_STATE, "{}: buffer {} is already mapped", fn,
                static_cast<void*>(handle));
  }
  *out_ptr = buffer.allocation->mapped() + offset;
  return UDAL_SUCCESS;
}

udal_result_t buffer_unmap(udal_buffer_t handle) {
  if (!to_buffer(handle)->mapped.exchange(false)) {
    return fail(UDAL_ERROR_INVALID_STATE, "udal_buffer_unmap: buffer {} is not mapped",
                static_cast<void*>(handle));
  }
  return UDAL_SUCCESS;
}

}  // namespace udal::vulkan
