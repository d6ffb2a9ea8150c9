// checks.h — the checks only a driver can make (libudal has made the stateless ones):
// ranges inside buffers, fill patterns, and a launch against the device's and the kernel's
// limits. Header-only. Every check returns UDAL_SUCCESS or an error code with its message
// set by udal::sdk::fail, naming the function, the values and the limit; every sum and
// product is overflow-safe (an offset near UINT64_MAX is refused, never wrapped).
//
//   constexpr const char* kFn = "udal_stream_fill_buffer";
//   if (udal_result_t r = udal::sdk::check_fill_pattern(kFn, pattern, pattern_size)) return r;
//   if (udal_result_t r = udal::sdk::check_range(kFn, "fill", dst, dst->size, offset, size))
//     return r;
//
//   // udal_stream_launch: |resolve| turns a BUFFER argument into the driver's buffer,
//   // refusing another device's (INVALID_HANDLE), and gives its object and size.
//   auto resolve = [&](uint32_t i, udal_buffer_t handle, udal::sdk::BufferView& view) {
//     const Buffer* buffer = to_buffer(handle);
//     if (buffer->device != device) return udal::sdk::fail(UDAL_ERROR_INVALID_HANDLE, ...);
//     view = {buffer, buffer->size};
//     return UDAL_SUCCESS;
//   };
//   if (udal_result_t r = udal::sdk::check_launch(kFn, device->info, kernel.signature(), desc,
//                                                 resolve)) return r;
//
// The launch check is what the CTS exercises (docs/driver-guide.md lists the limits): size
// max_group_size, max_group_count, max_group_invocations, max_local_memory_bytes,
// max_kernel_arguments, max_value_argument_bytes and buffer_argument_offset_alignment in
// udal_device_info_t to what the device really takes, and this check holds launches to them.
#ifndef UDAL_SDK_CHECKS_H_
#define UDAL_SDK_CHECKS_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "udal/sdk/error.h"
#include "udal/sdk/names.h"
#include "udal/udal_driver.h"

namespace udal::sdk {

// ==========================================================================================
// Ranges and alignment
// ==========================================================================================

// Whether [offset, offset + size) lies inside [0, total) (overflow-safe).
constexpr bool range_fits(uint64_t total, uint64_t offset, uint64_t size) noexcept {
  return offset <= total && size <= total - offset;
}

// Whether |value| is a multiple of |alignment| (0 and 1 align everything).
constexpr bool is_aligned(uint64_t value, uint64_t alignment) noexcept {
  return alignment <= 1 || value % alignment == 0;
}

// Whether |value| is 0 or a power of two.
constexpr bool is_power_of_two_or_zero(uint64_t value) noexcept {
  return (value & (value - 1)) == 0;
}

// |value| rounded up to a multiple of |alignment| (a power of two); false when that
// overflows.
constexpr bool align_up(uint64_t value, uint64_t alignment, uint64_t& out) noexcept {
  if (alignment <= 1) {
    out = value;
    return true;
  }
  const uint64_t mask = alignment - 1;
  if (value > UINT64_MAX - mask)
    return false;
  out = (value + mask) & ~mask;
  return true;
}

// [offset, offset + size) must lie in |buffer| of |buffer_size| bytes; else
// UDAL_ERROR_OUT_OF_RANGE "<function>: <what> of <size> bytes at offset <offset> runs past
// the end of buffer <buffer> (<buffer_size> bytes)". |buffer| is only for the message.
inline udal_result_t check_range(const char* function, const char* what, const void* buffer,
                                 uint64_t buffer_size, uint64_t offset, uint64_t size) noexcept {
  if (!range_fits(buffer_size, offset, size)) {
    return fail(UDAL_ERROR_OUT_OF_RANGE,
                "{}: {} of {} bytes at offset {} runs past the end of buffer {} ({} bytes)",
                function, what, size, offset, fmt::ptr(buffer), buffer_size);
  }
  return UDAL_SUCCESS;
}

// A buffer-to-buffer copy: both ranges inside their buffers (OUT_OF_RANGE naming the
// source or destination) and, within one buffer, not overlapping (INVALID_ARGUMENT).
inline udal_result_t check_copy(const char* function, const void* src, uint64_t src_size,
                                uint64_t src_offset, const void* dst, uint64_t dst_size,
                                uint64_t dst_offset, uint64_t size) noexcept {
  if (!range_fits(src_size, src_offset, size)) {
    return fail(UDAL_ERROR_OUT_OF_RANGE,
                "{}: copy of {} bytes at source offset {} runs past the end of buffer {} ({} "
                "bytes)",
                function, size, src_offset, fmt::ptr(src), src_size);
  }
  if (!range_fits(dst_size, dst_offset, size)) {
    return fail(UDAL_ERROR_OUT_OF_RANGE,
                "{}: copy of {} bytes at destination offset {} runs past the end of buffer {} "
                "({} bytes)",
                function, size, dst_offset, fmt::ptr(dst), dst_size);
  }
  // Both ranges fit, so none of these sums overflows.
  if (src == dst && src_offset < dst_offset + size && dst_offset < src_offset + size) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: source [{}, {}) and destination [{}, {}) overlap in buffer {}", function,
                src_offset, src_offset + size, dst_offset, dst_offset + size, fmt::ptr(src));
  }
  return UDAL_SUCCESS;
}

