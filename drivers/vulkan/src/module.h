// module.h — SPIRV_COMPUTE modules: one VkShaderModule and the entry points read from it.
#ifndef UDAL_VULKAN_MODULE_H_
#define UDAL_VULKAN_MODULE_H_

#include <memory>
#include <vector>

#include "device.h"
#include "spirv.h"

namespace udal::vulkan {

// Shared by the module and its kernels, so a kernel outlives its module.
struct ModuleCode {
  DeviceState* device;
  UniqueShaderModule shader;
  SpirvModule spirv;
  // The caller's specialization constants: map entries whose offsets start after the 16
  // bytes of the driver's own (ids 0-3), and their bytes.
  std::vector<VkSpecializationMapEntry> constants;
  std::vector<uint8_t> constant_bytes;
};

// The object behind a udal_module_t.
struct Module {
  const udal_driver_table_t* dispatch;
  std::shared_ptr<ModuleCode> code;
  udal_module_format_t format;
  uint32_t image_index;
};
UDAL_SDK_DISPATCHABLE(Module);

inline Module* to_module(udal_module_t handle) noexcept {
  return udal::sdk::from_handle<Module>(handle);
}

udal_result_t module_create(udal_device_t device, const udal_module_desc_t* desc,
                            udal_module_t* out_module);
udal_result_t module_destroy(udal_module_t module);
udal_result_t module_get_info(udal_module_t module, udal_module_info_t* out_info);

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_MODULE_H_
