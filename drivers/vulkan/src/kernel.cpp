#include "kernel.h"

#include <vector>

namespace udal::vulkan {

using udal::sdk::fail;

VkResult KernelState::init() {
  const VkDevice vk = device_->vk();
  std::vector<VkDescriptorSetLayoutBinding> bindings(entry_.buffer_count);
  for (uint32_t b = 0; b < entry_.buffer_count; ++b) {
    bindings[b] = {b, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  }
  // Push descriptors: no descriptor pools to size or recycle per launch.
  VkDescriptorSetLayoutCreateInfo set_info{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  set_info.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
  set_info.bindingCount = entry_.buffer_count;
  set_info.pBindings = bindings.data();
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  if (VkResult r = vkCreateDescriptorSetLayout(vk, &set_info, nullptr, &set_layout); r != VK_SUCCESS)
    return r;
  set_layout_ = UniqueDescriptorSetLayout(vk, set_layout);

  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, entry_.push_constant_bytes};
  VkPipelineLayoutCreateInfo layout_info{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  layout_info.setLayoutCount = entry_.buffer_count > 0 ? 1 : 0;
  layout_info.pSetLayouts = &set_layout;
  layout_info.pushConstantRangeCount = entry_.push_constant_bytes > 0 ? 1 : 0;
  layout_info.pPushConstantRanges = &range;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  if (VkResult r = vkCreatePipelineLayout(vk, &layout_info, nullptr, &layout); r != VK_SUCCESS)
    return r;
  layout_ = UniquePipelineLayout(vk, layout);
  return VK_SUCCESS;
}

VkResult KernelState::pipeline(const uint32_t group_size[3], uint32_t local_words,
                               VkPipeline* out) {
  const std::array<uint32_t, 4> key = {group_size[0], group_size[1], group_size[2], local_words};
  std::lock_guard lock(mutex_);
  if (auto it = pipelines_.find(key); it != pipelines_.end()) {
    *out = it->second.get();
    return VK_SUCCESS;
  }
  // Ids 0-2: the group size (GLSL local_size_{x,y,z}_id); id 3: the local memory words.
  // An id the shader does not declare is ignored by Vulkan.
  const VkSpecializationMapEntry entries[4] = {
      {0, 0, 4}, {1, 4, 4}, {2, 8, 4}, {3, 12, 4}};
  VkSpecializationInfo specialization{local_words > 0 ? 4u : 3u, entries, sizeof(key), key.data()};
  VkComputePipelineCreateInfo info{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  info.stage.module = code_->shader.get();
  info.stage.pName = entry_.name.c_str();
  info.stage.pSpecializationInfo = &specialization;
  info.layout = layout_.get();
  VkPipeline pipeline = VK_NULL_HANDLE;
  VkResult r = vkCreateComputePipelines(device_->vk(), VK_NULL_HANDLE, 1, &info, nullptr, &pipeline);
  if (r != VK_SUCCESS) return r;
  auto [it, inserted] = pipelines_.emplace(key, UniquePipeline(device_->vk(), pipeline));
  *out = it->second.get();
  return VK_SUCCESS;
}

udal_result_t kernel_create(udal_module_t module_handle, const char* name,
                            udal_kernel_t* out_kernel) {
  constexpr const char* fn = "udal_kernel_create";
  if (out_kernel == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_kernel is NULL", fn);
  *out_kernel = nullptr;
  if (name == nullptr || name[0] == '\0') {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: name is NULL or empty", fn);
  }
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const Module& module = *to_module(module_handle);
    const SpirvModule& spirv = module.code->spirv;
    for (const EntryPoint& entry : spirv.entry_points) {
      if (entry.name != name) continue;
      if (entry.buffer_count > module.code->device->max_buffer_arguments) {
        return fail(UDAL_ERROR_INVALID_MODULE,
                    "{}: kernel '{}' uses {} storage buffers; device {} takes at most {}", fn,
                    name, entry.buffer_count, module.code->device->info.name,
                    module.code->device->max_buffer_arguments);
      }
      auto state = std::make_shared<KernelState>(module.code->device, module.code, entry);
      if (VkResult r = state->init(); r != VK_SUCCESS) {
        return fail_vk(fn, "creating the pipeline layout", r);
      }
      auto kernel = std::make_unique<Kernel>();
      kernel->dispatch = module.dispatch;
      kernel->state = std::move(state);
      *out_kernel = udal::sdk::to_handle<udal_kernel_t>(kernel.release());
      return UDAL_SUCCESS;
    }
    std::string names;
    for (const EntryPoint& entry : spirv.entry_points) {
      names += (names.empty() ? "" : ", ") + entry.name;
    }
    return fail(UDAL_ERROR_KERNEL_NOT_FOUND,
                "{}: the module has no GLCompute entry point '{}' (it has: {})", fn, name, names);
  });
}

udal_result_t kernel_destroy(udal_kernel_t handle) {
  std::unique_ptr<Kernel> kernel(to_kernel(handle));
  return UDAL_SUCCESS;
}

udal_result_t kernel_get_info(udal_kernel_t handle, udal_kernel_info_t* out_info) {
  if (out_info == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_kernel_get_info: out_info is NULL");
  }
  const KernelState& kernel = *to_kernel(handle)->state;
  const EntryPoint& entry = kernel.entry();
  udal_kernel_info_t info{};
  info.struct_size = sizeof(info);
  info.argument_count = entry.value_count == kUnknownCount ? UDAL_ARGUMENT_COUNT_UNKNOWN
                                                           : entry.buffer_count + entry.value_count;
  info.max_group_invocations = kernel.device()->info.max_group_invocations;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

}  // namespace udal::vulkan
