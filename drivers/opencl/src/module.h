// module.h — a UDAL module: one built OpenCL program and the reflection of its kernels.
#ifndef UDAL_OPENCL_MODULE_H_
#define UDAL_OPENCL_MODULE_H_

#include <memory>

#include "device.h"
#include "reflection.h"

namespace udal::opencl {

struct Module {
  const udal_driver_table_t* dispatch;
  Device* device;
  ClProgram program;
  udal_module_format_t format;
  uint32_t image_index;
  std::shared_ptr<const ProgramReflection> reflection;
};
UDAL_SDK_DISPATCHABLE(Module);

inline Module* to_module(udal_module_t handle) noexcept {
  return udal::sdk::from_handle<Module>(handle);
}

void destroy_module(Module* module) noexcept;

} // namespace udal::opencl

#endif // UDAL_OPENCL_MODULE_H_
