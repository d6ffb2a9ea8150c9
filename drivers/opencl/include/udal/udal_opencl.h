/*
 * udal_opencl.h — what the UDAL OpenCL driver adds to udal.h.
 *
 * UDAL_MODULE_FORMAT_OPENCL_PROGRAM_BINARY: a module image that is an OpenCL program binary
 * of the device's own platform, as clGetProgramInfo(CL_PROGRAM_BINARIES) returns it. The
 * driver loads it with clCreateProgramWithBinary and builds it with the module's
 * build_options. Binaries carry no kernel-argument information on every platform (PoCL's do
 * not), so their kernels may lack UDAL_KERNEL_FLAG_ARGUMENT_INFO.
 */
#ifndef UDAL_UDAL_OPENCL_H_
#define UDAL_UDAL_OPENCL_H_

#include "udal/udal.h"

#define UDAL_MODULE_FORMAT_OPENCL_PROGRAM_BINARY \
  ((udal_module_format_t)(UDAL_MODULE_FORMAT_VENDOR_BEGIN + 0xc1))

#endif /* UDAL_UDAL_OPENCL_H_ */
