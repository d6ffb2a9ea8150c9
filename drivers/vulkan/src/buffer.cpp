#include "buffer.h"

#include <algorithm>

namespace udal::vulkan {
namespace {

using udal::sdk::fail;

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

udal_result_t buffer_create(udal_device_t device_handle, const udal_buffer_desc_t* desc_in,
                            udal_buffer_t* out_buffer) {
  constexpr const char* fn = "udal_buffer_create";
  if (out_buffer == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_buffer is NULL", fn);
  *out_buffer = nullptr;
  if (desc_in == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", fn);
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const udal_buffer_desc_t desc = udal::sdk::read_struct(desc_in);
    DeviceState& device = *to_device(device_handle)->state;
    if (desc.size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
    if (desc.alignment & (desc.alignment - 1)) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: alignment {} is not a power of two", fn,
                  desc.alignment);
    }
    if (desc.flags != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: flags {:#x} are not defined (must be 0)", fn,
                  desc.flags);
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
    const uint64_t heap =
        device.memory_properties.memoryHeaps[device.memory_properties.memoryTypes[type].heapIndex].size;
    if (desc.size > heap) {
      return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                  "{}: {} bytes is more than the memory heap of device {} holds ({} bytes)", fn,
                  desc.size, device.info.name, heap);
    }
    VkResult error = VK_SUCCESS;
    auto allocation = device.memory->allocate(type, desc.size, desc.alignment, &error);
    if (!allocation) {
      if (error == VK_ERROR_OUT_OF_HOST_MEMORY || error == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
        return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                    "{}: device {} cannot allocate {} bytes of {} memory ({})", fn,
                    device.info.name, desc.size, kind_name(desc.kind), vk_result_name(error));
      }
      return fail_vk(fn, "allocating the buffer's memory", error);
    }
    auto buffer = std::make_unique<Buffer>();
    buffer->dispatch = to_device(device_handle)->dispatch;
    buffer->device_handle = device_handle;
    buffer->device = &device;
    buffer->allocation = std::move(allocation);
    buffer->kind = desc.kind;
    buffer->size = desc.size;
    buffer->alignment = std::max(desc.alignment, device.min_alignment);
    buffer->mapped = false;
    *out_buffer = udal::sdk::to_handle<udal_buffer_t>(buffer.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t buffer_destroy(udal_buffer_t handle) {
  // Batches in flight hold the allocation; it goes back to the pool when the last ends.
  std::unique_ptr<Buffer> buffer(to_buffer(handle));
  return UDAL_SUCCESS;
}

udal_result_t buffer_get_info(udal_buffer_t handle, udal_buffer_info_t* out_info) {
  if (out_info == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_buffer_get_info: out_info is NULL");
  }
  udal::sdk::clear_struct(out_info);
  const Buffer& buffer = *to_buffer(handle);
  udal_buffer_info_t info{};
  info.struct_size = sizeof(info);
  info.device = buffer.device_handle;
  info.kind = buffer.kind;
  info.size = buffer.size;
  info.alignment = buffer.alignment;
  udal::sdk::write_struct(out_info, info);
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
