// kernel.h — kernels: one work-group function of a host module, found by the SDK's
// host-module loader with what it declares of its arguments.
#ifndef UDAL_CPU_KERNEL_H_
#define UDAL_CPU_KERNEL_H_

#include "device.h"
#include "entries.h"
#include "module.h"
#include "udal/sdk/host_module.h"
#include "udal/sdk/sdk.h"

namespace udal::cpu {

// The object behind a udal_kernel_t. Immutable after creation, so launches from several
// threads read it without a lock.
struct Kernel {
  const udal_driver_table_t* dispatch;
  Device* device;
  udal::sdk::HostKernel host;
};
UDAL_SDK_DISPATCHABLE(Kernel);

inline Kernel* to_kernel(udal_kernel_t handle) noexcept {
  return udal::sdk::from_handle<Kernel>(handle);
}

} // namespace udal::cpu

#endif // UDAL_CPU_KERNEL_H_
