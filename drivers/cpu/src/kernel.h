// kernel.h — kernels: one work-group function of a host module.
#ifndef UDAL_CPU_KERNEL_H_
#define UDAL_CPU_KERNEL_H_

#include <cstdint>
#include <memory>

#include "device.h"
#include "module.h"
#include "udal/sdk/sdk.h"
#include "udal/udal_host_kernel.h"

namespace udal::cpu {

// The object behind a udal_kernel_t. Immutable after creation, so launches from several
// threads read it without a lock.
struct Kernel {
  const udal_driver_table_t* dispatch;
  Device* device;
  std::shared_ptr<Library> library;  // keeps |function| mapped
  udal_host_kernel_fn function;
  uint32_t argument_count;           // or UDAL_ARGUMENT_COUNT_UNKNOWN
};
UDAL_SDK_DISPATCHABLE(Kernel);

inline Kernel* to_kernel(udal_kernel_t handle) noexcept {
  return udal::sdk::from_handle<Kernel>(handle);
}

udal_result_t kernel_create(udal_module_t module, const char* name, udal_kernel_t* out_kernel);
udal_result_t kernel_destroy(udal_kernel_t kernel);
udal_result_t kernel_get_info(udal_kernel_t kernel, udal_kernel_info_t* out_info);

}  // namespace udal::cpu

#endif  // UDAL_CPU_KERNEL_H_
