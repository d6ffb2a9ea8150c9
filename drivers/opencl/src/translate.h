// translate.h — SPIR-V to LLVM bitcode for platforms with cl_khr_spir but no SPIR-V IL
// (PoCL): through the LLVM/SPIR-V translator library when the driver was built with it, or
// by running the translator tool (`llvm-spirv -r`).
#ifndef UDAL_OPENCL_TRANSLATE_H_
#define UDAL_OPENCL_TRANSLATE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "spirv.h"

namespace udal::opencl {

// A specialization constant to apply: its SpecId, its value's bits, and its type as the
// module declares it.
struct SpecValue {
  SpirvSpecConstant constant;
  uint64_t bits = 0;
};

// Whether this build of the driver has the translator library.
bool have_translator_library() noexcept;

// Translates |size| bytes of SPIR-V at |data| into LLVM bitcode in |out|, applying |specs|.
// Returns "" on success, else the translator's message. Throws std::bad_alloc.
std::string translate_with_library(const void* data, size_t size,
                                   const std::vector<SpecValue>& specs,
                                   std::vector<unsigned char>* out);
std::string translate_with_tool(const std::string& tool, const void* data, size_t size,
                                const std::vector<SpecValue>& specs,
                                std::vector<unsigned char>* out);

// The tool named |name| (a path, or a name searched on PATH), as an absolute path; "" when
// there is no executable file of that name.
std::string find_executable(const std::string& name);

} // namespace udal::opencl

#endif // UDAL_OPENCL_TRANSLATE_H_