// A fill pattern: not NULL, and 1, 2, 4, 8 or 16 bytes (INVALID_ARGUMENT).
inline udal_result_t check_fill_pattern(const char* function, const void* pattern,
                                        uint32_t pattern_size) noexcept {
  if (pattern == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern is NULL", function);
  if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 && pattern_size != 8 &&
      pattern_size != 16) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern_size {} is not 1, 2, 4, 8 or 16",
                function, pattern_size);
  }
  return UDAL_SUCCESS;
}

// ==========================================================================================
// Launches
// ==========================================================================================

// One argument as the kernel declares it.
struct ArgDeclaration {
  uint32_t kind;       // UDAL_ARG_KIND_BUFFER or UDAL_ARG_KIND_VALUE
  uint32_t access;     // buffer: UDAL_ARG_ACCESS_READ/WRITE/READ_WRITE; value: NONE
  uint64_t value_size; // value: its bytes; buffer: 0
};

// What a launch is checked against of its kernel.
struct KernelSignature {
  std::string_view name;
  uint32_t argument_count = UDAL_ARGUMENT_COUNT_UNKNOWN; // or the count it takes
  // Empty span and |declared| false: the kernel does not describe its arguments.
  bool declared = false;
  std::span<const ArgDeclaration> args;
  bool uses_local_memory = false; // a launch must give local_memory_bytes > 0
};

// What resolve() tells of a BUFFER argument's buffer.
struct BufferView {
  const void* object = nullptr; // the driver's buffer, for messages
  uint64_t size = 0;            // its bytes
};

// What check_launch found, to size the capture.
struct LaunchSummary {
  uint64_t value_bytes = 0;
  uint64_t buffer_count = 0;
};

