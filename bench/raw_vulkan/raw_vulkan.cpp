// raw_vulkan.cpp — see raw_vulkan.h.
#include "raw_vulkan.h"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace raw_vulkan {
namespace {

std::string vk_failure(const char* what, VkResult r) {
  return std::string(what) + " failed (VkResult " + std::to_string(static_cast<int>(r)) + ")";
}

} // namespace

std::unique_ptr<Context> Context::open(std::string* why) {
  std::unique_ptr<Context> c(new Context()); // private constructor: make_unique cannot
  VkApplicationInfo app = {};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "udal-bench raw Vulkan peer";
  app.apiVersion = VK_API_VERSION_1_2; // timeline semaphores, where the device has them
  VkInstanceCreateInfo instance_info = {};
  instance_info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  instance_info.pApplicationInfo = &app;
  VkResult r = vkCreateInstance(&instance_info, nullptr, &c->instance_);
  if (r != VK_SUCCESS) {
    *why = vk_failure("vkCreateInstance", r);
    return nullptr;
  }
  uint32_t count = 0;
  vkEnumeratePhysicalDevices(c->instance_, &count, nullptr);
  std::vector<VkPhysicalDevice> physicals(count);
  vkEnumeratePhysicalDevices(c->instance_, &count, physicals.data());
  for (VkPhysicalDevice physical : physicals) {
    uint32_t family_count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &family_count, nullptr);
    std::vector<VkQueueFamilyProperties> families(family_count);
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &family_count, families.data());
    for (uint32_t f = 0; f < family_count; ++f) {
      if ((families[f].queueFlags & VK_QUEUE_COMPUTE_BIT) != 0) {
        c->physical_ = physical;
        c->queue_family_ = f;
        break;
      }
    }
    if (c->physical_ != VK_NULL_HANDLE)
      break;
  }
  if (c->physical_ == VK_NULL_HANDLE) {
    *why = "no Vulkan device with a compute queue";
    return nullptr;
  }
  VkPhysicalDeviceProperties props = {};
  vkGetPhysicalDeviceProperties(c->physical_, &props);
  c->device_name_ = props.deviceName;
  vkGetPhysicalDeviceMemoryProperties(c->physical_, &c->memory_);

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info = {};
  queue_info.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  queue_info.queueFamilyIndex = c->queue_family_;
  queue_info.queueCount = 1;
  queue_info.pQueuePriorities = &priority;
  VkPhysicalDeviceTimelineSemaphoreFeatures timeline = {};
  timeline.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES;
  VkPhysicalDeviceFeatures2 features = {};
  features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  features.pNext = &timeline;
  if (props.apiVersion >= VK_API_VERSION_1_2)
    vkGetPhysicalDeviceFeatures2(c->physical_, &features);
  VkPhysicalDeviceTimelineSemaphoreFeatures enable_timeline = {};
  enable_timeline.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES;
  enable_timeline.timelineSemaphore = timeline.timelineSemaphore;
  VkDeviceCreateInfo device_info = {};
  device_info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  device_info.pNext = timeline.timelineSemaphore ? &enable_timeline : nullptr;
  device_info.queueCreateInfoCount = 1;
  device_info.pQueueCreateInfos = &queue_info;
  r = vkCreateDevice(c->physical_, &device_info, nullptr, &c->device_);
  if (r != VK_SUCCESS) {
    *why = vk_failure("vkCreateDevice", r);
    return nullptr;
  }
  vkGetDeviceQueue(c->device_, c->queue_family_, 0, &c->queue_);

  VkCommandPoolCreateInfo pool_info = {};
  pool_info.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool_info.queueFamilyIndex = c->queue_family_;
  r = vkCreateCommandPool(c->device_, &pool_info, nullptr, &c->command_pool_);
  if (r != VK_SUCCESS) {
    *why = vk_failure("vkCreateCommandPool", r);
    return nullptr;
  }
  VkCommandBufferAllocateInfo alloc = {};
  alloc.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  alloc.commandPool = c->command_pool_;
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  r = vkAllocateCommandBuffers(c->device_, &alloc, &c->command_buffer_);
  if (r != VK_SUCCESS) {
    *why = vk_failure("vkAllocateCommandBuffers", r);
    return nullptr;
  }
  VkFenceCreateInfo fence_info = {};
  fence_info.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  r = vkCreateFence(c->device_, &fence_info, nullptr, &c->fence_);
  if (r != VK_SUCCESS) {
    *why = vk_failure("vkCreateFence", r);
    return nullptr;
  }
  if (timeline.timelineSemaphore) {
    VkSemaphoreTypeCreateInfo type = {};
    type.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO;
    type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
    VkSemaphoreCreateInfo semaphore_info = {};
    semaphore_info.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO;
    semaphore_info.pNext = &type;
    r = vkCreateSemaphore(c->device_, &semaphore_info, nullptr, &c->timeline_);
    if (r != VK_SUCCESS) {
      *why = vk_failure("vkCreateSemaphore (timeline)", r);
      return nullptr;
    }
  }
  return c;
}

