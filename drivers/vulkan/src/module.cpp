#include "module.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace udal::vulkan {
namespace {

using udal::sdk::fail;

// The image's bytes as 32-bit words (copied: the caller may free its bytes at return, and
// SPIR-V wants 4-byte alignment its pointer may not have).
udal_result_t read_words(const char* fn, const udal_module_image_t& image, uint32_t index,
                         std::vector<uint32_t>* words) {
  std::vector<char> bytes;
  if (image.data != nullptr) {
    bytes.assign(static_cast<const char*>(image.data),
                 static_cast<const char*>(image.data) + image.size);
  } else {
    std::ifstream file(image.path, std::ios::binary);
    if (!file) {
      return fail(UDAL_ERROR_INVALID_MODULE, "{}: images[{}]: cannot read '{}'", fn, index,
                  image.path);
    }
    bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  if (bytes.empty() || bytes.size() % 4 != 0) {
    return fail(UDAL_ERROR_INVALID_MODULE,
                "{}: images[{}]: {} bytes is not a whole number of SPIR-V words (4 bytes each)",
                fn, index, bytes.size());
  }
  words->resize(bytes.size() / 4);
  std::memcpy(words->data(), bytes.data(), bytes.size());
  return UDAL_SUCCESS;
}

}  // namespace

udal_result_t module_create(udal_device_t device_handle, const udal_module_desc_t* desc_in,
                            udal_module_t* out_module) {
  constexpr const char* fn = "udal_module_create";
  if (out_module == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_module is NULL", fn);
  *out_module = nullptr;
  if (desc_in == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", fn);
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const udal_module_desc_t desc = udal::sdk::read_struct(desc_in);
    DeviceState& device = *to_device(device_handle)->state;
    for (uint32_t i = 0; i < desc.image_count; ++i) {
      const udal_module_image_t image = udal::sdk::read_struct(&desc.images[i]);
      if (image.format != UDAL_MODULE_FORMAT_SPIRV_COMPUTE) continue;
      std::vector<uint32_t> words;
      if (udal_result_t r = read_words(fn, image, i, &words); r != UDAL_SUCCESS) return r;
      std::string error;
      auto spirv = parse_spirv(words, &error);
      if (!spirv) {
        return fail(UDAL_ERROR_INVALID_MODULE, "{}: images[{}] is not valid SPIR-V: {}", fn, i,
                    error);
      }
      VkShaderModuleCreateInfo info{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
      info.codeSize = words.size() * 4;
      info.pCode = words.data();
      VkShaderModule shader = VK_NULL_HANDLE;
      const VkResult created = vkCreateShaderModule(device.vk(), &info, nullptr, &shader);
      if (created == VK_ERROR_OUT_OF_HOST_MEMORY) {
        return fail_vk(fn, "vkCreateShaderModule", created);
      }
      if (created != VK_SUCCESS) {
        return fail(UDAL_ERROR_INVALID_MODULE, "{}: images[{}]: vkCreateShaderModule failed with {}",
                    fn, i, vk_result_name(created));
      }
      auto code = std::make_shared<ModuleCode>(
          ModuleCode{&device, UniqueShaderModule(device.vk(), shader), std::move(*spirv)});
      auto module = std::make_unique<Module>();
      module->dispatch = to_device(device_handle)->dispatch;
      module->code = std::move(code);
      module->format = UDAL_MODULE_FORMAT_SPIRV_COMPUTE;
      module->image_index = i;
      *out_module = udal::sdk::to_handle<udal_module_t>(module.release());
      return UDAL_SUCCESS;
    }
    return fail(UDAL_ERROR_UNSUPPORTED,
                "{}: none of the {} images is SPIRV_COMPUTE, the one format device {} accepts",
                fn, desc.image_count, device.info.name);
  });
}

udal_result_t module_destroy(udal_module_t handle) {
  std::unique_ptr<Module> module(to_module(handle));
  return UDAL_SUCCESS;
}

udal_result_t module_get_info(udal_module_t handle, udal_module_info_t* out_info) {
  if (out_info == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_module_get_info: out_info is NULL");
  }
  const Module& module = *to_module(handle);
  udal_module_info_t info{};
  info.struct_size = sizeof(info);
  info.format = module.format;
  info.image_index = module.image_index;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

}  // namespace udal::vulkan
