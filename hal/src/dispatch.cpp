// Every udal.h entry point that reaches a driver. Each one: stateless checks, clear the
// out-parameter, one load of the table pointer at offset 0 of the handle, one indirect
// call. No lock, no map, no wrapping. A failure libudal finds itself names the value.
#include "driver.h"
#include "error.h"

#include <udal/udal_driver.h>

#include <cstring>

namespace udal::hal {
namespace {

// The smallest struct_size version 1.0 accepts for each descriptor: 1.0 is the first
// version, so it is the full size. When a minor version appends fields, freeze these at
// offsetof(the first appended field) so that callers built against 1.0 keep working.
constexpr size_t kMinBufferDesc = sizeof(udal_buffer_desc_t);
constexpr size_t kMinBufferInfo = sizeof(udal_buffer_info_t);
constexpr size_t kMinDeviceInfo = sizeof(udal_device_info_t);
constexpr size_t kMinEventDesc = sizeof(udal_event_desc_t);
constexpr size_t kMinStreamDesc = sizeof(udal_stream_desc_t);
constexpr size_t kMinModuleDesc = sizeof(udal_module_desc_t);
constexpr size_t kMinModuleImage = sizeof(udal_module_image_t);
constexpr size_t kMinModuleInfo = sizeof(udal_module_info_t);
constexpr size_t kMinKernelInfo = sizeof(udal_kernel_info_t);
constexpr size_t kMinLaunchDesc = sizeof(udal_launch_desc_t);

// The header of every descriptor, to clear what follows it.
struct StructHeader {
  size_t struct_size;
  const void* next;
};

// Zeroes the fields of an [in,out] info struct that this libudal knows, leaving
// struct_size and the caller's next chain alone.
template <typename T> void clear_info(T* info) noexcept {
  size_t end = info->struct_size < sizeof(T) ? info->struct_size : sizeof(T);
  if (end > sizeof(StructHeader))
    std::memset(reinterpret_cast<char*>(info) + sizeof(StructHeader), 0,
                end - sizeof(StructHeader));
}

bool same_driver(const void* a, const void* b) noexcept {
  return table_of(a) == table_of(b);
}

[[gnu::cold]] udal_result_t foreign(const char* function, const char* what, const void* handle,
                                    const char* owner_name, const void* owner) noexcept {
  return fail(UDAL_ERROR_INVALID_HANDLE,
              "{}: {} {} belongs to driver '{}', not to driver '{}' of {} {}", function, what,
              handle, driver_of(table_of(handle)).name, driver_of(table_of(owner)).name, owner_name,
              owner);
}

// An enum field read as the integer the caller stored: a value outside the enumerators'
// range (e.g. -1) must not be loaded as the enum type, which C++ leaves undefined.
template <typename Enum> uint32_t raw_enum(const Enum& field) noexcept {
  static_assert(sizeof(Enum) == sizeof(uint32_t));
  uint32_t value;
  std::memcpy(&value, &field, sizeof(value));
  return value;
}

bool is_module_format(uint32_t format) noexcept {
  return (format >= UDAL_MODULE_FORMAT_HOST_NATIVE && format <= UDAL_MODULE_FORMAT_PTX) ||
         (format >= UDAL_MODULE_FORMAT_VENDOR_BEGIN && format < UDAL_MODULE_FORMAT_FORCE_32BIT);
}

bool is_power_of_two(uint64_t v) noexcept {
  return v != 0 && (v & (v - 1)) == 0;
}

// |offset| + |size| wraps around: no buffer can hold that range.
bool range_wraps(uint64_t offset, uint64_t size) noexcept {
  return offset + size < offset;
}

constexpr const char* kNotReadyMessage =
    "udal_event_query: UDAL_NOT_READY: the event's latest record has not completed yet";
constexpr const char* kEventTimeoutMessage =
    "udal_event_wait: UDAL_TIMEOUT: the timeout expired before the event completed";
constexpr const char* kElapsedNotReadyMessage =
    "udal_event_elapsed_ns: UDAL_NOT_READY: an event's record has not completed yet";
constexpr const char* kStreamTimeoutMessage =
    "udal_stream_synchronize: UDAL_TIMEOUT: the timeout expired before the stream's work "
    "completed";

// Statuses get a static message (no copy: they are polled); errors the driver's message.
inline udal_result_t checked_status(const char* function, const udal_driver_table_t* table,
                                    udal_result_t result, udal_result_t status,
                                    const char* status_message) noexcept {
  if (result == UDAL_SUCCESS) [[likely]]
    return result;
  if (result == status) {
    set_static_message(status_message);
    return result;
  }
  return driver_result(function, table, result);
}

} // namespace
} // namespace udal::hal

