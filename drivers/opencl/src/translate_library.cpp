// The LLVM/SPIR-V translator library (libLLVMSPIRVLib), in a file of its own: only this file
// sees LLVM's headers.
#include "translate.h"

#include <LLVMSPIRVLib/LLVMSPIRVLib.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <memory>
#include <mutex>
#include <sstream>

namespace udal::opencl {

bool have_translator_library() noexcept {
  return true;
}

std::string translate_with_library(const void* data, size_t size,
                                   const std::vector<SpecValue>& specs,
                                   std::vector<unsigned char>* out) {
  // The translator keeps no state between calls that we know of, but it is not documented
  // as thread-safe; module creation is not a hot path.
  static std::mutex translator_mutex;
  std::lock_guard lock(translator_mutex);

  SPIRV::TranslatorOpts options(SPIRV::VersionNumber::MaximumVersion);
  options.enableAllExtensions();
  for (const SpecValue& spec : specs)
    options.setSpecConst(spec.constant.id, spec.bits);

  std::istringstream input(std::string(static_cast<const char*>(data), size));
  llvm::LLVMContext context;
  // The translator of LLVM 15 works on typed pointers (its tool sets the same), and PoCL's
  // LLVM 15 reads them.
  context.setOpaquePointers(false);
  llvm::Module* raw_module = nullptr;
  std::string error;
  const bool ok = llvm::readSpirv(context, options, input, raw_module, error);
  std::unique_ptr<llvm::Module> module(raw_module);
  if (!ok || module == nullptr) {
    return error.empty() ? std::string("the translator refused the module without a message")
                         : error;
  }
  llvm::SmallVector<char, 0> bitcode;
  llvm::raw_svector_ostream stream(bitcode);
  llvm::WriteBitcodeToFile(*module, stream);
  out->assign(bitcode.begin(), bitcode.end());
  return {};
}

} // namespace udal::opencl
