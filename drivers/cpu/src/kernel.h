// kernel.h — kernels: one work-group function of a host module, with what it declares of
// its arguments when it was defined with UDAL_HOST_KERNEL_ARGS.
#ifndef UDAL_CPU_KERNEL_H_
#define UDAL_CPU_KERNEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "device.h"
#include "entries.h"
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
  std::string name;
  uint32_t argument_count;           // or UDAL_ARGUMENT_COUNT_UNKNOWN
  // From udal_host_kernel_decl__<name>: whether it exists, its flags and its arguments
  // (copied, so nothing here points into the module).
  bool declared;
  uint32_t declared_flags;           // UDAL_HOST_KERNEL_*
  std::vector<udal_host_arg_decl_t> declared_args;
};
UDAL_SDK_DISPATCHABLE(Kernel);

inline Kernel* to_kernel(udal_kernel_t handle) noexcept {
  return udal::sdk::from_handle<Kernel>(handle);
}

// "READ", "WRITE", "READ_WRITE", "NONE" or "UNKNOWN" for messages.
const char* access_name(uint32_t access) noexcept;

}  // namespace udal::cpu

#endif  // UDAL_CPU_KERNEL_H_
