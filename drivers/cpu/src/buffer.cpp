#include "buffer.h"

#include <unistd.h>

#include <cstdint>

namespace udal::cpu {

using udal::sdk::fail;

std::shared_ptr<Memory> Memory::allocate(std::shared_ptr<Topology> topology,
                                         hwloc_const_nodeset_t nodeset, uint64_t size,
                                         uint64_t alignment) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  // hwloc maps whole pages, so page alignment comes free; larger alignments need room to
  // slide the start.
  const uint64_t extra = alignment > page ? alignment : 0;
  if (size > SIZE_MAX - extra) return nullptr;
  const std::size_t bytes = static_cast<std::size_t>(size + extra);
  // Without HWLOC_MEMBIND_STRICT hwloc falls back to plain allocation where binding is not
  // supported (a container without mbind): the memory is still usable.
  void* mapping = hwloc_alloc_membind(topology->get(), bytes, nodeset, HWLOC_MEMBIND_BIND,
                                      HWLOC_MEMBIND_BYNODESET);
  if (mapping == nullptr) return nullptr;
  auto address = reinterpret_cast<uintptr_t>(mapping);
  const uintptr_t aligned = (address + (alignment - 1)) & ~static_cast<uintptr_t>(alignment - 1);
  auto* data = reinterpret_cast<std::byte*>(aligned);
  hwloc_topology_t raw_topology = topology->get();
  try {
    return std::make_shared<Memory>(std::move(topology), mapping, bytes, data);
  } catch (...) {
    hwloc_free(raw_topology, mapping, bytes);
    throw;
  }
}

Memory::~Memory() { hwloc_free(topology_->get(), mapping_, mapping_bytes_); }

udal_result_t check_range(const char* function, const char* what, const Buffer& buffer,
                          uint64_t offset, uint64_t size) noexcept {
  // Written so that offset + size cannot overflow.
  if (offset > buffer.size || size > buffer.size - offset) {
    return fail(UDAL_ERROR_OUT_OF_RANGE,
                "{}: {} of {} bytes at offset {} runs past the end of buffer {} ({} bytes)",
                function, what, size, offset, fmt::ptr(&buffer), buffer.size);
  }
  return UDAL_SUCCESS;
}

udal_result_t buffer_create(udal_device_t device_handle, const udal_buffer_desc_t* desc_in,
                            udal_buffer_t* out_buffer) {
  if (out_buffer == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_buffer_create: out_buffer is NULL");
  }
  *out_buffer = nullptr;
  if (desc_in == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_buffer_create: desc is NULL");
  }
  return udal::sdk::guard("udal_buffer_create", [&]() -> udal_result_t {
    Device* device = to_device(device_handle);
    const udal_buffer_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.size == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_buffer_create: desc->size is 0");
    }
    if (desc.kind != UDAL_BUFFER_KIND_DEVICE && desc.kind != UDAL_BUFFER_KIND_HOST &&
        desc.kind != UDAL_BUFFER_KIND_SHARED) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_buffer_create: desc->kind {} is unknown",
                  static_cast<int>(desc.kind));
    }
    if (desc.alignment & (desc.alignment - 1)) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "udal_buffer_create: desc->alignment {} is not a power of two", desc.alignment);
    }
    if (desc.flags != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "udal_buffer_create: desc->flags {:#x} has bits no version defines", desc.flags);
    }
    const udal_device_info_t& info = device->info;
    if (desc.alignment > info.max_allocation_bytes) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "udal_buffer_create: desc->alignment {} is larger than the largest buffer "
                  "of device '{}' ({} bytes)",
                  desc.alignment, info.name, info.max_allocation_bytes);
    }
    if (desc.size > info.max_allocation_bytes) {
      return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                  "udal_buffer_create: desc->size {} is over max_allocation_bytes {} of device '{}'",
                  desc.size, info.max_allocation_bytes, info.name);
    }
    const uint64_t alignment =
        desc.alignment > info.min_buffer_alignment ? desc.alignment : info.min_buffer_alignment;
    auto memory = Memory::allocate(device->topology, device->nodeset.get(), desc.size, alignment);
    if (!memory) {
      return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                  "udal_buffer_create: NUMA node {} of device '{}' could not allocate {} bytes "
                  "aligned to {}",
                  info.numa_node, info.name, desc.size, alignment);
    }
    auto buffer = std::make_unique<Buffer>();
    buffer->dispatch = device->dispatch;
    buffer->device = device;
    buffer->memory = std::move(memory);
    buffer->kind = desc.kind;
    buffer->size = desc.size;
    buffer->alignment = alignment;
    buffer->mapped.store(false);
    *out_buffer = udal::sdk::to_handle<udal_buffer_t>(buffer.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t buffer_destroy(udal_buffer_t handle) {
  // Operations in flight hold their own references to the memory.
  std::unique_ptr<Buffer> buffer(to_buffer(handle));
  return UDAL_SUCCESS;
}

udal_result_t buffer_get_info(udal_buffer_t handle, udal_buffer_info_t* out_info) {
  if (out_info == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_buffer_get_info: out_info is NULL");
  }
  const Buffer* buffer = to_buffer(handle);
  udal_buffer_info_t info = {};
  info.struct_size = sizeof(info);
  info.device = udal::sdk::to_handle<udal_device_t>(buffer->device);
  info.kind = buffer->kind;
  info.size = buffer->size;
  info.alignment = buffer->alignment;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

udal_result_t buffer_map(udal_buffer_t handle, uint64_t offset, uint64_t size, void** out_ptr) {
  if (out_ptr == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_buffer_map: out_ptr is NULL");
  }
  *out_ptr = nullptr;
  Buffer* buffer = to_buffer(handle);
  if (buffer->kind == UDAL_BUFFER_KIND_DEVICE) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "udal_buffer_map: buffer {} is of kind DEVICE, which is not mappable "
                "(use a HOST or SHARED buffer, or read_buffer/write_buffer)",
                fmt::ptr(buffer));
  }
  if (size == 0) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_buffer_map: size is 0");
  }
  if (udal_result_t r = check_range("udal_buffer_map", "mapping", *buffer, offset, size)) {
    return r;
  }
  if (buffer->mapped.exchange(true, std::memory_order_acq_rel)) {
    return fail(UDAL_ERROR_INVALID_STATE,
                "udal_buffer_map: buffer {} is already mapped (one mapping at a time)",
                fmt::ptr(buffer));
  }
  *out_ptr = buffer->memory->data() + offset;
  return UDAL_SUCCESS;
}

udal_result_t buffer_unmap(udal_buffer_t handle) {
  Buffer* buffer = to_buffer(handle);
  if (!buffer->mapped.exchange(false, std::memory_order_acq_rel)) {
    return fail(UDAL_ERROR_INVALID_STATE, "udal_buffer_unmap: buffer {} is not mapped",
                fmt::ptr(buffer));
  }
  return UDAL_SUCCESS;
}

}  // namespace udal::cpu
