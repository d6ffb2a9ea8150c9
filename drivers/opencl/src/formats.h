// formats.h — the module formats of the driver.
#ifndef UDAL_OPENCL_FORMATS_H_
#define UDAL_OPENCL_FORMATS_H_

#include "udal/udal_opencl.h"

namespace udal::opencl {

inline constexpr udal_module_format_t kProgramBinaryFormat =
    UDAL_MODULE_FORMAT_OPENCL_PROGRAM_BINARY;

} // namespace udal::opencl

#endif // UDAL_OPENCL_FORMATS_H_
