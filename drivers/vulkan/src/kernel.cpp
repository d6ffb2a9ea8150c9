#include "kernel.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace udal::vulkan {

using udal::sdk::fail;

VkResult KernelState::init() {
  const VkDevice vk = device_->vk();
  const auto buffer_count = static_cast<uint32_t>(entry_.buffers.size());
  std::vector<VkDescriptorSetLayoutBinding> bindings(buffer_count);
  for (uint32_t b = 0; b < buffer_count; ++b) {
    bindings[b] = {b, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  }
  // Push descriptors: no descriptor pools to size or recycle per launch.
  VkDescriptorSetLayoutCreateInfo set_info{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  set_info.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
  set_info.bindingCount = buffer_count;
  set_info.pBindings = bindings.data();
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  if (VkResult r = vkCreateDescriptorSetLayout(vk, &set_info, nullptr, &set_layout); r != VK_SUCCESS)
    return r;
  set_layout_ = UniqueDescriptorSetLayout(vk, set_layout);

  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, entry_.push_constant_bytes};
  VkPipelineLayoutCreateInfo layout_info{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  layout_info.setLayoutCount = buffer_count > 0 ? 1 : 0;
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
  // Ids 0-2: the group size (GLSL local_size_{x,y,z}_id); id 3: the local memory words;
  // then the caller's constants. An id the shader does not declare is ignored by Vulkan.
  std::vector<VkSpecializationMapEntry> entries = {{0, 0, 4}, {1, 4, 4}, {2, 8, 4}};
  if (local_words > 0) entries.push_back({3, 12, 4});
  entries.insert(entries.end(), code_->constants.begin(), code_->constants.end());
  std::vector<uint8_t> data(16 + code_->constant_bytes.size());
  std::memcpy(data.data(), key.data(), 16);
  std::copy(code_->constant_bytes.begin(), code_->constant_bytes.end(), data.begin() + 16);
  const VkSpecializationInfo specialization{static_cast<uint32_t>(entries.size()), entries.data(),
                                            data.size(), data.data()};
  VkComputePipelineCreateInfo info{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  info.stage.module = code_->shader.get();
  info.stage.pName = entry_.name.c_str();
  info.stage.pSpecializationInfo = &specialization;
  info.layout = layout_.get();
  VkPipeline pipeline = VK_NULL_HANDLE;
  VkResult r = vkCreateComputePipelines(device_->vk(), device_->pipeline_cache->get(), 1,
                                         &info, nullptr, &pipeline);
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
    DeviceState& device = *module.code->device;
    for (const EntryPoint& entry : spirv.entry_points) {
      if (entry.name != name) continue;
      if (entry.buffers.size() > device.max_buffer_arguments) {
        return fail(UDAL_ERROR_INVALID_MODULE,
                    "{}: kernel '{}' uses {} storage buffers; device {} takes at most {}", fn,
                    name, entry.buffers.size(), device.info.name, device.max_buffer_arguments);
      }
      auto state = std::make_shared<KernelState>(&device, module.code, entry);
      if (VkResult r = state->init(); r != VK_SUCCESS) {
        return fail_vk(fn, "creating the pipeline layout", r);
      }
      // A kernel that fixes its group size has one pipeline: made now, so the first launch
      // does not compile it and a shader the implementation cannot build fails here.
      if (entry.fixed_group_size && !entry.uses_local_memory) {
        VkPipeline pipeline = VK_NULL_HANDLE;
        const VkResult r = state->pipeline(entry.fixed_group_size->data(), 0, &pipeline);
        if (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
          return fail_vk(fn, "vkCreateComputePipelines", r);
        }
        if (r != VK_SUCCESS) {
          return fail(UDAL_ERROR_INVALID_MODULE, "{}: kernel '{}': vkCreateComputePipelines "
                      "failed with {}", fn, name, vk_result_name(r));
        }
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
  // Launches in flight hold the kernel's state (pipelines, layout) until they complete.
  std::unique_ptr<Kernel> kernel(to_kernel(handle));
  return UDAL_SUCCESS;
}

udal_result_t kernel_get_info(udal_kernel_t handle, udal_kernel_info_t* out_info) {
  constexpr const char* fn = "udal_kernel_get_info";
  if (out_info == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", fn);
  udal::sdk::clear_struct(out_info);
  if (udal_result_t r = refuse_chain(fn, "out_info", out_info->next); r != UDAL_SUCCESS) return r;
  const KernelState& kernel = *to_kernel(handle)->state;
  const EntryPoint& entry = kernel.entry();
  udal_kernel_info_t info{};
  info.type = UDAL_STRUCTURE_TYPE_KERNEL_INFO;
  info.struct_size = sizeof(info);
  info.argument_count = UDAL_ARGUMENT_COUNT_UNKNOWN;
  if (entry.values) {
    info.flags |= UDAL_KERNEL_FLAG_ARGUMENT_INFO;
    info.argument_count = static_cast<uint32_t>(entry.buffers.size() + entry.values->size());
  }
  if (entry.uses_local_memory) info.flags |= UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY;
  info.max_group_invocations = kernel.device()->info.max_group_invocations;
  if (entry.fixed_group_size) {
    info.flags |= UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE;
    const auto& size = *entry.fixed_group_size;
    for (int axis = 0; axis < 3; ++axis) info.required_group_size[axis] = size[axis];
    info.max_group_invocations = static_cast<uint32_t>(std::min<uint64_t>(
        info.max_group_invocations, uint64_t{size[0]} * size[1] * size[2]));
  }
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

udal_result_t kernel_get_argument_info(udal_kernel_t handle, uint32_t index,
                                       udal_kernel_arg_info_t* out_info) {
  constexpr const char* fn = "udal_kernel_get_argument_info";
  if (out_info == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", fn);
  udal::sdk::clear_struct(out_info);
  if (udal_result_t r = refuse_chain(fn, "out_info", out_info->next); r != UDAL_SUCCESS) return r;
  const EntryPoint& entry = to_kernel(handle)->state->entry();
  if (!entry.values) {
    return fail(UDAL_ERROR_UNSUPPORTED, "{}: kernel '{}' has a push-constant block of {} bytes "
                "whose members are not scalars, vectors or arrays of them at the offsets "
                "docs/spec.md 14.1 packs values at, so its value arguments cannot be described",
                fn, entry.name, entry.push_constant_bytes);
  }
  const size_t count = entry.buffers.size() + entry.values->size();
  if (index >= count) {
    return fail(UDAL_ERROR_NOT_FOUND, "{}: index {} is not below kernel '{}''s argument count {}",
                fn, index, entry.name, count);
  }
  udal_kernel_arg_info_t info{};
  info.type = UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO;
  info.struct_size = sizeof(info);
  // Buffers first (binding order), then values (block order): SPIR-V does not say how the
  // two interleave, and a launch may interleave them (docs/spec.md 14.1).
  if (index < entry.buffers.size()) {
    info.kind = UDAL_ARG_KIND_BUFFER;
    info.access = static_cast<udal_arg_access_t>(entry.buffers[index].access);
  } else {
    info.kind = UDAL_ARG_KIND_VALUE;
    info.value_size = (*entry.values)[index - entry.buffers.size()].size;
    info.access = UDAL_ARG_ACCESS_NONE;
  }
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

}  // namespace udal::vulkan
