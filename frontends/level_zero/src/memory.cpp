// Device, host and shared allocations. Each is one UDAL buffer; the pointer the application
// gets is the buffer's device address (device memory, UDAL_BUFFER_FLAG_DEVICE_ADDRESS) or its
// host mapping, kept for the allocation's life (host and shared memory). On a device without
// device addresses, device memory gets a reserved, inaccessible address range of its size, so
// that every pointer into it still names it. Every pointer inside an allocation resolves to
// (buffer, offset) through the driver's map of allocations.
#include <sys/mman.h>

#include "ze_udal.h"

namespace udal::ze {

namespace {

bool power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

ze_result_t allocate(Context* context, Device* device, Device* owner, ze_memory_type_t type,
                     size_t size, size_t alignment, void** pptr, const char* fn) {
  *pptr = nullptr;
  if (size == 0) return fail(ZE_RESULT_ERROR_UNSUPPORTED_SIZE, "{}: size is 0", fn);
  if (alignment != 0 && !power_of_two(alignment)) {
    return fail(ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT, "{}: alignment {} is not a power of two",
                fn, alignment);
  }
  if (size > device->info.max_allocation_bytes) {
    return fail(ZE_RESULT_ERROR_UNSUPPORTED_SIZE,
                "{}: {} bytes exceed maxMemAllocSize {} of device '{}'", fn, size,
                device->info.max_allocation_bytes, device->info.name);
  }
  const bool host_kind = type != ZE_MEMORY_TYPE_DEVICE;
  if (type == ZE_MEMORY_TYPE_HOST && !(device->info.features & UDAL_DEVICE_FEATURE_HOST_BUFFERS)) {
    return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "{}: device '{}' has no host buffers", fn,
                device->info.name);
  }
  if (type == ZE_MEMORY_TYPE_SHARED &&
      !(device->info.features & UDAL_DEVICE_FEATURE_SHARED_BUFFERS)) {
    return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "{}: device '{}' has no shared buffers", fn,
                device->info.name);
  }
  auto allocation = std::make_shared<Allocation>();
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  // Whole pages, as GPU drivers allocate: a kernel that strays a little past a small
  // allocation (some of Intel's tests do) then stays inside memory of its own.
  constexpr uint64_t kPage = 4096;
  desc.size = size <= device->info.max_allocation_bytes - (kPage - 1)
                  ? (size + kPage - 1) / kPage * kPage
                  : size;
  desc.alignment = alignment;
  desc.kind = type == ZE_MEMORY_TYPE_HOST     ? UDAL_BUFFER_KIND_HOST
              : type == ZE_MEMORY_TYPE_SHARED ? UDAL_BUFFER_KIND_SHARED
                                              : UDAL_BUFFER_KIND_DEVICE;
  desc.flags = device->addresses ? UDAL_BUFFER_FLAG_DEVICE_ADDRESS : 0;
  udal_result_t r = udal_buffer_create(device->udal, &desc, &allocation->buffer);
  if (r != UDAL_SUCCESS) {
    if (r == UDAL_ERROR_OUT_OF_DEVICE_MEMORY || r == UDAL_ERROR_OUT_OF_HOST_MEMORY) {
      return from_udal(r, fn);
    }
    if (r == UDAL_ERROR_UNSUPPORTED && alignment != 0) {
      from_udal(r, fn);
      return fail(ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT, "{}: alignment {} refused", fn, alignment);
    }
    return from_udal(r, fn);
  }
  struct Undo {
    Allocation* a;
    bool active = true;
    ~Undo() {
      if (!active) return;
      if (a->host != nullptr) udal_buffer_unmap(a->buffer);
      if (a->buffer != nullptr) udal_buffer_destroy(a->buffer);
      if (a->reservation != nullptr) ::munmap(a->reservation, a->reserved_bytes);
    }
  } undo{allocation.get()};
  uintptr_t base = 0;
  if (host_kind) {
    r = udal_buffer_map(allocation->buffer, 0, desc.size, &allocation->host);
    if (r != UDAL_SUCCESS) return from_udal(r, fn);
    base = reinterpret_cast<uintptr_t>(allocation->host);
  } else if (device->addresses) {
    uint64_t address = 0;
    r = udal_buffer_get_device_address(allocation->buffer, &address);
    if (r != UDAL_SUCCESS) return from_udal(r, fn);
    base = static_cast<uintptr_t>(address);
  } else {
    const uint64_t align = alignment > 4096 ? alignment : 4096;
    allocation->reserved_bytes = size + align;
    void* range = ::mmap(nullptr, allocation->reserved_bytes, PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (range == MAP_FAILED) {
      return fail(ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY, "{}: no address range of {} bytes", fn,
                  allocation->reserved_bytes);
    }
    allocation->reservation = range;
    base = (reinterpret_cast<uintptr_t>(range) + align - 1) & ~(uintptr_t{align} - 1);
  }
  if (alignment != 0 && base % alignment != 0) {
    return fail(ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT,
                "{}: device '{}' placed the allocation at {:#x}, not a multiple of {}", fn,
                device->info.name, base, alignment);
  }
  allocation->base = base;
  allocation->size = size;
  allocation->type = type;
  allocation->context = context;
  allocation->device = device;
  allocation->owner = owner;
  Driver& d = *context->driver;
  allocation->id = d.next_allocation_id.fetch_add(1);
  {
    std::unique_lock lock(d.allocations_mutex);
    auto [it, inserted] = d.allocations.emplace(base, allocation);
    if (!inserted) {
      return fail(ZE_RESULT_ERROR_UNKNOWN, "{}: address {:#x} is already an allocation", fn, base);
    }
  }
  undo.active = false;
  *pptr = reinterpret_cast<void*>(base);
  return ZE_RESULT_SUCCESS;
}

void release(Allocation& a) noexcept {
  if (a.host != nullptr) udal_buffer_unmap(a.buffer);
  if (a.buffer != nullptr) udal_buffer_destroy(a.buffer);  // in-flight work keeps the memory
  if (a.reservation != nullptr) ::munmap(a.reservation, a.reserved_bytes);
  a.buffer = nullptr;
  a.host = nullptr;
  a.reservation = nullptr;
}

Device* first_device(Context* context, uint64_t feature) {
  for (Device* device : context->devices) {
    if (device->info.features & feature) return device;
  }
  return context->devices.empty() ? nullptr : context->devices.front();
}

ze_result_t ZE_APICALL mem_alloc_device(ze_context_handle_t hContext,
                                        const ze_device_mem_alloc_desc_t* device_desc, size_t size,
                                        size_t alignment, ze_device_handle_t hDevice,
                                        void** pptr) {
  static constexpr const char* fn = "zeMemAllocDevice";
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(device_desc, fn);
  ZE_NOT_NULL(pptr, fn);
  *pptr = nullptr;
  if (!context->has(device)) {
    return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: device '{}' is not in the context", fn,
                device->info.name);
  }
  return guard(fn, [&] {
    return allocate(context, device, device, ZE_MEMORY_TYPE_DEVICE, size, alignment, pptr, fn);
  });
}

