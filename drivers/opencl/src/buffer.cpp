// Buffers. DEVICE buffers are plain buffer objects; HOST and SHARED buffers live in
// fine-grained SVM where the device has it (mapping is then just an address, and the device
// may use the buffer while it is mapped), else in host memory the buffer object uses
// (CL_MEM_USE_HOST_PTR) with map/unmap through the device's utility queue. Buffers with a
// device address are SVM allocations; the address is the SVM pointer.
#include "buffer.h"

#include <cstdlib>

#include "stream.h"
#include "udal/sdk/buffer_info.h"

namespace udal::opencl {

using udal::sdk::fail;

namespace {

constexpr size_t kMaxCachedSubBuffers = 32;

struct Allocation {
  OwnedMemory memory;
  void* pointer = nullptr; // aligned
};

// An SVM allocation of |size| bytes at |alignment|. Platforms limit clSVMAlloc's alignment
// (PoCL: 128), so larger ones are carved out of a bigger allocation.
bool svm_allocate(cl_context context, cl_svm_mem_flags flags, uint64_t size, uint64_t alignment,
                  uint64_t base_alignment, Allocation* out) {
  const uint64_t extra = alignment > base_alignment ? alignment : 0;
  if (size > SIZE_MAX - extra)
    return false;
  void* raw = clSVMAlloc(context, flags, static_cast<size_t>(size + extra),
                         static_cast<cl_uint>(extra != 0 ? 0 : alignment));
  if (raw == nullptr)
    return false;
  out->memory = OwnedMemory::svm(context, raw);
  const auto address = reinterpret_cast<uintptr_t>(raw);
  out->pointer = reinterpret_cast<void*>((address + alignment - 1) & ~(uintptr_t{alignment} - 1));
  return true;
}

bool host_allocate(uint64_t size, uint64_t alignment, Allocation* out) {
  void* raw = nullptr;
  const size_t align = static_cast<size_t>(std::max<uint64_t>(alignment, sizeof(void*)));
  if (size > SIZE_MAX || ::posix_memalign(&raw, align, static_cast<size_t>(size)) != 0) {
    return false;
  }
  out->memory = OwnedMemory::host(raw);
  out->pointer = raw;
  return true;
}

// A destroyed buffer's bytes (and memory the runtime does not own) are given back once the
// last command every stream had enqueued by now has completed: all work that may use it.
void defer_release(DeviceState& device, OwnedMemory memory, udal_buffer_kind_t kind,
                   uint64_t bytes) noexcept {
  OwnedMemory held = std::move(memory);
  try {
    std::vector<ClEvent> pending;
    device.streams.for_each([&](Stream* stream) {
      ClEvent last = stream->last_work();
      if (last && event_status(last.get()) > 0) {
        clFlush(stream->current_queue().get());
        pending.push_back(std::move(last));
      }
    });
    {
      std::lock_guard lock(device.deferred_mutex);
      device.deferred.reserve(device.deferred.size() + 1);
      DeferredFree entry;
      entry.memory = std::move(held);
      entry.kind = kind;
      entry.bytes = bytes;
      entry.pending = std::move(pending);
      device.deferred.push_back(std::move(entry)); // cannot throw: room was reserved
    }
    device.reap_deferred(false);
  } catch (...) {
    // Out of host memory: nothing can be tracked; wait for all work, then give it back.
    device.streams.for_each([](Stream* stream) { clFinish(stream->current_queue().get()); });
    device.release_memory(kind, bytes);
  }
}

} // namespace

cl_mem Buffer::argument(uint64_t offset, ClMem* temporary, cl_int* error) {
  *error = CL_SUCCESS;
  if (offset == 0)
    return mem.get();
  std::lock_guard lock(sub_mutex);
  for (const auto& [at, sub] : sub_buffers) {
    if (at == offset)
      return sub.get();
  }
  cl_buffer_region region{static_cast<size_t>(offset), static_cast<size_t>(size - offset)};
  ClMem sub(clCreateSubBuffer(mem.get(), 0, CL_BUFFER_CREATE_TYPE_REGION, &region, error));
  if (*error != CL_SUCCESS)
    return nullptr;
  if (sub_buffers.size() < kMaxCachedSubBuffers) {
    sub_buffers.emplace_back(offset, std::move(sub));
    return sub_buffers.back().second.get();
  }
  *temporary = std::move(sub);
  return temporary->get();
}

udal_result_t buffer_create(udal_device_t device_handle, const udal_buffer_desc_t* desc_in,
                            udal_buffer_t* out_buffer) {
  constexpr const char* fn = "udal_buffer_create";
  if (out_buffer == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_buffer is NULL", fn);
  *out_buffer = nullptr;
  if (desc_in == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", fn);
  if (udal_result_t r = udal::sdk::check_struct(fn, "desc", desc_in))
    return r;
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    Device* device = to_device(device_handle);
    DeviceState& state = *device->state;
    const udal_buffer_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.size == 0)
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->size is 0", fn);
    if (desc.kind != UDAL_BUFFER_KIND_DEVICE && desc.kind != UDAL_BUFFER_KIND_HOST &&
        desc.kind != UDAL_BUFFER_KIND_SHARED) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->kind {} is not a udal_buffer_kind_t", fn,
                  static_cast<int>(desc.kind));
    }
    if (desc.alignment != 0 && (desc.alignment & (desc.alignment - 1)) != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->alignment {} is not a power of two", fn,
                  desc.alignment);
    }
    if ((desc.flags & ~UDAL_BUFFER_FLAG_DEVICE_ADDRESS) != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->flags {:#x} has unknown bits", fn,
                  desc.flags);
    }
    const bool wants_address = (desc.flags & UDAL_BUFFER_FLAG_DEVICE_ADDRESS) != 0;
    if (wants_address && !state.caps.svm_coarse) {
      return fail(UDAL_ERROR_UNSUPPORTED,
                  "{}: device '{}' has no UDAL_DEVICE_FEATURE_DEVICE_ADDRESS (device addresses "
                  "need OpenCL 2.0 shared virtual memory)",
                  fn, state.info.name);
    }
    if (desc.size > state.caps.max_allocation) {
      return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                  "{}: {} bytes exceed max_allocation_bytes ({}) of device '{}'", fn, desc.size,
                  state.caps.max_allocation, state.info.name);
    }
    const uint64_t alignment = std::max(desc.alignment, state.caps.base_alignment);
    if (alignment > state.caps.max_allocation) {
      return fail(UDAL_ERROR_UNSUPPORTED, "{}: alignment {} exceeds what device '{}' allocates", fn,
                  alignment, state.info.name);
    }
    if (udal_result_t r = state.reserve_memory(desc.kind, desc.size))
      return r;
    bool reserved = true;
    struct Unreserve {
      DeviceState& state;
      udal_buffer_kind_t kind;
      uint64_t size;
      bool& active;
      ~Unreserve() {
        if (active)
          state.release_memory(kind, size);
      }
    } unreserve{state, desc.kind, desc.size, reserved};

    const bool host_kind = desc.kind != UDAL_BUFFER_KIND_DEVICE;
    cl_context context = state.context.get();
    Allocation allocation;
    bool coherent = false;
    bool allocated = true;
    if ((host_kind && state.caps.svm_fine) || wants_address ||
        (alignment > state.caps.base_alignment && state.caps.svm_coarse)) {
      coherent = host_kind && state.caps.svm_fine;
      const cl_svm_mem_flags flags =
          CL_MEM_READ_WRITE | (coherent ? CL_MEM_SVM_FINE_GRAIN_BUFFER : 0);
      allocated = svm_allocate(context, flags, desc.size, alignment, state.caps.base_alignment,
                               &allocation);
    } else if (host_kind) {
      allocated = host_allocate(desc.size, alignment, &allocation);
    }
    if (!allocated) {
      return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                  "{}: allocating {} bytes ({} memory, alignment {}) on device '{}' failed", fn,
                  desc.size, !host_kind || state.caps.svm_fine ? "shared virtual" : "host",
                  alignment, state.info.name);
    }
    cl_int created = CL_SUCCESS;
    const cl_mem_flags mem_flags =
        CL_MEM_READ_WRITE | (allocation.pointer != nullptr ? CL_MEM_USE_HOST_PTR : 0);
    ClMem mem(clCreateBuffer(context, mem_flags, static_cast<size_t>(desc.size), allocation.pointer,
                             &created));
    if (created != CL_SUCCESS) {
      return udal::sdk::fail(udal_code_of(created),
                             "{}: clCreateBuffer of {} bytes on device '{}' failed with {} ({})",
                             fn, desc.size, state.info.name, cl_error_name(created), created);
    }

    auto buffer = std::make_unique<Buffer>();
    buffer->dispatch = device->dispatch;
    buffer->device = device;
    buffer->mem = std::move(mem);
    buffer->memory = std::move(allocation.memory);
    buffer->host_pointer = allocation.pointer;
    buffer->coherent = coherent;
    buffer->size = desc.size;
    buffer->alignment = alignment;
    buffer->flags = desc.flags;
    buffer->kind = desc.kind;
    buffer->mapped = false;
    buffer->map_base = nullptr;
    if (wants_address)
      state.add_address(buffer->host_pointer);
    state.buffers.add(buffer.get());
    reserved = false;
    state.reap_deferred(false);
    *out_buffer = udal::sdk::to_handle<udal_buffer_t>(buffer.release());
    return UDAL_SUCCESS;
  });
}

