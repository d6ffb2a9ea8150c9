// object.h — the dispatchable-object rule and handle <-> object casts.
//
// libudal dispatches a call by reading the first pointer-sized word of the object a handle
// points to: the `const udal_driver_table_t*` it gave the driver. So every object behind a
// handle must have that pointer at offset 0: no virtual functions (the vtable pointer would
// be there instead, and libudal would jump through the vtable), no base class with data
// before it, `dispatch` its first member.
//
// The rule is checked as such, not as std::is_standard_layout: clang (14 and 15, with
// libstdc++) does not count std::unique_ptr as standard-layout, so that test would refuse an
// object holding one under clang and accept it under GCC.
#ifndef UDAL_SDK_OBJECT_H_
#define UDAL_SDK_OBJECT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "udal/sdk/error.h"
#include "udal/udal_driver.h"

// Asserts that |Type| may stand behind a UDAL handle. Put it after the type's definition.
#define UDAL_SDK_DISPATCHABLE(Type)                                                          \
  static_assert(!std::is_polymorphic_v<Type>,                                                \
                #Type " must have no virtual functions (its vtable pointer would come first)"); \
  static_assert(::udal::sdk::detail::dispatch_offset<Type>() == 0,                           \
                #Type "::dispatch must be the first member, with no base class data before it"); \
  static_assert(std::is_same_v<decltype(Type::dispatch), const udal_driver_table_t*>,        \
                #Type "::dispatch must be a const udal_driver_table_t*")

namespace udal::sdk {

namespace detail {
// offsetof on a class that is not standard-layout is "conditionally supported": GCC and clang
// support it for classes without virtual bases (a virtual base makes it no constant, which
// fails the static_assert's compilation), and warn; the warning is what is silenced here.
template <typename Type> constexpr std::size_t dispatch_offset() noexcept {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
  return offsetof(Type, dispatch);
#pragma GCC diagnostic pop
}
} // namespace detail

// The handle of |object| (a udal_buffer_t for a Buffer*, ...). Never null for non-null.
template <typename Handle, typename Object>
Handle to_handle(Object* object) noexcept {
  static_assert(std::is_pointer_v<Handle>, "Handle must be a udal_*_t handle type");
  static_assert(!std::is_polymorphic_v<Object> && detail::dispatch_offset<Object>() == 0,
                "objects behind handles must satisfy UDAL_SDK_DISPATCHABLE");
  return reinterpret_cast<Handle>(object);
}

// The object behind |handle|. libudal has already checked that the handle is not null and
// belongs to this driver (its first word is this driver's table).
template <typename Object, typename Handle>
Object* from_handle(Handle handle) noexcept {
  static_assert(std::is_pointer_v<Handle>, "Handle must be a udal_*_t handle type");
  static_assert(!std::is_polymorphic_v<Object> && detail::dispatch_offset<Object>() == 0,
                "objects behind handles must satisfy UDAL_SDK_DISPATCHABLE");
  return reinterpret_cast<Object*>(handle);
}

// The table pointer at the start of any dispatchable object (what libudal reads).
template <typename Handle>
const udal_driver_table_t* dispatch_of(Handle handle) noexcept {
  return *reinterpret_cast<const udal_driver_table_t* const*>(handle);
}

// The whole of driver_get_device_count and driver_get_device for a driver that keeps its
// devices in |devices|, a random-access container of pointers (raw, unique_ptr or
// shared_ptr) to dispatchable device objects, in the order the driver reports them:
//   return udal::sdk::answer_device_count(to_driver(handle)->devices, out_count);
//   return udal::sdk::answer_device(to_driver(handle)->devices, index, out_device);
// A NULL out pointer is INVALID_ARGUMENT; an index past the end is NOT_FOUND, with
// *out_device cleared.
template <typename Devices>
udal_result_t answer_device_count(const Devices& devices, uint32_t* out_count) noexcept {
  if (out_count == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_driver_get_device_count: out_count is NULL");
  *out_count = static_cast<uint32_t>(devices.size());
  return UDAL_SUCCESS;
}

template <typename Devices>
udal_result_t answer_device(const Devices& devices, uint32_t index,
                            udal_device_t* out_device) noexcept {
  if (out_device == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_driver_get_device: out_device is NULL");
  *out_device = nullptr;
  if (index >= devices.size()) {
    return fail(UDAL_ERROR_NOT_FOUND, "udal_driver_get_device: index {} is not below the device "
                "count {}", index, devices.size());
  }
  *out_device = to_handle<udal_device_t>(std::to_address(devices[index]));
  return UDAL_SUCCESS;
}

}  // namespace udal::sdk

#endif  // UDAL_SDK_OBJECT_H_