using namespace udal::hal;

extern "C" {

/* ==========================================================================================
 * Devices
 * ======================================================================================= */

UDAL_API udal_result_t udal_device_get_info(udal_device_t device, udal_device_info_t* out_info) {
  constexpr const char* fn = "udal_device_get_info";
  if (!device)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: device is NULL", fn);
  if (!out_info)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", fn);
  if (out_info->struct_size < kMinDeviceInfo)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: out_info->struct_size {} is smaller than sizeof(udal_device_info_t) {}", fn,
                out_info->struct_size, kMinDeviceInfo);
  clear_info(out_info);
  const udal_driver_table_t* t = table_of(device);
  udal_result_t r = t->device_get_info(device, out_info); // [required]: checked at load
  if (r != UDAL_SUCCESS)
    return driver_result(fn, t, r);
  // What libudal knows better than the driver: the name it was loaded under and the
  // versions it negotiated.
  const Driver& d = driver_of(t);
  size_t n = d.name.size() < UDAL_MAX_DRIVER_NAME - 1 ? d.name.size() : UDAL_MAX_DRIVER_NAME - 1;
  std::memset(out_info->driver_name, 0, sizeof(out_info->driver_name));
  std::memcpy(out_info->driver_name, d.name.data(), n);
  out_info->driver_version = d.driver_version;
  out_info->abi_version = d.abi_version;
  return UDAL_SUCCESS;
}

/* ==========================================================================================
 * Buffers
 * ======================================================================================= */

