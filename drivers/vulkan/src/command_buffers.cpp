#include "command_buffers.h"

namespace udal::vulkan {

VkResult CommandBuffers::adopt(VkDevice device, UniqueCommandPool pool, bool reset) {
  device_ = device;
  pool_ = std::move(pool);
  return reset ? vkResetCommandPool(device_, pool_.get(), 0) : VK_SUCCESS;
}

VkResult CommandBuffers::create(VkDevice device, uint32_t queue_family) {
  VkCommandPoolCreateInfo info{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  info.queueFamilyIndex = queue_family;
  VkCommandPool pool = VK_NULL_HANDLE;
  if (VkResult r = vkCreateCommandPool(device, &info, nullptr, &pool); r != VK_SUCCESS) return r;
  return adopt(device, UniqueCommandPool(device, pool), false);
}

VkResult CommandBuffers::begin(VkCommandBuffer* out) {
  VkCommandBuffer cb = VK_NULL_HANDLE;
  if (!free_.empty()) {
    cb = free_.back();
    free_.pop_back();
  } else {
    VkCommandBufferAllocateInfo info{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    info.commandPool = pool_.get();
    info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    info.commandBufferCount = 1;
    if (VkResult r = vkAllocateCommandBuffers(device_, &info, &cb); r != VK_SUCCESS) return r;
    // The free list can take every buffer back without allocating (recycle is noexcept).
    try {
      free_.reserve(allocated_ + 1);
    } catch (...) {
      vkFreeCommandBuffers(device_, pool_.get(), 1, &cb);
      return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    ++allocated_;
  }
  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  if (VkResult r = vkBeginCommandBuffer(cb, &begin); r != VK_SUCCESS) {
    free_.push_back(cb);
    return r;
  }
  *out = cb;
  return VK_SUCCESS;
}

void CommandBuffers::recycle(VkCommandBuffer cb) noexcept {
  // Capacity for every buffer of the pool was reserved in begin().
  free_.push_back(cb);
}

UniqueCommandPool CommandBuffers::release_pool() noexcept {
  if (pool_) {
    for (VkCommandBuffer cb : free_) vkFreeCommandBuffers(device_, pool_.get(), 1, &cb);
  }
  free_.clear();
  allocated_ = 0;
  return std::move(pool_);
}

}  // namespace udal::vulkan
