// Every udal.h entry point that reaches a driver, generated from UDAL_DRIVER_ENTRIES: for
// each public entry, udal_<name> runs check_<name> (the stateless checks written below, by
// hand: they are what differs between entries), then forward<>: one load of the table
// pointer at offset 0 of the handle, the NULL entry → UDAL_ERROR_UNSUPPORTED test, one
// indirect call. No lock, no map, no wrapping. A failure libudal finds itself names the
// value; a driver's failure carries the driver's message.
#include "driver.h"
#include "entries.h"
#include "error.h"
#include "structs.h"

#include <udal/udal_driver.h>

#include <cstring>
#include <type_traits>

// Splices a parenthesized argument list into another call: (a, b) → a, b.
#define UDAL_HAL_UNPAREN_(...) __VA_ARGS__
// Keeps its arguments for the entries udal.h declares (public = 1) only.
#define UDAL_HAL_IF_PUBLIC_(is_public, ...) UDAL_HAL_IF_PUBLIC_##is_public##_(__VA_ARGS__)
#define UDAL_HAL_IF_PUBLIC_0_(...)
#define UDAL_HAL_IF_PUBLIC_1_(...) __VA_ARGS__

namespace udal::hal {
namespace {

// udal.h declares every public entry with exactly the parameters of its table entry.
#define UDAL_HAL_SAME_TYPE_(name, required, is_public, params, args)                               \
  UDAL_HAL_IF_PUBLIC_(is_public,                                                                   \
                      static_assert(std::is_same_v<decltype(&::udal_##name), udal_pfn_##name>,     \
                                    "udal_" #name " in udal.h differs from udal_pfn_" #name);)
UDAL_DRIVER_ENTRIES(UDAL_HAL_SAME_TYPE_)
#undef UDAL_HAL_SAME_TYPE_

// The stateless checks of each public entry, defined below. Each clears the entry's
// outputs first (where it can: an output struct only once its type and size are known).
#define UDAL_HAL_DECLARE_CHECK_(name, required, is_public, params, args)                           \
  UDAL_HAL_IF_PUBLIC_(is_public, udal_result_t check_##name params noexcept;)
UDAL_DRIVER_ENTRIES(UDAL_HAL_DECLARE_CHECK_)
#undef UDAL_HAL_DECLARE_CHECK_

template <Entry E> struct Tag {};

// The static messages of the positive statuses, per entry: statuses are polled, so they
// get no copy.
struct StatusMessages {
  const char* not_ready;
  const char* timeout;
};
constexpr StatusMessages kStatusMessages[] = {
#define UDAL_HAL_STATUS_MESSAGES_(name, required, is_public, params, args)                         \
  {"udal_" #name ": UDAL_NOT_READY: the work it asks about has not completed yet",                 \
   "udal_" #name ": UDAL_TIMEOUT: the timeout expired before the work completed; the work "        \
   "goes on"},
    UDAL_DRIVER_ENTRIES(UDAL_HAL_STATUS_MESSAGES_)
#undef UDAL_HAL_STATUS_MESSAGES_
};

// A driver entry of |E| returned |result|, not UDAL_SUCCESS.
template <Entry E>
[[gnu::cold]] udal_result_t driver_failed(const udal_driver_table_t* t,
                                          udal_result_t result) noexcept {
  const StatusMessages& status = kStatusMessages[static_cast<uint32_t>(E)];
  if (result == UDAL_NOT_READY) {
    set_static_message(status.not_ready);
    return result;
  }
  if (result == UDAL_TIMEOUT) {
    set_static_message(status.timeout);
    return result;
  }
  return driver_result(entry_info(E).function, t, result);
}

// After the driver's call: nothing on success, the message otherwise. Entries that fix up
// their output have their own overload below.
template <Entry E, typename... Args>
inline udal_result_t finish(Tag<E>, const udal_driver_table_t* t, udal_result_t result,
                            Args...) noexcept {
  if (result == UDAL_SUCCESS) [[likely]]
    return result;
  return driver_failed<E>(t, result);
}

udal_result_t finish(Tag<Entry::device_get_info>, const udal_driver_table_t* t,
                     udal_result_t result, udal_device_t, udal_device_info_t* out_info) noexcept {
  if (result != UDAL_SUCCESS)
    return driver_failed<Entry::device_get_info>(t, result);
  // What libudal knows better than the driver: the name it was loaded under and the
  // versions it negotiated. All inside the 1.0 size, which struct_size is at least.
  const Driver& d = driver_of(t);
  size_t n = d.name.size() < UDAL_MAX_DRIVER_NAME - 1 ? d.name.size() : UDAL_MAX_DRIVER_NAME - 1;
  std::memset(out_info->driver_name, 0, sizeof(out_info->driver_name));
  std::memcpy(out_info->driver_name, d.name.data(), n);
  out_info->driver_version = d.driver_version;
  out_info->abi_version = d.abi_version;
  out_info->reserved0 = 0;
  return UDAL_SUCCESS;
}

// Reserved fields of outputs are written as zero, whatever the driver did.
template <Entry E, typename Handle, typename Info>
udal_result_t finish_info(const udal_driver_table_t* t, udal_result_t result,
                          Info* out_info) noexcept {
  if (result != UDAL_SUCCESS)
    return driver_failed<E>(t, result);
  out_info->reserved0 = 0;
  return UDAL_SUCCESS;
}

udal_result_t finish(Tag<Entry::buffer_get_info>, const udal_driver_table_t* t,
                     udal_result_t result, udal_buffer_t, udal_buffer_info_t* out_info) noexcept {
  return finish_info<Entry::buffer_get_info, udal_buffer_t>(t, result, out_info);
}

udal_result_t finish(Tag<Entry::kernel_get_info>, const udal_driver_table_t* t,
                     udal_result_t result, udal_kernel_t, udal_kernel_info_t* out_info) noexcept {
  return finish_info<Entry::kernel_get_info, udal_kernel_t>(t, result, out_info);
}

udal_result_t finish(Tag<Entry::kernel_get_argument_info>, const udal_driver_table_t* t,
                     udal_result_t result, udal_kernel_t, uint32_t,
                     udal_kernel_arg_info_t* out_info) noexcept {
  return finish_info<Entry::kernel_get_argument_info, udal_kernel_t>(t, result, out_info);
}

// The hop to the driver: the table pointer at offset 0 of |handle|, the entry, the call.
template <Entry E, auto Member, typename Handle, typename... Args>
[[gnu::always_inline]] inline udal_result_t forward(Handle handle, Args... args) noexcept {
  const udal_driver_table_t* t = table_of(handle);
  auto entry = t->*Member;
  if (entry == nullptr) [[unlikely]]
    return unsupported(entry_info(E).function, entry_info(E).name, t);
  return finish(Tag<E>{}, t, entry(handle, args...), handle, args...);
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

[[gnu::cold]] udal_result_t null_handle(const char* function, const char* what) noexcept {
  return fail(UDAL_ERROR_INVALID_HANDLE, "{}: {} is NULL", function, what);
}

[[gnu::cold]] udal_result_t null_argument(const char* function, const char* what) noexcept {
  return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: {} is NULL", function, what);
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

// The check of an entry whose one argument to check is |handle|.
inline udal_result_t check_handle(const char* function, const void* handle,
                                  const char* what) noexcept {
  return handle != nullptr ? UDAL_SUCCESS : null_handle(function, what);
}

// The check of a query into the caller's struct |*out| (named |out_name|): the handle, the
// pointer, the struct's type and size; then the struct is cleared.
template <typename Out>
udal_result_t check_query(const char* function, const void* handle, const char* handle_name,
                          Out* out, const char* out_name) noexcept {
  if (handle == nullptr)
    return null_handle(function, handle_name);
  if (out == nullptr)
    return null_argument(function, out_name);
  if (udal_result_t r = check_struct(function, out_name, out); r != UDAL_SUCCESS)
    return r;
  clear_output(out);
  return UDAL_SUCCESS;
}

constexpr udal_buffer_flags_t kKnownBufferFlags = UDAL_BUFFER_FLAG_DEVICE_ADDRESS;
constexpr udal_event_flags_t kKnownEventFlags =
    UDAL_EVENT_FLAG_TIMING | UDAL_EVENT_FLAG_HOST_SIGNAL;

/* ==========================================================================================
 * The stateless checks, one per public entry
 * ======================================================================================= */

// Devices

udal_result_t check_device_get_info(udal_device_t device, udal_device_info_t* out_info) noexcept {
  return check_query("udal_device_get_info", device, "device", out_info, "out_info");
}

udal_result_t check_device_get_memory_usage(udal_device_t device,
                                            udal_memory_usage_t* out_usage) noexcept {
  return check_query("udal_device_get_memory_usage", device, "device", out_usage, "out_usage");
}

// Buffers

udal_result_t check_buffer_create(udal_device_t device, const udal_buffer_desc_t* desc,
                                  udal_buffer_t* out_buffer) noexcept {
  constexpr const char* fn = "udal_buffer_create";
  if (out_buffer)
    *out_buffer = nullptr;
  if (!device)
    return null_handle(fn, "device");
  if (!out_buffer)
    return null_argument(fn, "out_buffer");
  if (!desc)
    return null_argument(fn, "desc");
  if (udal_result_t r = check_struct(fn, "desc", desc); r != UDAL_SUCCESS)
    return r;
  if (raw_enum(desc->kind) > UDAL_BUFFER_KIND_SHARED)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->kind {} is not a udal_buffer_kind_t (0 DEVICE, 1 HOST, 2 SHARED)", fn,
                static_cast<int32_t>(raw_enum(desc->kind)));
  if (desc->size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->size is 0", fn);
  if (desc->alignment != 0 && !is_power_of_two(desc->alignment))
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->alignment {} is neither 0 nor a power of two", fn, desc->alignment);
  if (desc->flags & ~kKnownBufferFlags)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->flags {:#x} has unknown bits {:#x} (known: "
                "UDAL_BUFFER_FLAG_DEVICE_ADDRESS {:#x})",
                fn, desc->flags, desc->flags & ~kKnownBufferFlags, kKnownBufferFlags);
  if (desc->reserved0 != 0)
    return reserved_not_zero(fn, "desc->reserved0", desc->reserved0);
  return UDAL_SUCCESS;
}

udal_result_t check_buffer_destroy(udal_buffer_t buffer) noexcept {
  return check_handle("udal_buffer_destroy", buffer, "buffer");
}

udal_result_t check_buffer_get_info(udal_buffer_t buffer, udal_buffer_info_t* out_info) noexcept {
  return check_query("udal_buffer_get_info", buffer, "buffer", out_info, "out_info");
}

udal_result_t check_buffer_map(udal_buffer_t buffer, uint64_t offset, uint64_t size,
                               void** out_ptr) noexcept {
  constexpr const char* fn = "udal_buffer_map";
  if (out_ptr)
    *out_ptr = nullptr;
  if (!buffer)
    return null_handle(fn, "buffer");
  if (!out_ptr)
    return null_argument(fn, "out_ptr");
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (range_wraps(offset, size))
    return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: offset {} + size {} overflows 64 bits", fn, offset,
                size);
  return UDAL_SUCCESS;
}

udal_result_t check_buffer_unmap(udal_buffer_t buffer) noexcept {
  return check_handle("udal_buffer_unmap", buffer, "buffer");
}

udal_result_t check_buffer_get_device_address(udal_buffer_t buffer,
                                              uint64_t* out_address) noexcept {
  constexpr const char* fn = "udal_buffer_get_device_address";
  if (out_address)
    *out_address = 0;
  if (!buffer)
    return null_handle(fn, "buffer");
  if (!out_address)
    return null_argument(fn, "out_address");
  return UDAL_SUCCESS;
}

// Events

udal_result_t check_event_create(udal_device_t device, const udal_event_desc_t* desc,
                                 udal_event_t* out_event) noexcept {
  constexpr const char* fn = "udal_event_create";
  if (out_event)
    *out_event = nullptr;
  if (!device)
    return null_handle(fn, "device");
  if (!out_event)
    return null_argument(fn, "out_event");
  if (desc) {
    if (udal_result_t r = check_struct(fn, "desc", desc); r != UDAL_SUCCESS)
      return r;
    if (desc->flags & ~kKnownEventFlags)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->flags {:#x} has unknown bits {:#x} (known: UDAL_EVENT_FLAG_TIMING "
                  "0x1, UDAL_EVENT_FLAG_HOST_SIGNAL 0x2)",
                  fn, desc->flags, desc->flags & ~kKnownEventFlags);
    if ((desc->flags & UDAL_EVENT_FLAG_TIMING) && (desc->flags & UDAL_EVENT_FLAG_HOST_SIGNAL))
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->flags {:#x} combine UDAL_EVENT_FLAG_TIMING and "
                  "UDAL_EVENT_FLAG_HOST_SIGNAL (a host-signalled event has no device timestamp)",
                  fn, desc->flags);
  }
  return UDAL_SUCCESS;
}

udal_result_t check_event_destroy(udal_event_t event) noexcept {
  return check_handle("udal_event_destroy", event, "event");
}

udal_result_t check_event_query(udal_event_t event) noexcept {
  return check_handle("udal_event_query", event, "event");
}

udal_result_t check_event_wait(udal_event_t event, uint64_t) noexcept {
  return check_handle("udal_event_wait", event, "event");
}

udal_result_t check_event_elapsed_ns(udal_event_t start, udal_event_t end,
                                     uint64_t* out_ns) noexcept {
  constexpr const char* fn = "udal_event_elapsed_ns";
  if (out_ns)
    *out_ns = 0;
  if (!start)
    return null_handle(fn, "start");
  if (!end)
    return null_handle(fn, "end");
  if (!out_ns)
    return null_argument(fn, "out_ns");
  if (!same_driver(start, end))
    return foreign(fn, "end event", end, "start event", start);
  return UDAL_SUCCESS;
}

udal_result_t check_event_signal(udal_event_t event) noexcept {
  return check_handle("udal_event_signal", event, "event");
}

// Modules and kernels

udal_result_t check_module_create(udal_device_t device, const udal_module_desc_t* desc,
                                  udal_module_t* out_module) noexcept {
  constexpr const char* fn = "udal_module_create";
  if (out_module)
    *out_module = nullptr;
  if (!device)
    return null_handle(fn, "device");
  if (!out_module)
    return null_argument(fn, "out_module");
  if (!desc)
    return null_argument(fn, "desc");
  if (udal_result_t r = check_struct(fn, "desc", desc); r != UDAL_SUCCESS)
    return r;
  if (desc->image_count == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->image_count is 0", fn);
  if (!desc->images)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->images is NULL but image_count is {}", fn,
                desc->image_count);
  for (uint32_t i = 0; i < desc->image_count; ++i) {
    const udal_module_image_t& image = desc->images[i];
    if (udal_result_t r = check_struct(fn, "desc->images", &image, i); r != UDAL_SUCCESS)
      return r;
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
    if (image.reserved0 != 0)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->images[{}].reserved0 is {:#x}; reserved fields must be 0", fn, i,
                  image.reserved0);
  }
  if (desc->specialization_constant_count > 0 && !desc->specialization_constants)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->specialization_constants is NULL but specialization_constant_count is "
                "{}",
                fn, desc->specialization_constant_count);
  for (uint32_t i = 0; i < desc->specialization_constant_count; ++i) {
    const udal_specialization_constant_t& c = desc->specialization_constants[i];
    if (c.size != 1 && c.size != 2 && c.size != 4 && c.size != 8)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->specialization_constants[{}].size {} is not 1, 2, 4 or 8", fn, i,
                  c.size);
    if (!c.value)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->specialization_constants[{}].value is NULL", fn, i);
  }
  return UDAL_SUCCESS;
}

udal_result_t check_module_destroy(udal_module_t module) noexcept {
  return check_handle("udal_module_destroy", module, "module");
}

udal_result_t check_module_get_info(udal_module_t module, udal_module_info_t* out_info) noexcept {
  return check_query("udal_module_get_info", module, "module", out_info, "out_info");
}

udal_result_t check_kernel_create(udal_module_t module, const char* name,
                                  udal_kernel_t* out_kernel) noexcept {
  constexpr const char* fn = "udal_kernel_create";
  if (out_kernel)
    *out_kernel = nullptr;
  if (!module)
    return null_handle(fn, "module");
  if (!out_kernel)
    return null_argument(fn, "out_kernel");
  if (!name)
    return null_argument(fn, "name");
  if (name[0] == '\0')
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: name is empty", fn);
  return UDAL_SUCCESS;
}

udal_result_t check_kernel_destroy(udal_kernel_t kernel) noexcept {
  return check_handle("udal_kernel_destroy", kernel, "kernel");
}

udal_result_t check_kernel_get_info(udal_kernel_t kernel, udal_kernel_info_t* out_info) noexcept {
  return check_query("udal_kernel_get_info", kernel, "kernel", out_info, "out_info");
}

udal_result_t check_kernel_get_argument_info(udal_kernel_t kernel, uint32_t,
                                             udal_kernel_arg_info_t* out_info) noexcept {
  return check_query("udal_kernel_get_argument_info", kernel, "kernel", out_info, "out_info");
}

// Streams

udal_result_t check_stream_create(udal_device_t device, const udal_stream_desc_t* desc,
                                  udal_stream_t* out_stream) noexcept {
  constexpr const char* fn = "udal_stream_create";
  if (out_stream)
    *out_stream = nullptr;
  if (!device)
    return null_handle(fn, "device");
  if (!out_stream)
    return null_argument(fn, "out_stream");
  if (desc) {
    if (udal_result_t r = check_struct(fn, "desc", desc); r != UDAL_SUCCESS)
      return r;
    if (desc->flags != 0)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->flags {:#x} must be 0 (no stream flags are defined)", fn, desc->flags);
  }
  return UDAL_SUCCESS;
}

udal_result_t check_stream_destroy(udal_stream_t stream) noexcept {
  return check_handle("udal_stream_destroy", stream, "stream");
}

udal_result_t check_stream_copy_buffer(udal_stream_t stream, udal_buffer_t src, uint64_t src_offset,
                                       udal_buffer_t dst, uint64_t dst_offset,
                                       uint64_t size) noexcept {
  constexpr const char* fn = "udal_stream_copy_buffer";
  if (!stream)
    return null_handle(fn, "stream");
  if (!src)
    return null_handle(fn, "src");
  if (!dst)
    return null_handle(fn, "dst");
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
  return UDAL_SUCCESS;
}

udal_result_t check_stream_fill_buffer(udal_stream_t stream, udal_buffer_t dst, uint64_t offset,
                                       uint64_t size, const void* pattern,
                                       uint32_t pattern_size) noexcept {
  constexpr const char* fn = "udal_stream_fill_buffer";
  if (!stream)
    return null_handle(fn, "stream");
  if (!dst)
    return null_handle(fn, "dst");
  if (!same_driver(stream, dst))
    return foreign(fn, "dst buffer", dst, "stream", stream);
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (!pattern)
    return null_argument(fn, "pattern");
  if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 && pattern_size != 8 &&
      pattern_size != 16)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern_size {} is not 1, 2, 4, 8 or 16", fn,
                pattern_size);
  if (range_wraps(offset, size))
    return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: offset {} + size {} overflows 64 bits", fn, offset,
                size);
  return UDAL_SUCCESS;
}

udal_result_t check_stream_write_buffer(udal_stream_t stream, udal_buffer_t dst,
                                        uint64_t dst_offset, const void* src,
                                        uint64_t size) noexcept {
  constexpr const char* fn = "udal_stream_write_buffer";
  if (!stream)
    return null_handle(fn, "stream");
  if (!dst)
    return null_handle(fn, "dst");
  if (!same_driver(stream, dst))
    return foreign(fn, "dst buffer", dst, "stream", stream);
  if (!src)
    return null_argument(fn, "src");
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (range_wraps(dst_offset, size))
    return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: dst_offset {} + size {} overflows 64 bits", fn,
                dst_offset, size);
  return UDAL_SUCCESS;
}

udal_result_t check_stream_read_buffer(udal_stream_t stream, udal_buffer_t src, uint64_t src_offset,
                                       void* dst, uint64_t size) noexcept {
  constexpr const char* fn = "udal_stream_read_buffer";
  if (!stream)
    return null_handle(fn, "stream");
  if (!src)
    return null_handle(fn, "src");
  if (!same_driver(stream, src))
    return foreign(fn, "src buffer", src, "stream", stream);
  if (!dst)
    return null_argument(fn, "dst");
  if (size == 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: size is 0", fn);
  if (range_wraps(src_offset, size))
    return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: src_offset {} + size {} overflows 64 bits", fn,
                src_offset, size);
  return UDAL_SUCCESS;
}

const char* access_name(uint32_t access) noexcept {
  switch (access) {
  case UDAL_ARG_ACCESS_NONE:
    return "UDAL_ARG_ACCESS_NONE";
  case UDAL_ARG_ACCESS_READ:
    return "UDAL_ARG_ACCESS_READ";
  case UDAL_ARG_ACCESS_WRITE:
    return "UDAL_ARG_ACCESS_WRITE";
  case UDAL_ARG_ACCESS_READ_WRITE:
    return "UDAL_ARG_ACCESS_READ_WRITE";
  default:
    return "not a udal_arg_access_t";
  }
}

// One launch argument, statelessly (brief item 2; the driver checks offset, alignment,
// device and the kernel's own declaration).
udal_result_t check_kernel_arg(const char* fn, udal_stream_t stream, uint32_t i,
                               const udal_kernel_arg_t& arg) noexcept {
  uint32_t access = raw_enum(arg.access);
  switch (raw_enum(arg.kind)) {
  case UDAL_ARG_KIND_BUFFER:
    if (!arg.buffer)
      return fail(UDAL_ERROR_INVALID_HANDLE, "{}: desc->args[{}] is a BUFFER with buffer NULL", fn,
                  i);
    if (!same_driver(stream, arg.buffer))
      return foreign(fn, "desc->args[] buffer", arg.buffer, "stream", stream);
    if (arg.value)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->args[{}] is a BUFFER with value {} (must be NULL)", fn, i, arg.value);
    if (arg.value_size != 0)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->args[{}] is a BUFFER with value_size {} (must be 0)", fn, i,
                  arg.value_size);
    if (access < UDAL_ARG_ACCESS_READ || access > UDAL_ARG_ACCESS_READ_WRITE)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->args[{}] is a BUFFER with access {} ({}); a buffer argument is "
                  "READ 1, WRITE 2 or READ_WRITE 3",
                  fn, i, static_cast<int32_t>(access), access_name(access));
    break;
  case UDAL_ARG_KIND_VALUE:
    if (!arg.value)
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->args[{}] is a VALUE with value NULL", fn,
                  i);
    if (arg.value_size == 0)
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->args[{}] is a VALUE with value_size 0",
                  fn, i);
    if (arg.buffer)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->args[{}] is a VALUE with buffer {} (must be NULL)", fn, i,
                  static_cast<const void*>(arg.buffer));
    if (arg.offset != 0)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->args[{}] is a VALUE with offset {} (must be 0)", fn, i, arg.offset);
    if (access != UDAL_ARG_ACCESS_NONE)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->args[{}] is a VALUE with access {} ({}); a value argument has "
                  "UDAL_ARG_ACCESS_NONE",
                  fn, i, static_cast<int32_t>(access), access_name(access));
    break;
  case UDAL_ARG_KIND_UNKNOWN:
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->args[{}].kind 0 is UDAL_ARG_KIND_UNKNOWN, which only reflection "
                "answers; a launch gives BUFFER 1 or VALUE 2",
                fn, i);
  default:
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->args[{}].kind {} is not a udal_arg_kind_t (1 BUFFER, 2 VALUE)", fn, i,
                static_cast<int32_t>(raw_enum(arg.kind)));
  }
  if (arg.reserved0 != 0)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->args[{}].reserved0 is {:#x}; reserved fields must be 0", fn, i,
                arg.reserved0);
  for (int r = 0; r < 3; ++r) {
    if (arg.reserved1[r] != 0)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->args[{}].reserved1[{}] is {:#x}; reserved fields must be 0", fn, i, r,
                  arg.reserved1[r]);
  }
  return UDAL_SUCCESS;
}