UDAL_API udal_result_t udal_buffer_create(udal_device_t device, const udal_buffer_desc_t* desc,
                                          udal_buffer_t* out_buffer) {
  constexpr const char* fn = "udal_buffer_create";
  if (out_buffer)
    *out_buffer = nullptr;
  if (!device)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: device is NULL", fn);
  if (!out_buffer)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_buffer is NULL", fn);
  if (!desc)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", fn);
  if (desc->struct_size < kMinBufferDesc)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->struct_size {} is smaller than sizeof(udal_buffer_desc_t) {}", fn,
                desc->struct_size, kMinBufferDesc);
  if (raw_enum(desc->kind) > UDAL_BUFFER_KIND_SHARED)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->kind {} is not a udal_buffer_kind_t (0 DEVICE, 1 HOST, 2 SHARED)", fn,
                static_cast<int32_t>(raw_enum(desc->kind)));
  if (desc->size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->size is 0", fn);
  if (desc->alignment != 0 && !is_power_of_two(desc->alignment))
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->alignment {} is neither 0 nor a power of two", fn, desc->alignment);
  if (desc->flags != 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->flags {:#x} must be 0 (no buffer flags are defined)", fn, desc->flags);
  const udal_driver_table_t* t = table_of(device);
  if (!t->buffer_create)
    return unsupported(fn, "buffer_create", t);
  return checked(fn, t, t->buffer_create(device, desc, out_buffer));
}

UDAL_API udal_result_t udal_buffer_destroy(udal_buffer_t buffer) {
  constexpr const char* fn = "udal_buffer_destroy";
  if (!buffer)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: buffer is NULL", fn);
  const udal_driver_table_t* t = table_of(buffer);
  if (!t->buffer_destroy)
    return unsupported(fn, "buffer_destroy", t);
  return checked(fn, t, t->buffer_destroy(buffer));
}

UDAL_API udal_result_t udal_buffer_get_info(udal_buffer_t buffer, udal_buffer_info_t* out_info) {
  constexpr const char* fn = "udal_buffer_get_info";
  if (!buffer)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: buffer is NULL", fn);
  if (!out_info)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", fn);
  if (out_info->struct_size < kMinBufferInfo)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: out_info->struct_size {} is smaller than sizeof(udal_buffer_info_t) {}", fn,
                out_info->struct_size, kMinBufferInfo);
  clear_info(out_info);
  const udal_driver_table_t* t = table_of(buffer);
  if (!t->buffer_get_info)
    return unsupported(fn, "buffer_get_info", t);
  return checked(fn, t, t->buffer_get_info(buffer, out_info));
}

UDAL_API udal_result_t udal_buffer_map(udal_buffer_t buffer, uint64_t offset, uint64_t size,
                                       void** out_ptr) {
  constexpr const char* fn = "udal_buffer_map";
  if (out_ptr)
    *out_ptr = nullptr;
  if (!buffer)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: buffer is NULL", fn);
  if (!out_ptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_ptr is NULL", fn);
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (range_wraps(offset, size))
    return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: offset {} + size {} overflows 64 bits", fn, offset,
                size);
  const udal_driver_table_t* t = table_of(buffer);
  if (!t->buffer_map)
    return unsupported(fn, "buffer_map", t);
  return checked(fn, t, t->buffer_map(buffer, offset, size, out_ptr));
}

UDAL_API udal_result_t udal_buffer_unmap(udal_buffer_t buffer) {
  constexpr const char* fn = "udal_buffer_unmap";
  if (!buffer)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: buffer is NULL", fn);
  const udal_driver_table_t* t = table_of(buffer);
  if (!t->buffer_unmap)
    return unsupported(fn, "buffer_unmap", t);
  return checked(fn, t, t->buffer_unmap(buffer));
}

/* ==========================================================================================
 * Events
 * ======================================================================================= */

UDAL_API udal_result_t udal_event_create(udal_device_t device, const udal_event_desc_t* desc,
                                         udal_event_t* out_event) {
  constexpr const char* fn = "udal_event_create";
  if (out_event)
    *out_event = nullptr;
  if (!device)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: device is NULL", fn);
  if (!out_event)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_event is NULL", fn);
  if (desc) {
    if (desc->struct_size < kMinEventDesc)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->struct_size {} is smaller than sizeof(udal_event_desc_t) {}", fn,
                  desc->struct_size, kMinEventDesc);
    if (desc->flags != 0)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->flags {:#x} must be 0 (no event flags are defined)", fn, desc->flags);
  }
  const udal_driver_table_t* t = table_of(device);
  if (!t->event_create)
    return unsupported(fn, "event_create", t);
  return checked(fn, t, t->event_create(device, desc, out_event));
}

UDAL_API udal_result_t udal_event_destroy(udal_event_t event) {
  constexpr const char* fn = "udal_event_destroy";
  if (!event)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: event is NULL", fn);
  const udal_driver_table_t* t = table_of(event);
  if (!t->event_destroy)
    return unsupported(fn, "event_destroy", t);
  return checked(fn, t, t->event_destroy(event));
}

UDAL_API udal_result_t udal_event_query(udal_event_t event) {
  constexpr const char* fn = "udal_event_query";
  if (!event)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: event is NULL", fn);
  const udal_driver_table_t* t = table_of(event);
  if (!t->event_query)
    return unsupported(fn, "event_query", t);
  return checked_status(fn, t, t->event_query(event), UDAL_NOT_READY, kNotReadyMessage);
}

UDAL_API udal_result_t udal_event_wait(udal_event_t event, uint64_t timeout_ns) {
  constexpr const char* fn = "udal_event_wait";
  if (!event)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: event is NULL", fn);
  const udal_driver_table_t* t = table_of(event);
  if (!t->event_wait)
    return unsupported(fn, "event_wait", t);
  return checked_status(fn, t, t->event_wait(event, timeout_ns), UDAL_TIMEOUT,
                        kEventTimeoutMessage);
}

UDAL_API udal_result_t udal_event_elapsed_ns(udal_event_t start, udal_event_t end,
                                             uint64_t* out_ns) {
  constexpr const char* fn = "udal_event_elapsed_ns";
  if (out_ns)
    *out_ns = 0;
  if (!start)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: start is NULL", fn);
  if (!end)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: end is NULL", fn);
  if (!out_ns)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_ns is NULL", fn);
  if (!same_driver(start, end))
    return foreign(fn, "end event", end, "start event", start);
  const udal_driver_table_t* t = table_of(start);
  if (!t->event_elapsed_ns)
    return unsupported(fn, "event_elapsed_ns", t);
  return checked_status(fn, t, t->event_elapsed_ns(start, end, out_ns), UDAL_NOT_READY,
                        kElapsedNotReadyMessage);
}

/* ==========================================================================================
 * Modules and kernels
 * ======================================================================================= */

UDAL_API udal_result_t udal_module_create(udal_device_t device, const udal_module_desc_t* desc,
                                          udal_module_t* out_module) {
  constexpr const char* fn = "udal_module_create";
  if (out_module)
    *out_module = nullptr;
  if (!device)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: device is NULL", fn);
  if (!out_module)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_module is NULL", fn);
  if (!desc)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", fn);
  if (desc->struct_size < kMinModuleDesc)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->struct_size {} is smaller than sizeof(udal_module_desc_t) {}", fn,
                desc->struct_size, kMinModuleDesc);
  if (desc->image_count == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->image_count is 0", fn);
  if (!desc->images)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->images is NULL but image_count is {}", fn,
                desc->image_count);
  for (uint32_t i = 0; i < desc->image_count; ++i) {
    const udal_module_image_t& image = desc->images[i];
    if (image.struct_size < kMinModuleImage)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->images[{}].struct_size {} is smaller than "
                  "sizeof(udal_module_image_t) {}",
                  fn, i, image.struct_size, kMinModuleImage);
    if (!is_module_format(raw_enum(image.format)))
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->images[{}].format {:#x} is not a udal_module_format_t (1-5, or "
                  "0x10000-0x7ffffffe for vendors)",
                  fn, i, raw_enum(image.format));
    if (image.data) {
      if (image.size == 0)
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->images[{}].size is 0", fn, i);
    } else {
      if (!image.path)
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->images[{}] has neither data nor path",
                    fn, i);
      if (image.size != 0)
        return fail(UDAL_ERROR_INVALID_ARGUMENT,
                    "{}: desc->images[{}].size is {} but data is NULL (size must be 0 with a "
                    "path)",
                    fn, i, image.size);
    }
  }
  const udal_driver_table_t* t = table_of(device);
  if (!t->module_create)
    return unsupported(fn, "module_create", t);
  return checked(fn, t, t->module_create(device, desc, out_module));
}