namespace detail {

inline udal_result_t check_launch_shape(const char* fn, const udal_device_info_t& info,
                                        const KernelSignature& kernel,
                                        const udal_launch_desc_t& desc) noexcept {
  if (desc.reserved0 != 0) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->reserved0 is {}, not 0", fn,
                desc.reserved0);
  }
  uint64_t invocations = 1;
  static constexpr const char* kAxis[3] = {"x", "y", "z"};
  for (int axis = 0; axis < 3; ++axis) {
    if (desc.group_count[axis] == 0 || desc.group_size[axis] == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: group_{}[{}] ({}) is 0", fn,
                  desc.group_count[axis] == 0 ? "count" : "size", axis, kAxis[axis]);
    }
    if (desc.group_size[axis] > info.max_group_size[axis]) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: group_size[{}] = {} is over the device's max_group_size[{}] = {}", fn, axis,
                  desc.group_size[axis], axis, info.max_group_size[axis]);
    }
    if (desc.group_count[axis] > info.max_group_count[axis]) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: group_count[{}] = {} is over the device's max_group_count[{}] = {}", fn,
                  axis, desc.group_count[axis], axis, info.max_group_count[axis]);
    }
    // Three 32-bit factors can pass 64 bits: saturate (it is over any limit then).
    if (__builtin_mul_overflow(invocations, uint64_t{desc.group_size[axis]}, &invocations)) {
      invocations = UINT64_MAX;
    }
  }
  if (invocations > info.max_group_invocations) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: group size {}x{}x{} = {} work-items is over max_group_invocations {}", fn,
                desc.group_size[0], desc.group_size[1], desc.group_size[2], invocations,
                info.max_group_invocations);
  }
  if (desc.local_memory_bytes > info.max_local_memory_bytes) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: local_memory_bytes {} is over the device's max_local_memory_bytes {}", fn,
                desc.local_memory_bytes, info.max_local_memory_bytes);
  }
  // A kernel that reads its local memory would read NULL.
  if (kernel.uses_local_memory && desc.local_memory_bytes == 0) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: kernel '{}' uses dynamic local memory (UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY) "
                "but the launch gives local_memory_bytes 0",
                fn, kernel.name);
  }
  if (kernel.argument_count != UDAL_ARGUMENT_COUNT_UNKNOWN &&
      desc.arg_count != kernel.argument_count) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: the launch passes {} arguments but kernel '{}' takes {}", fn, desc.arg_count,
                kernel.name, kernel.argument_count);
  }
  if (desc.arg_count > info.max_kernel_arguments) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: arg_count {} is over max_kernel_arguments {}", fn,
                desc.arg_count, info.max_kernel_arguments);
  }
  if (desc.arg_count > 0 && desc.args == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args is NULL with arg_count {}", fn,
                desc.arg_count);
  }
  if (kernel.declared && kernel.args.size() < desc.arg_count) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: the launch passes {} arguments but kernel '{}' declares {}", fn,
                desc.arg_count, kernel.name, kernel.args.size());
  }
  return UDAL_SUCCESS;
}

// Argument |i| against what the kernel declares of it.
inline udal_result_t check_declared_arg(const char* fn, const KernelSignature& kernel, uint32_t i,
                                        const udal_kernel_arg_t& arg) noexcept {
  // A kernel reads its arguments as it declared them: anything else reads a value as a
  // pointer (or the reverse), or past the bytes given.
  const ArgDeclaration& declared = kernel.args[i];
  if (declared.kind != static_cast<uint32_t>(arg.kind)) {
    if (declared.kind == UDAL_ARG_KIND_BUFFER) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: args[{}] is a VALUE of {} bytes but kernel '{}' declares argument {} a "
                  "BUFFER (arguments out of order?)",
                  fn, i, arg.value_size, kernel.name, i);
    }
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: args[{}] is a BUFFER but kernel '{}' declares argument {} a VALUE of {} "
                "bytes (arguments out of order?)",
                fn, i, kernel.name, i, declared.value_size);
  }
  if (arg.kind == UDAL_ARG_KIND_VALUE && arg.value_size != declared.value_size) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: args[{}] is a VALUE of {} bytes but kernel '{}' declares argument {} a "
                "VALUE of {} bytes",
                fn, i, arg.value_size, kernel.name, i, declared.value_size);
  }
  const uint32_t missing = declared.access & ~static_cast<uint32_t>(arg.access);
  if (arg.kind == UDAL_ARG_KIND_BUFFER && missing != 0) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: args[{}] is passed with access {} but kernel '{}' declares argument {} "
                "{} (the kernel {} a buffer the caller said it only {})",
                fn, i, access_name(arg.access), kernel.name, i, access_name(declared.access),
                (missing & UDAL_ARG_ACCESS_WRITE) ? "writes" : "reads",
                arg.access == UDAL_ARG_ACCESS_READ ? "reads" : "writes");
  }
  return UDAL_SUCCESS;
}

} // namespace detail

