// Built instead of translate_library.cpp when the translator library or LLVM's headers are
// missing: SPIR-V then goes through the translator tool, when one is installed.
#include "translate.h"

namespace udal::opencl {

bool have_translator_library() noexcept {
  return false;
}

std::string translate_with_library(const void*, size_t, const std::vector<SpecValue>&,
                                   std::vector<unsigned char>*) {
  return "this build of the OpenCL driver has no LLVM/SPIR-V translator library";
}

} // namespace udal::opencl