UDAL_API udal_result_t udal_module_destroy(udal_module_t module) {
  constexpr const char* fn = "udal_module_destroy";
  if (!module)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: module is NULL", fn);
  const udal_driver_table_t* t = table_of(module);
  if (!t->module_destroy)
    return unsupported(fn, "module_destroy", t);
  return checked(fn, t, t->module_destroy(module));
}

UDAL_API udal_result_t udal_module_get_info(udal_module_t module, udal_module_info_t* out_info) {
  constexpr const char* fn = "udal_module_get_info";
  if (!module)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: module is NULL", fn);
  if (!out_info)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", fn);
  if (out_info->struct_size < kMinModuleInfo)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: out_info->struct_size {} is smaller than sizeof(udal_module_info_t) {}", fn,
                out_info->struct_size, kMinModuleInfo);
  clear_info(out_info);
  const udal_driver_table_t* t = table_of(module);
  if (!t->module_get_info)
    return unsupported(fn, "module_get_info", t);
  return checked(fn, t, t->module_get_info(module, out_info));
}

UDAL_API udal_result_t udal_kernel_create(udal_module_t module, const char* name,
                                          udal_kernel_t* out_kernel) {
  constexpr const char* fn = "udal_kernel_create";
  if (out_kernel)
    *out_kernel = nullptr;
  if (!module)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: module is NULL", fn);
  if (!out_kernel)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_kernel is NULL", fn);
  if (!name)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: name is NULL", fn);
  if (name[0] == '\0')
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: name is empty", fn);
  const udal_driver_table_t* t = table_of(module);
  if (!t->kernel_create)
    return unsupported(fn, "kernel_create", t);
  return checked(fn, t, t->kernel_create(module, name, out_kernel));
}

