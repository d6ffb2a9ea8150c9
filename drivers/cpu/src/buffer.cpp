#include "buffer.h"

#include <unistd.h>

#include <cstdint>

#include "driver.h"
#include "udal/sdk/buffer_info.h"
#include "udal/sdk/checks.h"

namespace udal::cpu {

using udal::sdk::fail;

std::shared_ptr<Memory> Memory::allocate(std::shared_ptr<Topology> topology,
                                         hwloc_const_nodeset_t nodeset, uint64_t size,
                                         uint64_t alignment,
                                         std::shared_ptr<MemoryAccount> account,
                                         bool host_visible) {
  // Releases the reservation unless a Memory took it over.
  struct Reservation {
    MemoryAccount* account;
    bool host_visible;
    uint64_t bytes;
    ~Reservation() {
      if (account) account->release(host_visible, bytes);
    }
  } reservation{account.get(), host_visible, size};
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
    auto memory = std::make_shared<Memory>(std::move(topology), mapping, bytes, data,
                                           std::move(account), host_visible, size);
    reservation.account = nullptr;
    return memory;
  } catch (...) {
    hwloc_free(raw_topology, mapping, bytes);
    throw;
  }
}

Memory::~Memory() {
  hwloc_free(topology_->get(), mapping_, mapping_bytes_);
  account_->release(host_visible_, accounted_bytes_);
}

udal_result_t buffer_create(udal_device_t device_handle, const udal_buffer_desc_t* desc_in,
                            udal_buffer_t* out_buffer) {
  constexpr const char* kFn = "udal_buffer_create";
  if (out_buffer == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_buffer is NULL", kFn);
  *out_buffer = nullptr;
  if (desc_in == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", kFn);
  if (udal_result_t r = udal::sdk::check_struct(kFn, "desc", desc_in)) return r;
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Device* device = to_device(device_handle);
    const udal_buffer_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->size is 0", kFn);
    if (desc.kind != UDAL_BUFFER_KIND_DEVICE && desc.kind != UDAL_BUFFER_KIND_HOST &&
        desc.kind != UDAL_BUFFER_KIND_SHARED) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->kind {} is unknown", kFn,
                  static_cast<int>(desc.kind));
    }
    if (desc.alignment & (desc.alignment - 1)) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->alignment {} is not a power of two",
                  kFn, desc.alignment);
    }
    if (desc.flags & ~UDAL_BUFFER_FLAG_DEVICE_ADDRESS) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->flags {:#x} has bits no version defines",
                  kFn, desc.flags & ~UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
    }
    if (desc.reserved0 != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->reserved0 is {}, not 0", kFn,
                  desc.reserved0);
    }
    const udal_device_info_t& info = device->info;
    if (desc.alignment > info.max_allocation_bytes) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->alignment {} is larger than the largest buffer of device '{}' ({} "
                  "bytes)",
                  kFn, desc.alignment, info.name, info.max_allocation_bytes);
    }
    if (desc.size > info.max_allocation_bytes) {
      return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                  "{}: desc->size {} is over max_allocation_bytes {} of device '{}'", kFn,
                  desc.size, info.max_allocation_bytes, info.name);
    }
    const bool host_visible = desc.kind != UDAL_BUFFER_KIND_DEVICE;
    // The node's pages are mapped lazily, so an allocation past its memory would succeed
    // here and kill the process later: the device counts what it hands out instead.
    if (!device->memory->reserve(host_visible, desc.size)) {
      return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                  "{}: {} bytes do not fit in the memory of device '{}': {} of its node's {} "
                  "bytes are allocated",
                  kFn, desc.size, info.name, device->memory->node_allocated(),
                  device->memory->node_memory());
    }
    const uint64_t alignment =
        desc.alignment > info.min_buffer_alignment ? desc.alignment : info.min_buffer_alignment;
    auto memory = Memory::allocate(device->topology, device->node->node.nodeset.get(), desc.size,
                                   alignment, device->memory, host_visible);
    if (!memory) {
      return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                  "{}: NUMA node {} of device '{}' could not map {} bytes aligned to {}", kFn,
                  info.numa_node, info.name, desc.size, alignment);
    }
    auto buffer = std::make_unique<Buffer>();
    buffer->dispatch = device->dispatch;
    buffer->device = device;
    buffer->memory = std::move(memory);
    buffer->kind = desc.kind;
    buffer->flags = desc.flags;
    buffer->size = desc.size;
    buffer->alignment = alignment;
    buffer->mapped.store(false);
    device->driver->buffers.add(buffer.get());
    *out_buffer = udal::sdk::to_handle<udal_buffer_t>(buffer.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t buffer_destroy(udal_buffer_t handle) {
  Buffer* buffer = to_buffer(handle);
  if (buffer->mapped.load(std::memory_order_acquire)) {
    return fail(UDAL_ERROR_INVALID_STATE,
                "udal_buffer_destroy: buffer {} is mapped; unmap it first", fmt::ptr(buffer));
  }
  buffer->device->driver->buffers.remove(buffer);
  // Operations in flight hold their own references to the memory, which is released (and
  // leaves the device's memory usage) when the last of them completes.
  std::unique_ptr<Buffer> owned(buffer);
  return UDAL_SUCCESS;
}

udal_result_t buffer_get_info(udal_buffer_t handle, udal_buffer_info_t* out_info) {
  return udal::sdk::get_buffer_info(*to_buffer(handle), out_info);
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
  if (udal_result_t r = udal::sdk::check_range("udal_buffer_map", "mapping", buffer,
                                               buffer->size, offset, size)) {
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

udal_result_t buffer_get_device_address(udal_buffer_t handle, uint64_t* out_address) {
  constexpr const char* kFn = "udal_buffer_get_device_address";
  if (out_address == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_address is NULL", kFn);
  }
  *out_address = 0;
  const Buffer* buffer = to_buffer(handle);
  if ((buffer->flags & UDAL_BUFFER_FLAG_DEVICE_ADDRESS) == 0) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: buffer {} was created without UDAL_BUFFER_FLAG_DEVICE_ADDRESS", kFn,
                fmt::ptr(buffer));
  }
  // Kernels run in this process: the device address is the pointer.
  *out_address = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(buffer->memory->data()));
  return UDAL_SUCCESS;
}

}  // namespace udal::cpu
