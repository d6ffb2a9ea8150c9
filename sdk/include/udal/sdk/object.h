// object.h — the dispatchable-object rule and handle <-> object casts.
//
// libudal dispatches a call by reading the first pointer-sized word of the object a handle
// points to: the `const udal_driver_table_t*` it gave the driver. So every object behind a
// handle must be standard-layout with that pointer first. A class with virtual functions
// would put its vtable pointer there instead, and libudal would jump through the vtable.
#ifndef UDAL_SDK_OBJECT_H_
#define UDAL_SDK_OBJECT_H_

#include <cstddef>
#include <type_traits>

#include "udal/udal_driver.h"

// Asserts that |Type| may stand behind a UDAL handle. Put it after the type's definition.
#define UDAL_SDK_DISPATCHABLE(Type)                                                          \
  static_assert(std::is_standard_layout_v<Type>,                                             \
                #Type " must be standard-layout (no virtual functions, one access level)"); \
  static_assert(offsetof(Type, dispatch) == 0,                                               \
                #Type "::dispatch must be the first member");                                \
  static_assert(std::is_same_v<decltype(Type::dispatch), const udal_driver_table_t*>,        \
                #Type "::dispatch must be a const udal_driver_table_t*")

namespace udal::sdk {

// The handle of |object| (a udal_buffer_t for a Buffer*, ...). Never null for non-null.
template <typename Handle, typename Object>
Handle to_handle(Object* object) noexcept {
  static_assert(std::is_pointer_v<Handle>, "Handle must be a udal_*_t handle type");
  static_assert(std::is_standard_layout_v<Object> && offsetof(Object, dispatch) == 0,
                "objects behind handles must satisfy UDAL_SDK_DISPATCHABLE");
  return reinterpret_cast<Handle>(object);
}

// The object behind |handle|. libudal has already checked that the handle is not null and
// belongs to this driver (its first word is this driver's table).
template <typename Object, typename Handle>
Object* from_handle(Handle handle) noexcept {
  static_assert(std::is_pointer_v<Handle>, "Handle must be a udal_*_t handle type");
  static_assert(std::is_standard_layout_v<Object> && offsetof(Object, dispatch) == 0,
                "objects behind handles must satisfy UDAL_SDK_DISPATCHABLE");
  return reinterpret_cast<Object*>(handle);
}

// The table pointer at the start of any dispatchable object (what libudal reads).
template <typename Handle>
const udal_driver_table_t* dispatch_of(Handle handle) noexcept {
  return *reinterpret_cast<const udal_driver_table_t* const*>(handle);
}

}  // namespace udal::sdk

#endif  // UDAL_SDK_OBJECT_H_
