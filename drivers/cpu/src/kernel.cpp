#include "kernel.h"

#include "driver.h"

namespace udal::cpu {

using udal::sdk::fail;

udal_result_t kernel_create(udal_module_t module_handle, const char* name,
                            udal_kernel_t* out_kernel) {
  constexpr const char* kFn = "udal_kernel_create";
  if (out_kernel == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_kernel is NULL", kFn);
  *out_kernel = nullptr;
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Module* module = to_module(module_handle);
    auto kernel = std::make_unique<Kernel>();
    if (udal_result_t r = udal::sdk::find_host_kernel(module->library, name,
                                                      module->device->info.max_kernel_arguments,
                                                      module, kernel->host)) {
      return r;
    }
    kernel->dispatch = module->dispatch;
    kernel->device = module->device;
    module->device->driver->kernels.add(kernel.get());
    *out_kernel = udal::sdk::to_handle<udal_kernel_t>(kernel.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t kernel_destroy(udal_kernel_t handle) {
  Kernel* kernel = to_kernel(handle);
  kernel->device->driver->kernels.remove(kernel);
  // Launches in flight hold the library themselves.
  std::unique_ptr<Kernel> owned(kernel);
  return UDAL_SUCCESS;
}

udal_result_t kernel_get_info(udal_kernel_t handle, udal_kernel_info_t* out_info) {
  const Kernel* kernel = to_kernel(handle);
  return udal::sdk::get_host_kernel_info(kernel->host, kernel->device->info.max_group_invocations,
                                         out_info);
}

udal_result_t kernel_get_argument_info(udal_kernel_t handle, uint32_t index,
                                       udal_kernel_arg_info_t* out_info) {
  return udal::sdk::get_host_kernel_argument_info(to_kernel(handle)->host, index, out_info);
}

}  // namespace udal::cpu