udal_result_t check_stream_launch(udal_stream_t stream, udal_kernel_t kernel,
                                  const udal_launch_desc_t* desc) noexcept {
  constexpr const char* fn = "udal_stream_launch";
  if (!stream)
    return null_handle(fn, "stream");
  if (!kernel)
    return null_handle(fn, "kernel");
  if (!same_driver(stream, kernel))
    return foreign(fn, "kernel", kernel, "stream", stream);
  if (!desc)
    return null_argument(fn, "desc");
  if (udal_result_t r = check_struct(fn, "desc", desc); r != UDAL_SUCCESS)
    return r;
  for (int axis = 0; axis < 3; ++axis) {
    if (desc->group_count[axis] == 0)
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->group_count[{}] is 0", fn, axis);
    if (desc->group_size[axis] == 0)
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->group_size[{}] is 0", fn, axis);
  }
  if (desc->reserved0 != 0)
    return reserved_not_zero(fn, "desc->reserved0", desc->reserved0);
  if (desc->arg_count > 0 && !desc->args)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->args is NULL but desc->arg_count is {}", fn,
                desc->arg_count);
  for (uint32_t i = 0; i < desc->arg_count; ++i) {
    if (udal_result_t r = check_kernel_arg(fn, stream, i, desc->args[i]); r != UDAL_SUCCESS)
      return r;
  }
  return UDAL_SUCCESS;
}