ze_result_t ZE_APICALL mem_alloc_host(ze_context_handle_t hContext,
                                      const ze_host_mem_alloc_desc_t* host_desc, size_t size,
                                      size_t alignment, void** pptr) {
  static constexpr const char* fn = "zeMemAllocHost";
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_NOT_NULL(host_desc, fn);
  ZE_NOT_NULL(pptr, fn);
  *pptr = nullptr;
  Device* device = first_device(context, UDAL_DEVICE_FEATURE_HOST_BUFFERS);
  if (device == nullptr) return fail(ZE_RESULT_ERROR_UNINITIALIZED, "{}: no device", fn);
  return guard(fn, [&] {
    return allocate(context, device, nullptr, ZE_MEMORY_TYPE_HOST, size, alignment, pptr, fn);
  });
}

ze_result_t ZE_APICALL mem_alloc_shared(ze_context_handle_t hContext,
                                        const ze_device_mem_alloc_desc_t* device_desc,
                                        const ze_host_mem_alloc_desc_t* host_desc, size_t size,
                                        size_t alignment, ze_device_handle_t hDevice,
                                        void** pptr) {
  static constexpr const char* fn = "zeMemAllocShared";
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_NOT_NULL(device_desc, fn);
  ZE_NOT_NULL(host_desc, fn);
  ZE_NOT_NULL(pptr, fn);
  *pptr = nullptr;
  Device* device = nullptr;
  if (hDevice != nullptr) {
    device = from_handle<Device>(hDevice);
    if (device == nullptr) {
      return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: hDevice is not a device", fn);
    }
    if (!context->has(device)) {
      return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: device '{}' is not in the context", fn,
                  device->info.name);
    }
  } else {
    device = first_device(context, UDAL_DEVICE_FEATURE_SHARED_BUFFERS);
    if (device == nullptr) return fail(ZE_RESULT_ERROR_UNINITIALIZED, "{}: no device", fn);
  }
  return guard(fn, [&] {
    return allocate(context, device, hDevice != nullptr ? device : nullptr, ZE_MEMORY_TYPE_SHARED,
                    size, alignment, pptr, fn);
  });
}

