#include "module.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <vector>

namespace udal::vulkan {
namespace {

using udal::sdk::fail;

// Specialization constants 0-3 are the driver's: the group size and the local memory.
constexpr uint32_t kLastDriverConstant = 3;
// The largest image file read (udal.h).
constexpr uintmax_t kMaxImageFileBytes = 1ull << 30;

// The image's bytes as 32-bit words (copied: the caller may free its bytes at return, and
// SPIR-V wants 4-byte alignment its pointer may not have).
udal_result_t read_words(const char* fn, const udal_module_image_t& image, uint32_t index,
                         std::vector<uint32_t>* words) {
  std::vector<char> bytes;
  if (image.data != nullptr) {
    bytes.assign(static_cast<const char*>(image.data),
                 static_cast<const char*>(image.data) + image.size);
  } else {
    if (image.path == nullptr) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: images[{}] has neither data nor path", fn,
                  index);
    }
    std::error_code ec;
    const auto status = std::filesystem::status(image.path, ec);
    if (ec || !std::filesystem::is_regular_file(status)) {
      return fail(UDAL_ERROR_INVALID_MODULE, "{}: images[{}]: '{}' is not a regular file{}", fn,
                  index, image.path, ec ? " (" + ec.message() + ")" : std::string());
    }
    const uintmax_t size = std::filesystem::file_size(image.path, ec);
    if (ec || size > kMaxImageFileBytes) {
      return fail(UDAL_ERROR_INVALID_MODULE, "{}: images[{}]: '{}' is {} bytes, over the 1 GiB "
                  "an image file may have", fn, index, image.path, size);
    }
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

// The caller's specialization constants, checked against the module's.
udal_result_t read_constants(const char* fn, const udal_module_desc_t& desc,
                             const SpirvModule& spirv, ModuleCode* code) {
  for (uint32_t i = 0; i < desc.specialization_constant_count; ++i) {
    const udal_specialization_constant_t& c = desc.specialization_constants[i];
    if (c.id <= kLastDriverConstant) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: specialization_constants[{}]: id {} is one "
                  "the driver sets (0-2: the group size, 3: local memory; docs/spec.md 14.1)",
                  fn, i, c.id);
    }
    auto declared = spirv.specialization_constants.find(c.id);
    if (declared == spirv.specialization_constants.end()) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: specialization_constants[{}]: the module has "
                  "no scalar specialization constant with SpecId {}", fn, i, c.id);
    }
    if (c.size != declared->second || c.value == nullptr) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: specialization_constants[{}] (SpecId {}) "
                  "gives {} bytes at {}; the module's constant takes {}", fn, i, c.id, c.size,
                  c.value, declared->second);
    }
    for (const VkSpecializationMapEntry& earlier : code->constants) {
      if (earlier.constantID == c.id) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: specialization_constants[{}]: SpecId {} is "
                    "given twice", fn, i, c.id);
      }
    }
    const auto offset = static_cast<uint32_t>(16 + code->constant_bytes.size());
    code->constants.push_back({c.id, offset, c.size});
    const auto* bytes = static_cast<const uint8_t*>(c.value);
    code->constant_bytes.insert(code->constant_bytes.end(), bytes, bytes + c.size);
  }
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
    if (udal_result_t r = refuse_chain(fn, "desc", desc_in->next); r != UDAL_SUCCESS) return r;
    DeviceState& device = *to_device(device_handle)->state;
    if (desc.image_count > 0 && desc.images == nullptr) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: images is NULL but image_count is {}", fn,
                  desc.image_count);
    }
    if (desc.specialization_constant_count > 0 && desc.specialization_constants == nullptr) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: specialization_constants is NULL but "
                  "specialization_constant_count is {}", fn, desc.specialization_constant_count);
    }
    for (uint32_t i = 0; i < desc.image_count; ++i) {
      const udal_module_image_t image = udal::sdk::read_struct(&desc.images[i]);
      if (image.format != UDAL_MODULE_FORMAT_SPIRV_COMPUTE) continue;
      const std::string what = fmt::format("images[{}]", i);
      if (udal_result_t r = refuse_chain(fn, what.c_str(), desc.images[i].next); r != UDAL_SUCCESS) {
        return r;
      }
      std::vector<uint32_t> words;
      if (udal_result_t r = read_words(fn, image, i, &words); r != UDAL_SUCCESS) return r;
      std::string error;
      auto spirv = parse_spirv(words, device.spirv_limits, &error);
      if (!spirv) {
        return fail(UDAL_ERROR_INVALID_MODULE, "{}: images[{}] is not SPIR-V the driver takes: {}",
                    fn, i, error);
      }
      auto code = std::make_shared<ModuleCode>();
      code->device = &device;
      if (udal_result_t r = read_constants(fn, desc, *spirv, code.get()); r != UDAL_SUCCESS) {
        return r;
      }
      VkShaderModuleCreateInfo info{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
      info.codeSize = words.size() * 4;
      info.pCode = words.data();
      VkShaderModule shader = VK_NULL_HANDLE;
      const VkResult created = vkCreateShaderModule(device.vk(), &info, nullptr, &shader);
      if (created == VK_ERROR_OUT_OF_HOST_MEMORY || created == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
        return fail_vk(fn, "vkCreateShaderModule", created);
      }
      if (created != VK_SUCCESS) {
        return fail(UDAL_ERROR_INVALID_MODULE, "{}: images[{}]: vkCreateShaderModule failed with {}",
                    fn, i, vk_result_name(created));
      }
      code->shader = UniqueShaderModule(device.vk(), shader);
      code->spirv = std::move(*spirv);
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
  // Kernels share the module's code and keep it as long as they live.
  std::unique_ptr<Module> module(to_module(handle));
  return UDAL_SUCCESS;
}

udal_result_t module_get_info(udal_module_t handle, udal_module_info_t* out_info) {
  constexpr const char* fn = "udal_module_get_info";
  if (out_info == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", fn);
  udal::sdk::clear_struct(out_info);
  if (udal_result_t r = refuse_chain(fn, "out_info", out_info->next); r != UDAL_SUCCESS) return r;
  const Module& module = *to_module(handle);
  udal_module_info_t info{};
  info.type = UDAL_STRUCTURE_TYPE_MODULE_INFO;
  info.struct_size = sizeof(info);
  info.format = module.format;
  info.image_index = module.image_index;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

}  // namespace udal::vulkan