VkResult Context::signal_and_wait() {
  if (timeline_ == VK_NULL_HANDLE)
    return VK_ERROR_FEATURE_NOT_PRESENT;
  const uint64_t value = ++timeline_value_;
  VkTimelineSemaphoreSubmitInfo values = {};
  values.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
  values.signalSemaphoreValueCount = 1;
  values.pSignalSemaphoreValues = &value;
  VkSubmitInfo submit = {};
  submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  submit.pNext = &values;
  submit.signalSemaphoreCount = 1;
  submit.pSignalSemaphores = &timeline_;
  VkResult r = vkQueueSubmit(queue_, 1, &submit, VK_NULL_HANDLE);
  if (r != VK_SUCCESS)
    return r;
  VkSemaphoreWaitInfo wait = {};
  wait.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO;
  wait.semaphoreCount = 1;
  wait.pSemaphores = &timeline_;
  wait.pValues = &value;
  return vkWaitSemaphores(device_, &wait, UINT64_MAX);
}

Context::~Context() {
  if (device_ != VK_NULL_HANDLE) {
    vkDeviceWaitIdle(device_);
    if (fence_ != VK_NULL_HANDLE)
      vkDestroyFence(device_, fence_, nullptr);
    if (timeline_ != VK_NULL_HANDLE)
      vkDestroySemaphore(device_, timeline_, nullptr);
    if (command_pool_ != VK_NULL_HANDLE)
      vkDestroyCommandPool(device_, command_pool_, nullptr);
    vkDestroyDevice(device_, nullptr);
  }
  if (instance_ != VK_NULL_HANDLE)
    vkDestroyInstance(instance_, nullptr);
}

