// module.h — HOST_NATIVE modules: shared objects of host kernels, loaded by the SDK's
// host-module loader (udal/sdk/host_module.h).
#ifndef UDAL_CPU_MODULE_H_
#define UDAL_CPU_MODULE_H_

#include <cstdint>
#include <memory>

#include "device.h"
#include "entries.h"
#include "udal/sdk/host_module.h"
#include "udal/sdk/sdk.h"

namespace udal::cpu {

// The object behind a udal_module_t.
struct Module {
  const udal_driver_table_t* dispatch;
  Device* device;
  // Shared with every kernel made from it, so a module may be destroyed while its kernels
  // live (and launches of them are in flight).
  std::shared_ptr<udal::sdk::HostLibrary> library;
  udal_module_format_t format;
  uint32_t image_index;
};
UDAL_SDK_DISPATCHABLE(Module);

inline Module* to_module(udal_module_t handle) noexcept {
  return udal::sdk::from_handle<Module>(handle);
}

} // namespace udal::cpu

#endif // UDAL_CPU_MODULE_H_