UDAL_API udal_result_t udal_kernel_destroy(udal_kernel_t kernel) {
  constexpr const char* fn = "udal_kernel_destroy";
  if (!kernel)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: kernel is NULL", fn);
  const udal_driver_table_t* t = table_of(kernel);
  if (!t->kernel_destroy)
    return unsupported(fn, "kernel_destroy", t);
  return checked(fn, t, t->kernel_destroy(kernel));
}

UDAL_API udal_result_t udal_kernel_get_info(udal_kernel_t kernel, udal_kernel_info_t* out_info) {
  constexpr const char* fn = "udal_kernel_get_info";
  if (!kernel)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: kernel is NULL", fn);
  if (!out_info)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", fn);
  if (out_info->struct_size < kMinKernelInfo)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: out_info->struct_size {} is smaller than sizeof(udal_kernel_info_t) {}", fn,
                out_info->struct_size, kMinKernelInfo);
  clear_info(out_info);
  const udal_driver_table_t* t = table_of(kernel);
  if (!t->kernel_get_info)
    return unsupported(fn, "kernel_get_info", t);
  return checked(fn, t, t->kernel_get_info(kernel, out_info));
}

/* ==========================================================================================
 * Streams
 * ======================================================================================= */

UDAL_API udal_result_t udal_stream_create(udal_device_t device, const udal_stream_desc_t* desc,
                                          udal_stream_t* out_stream) {
  constexpr const char* fn = "udal_stream_create";
  if (out_stream)
    *out_stream = nullptr;
  if (!device)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: device is NULL", fn);
  if (!out_stream)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_stream is NULL", fn);
  if (desc) {
    if (desc->struct_size < kMinStreamDesc)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->struct_size {} is smaller than sizeof(udal_stream_desc_t) {}", fn,
                  desc->struct_size, kMinStreamDesc);
    if (desc->flags != 0)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->flags {:#x} must be 0 (no stream flags are defined)", fn, desc->flags);
  }
  const udal_driver_table_t* t = table_of(device);
  if (!t->stream_create)
    return unsupported(fn, "stream_create", t);
  return checked(fn, t, t->stream_create(device, desc, out_stream));
}

UDAL_API udal_result_t udal_stream_destroy(udal_stream_t stream) {
  constexpr const char* fn = "udal_stream_destroy";
  if (!stream)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: stream is NULL", fn);
  const udal_driver_table_t* t = table_of(stream);
  if (!t->stream_destroy)
    return unsupported(fn, "stream_destroy", t);
  return checked(fn, t, t->stream_destroy(stream));
}