bool Context::create_pipeline(const std::string& spirv_path, const char* entry,
                              uint32_t buffer_count, uint32_t push_bytes, uint32_t group_size_x,
                              Pipeline* out, std::string* why) {
  std::ifstream file(spirv_path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.empty() || bytes.size() % 4 != 0) {
    *why = "cannot read SPIR-V " + spirv_path;
    return false;
  }
  std::vector<uint32_t> words(bytes.size() / 4);
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(words.data()));
  VkShaderModuleCreateInfo shader_info = {};
  shader_info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
  shader_info.codeSize = bytes.size();
  shader_info.pCode = words.data();
  VkResult r = vkCreateShaderModule(device_, &shader_info, nullptr, &out->shader);
  if (r != VK_SUCCESS) {
    *why = vk_failure("vkCreateShaderModule", r);
    return false;
  }

  std::vector<VkDescriptorSetLayoutBinding> bindings(buffer_count);
  for (uint32_t i = 0; i < buffer_count; ++i) {
    bindings[i] = {};
    bindings[i].binding = i;
    bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    bindings[i].descriptorCount = 1;
    bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo set_info = {};
  set_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
  set_info.bindingCount = buffer_count;
  set_info.pBindings = bindings.data();
  r = vkCreateDescriptorSetLayout(device_, &set_info, nullptr, &out->set_layout);
  if (r != VK_SUCCESS) {
    *why = vk_failure("vkCreateDescriptorSetLayout", r);
    return false;
  }
  VkPushConstantRange push = {VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes};
  VkPipelineLayoutCreateInfo layout_info = {};
  layout_info.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
  layout_info.setLayoutCount = 1;
  layout_info.pSetLayouts = &out->set_layout;
  layout_info.pushConstantRangeCount = push_bytes > 0 ? 1 : 0;
  layout_info.pPushConstantRanges = &push;
  r = vkCreatePipelineLayout(device_, &layout_info, nullptr, &out->layout);
  if (r != VK_SUCCESS) {
    *why = vk_failure("vkCreatePipelineLayout", r);
    return false;
  }
  out->push_bytes = push_bytes;

  const uint32_t group_size[3] = {group_size_x, 1, 1};
  const VkSpecializationMapEntry entries[3] = {
      {0, 0, 4}, {1, 4, 4}, {2, 8, 4}}; // constants 0, 1, 2: the group size (spec 14.1)
  VkSpecializationInfo spec = {3, entries, sizeof group_size, group_size};
  VkComputePipelineCreateInfo pipeline_info = {};
  pipeline_info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
  pipeline_info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  pipeline_info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  pipeline_info.stage.module = out->shader;
  pipeline_info.stage.pName = entry;
  pipeline_info.stage.pSpecializationInfo = &spec;
  pipeline_info.layout = out->layout;
  r = vkCreateComputePipelines(device_, VK_NULL_HANDLE, 1, &pipeline_info, nullptr, &out->pipeline);
  if (r != VK_SUCCESS) {
    *why = vk_failure("vkCreateComputePipelines", r);
    return false;
  }

  if (buffer_count > 0) {
    VkDescriptorPoolSize pool_size = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, buffer_count};
    VkDescriptorPoolCreateInfo pool_info = {};
    pool_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
    pool_info.maxSets = 1;
    pool_info.poolSizeCount = 1;
    pool_info.pPoolSizes = &pool_size;
    r = vkCreateDescriptorPool(device_, &pool_info, nullptr, &out->pool);
    if (r != VK_SUCCESS) {
      *why = vk_failure("vkCreateDescriptorPool", r);
      return false;
    }
    VkDescriptorSetAllocateInfo set_alloc = {};
    set_alloc.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
    set_alloc.descriptorPool = out->pool;
    set_alloc.descriptorSetCount = 1;
    set_alloc.pSetLayouts = &out->set_layout;
    r = vkAllocateDescriptorSets(device_, &set_alloc, &out->set);
    if (r != VK_SUCCESS) {
      *why = vk_failure("vkAllocateDescriptorSets", r);
      return false;
    }
  }
  return true;
}

void Context::destroy_pipeline(Pipeline* p) {
  vkDeviceWaitIdle(device_);
  if (p->pool != VK_NULL_HANDLE)
    vkDestroyDescriptorPool(device_, p->pool, nullptr);
  if (p->pipeline != VK_NULL_HANDLE)
    vkDestroyPipeline(device_, p->pipeline, nullptr);
  if (p->layout != VK_NULL_HANDLE)
    vkDestroyPipelineLayout(device_, p->layout, nullptr);
  if (p->set_layout != VK_NULL_HANDLE)
    vkDestroyDescriptorSetLayout(device_, p->set_layout, nullptr);
  if (p->shader != VK_NULL_HANDLE)
    vkDestroyShaderModule(device_, p->shader, nullptr);
  *p = Pipeline{};
}