ze_result_t free_memory(ze_context_handle_t hContext, void* ptr, const char* fn) {
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_NOT_NULL(ptr, fn);
  std::shared_ptr<Allocation> allocation;
  Driver& d = *context->driver;
  {
    std::unique_lock lock(d.allocations_mutex);
    auto it = d.allocations.find(reinterpret_cast<uintptr_t>(ptr));
    if (it == d.allocations.end()) {
      return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,
                  "{}: {} is not the base of an allocation of libze_udal", fn, ptr);
    }
    // An allocation of another context of this driver is freed too (contexts share the
    // driver's one address space).
    allocation = std::move(it->second);
    d.allocations.erase(it);
  }
  release(*allocation);
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL mem_free(ze_context_handle_t hContext, void* ptr) {
  return free_memory(hContext, ptr, "zeMemFree");
}

ze_result_t ZE_APICALL mem_free_ext(ze_context_handle_t hContext,
                                    const ze_memory_free_ext_desc_t* desc, void* ptr) {
  ZE_NOT_NULL(desc, "zeMemFreeExt");
  return free_memory(hContext, ptr, "zeMemFreeExt");
}

ze_result_t ZE_APICALL mem_get_alloc_properties(ze_context_handle_t hContext, const void* ptr,
                                                ze_memory_allocation_properties_t* p,
                                                ze_device_handle_t* phDevice) {
  static constexpr const char* fn = "zeMemGetAllocProperties";
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_NOT_NULL(ptr, fn);
  ZE_NOT_NULL(p, fn);
  (void)context;
  Resolved r = resolve(ptr);
  if (r.allocation == nullptr) {
    p->type = ZE_MEMORY_TYPE_UNKNOWN;
    p->id = 0;
    p->pageSize = 0;
    if (phDevice != nullptr) *phDevice = nullptr;
    return ZE_RESULT_SUCCESS;
  }
  p->type = r.allocation->type;
  p->id = r.allocation->id;
  p->pageSize = 4096;
  if (phDevice != nullptr) *phDevice = to_handle<ze_device_handle_t>(r.allocation->owner);
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL mem_get_address_range(ze_context_handle_t hContext, const void* ptr,
                                             void** pBase, size_t* pSize) {
  static constexpr const char* fn = "zeMemGetAddressRange";
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_NOT_NULL(ptr, fn);
  (void)context;
  Resolved r = resolve(ptr);
  if (r.allocation == nullptr) {
    if (pBase != nullptr) *pBase = nullptr;
    if (pSize != nullptr) *pSize = 0;
    return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: {} is in no allocation of libze_udal", fn,
                ptr);
  }
  if (pBase != nullptr) *pBase = reinterpret_cast<void*>(r.allocation->base);
  if (pSize != nullptr) *pSize = r.allocation->size;
  return ZE_RESULT_SUCCESS;
}

}  // namespace

Resolved resolve(const void* pointer) noexcept {
  Resolved out;
  out.pointer = pointer;
  if (pointer == nullptr) return out;
  Driver& d = driver();
  const auto address = reinterpret_cast<uintptr_t>(pointer);
  std::shared_lock lock(d.allocations_mutex);
  auto it = d.allocations.upper_bound(address);
  if (it == d.allocations.begin()) return out;
  --it;
  const Allocation& a = *it->second;
  if (address >= a.base && address - a.base < a.size) {
    out.allocation = it->second;
    out.offset = address - a.base;
  }
  return out;
}

void fill(ze_mem_dditable_t* t) noexcept {
  t->pfnAllocShared = mem_alloc_shared;
  t->pfnAllocDevice = mem_alloc_device;
  t->pfnAllocHost = mem_alloc_host;
  t->pfnFree = mem_free;
  t->pfnGetAllocProperties = mem_get_alloc_properties;
  t->pfnGetAddressRange = mem_get_address_range;
  t->pfnFreeExt = mem_free_ext;
}

}  // namespace udal::ze