UDAL_API udal_result_t udal_stream_copy_buffer(udal_stream_t stream, udal_buffer_t src,
                                               uint64_t src_offset, udal_buffer_t dst,
                                               uint64_t dst_offset, uint64_t size) {
  constexpr const char* fn = "udal_stream_copy_buffer";
  if (!stream)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: stream is NULL", fn);
  if (!src)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: src is NULL", fn);
  if (!dst)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: dst is NULL", fn);
  if (!same_driver(stream, src))
    return foreign(fn, "src buffer", src, "stream", stream);
  if (!same_driver(stream, dst))
    return foreign(fn, "dst buffer", dst, "stream", stream);
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (range_wraps(src_offset, size))
    return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: src_offset {} + size {} overflows 64 bits", fn,
                src_offset, size);
  if (range_wraps(dst_offset, size))
    return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: dst_offset {} + size {} overflows 64 bits", fn,
                dst_offset, size);
  if (src == dst && src_offset < dst_offset + size && dst_offset < src_offset + size)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: src and dst are the same buffer and the ranges [{}, {}) and [{}, {}) "
                "overlap",
                fn, src_offset, src_offset + size, dst_offset, dst_offset + size);
  const udal_driver_table_t* t = table_of(stream);
  if (!t->stream_copy_buffer)
    return unsupported(fn, "stream_copy_buffer", t);
  return checked(fn, t, t->stream_copy_buffer(stream, src, src_offset, dst, dst_offset, size));
}

UDAL_API udal_result_t udal_stream_fill_buffer(udal_stream_t stream, udal_buffer_t dst,
                                               uint64_t offset, uint64_t size, const void* pattern,
                                               uint32_t pattern_size) {
  constexpr const char* fn = "udal_stream_fill_buffer";
  if (!stream)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: stream is NULL", fn);
  if (!dst)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: dst is NULL", fn);
  if (!same_driver(stream, dst))
    return foreign(fn, "dst buffer", dst, "stream", stream);
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (!pattern)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern is NULL", fn);
  if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 && pattern_size != 8 &&
      pattern_size != 16)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern_size {} is not 1, 2, 4, 8 or 16", fn,
                pattern_size);
  if (range_wraps(offset, size))
    return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: offset {} + size {} overflows 64 bits", fn, offset,
                size);
  const udal_driver_table_t* t = table_of(stream);
  if (!t->stream_fill_buffer)
    return unsupported(fn, "stream_fill_buffer", t);
  return checked(fn, t, t->stream_fill_buffer(stream, dst, offset, size, pattern, pattern_size));
}

UDAL_API udal_result_t udal_stream_write_buffer(udal_stream_t stream, udal_buffer_t dst,
                                                uint64_t dst_offset, const void* src,
                                                uint64_t size) {
  constexpr const char* fn = "udal_stream_write_buffer";
  if (!stream)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: stream is NULL", fn);
  if (!dst)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: dst is NULL", fn);
  if (!same_driver(stream, dst))
    return foreign(fn, "dst buffer", dst, "stream", stream);
  if (!src)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: src is NULL", fn);
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (range_wraps(dst_offset, size))
    return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: dst_offset {} + size {} overflows 64 bits", fn,
                dst_offset, size);
  const udal_driver_table_t* t = table_of(stream);
  if (!t->stream_write_buffer)
    return unsupported(fn, "stream_write_buffer", t);
  return checked(fn, t, t->stream_write_buffer(stream, dst, dst_offset, src, size));
}

UDAL_API udal_result_t udal_stream_read_buffer(udal_stream_t stream, udal_buffer_t src,
                                               uint64_t src_offset, void* dst, uint64_t size) {
  constexpr const char* fn = "udal_stream_read_buffer";
  if (!stream)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: stream is NULL", fn);
  if (!src)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: src is NULL", fn);
  if (!same_driver(stream, src))
    return foreign(fn, "src buffer", src, "stream", stream);
  if (!dst)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: dst is NULL", fn);
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (range_wraps(src_offset, size))
    return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: src_offset {} + size {} overflows 64 bits", fn,
                src_offset, size);
  const udal_driver_table_t* t = table_of(stream);
  if (!t->stream_read_buffer)
    return unsupported(fn, "stream_read_buffer", t);
  return checked(fn, t, t->stream_read_buffer(stream, src, src_offset, dst, size));
}