void destroy_buffer(Buffer* buffer) noexcept {
  std::unique_ptr<Buffer> owned(buffer);
  DeviceState& state = *buffer->device->state;
  state.buffers.remove(buffer);
  if ((buffer->flags & UDAL_BUFFER_FLAG_DEVICE_ADDRESS) != 0) {
    state.remove_address(buffer->host_pointer);
  }
  if (buffer->mapped && !buffer->coherent && buffer->map_base != nullptr) {
    clEnqueueUnmapMemObject(state.utility_queue.get(), buffer->mem.get(), buffer->map_base, 0,
                            nullptr, nullptr);
    clFinish(state.utility_queue.get());
  }
  // The runtime keeps buffer objects alive for the work that uses them.
  buffer->sub_buffers.clear();
  buffer->mem.reset();
  defer_release(state, std::move(buffer->memory), buffer->kind, buffer->size);
}

udal_result_t buffer_destroy(udal_buffer_t handle) {
  Buffer* buffer = to_buffer(handle);
  if (buffer->mapped) {
    return fail(UDAL_ERROR_INVALID_STATE,
                "udal_buffer_destroy: buffer {} is mapped; unmap it first", fmt::ptr(handle));
  }
  destroy_buffer(buffer);
  return UDAL_SUCCESS;
}

