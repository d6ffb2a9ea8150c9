#include "module.h"

#include "driver.h"

namespace udal::cpu {

using udal::sdk::fail;

udal_result_t module_create(udal_device_t device_handle, const udal_module_desc_t* desc_in,
                            udal_module_t* out_module) {
  if (out_module == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_module_create: out_module is NULL");
  }
  *out_module = nullptr;
  if (desc_in == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_module_create: desc is NULL");
  }
  if (udal_result_t r = udal::sdk::check_struct("udal_module_create", "desc", desc_in))
    return r;
  return udal::sdk::guard("udal_module_create", [&]() -> udal_result_t {
    Device* device = to_device(device_handle);
    auto module = std::make_unique<Module>();
    if (udal_result_t r =
            udal::sdk::load_host_module(udal::sdk::read_struct(desc_in), device->info.name,
                                        module->library, module->image_index)) {
      return r;
    }
    module->dispatch = device->dispatch;
    module->device = device;
    module->format = UDAL_MODULE_FORMAT_HOST_NATIVE;
    device->driver->modules.add(module.get());
    *out_module = udal::sdk::to_handle<udal_module_t>(module.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t module_destroy(udal_module_t handle) {
  Module* module = to_module(handle);
  module->device->driver->modules.remove(module);
  // Kernels made from it hold the library themselves.
  std::unique_ptr<Module> owned(module);
  return UDAL_SUCCESS;
}

udal_result_t module_get_info(udal_module_t handle, udal_module_info_t* out_info) {
  if (out_info == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_module_get_info: out_info is NULL");
  }
  if (udal_result_t r = udal::sdk::check_struct("udal_module_get_info", "out_info", out_info)) {
    return r;
  }
  const Module* module = to_module(handle);
  auto info = udal::sdk::make_struct<udal_module_info_t>();
  info.format = module->format;
  info.image_index = module->image_index;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

} // namespace udal::cpu
