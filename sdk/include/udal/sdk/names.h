// names.h — the names of the ABI's enum values, for messages and reports. Header-only;
// every string is static.
#ifndef UDAL_SDK_NAMES_H_
#define UDAL_SDK_NAMES_H_

#include <cstdint>

#include "udal/udal.h"

namespace udal::sdk {

// "HOST_NATIVE", "SPIRV_COMPUTE", ...; |fallback| for a value the ABI does not name (the
// vendor range, or a format of a newer version).
constexpr const char* module_format_name(udal_module_format_t format,
                                         const char* fallback = "VENDOR") noexcept {
  switch (format) {
    case UDAL_MODULE_FORMAT_NONE: return "NONE";
    case UDAL_MODULE_FORMAT_HOST_NATIVE: return "HOST_NATIVE";
    case UDAL_MODULE_FORMAT_SPIRV_COMPUTE: return "SPIRV_COMPUTE";
    case UDAL_MODULE_FORMAT_SPIRV_KERNEL: return "SPIRV_KERNEL";
    case UDAL_MODULE_FORMAT_OPENCL_C: return "OPENCL_C";
    case UDAL_MODULE_FORMAT_PTX: return "PTX";
    default: return fallback;
  }
}

// "READ", "WRITE", "READ_WRITE", "NONE"; |fallback| for a value the ABI does not name.
constexpr const char* access_name(uint32_t access, const char* fallback = "UNKNOWN") noexcept {
  switch (access) {
    case UDAL_ARG_ACCESS_NONE: return "NONE";
    case UDAL_ARG_ACCESS_READ: return "READ";
    case UDAL_ARG_ACCESS_WRITE: return "WRITE";
    case UDAL_ARG_ACCESS_READ_WRITE: return "READ_WRITE";
    default: return fallback;
  }
}

}  // namespace udal::sdk

#endif  // UDAL_SDK_NAMES_H_