udal_result_t check_stream_record_event(udal_stream_t stream, udal_event_t event) noexcept {
  constexpr const char* fn = "udal_stream_record_event";
  if (!stream)
    return null_handle(fn, "stream");
  if (!event)
    return null_handle(fn, "event");
  if (!same_driver(stream, event))
    return foreign(fn, "event", event, "stream", stream);
  return UDAL_SUCCESS;
}

udal_result_t check_stream_wait_event(udal_stream_t stream, udal_event_t event) noexcept {
  constexpr const char* fn = "udal_stream_wait_event";
  if (!stream)
    return null_handle(fn, "stream");
  if (!event)
    return null_handle(fn, "event");
  if (!same_driver(stream, event))
    return foreign(fn, "event", event, "stream", stream);
  return UDAL_SUCCESS;
}

udal_result_t check_stream_synchronize(udal_stream_t stream, uint64_t) noexcept {
  return check_handle("udal_stream_synchronize", stream, "stream");
}

udal_result_t check_stream_enqueue_host_function(udal_stream_t stream, udal_host_function_t fn,
                                                 void*) noexcept {
  constexpr const char* function = "udal_stream_enqueue_host_function";
  if (!stream)
    return null_handle(function, "stream");
  if (!fn)
    return null_argument(function, "fn");
  return UDAL_SUCCESS;
}

} // namespace
} // namespace udal::hal

/* ==========================================================================================
 * The entry points: one per public entry of the list
 * ======================================================================================= */

extern "C" {

#define UDAL_HAL_DEFINE_ENTRY_(name, required, is_public, params, args)                            \
  UDAL_HAL_IF_PUBLIC_(                                                                             \
      is_public, UDAL_API udal_result_t udal_##name params {                                       \
        if (udal_result_t r = udal::hal::check_##name args; r != UDAL_SUCCESS) [[unlikely]]        \
          return r;                                                                                \
        return udal::hal::forward<udal::hal::Entry::name, &udal_driver_table_t::name>(             \
            UDAL_HAL_UNPAREN_ args);                                                               \
      })
UDAL_DRIVER_ENTRIES(UDAL_HAL_DEFINE_ENTRY_)
#undef UDAL_HAL_DEFINE_ENTRY_

} // extern "C"
