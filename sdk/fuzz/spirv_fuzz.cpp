// libFuzzer target fuzz_sdk_spirv: any bytes through the SDK's SPIR-V reader
// (udal/sdk/spirv.h), which every SPIR-V driver runs on an application's module before
// anything else reads it. It must answer a module or a message, never crash, hang or leak;
// and what it accepts must hold together (each entry point's function defined, sizes
// consistent).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "udal/sdk/spirv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace spirv = udal::sdk::spirv;
  spirv::Module module;
  const std::string why = spirv::read_bytes(data, size, &module);
  if (!why.empty()) {
    if (!module.entry_points.empty())
      std::abort(); // a refused module is left empty
    return 0;
  }
  if (module.bound == 0 || module.bound > spirv::kMaxIdBound)
    std::abort();
  for (const spirv::EntryPoint& e : module.entry_points) {
    if (e.function == 0 || e.function >= module.bound)
      std::abort();
    if (spirv::find_entry_point(module, e.name, e.model) == nullptr)
      std::abort();
    for (const spirv::Parameter& p : e.parameters) {
      if (p.kind == spirv::ParameterKind::kOpaque && p.what.empty())
        std::abort();
      if (p.kind == spirv::ParameterKind::kPointer && p.size != module.pointer_bytes()) {
        std::abort();
      }
    }
  }
  return 0;
}
