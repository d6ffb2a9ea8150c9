// reflection.h — what the driver knows of each kernel's parameters, from the OpenCL
// kernel-argument queries (OPENCL_C, platform binaries) or from the SPIR-V (SPIRV_KERNEL),
// kept with a program in the program cache (platform binaries lose it).
#ifndef UDAL_OPENCL_REFLECTION_H_
#define UDAL_OPENCL_REFLECTION_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cl.h"

namespace udal::opencl {

// One parameter the launch passes (the trailing local-memory parameter is not one).
struct ArgReflection {
  udal_arg_kind_t kind = UDAL_ARG_KIND_UNKNOWN;
  uint32_t value_size = 0; // VALUE: its size; 0 when the driver cannot tell it
  udal_arg_access_t access = UDAL_ARG_ACCESS_NONE; // BUFFER: READ or READ_WRITE
};

struct KernelReflection {
  // The kind of every parameter is known (so are the argument count and uses_local_memory).
  bool kinds_known = false;
  // Dynamic local memory arrives as the kernel's last parameter, a `local` pointer.
  bool uses_local_memory = false;
  // Why the kernel cannot be launched through UDAL ("parameter 2 is an image2d_t"); "" when
  // it can.
  std::string unsupported;
  // Why udal_kernel_get_argument_info cannot describe it; "" when it can (every kind and
  // value size known).
  std::string undescribed;
  std::vector<ArgReflection> args; // without the trailing local-memory parameter
};

struct ProgramReflection {
  std::map<std::string, KernelReflection> kernels;
};

// The size in bytes of the OpenCL C type named |type_name| as clGetKernelArgInfo returns it
// ("uint", "float4", "size_t"), for a device of |address_bits|; 0 when the name is not a
// built-in scalar or vector type (a typedef, a struct).
uint32_t opencl_type_size(const std::string& type_name, cl_uint address_bits);

// Reflects every kernel of the built |program| through clGetKernelArgInfo. Kernels whose
// argument information is not available (binaries built without -cl-kernel-arg-info) get
// kinds_known false. Throws std::bad_alloc.
ProgramReflection reflect_program(cl_program program, cl_uint address_bits);

// The reflection as JSON text, and back (nullopt when the text is not a reflection).
std::string reflection_to_json(const ProgramReflection& reflection);
std::optional<ProgramReflection> reflection_from_json(const std::string& text);

} // namespace udal::opencl

#endif // UDAL_OPENCL_REFLECTION_H_