udal_result_t buffer_get_info(udal_buffer_t handle, udal_buffer_info_t* out_info) {
  return udal::sdk::get_buffer_info(*to_buffer(handle), out_info);
}

udal_result_t buffer_map(udal_buffer_t handle, uint64_t offset, uint64_t size, void** out_ptr) {
  constexpr const char* fn = "udal_buffer_map";
  if (out_ptr == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_ptr is NULL", fn);
  *out_ptr = nullptr;
  Buffer* buffer = to_buffer(handle);
  if (buffer->kind == UDAL_BUFFER_KIND_DEVICE) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: buffer {} is a DEVICE buffer, which the host cannot map (use a HOST or "
                "SHARED buffer, or udal_stream_read_buffer)",
                fn, fmt::ptr(handle));
  }
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (offset > buffer->size || size > buffer->size - offset) {
    return fail(UDAL_ERROR_OUT_OF_RANGE,
                "{}: the range of {} bytes at offset {} runs past the end of buffer {} ({} bytes)",
                fn, size, offset, fmt::ptr(handle), buffer->size);
  }
  bool expected = false;
  if (!buffer->mapped.compare_exchange_strong(expected, true)) {
    return fail(UDAL_ERROR_INVALID_STATE, "{}: buffer {} is already mapped", fn, fmt::ptr(handle));
  }
  if (buffer->coherent) {
    *out_ptr = static_cast<char*>(buffer->host_pointer) + offset;
    return UDAL_SUCCESS;
  }
  DeviceState& state = *buffer->device->state;
  cl_int error = CL_SUCCESS;
  void* mapped = clEnqueueMapBuffer(state.utility_queue.get(), buffer->mem.get(), CL_TRUE,
                                    CL_MAP_READ | CL_MAP_WRITE, static_cast<size_t>(offset),
                                    static_cast<size_t>(size), 0, nullptr, nullptr, &error);
  if (error != CL_SUCCESS || mapped == nullptr) {
    buffer->mapped = false;
    return fail_cl(fn, "clEnqueueMapBuffer", error != CL_SUCCESS ? error : CL_MAP_FAILURE);
  }
  buffer->map_base = mapped;
  *out_ptr = mapped;
  return UDAL_SUCCESS;
}

udal_result_t buffer_unmap(udal_buffer_t handle) {
  constexpr const char* fn = "udal_buffer_unmap";
  Buffer* buffer = to_buffer(handle);
  if (!buffer->mapped) {
    return fail(UDAL_ERROR_INVALID_STATE, "{}: buffer {} is not mapped", fn, fmt::ptr(handle));
  }
  if (!buffer->coherent) {
    DeviceState& state = *buffer->device->state;
    cl_int error = clEnqueueUnmapMemObject(state.utility_queue.get(), buffer->mem.get(),
                                           buffer->map_base, 0, nullptr, nullptr);
    if (error == CL_SUCCESS)
      error = clFinish(state.utility_queue.get());
    if (error != CL_SUCCESS)
      return fail_cl(fn, "clEnqueueUnmapMemObject", error);
    buffer->map_base = nullptr;
  }
  buffer->mapped = false;
  return UDAL_SUCCESS;
}

udal_result_t buffer_get_device_address(udal_buffer_t handle, uint64_t* out_address) {
  constexpr const char* fn = "udal_buffer_get_device_address";
  if (out_address == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_address is NULL", fn);
  }
  *out_address = 0;
  const Buffer* buffer = to_buffer(handle);
  if ((buffer->flags & UDAL_BUFFER_FLAG_DEVICE_ADDRESS) == 0) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: buffer {} was created without UDAL_BUFFER_FLAG_DEVICE_ADDRESS", fn,
                fmt::ptr(handle));
  }
  *out_address = reinterpret_cast<uintptr_t>(buffer->host_pointer);
  return UDAL_SUCCESS;
}

} // namespace udal::opencl
