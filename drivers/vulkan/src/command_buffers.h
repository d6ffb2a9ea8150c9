// command_buffers.h — a stream's command pool and the command buffers it recycles: a batch
// takes one (begun) and gives it back once its work has completed or was dropped, so a busy
// stream allocates none after its first few batches.
#ifndef UDAL_VULKAN_COMMAND_BUFFERS_H_
#define UDAL_VULKAN_COMMAND_BUFFERS_H_

#include <vector>

#include "vk_util.h"

namespace udal::vulkan {

class CommandBuffers {
 public:
  CommandBuffers() noexcept = default;
  CommandBuffers(const CommandBuffers&) = delete;
  CommandBuffers& operator=(const CommandBuffers&) = delete;
  ~CommandBuffers() { release_pool(); }

  // Takes |pool| (a new one, or a retired stream's, reset here), created with
  // VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT.
  VkResult adopt(VkDevice device, UniqueCommandPool pool, bool reset);
  // A new pool of |queue_family|.
  VkResult create(VkDevice device, uint32_t queue_family);

  // A command buffer in the recording state (ONE_TIME_SUBMIT), or a VkResult.
  VkResult begin(VkCommandBuffer* out);
  // Gives back a command buffer whose work completed, was never submitted, or failed.
  void recycle(VkCommandBuffer cb) noexcept;

  // Frees the command buffers and hands the pool on (empty when none).
  UniqueCommandPool release_pool() noexcept;

 private:
  VkDevice device_ = VK_NULL_HANDLE;
  UniqueCommandPool pool_;
  std::vector<VkCommandBuffer> free_;
  size_t allocated_ = 0;  // command buffers allocated from pool_
};

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_COMMAND_BUFFERS_H_