bool Context::create_buffer(uint64_t size, Buffer* out, std::string* why) {
  VkBufferCreateInfo info = {};
  info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  info.size = size;
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkResult r = vkCreateBuffer(device_, &info, nullptr, &out->buffer);
  if (r != VK_SUCCESS) {
    *why = vk_failure("vkCreateBuffer", r);
    return false;
  }
  VkMemoryRequirements req = {};
  vkGetBufferMemoryRequirements(device_, out->buffer, &req);
  const VkMemoryPropertyFlags wanted =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  uint32_t type = UINT32_MAX;
  for (uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
    if ((req.memoryTypeBits & (1u << i)) != 0 &&
        (memory_.memoryTypes[i].propertyFlags & wanted) == wanted) {
      type = i;
      break;
    }
  }
  if (type == UINT32_MAX) {
    *why = "no host-visible coherent memory type";
    return false;
  }
  VkMemoryAllocateInfo alloc = {};
  alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  alloc.allocationSize = req.size;
  alloc.memoryTypeIndex = type;
  r = vkAllocateMemory(device_, &alloc, nullptr, &out->memory);
  if (r != VK_SUCCESS) {
    *why = vk_failure("vkAllocateMemory", r);
    return false;
  }
  vkBindBufferMemory(device_, out->buffer, out->memory, 0);
  r = vkMapMemory(device_, out->memory, 0, size, 0, &out->mapped);
  if (r != VK_SUCCESS) {
    *why = vk_failure("vkMapMemory", r);
    return false;
  }
  out->size = size;
  return true;
}

void Context::destroy_buffer(Buffer* b) {
  vkDeviceWaitIdle(device_);
  if (b->buffer != VK_NULL_HANDLE)
    vkDestroyBuffer(device_, b->buffer, nullptr);
  if (b->memory != VK_NULL_HANDLE)
    vkFreeMemory(device_, b->memory, nullptr); // unmaps
  *b = Buffer{};
}

void Context::bind_buffers(Pipeline* p, const std::vector<const Buffer*>& buffers) {
  std::vector<VkDescriptorBufferInfo> infos(buffers.size());
  std::vector<VkWriteDescriptorSet> writes(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    infos[i] = {buffers[i]->buffer, 0, VK_WHOLE_SIZE};
    writes[i] = {};
    writes[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
    writes[i].dstSet = p->set;
    writes[i].dstBinding = static_cast<uint32_t>(i);
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
  }
  vkUpdateDescriptorSets(device_, static_cast<uint32_t>(writes.size()), writes.data(), 0, nullptr);
}

VkResult Context::dispatch_and_wait(const Pipeline& p, uint32_t groups, uint32_t count,
                                    const void* push) {
  VkCommandBufferBeginInfo begin = {};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  VkResult r = vkBeginCommandBuffer(command_buffer_, &begin);
  if (r != VK_SUCCESS)
    return r;
  vkCmdBindPipeline(command_buffer_, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline);
  if (p.set != VK_NULL_HANDLE) {
    vkCmdBindDescriptorSets(command_buffer_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, 1, &p.set,
                            0, nullptr);
  }
  if (p.push_bytes > 0 && push != nullptr) {
    vkCmdPushConstants(command_buffer_, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, p.push_bytes,
                       push);
  }
  VkMemoryBarrier barrier = {};
  barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  for (uint32_t i = 0; i < count; ++i) {
    if (i > 0) {
      vkCmdPipelineBarrier(command_buffer_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                           VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &barrier, 0, nullptr, 0,
                           nullptr);
    }
    vkCmdDispatch(command_buffer_, groups, 1, 1);
  }
  r = vkEndCommandBuffer(command_buffer_);
  if (r != VK_SUCCESS)
    return r;
  VkSubmitInfo submit = {};
  submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &command_buffer_;
  r = vkQueueSubmit(queue_, 1, &submit, fence_);
  if (r != VK_SUCCESS)
    return r;
  r = vkWaitForFences(device_, 1, &fence_, VK_TRUE, UINT64_MAX);
  if (r != VK_SUCCESS)
    return r;
  return vkResetFences(device_, 1, &fence_);
}

} // namespace raw_vulkan
