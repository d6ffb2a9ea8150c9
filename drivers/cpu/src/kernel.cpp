#include "kernel.h"

#include <dlfcn.h>

#include <cstring>
#include <string>

namespace udal::cpu {

using udal::sdk::fail;

udal_result_t kernel_create(udal_module_t module_handle, const char* name,
                            udal_kernel_t* out_kernel) {
  if (out_kernel == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_kernel_create: out_kernel is NULL");
  }
  *out_kernel = nullptr;
  if (name == nullptr || name[0] == '\0') {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_kernel_create: name is {}",
                name ? "empty" : "NULL");
  }
  return udal::sdk::guard("udal_kernel_create", [&]() -> udal_result_t {
    Module* module = to_module(module_handle);
    const std::string symbol = std::string(UDAL_HOST_KERNEL_SYMBOL_PREFIX) + name;
    void* function = dlsym(module->library->handle(), symbol.c_str());
    if (function == nullptr) {
      return fail(UDAL_ERROR_KERNEL_NOT_FOUND,
                  "udal_kernel_create: module {} has no kernel '{}' (no symbol {}; define it "
                  "with UDAL_HOST_KERNEL)",
                  fmt::ptr(module), name, symbol);
    }
    const std::string argc_symbol = std::string(UDAL_HOST_KERNEL_ARGC_SYMBOL_PREFIX) + name;
    const auto* argc = static_cast<const uint32_t*>(dlsym(module->library->handle(),
                                                          argc_symbol.c_str()));
    auto kernel = std::make_unique<Kernel>();
    kernel->dispatch = module->dispatch;
    kernel->device = module->device;
    kernel->library = module->library;
    kernel->function = reinterpret_cast<udal_host_kernel_fn>(function);
    kernel->argument_count = argc ? *argc : UDAL_ARGUMENT_COUNT_UNKNOWN;
    *out_kernel = udal::sdk::to_handle<udal_kernel_t>(kernel.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t kernel_destroy(udal_kernel_t handle) {
  // Launches in flight hold the library themselves.
  std::unique_ptr<Kernel> kernel(to_kernel(handle));
  return UDAL_SUCCESS;
}

udal_result_t kernel_get_info(udal_kernel_t handle, udal_kernel_info_t* out_info) {
  if (out_info == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_kernel_get_info: out_info is NULL");
  }
  const Kernel* kernel = to_kernel(handle);
  udal_kernel_info_t info = {};
  info.struct_size = sizeof(info);
  info.argument_count = kernel->argument_count;
  info.max_group_invocations = kernel->device->info.max_group_invocations;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

}  // namespace udal::cpu
