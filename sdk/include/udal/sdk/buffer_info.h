// buffer_info.h — the whole udal_buffer_get_info entry for a driver's buffer object.
// Header-only.
//
//   udal_result_t buffer_get_info(udal_buffer_t handle, udal_buffer_info_t* out_info) {
//     return udal::sdk::get_buffer_info(*to_buffer(handle), out_info);
//   }
#ifndef UDAL_SDK_BUFFER_INFO_H_
#define UDAL_SDK_BUFFER_INFO_H_

#include "udal/sdk/error.h"
#include "udal/sdk/object.h"
#include "udal/sdk/structs.h"

namespace udal::sdk {

// Refuses |out_info| NULL or of another struct type (INVALID_ARGUMENT), then writes, within
// the caller's struct_size, what |buffer| holds: its members `device` (the device object
// behind a udal_device_t), `kind`, `flags`, `size` and `alignment`.
template <typename Buffer>
udal_result_t get_buffer_info(const Buffer& buffer, udal_buffer_info_t* out_info) noexcept {
  constexpr const char* kFn = "udal_buffer_get_info";
  if (out_info == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", kFn);
  if (udal_result_t r = check_struct(kFn, "out_info", out_info)) return r;
  auto info = make_struct<udal_buffer_info_t>();
  info.device = to_handle<udal_device_t>(buffer.device);
  info.kind = buffer.kind;
  info.flags = buffer.flags;
  info.size = buffer.size;
  info.alignment = buffer.alignment;
  write_struct(out_info, info);
  return UDAL_SUCCESS;
}

}  // namespace udal::sdk

#endif  // UDAL_SDK_BUFFER_INFO_H_