UDAL_API udal_result_t udal_stream_launch(udal_stream_t stream, udal_kernel_t kernel,
                                          const udal_launch_desc_t* desc) {
  constexpr const char* fn = "udal_stream_launch";
  if (!stream)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: stream is NULL", fn);
  if (!kernel)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: kernel is NULL", fn);
  if (!same_driver(stream, kernel))
    return foreign(fn, "kernel", kernel, "stream", stream);
  if (!desc)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", fn);
  if (desc->struct_size < kMinLaunchDesc)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->struct_size {} is smaller than sizeof(udal_launch_desc_t) {}", fn,
                desc->struct_size, kMinLaunchDesc);
  for (int axis = 0; axis < 3; ++axis) {
    if (desc->group_count[axis] == 0)
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->group_count[{}] is 0", fn, axis);
    if (desc->group_size[axis] == 0)
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->group_size[{}] is 0", fn, axis);
  }
  if (desc->arg_count > 0 && !desc->args)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->args is NULL but desc->arg_count is {}", fn,
                desc->arg_count);
  for (uint32_t i = 0; i < desc->arg_count; ++i) {
    const udal_kernel_arg_t& arg = desc->args[i];
    switch (raw_enum(arg.kind)) {
    case UDAL_ARG_KIND_VALUE:
      if (!arg.value)
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->args[{}] is a VALUE with value NULL",
                    fn, i);
      if (arg.value_size == 0)
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->args[{}] is a VALUE with value_size 0",
                    fn, i);
      break;
    case UDAL_ARG_KIND_BUFFER:
      if (!arg.buffer)
        return fail(UDAL_ERROR_INVALID_HANDLE, "{}: desc->args[{}] is a BUFFER with buffer NULL",
                    fn, i);
      if (!same_driver(stream, arg.buffer))
        return foreign(fn, "desc->args[] buffer", arg.buffer, "stream", stream);
      break;
    default:
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->args[{}].kind {} is not a udal_arg_kind_t (0 BUFFER, 1 VALUE)", fn, i,
                  static_cast<int32_t>(raw_enum(arg.kind)));
    }
  }
  const udal_driver_table_t* t = table_of(stream);
  if (!t->stream_launch)
    return unsupported(fn, "stream_launch", t);
  return checked(fn, t, t->stream_launch(stream, kernel, desc));
}

UDAL_API udal_result_t udal_stream_record_event(udal_stream_t stream, udal_event_t event) {
  constexpr const char* fn = "udal_stream_record_event";
  if (!stream)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: stream is NULL", fn);
  if (!event)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: event is NULL", fn);
  if (!same_driver(stream, event))
    return foreign(fn, "event", event, "stream", stream);
  const udal_driver_table_t* t = table_of(stream);
  if (!t->stream_record_event)
    return unsupported(fn, "stream_record_event", t);
  return checked(fn, t, t->stream_record_event(stream, event));
}

UDAL_API udal_result_t udal_stream_wait_event(udal_stream_t stream, udal_event_t event) {
  constexpr const char* fn = "udal_stream_wait_event";
  if (!stream)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: stream is NULL", fn);
  if (!event)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: event is NULL", fn);
  if (!same_driver(stream, event))
    return foreign(fn, "event", event, "stream", stream);
  const udal_driver_table_t* t = table_of(stream);
  if (!t->stream_wait_event)
    return unsupported(fn, "stream_wait_event", t);
  return checked(fn, t, t->stream_wait_event(stream, event));
}

UDAL_API udal_result_t udal_stream_synchronize(udal_stream_t stream, uint64_t timeout_ns) {
  constexpr const char* fn = "udal_stream_synchronize";
  if (!stream)
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: stream is NULL", fn);
  const udal_driver_table_t* t = table_of(stream);
  if (!t->stream_synchronize)
    return unsupported(fn, "stream_synchronize", t);
  return checked_status(fn, t, t->stream_synchronize(stream, timeout_ns), UDAL_TIMEOUT,
                        kStreamTimeoutMessage);
}

} // extern "C"
