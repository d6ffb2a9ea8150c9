// The checks every struct a caller passes or fills goes through: its type tag, its
// struct_size against the frozen 1.0 size, its `next` chain, and for outputs the clearing
// of what libudal knows inside the caller's struct_size.
#pragma once

#include <udal/udal_driver.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace udal::hal {

#if UINTPTR_MAX != UINT64_MAX
#error "the frozen 1.0 struct sizes below are those of LP64 platforms"
#endif

// What libudal knows of one public struct. |size| is the struct's size in UDAL 1.0, a
// literal: it never changes when a later minor version appends fields (sizeof then grows,
// and a caller built against 1.0 still passes this size). libudal compares struct_size with
// it, never with sizeof.
template <typename T> struct Frozen;

#define UDAL_HAL_FROZEN_STRUCT(T, TYPE, SIZE)                                                      \
  template <> struct Frozen<T> {                                                                   \
    static constexpr udal_structure_type_t type = TYPE;                                            \
    static constexpr uint32_t size = SIZE;                                                         \
    static constexpr const char* name = #T;                                                        \
    static constexpr const char* type_name = #TYPE;                                                \
  };                                                                                               \
  static_assert(sizeof(T) == (SIZE), #T " changed size: 1.0 is frozen at " #SIZE " bytes; "        \
                                        "append fields only in a new minor version and keep "      \
                                        "this constant")

UDAL_HAL_FROZEN_STRUCT(udal_instance_desc_t, UDAL_STRUCTURE_TYPE_INSTANCE_DESC, 40);
UDAL_HAL_FROZEN_STRUCT(udal_driver_status_t, UDAL_STRUCTURE_TYPE_DRIVER_STATUS, 72);
UDAL_HAL_FROZEN_STRUCT(udal_device_info_t, UDAL_STRUCTURE_TYPE_DEVICE_INFO, 864);
UDAL_HAL_FROZEN_STRUCT(udal_memory_usage_t, UDAL_STRUCTURE_TYPE_MEMORY_USAGE, 48);
UDAL_HAL_FROZEN_STRUCT(udal_buffer_desc_t, UDAL_STRUCTURE_TYPE_BUFFER_DESC, 48);
UDAL_HAL_FROZEN_STRUCT(udal_buffer_info_t, UDAL_STRUCTURE_TYPE_BUFFER_INFO, 56);
UDAL_HAL_FROZEN_STRUCT(udal_event_desc_t, UDAL_STRUCTURE_TYPE_EVENT_DESC, 24);
UDAL_HAL_FROZEN_STRUCT(udal_module_image_t, UDAL_STRUCTURE_TYPE_MODULE_IMAGE, 48);
UDAL_HAL_FROZEN_STRUCT(udal_module_desc_t, UDAL_STRUCTURE_TYPE_MODULE_DESC, 48);
UDAL_HAL_FROZEN_STRUCT(udal_module_info_t, UDAL_STRUCTURE_TYPE_MODULE_INFO, 24);
UDAL_HAL_FROZEN_STRUCT(udal_kernel_info_t, UDAL_STRUCTURE_TYPE_KERNEL_INFO, 48);
UDAL_HAL_FROZEN_STRUCT(udal_kernel_arg_info_t, UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO, 32);
UDAL_HAL_FROZEN_STRUCT(udal_launch_desc_t, UDAL_STRUCTURE_TYPE_LAUNCH_DESC, 64);
UDAL_HAL_FROZEN_STRUCT(udal_stream_desc_t, UDAL_STRUCTURE_TYPE_STREAM_DESC, 24);
UDAL_HAL_FROZEN_STRUCT(udal_driver_table_t, UDAL_STRUCTURE_TYPE_DRIVER_TABLE, 320);
UDAL_HAL_FROZEN_STRUCT(udal_driver_create_desc_t, UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC, 56);
// Appended after the 1.0 freeze: |size| is the size it was added with.
UDAL_HAL_FROZEN_STRUCT(udal_layer_status_t, UDAL_STRUCTURE_TYPE_LAYER_STATUS, 80);
#undef UDAL_HAL_FROZEN_STRUCT

// Array elements have no header: their layout is frozen for all of major version 1.
static_assert(sizeof(udal_kernel_arg_t) == 64, "udal_kernel_arg_t is frozen at 64 bytes");
static_assert(sizeof(udal_specialization_constant_t) == 16,
              "udal_specialization_constant_t is frozen at 16 bytes");
static_assert(sizeof(udal_base_in_t) == 16 && sizeof(udal_base_out_t) == 16);

// The longest `next` chain libudal walks; a longer one is refused as a probable cycle.
inline constexpr uint32_t kMaxChainLinks = 64;

// "UDAL_STRUCTURE_TYPE_EVENT_DESC", "a vendor type" or "not a udal_structure_type_t".
const char* structure_type_name(uint32_t type) noexcept;

// A 32-bit enum field read as the integer the caller stored: a value outside the
// enumerators' range (e.g. -1) must not be loaded as the enum type, which C++ leaves
// undefined.
template <typename Enum> uint32_t raw_enum(const Enum& field) noexcept {
  static_assert(sizeof(Enum) == sizeof(uint32_t));
  uint32_t value;
  std::memcpy(&value, &field, sizeof(value));
  return value;
}

// Checks the header of |s| (named |what| in messages, e.g. "desc"; with |index| ≥ 0,
// "desc->images[index]" style: |what| then is "desc->images"): type, struct_size ≥ 1.0 size,
// and the `next` chain (at most kMaxChainLinks links, no core type — 1.0 defines no core
// extension — vendor types passed on). UDAL_SUCCESS, or INVALID_ARGUMENT with the message.
udal_result_t check_struct_header(const char* function, const char* what, int64_t index,
                                  const void* s, udal_structure_type_t expected_type,
                                  uint32_t frozen_size, const char* struct_name,
                                  const char* expected_type_name) noexcept;

template <typename T>
inline udal_result_t check_struct(const char* function, const char* what, const T* s,
                                  int64_t index = -1) noexcept {
  using F = Frozen<T>;
  // The fast path: right tag, 1.0 size or more, no chain.
  if (raw_enum(s->type) == static_cast<uint32_t>(F::type) && s->struct_size >= F::size &&
      s->next == nullptr) [[likely]]
    return UDAL_SUCCESS;
  return check_struct_header(function, what, index, s, F::type, F::size, F::name, F::type_name);
}

// Zeroes what follows the header of an output struct, up to the smaller of the caller's
// struct_size and this libudal's sizeof: libudal never writes past the caller's struct_size,
// and leaves type, struct_size and the caller's next chain alone.
template <typename T> void clear_output(T* s) noexcept {
  static_assert(offsetof(T, next) == 8 && std::is_standard_layout_v<T>);
  constexpr size_t header = sizeof(udal_base_out_t);
  size_t end = s->struct_size < sizeof(T) ? s->struct_size : sizeof(T);
  if (end > header)
    std::memset(reinterpret_cast<char*>(s) + header, 0, end - header);
}

// A reserved field that is not zero: INVALID_ARGUMENT naming it and its value.
udal_result_t reserved_not_zero(const char* function, const char* field, uint64_t value) noexcept;

} // namespace udal::hal
