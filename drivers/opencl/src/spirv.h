// spirv.h — what the driver reads of an OpenCL-flavoured SPIR-V module before handing it to
// the platform: that it is well formed (so a truncated or corrupt image is refused here,
// never fed to a translator), its Kernel entry points and their parameters, and its
// specialization constants. The SDK's reader (udal/sdk/spirv.h) does the reading; this
// maps it onto the device's address width and UDAL's argument kinds.
#ifndef UDAL_OPENCL_SPIRV_H_
#define UDAL_OPENCL_SPIRV_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "reflection.h"

namespace udal::opencl {

struct SpirvSpecConstant {
  uint32_t id = 0;   // SpecId
  uint32_t size = 0; // bytes of its type (a bool counts as 1)
  bool is_bool = false;
};

struct SpirvModule {
  uint32_t addressing_model = 0;    // 1 Physical32, 2 Physical64
  std::vector<std::string> kernels; // names of the Kernel entry points
  std::vector<SpirvSpecConstant> spec_constants;
  ProgramReflection reflection;
};

// Parses |size| bytes at |data|. Returns "" and fills |out|, or says why the bytes are not an
// OpenCL-flavoured SPIR-V module. Throws std::bad_alloc.
std::string parse_spirv(const void* data, size_t size, uint32_t address_bits, SpirvModule* out);

} // namespace udal::opencl

#endif // UDAL_OPENCL_SPIRV_H_