// Checks launch |desc| of |kernel| against the device limits in |info|, in this order:
// reserved0; per axis group_count and group_size not 0 and within max_group_count /
// max_group_size; the group's work-items within max_group_invocations; local_memory_bytes
// within max_local_memory_bytes (and not 0 when the kernel uses local memory); arg_count
// equal to the kernel's count and within max_kernel_arguments; then each argument (reserved
// fields zero; a VALUE has bytes; a BUFFER has a buffer, an access, is resolved by
// |resolve|, starts before its buffer's end and at a multiple of
// buffer_argument_offset_alignment; the kind, value size and access match the kernel's
// declaration); and last the value bytes in all within max_value_argument_bytes.
// |resolve(uint32_t index, udal_buffer_t buffer, BufferView& out) -> udal_result_t| turns a
// BUFFER argument into the driver's buffer (refusing, with its message, a buffer of another
// device). All errors are UDAL_ERROR_INVALID_ARGUMENT, except a NULL or foreign buffer
// (INVALID_HANDLE) and an offset past the buffer's end (OUT_OF_RANGE). |summary|, when
// given, receives the value bytes and buffer count.
template <typename Resolve>
udal_result_t check_launch(const char* fn, const udal_device_info_t& info,
                           const KernelSignature& kernel, const udal_launch_desc_t& desc,
                           Resolve&& resolve, LaunchSummary* summary = nullptr) {
  if (udal_result_t r = detail::check_launch_shape(fn, info, kernel, desc))
    return r;
  LaunchSummary found;
  for (uint32_t i = 0; i < desc.arg_count; ++i) {
    const udal_kernel_arg_t& arg = desc.args[i];
    if (arg.reserved0 != 0 || arg.reserved1[0] != 0 || arg.reserved1[1] != 0 ||
        arg.reserved1[2] != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] has non-zero reserved fields", fn, i);
    }
    if (arg.kind == UDAL_ARG_KIND_VALUE) {
      if (arg.value == nullptr || arg.value_size == 0) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] is a VALUE with {}", fn, i,
                    arg.value == nullptr ? "a NULL value" : "value_size 0");
      }
      // At most max_kernel_arguments sizes of 32 bits each: no overflow.
      found.value_bytes += arg.value_size;
    } else if (arg.kind == UDAL_ARG_KIND_BUFFER) {
      if (arg.buffer == nullptr) {
        return fail(UDAL_ERROR_INVALID_HANDLE, "{}: args[{}] is a BUFFER with a NULL buffer", fn,
                    i);
      }
      if (arg.access < UDAL_ARG_ACCESS_READ || arg.access > UDAL_ARG_ACCESS_READ_WRITE) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT,
                    "{}: args[{}] is a BUFFER with access {} (READ, WRITE or READ_WRITE)", fn, i,
                    static_cast<int>(arg.access));
      }
      BufferView buffer;
      if (udal_result_t r = resolve(i, arg.buffer, buffer))
        return r;
      if (arg.offset >= buffer.size) {
        return fail(UDAL_ERROR_OUT_OF_RANGE,
                    "{}: args[{}] offset {} is past the end of buffer {} ({} bytes)", fn, i,
                    arg.offset, fmt::ptr(buffer.object), buffer.size);
      }
      if (!is_aligned(arg.offset, info.buffer_argument_offset_alignment)) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT,
                    "{}: args[{}] offset {} is not a multiple of the device's "
                    "buffer_argument_offset_alignment {}",
                    fn, i, arg.offset, info.buffer_argument_offset_alignment);
      }
      ++found.buffer_count;
    } else {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}].kind {} is not BUFFER or VALUE", fn, i,
                  static_cast<int>(arg.kind));
    }
    if (kernel.declared) {
      if (udal_result_t r = detail::check_declared_arg(fn, kernel, i, arg))
        return r;
    }
  }
  if (found.value_bytes > info.max_value_argument_bytes) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: the value arguments take {} bytes, over max_value_argument_bytes {}", fn,
                found.value_bytes, info.max_value_argument_bytes);
  }
  if (summary)
    *summary = found;
  return UDAL_SUCCESS;
}

} // namespace udal::sdk

#endif // UDAL_SDK_CHECKS_H_
