// raw_vulkan.h — the hand-written Vulkan peer: what a Vulkan programmer writes for one
// compute dispatch, with nothing of UDAL in it, so the Vulkan driver's overhead is
// measured against it. One device, one queue, one command buffer reused per submit.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace raw_vulkan {

// A host-visible storage buffer (lavapipe's memory is all host-visible).
struct Buffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  uint64_t size = 0;
  void* mapped = nullptr;
};

// A compute pipeline for one entry point of a SPIR-V file, with |buffer_count| storage
// buffers at set 0 and |push_bytes| of push constants (the UDAL convention, spec 14.1).
struct Pipeline {
  VkShaderModule shader = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkPipeline pipeline = VK_NULL_HANDLE;
  VkDescriptorPool pool = VK_NULL_HANDLE;
  VkDescriptorSet set = VK_NULL_HANDLE;
  uint32_t push_bytes = 0;
};

class Context {
public:
  // The first physical device with a compute queue, or nullptr with |why| set.
  static std::unique_ptr<Context> open(std::string* why);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const std::string& device_name() const { return device_name_; }

  bool create_pipeline(const std::string& spirv_path, const char* entry, uint32_t buffer_count,
                       uint32_t push_bytes, uint32_t group_size_x, Pipeline* out, std::string* why);
  void destroy_pipeline(Pipeline* p);
  bool create_buffer(uint64_t size, Buffer* out, std::string* why);
  void destroy_buffer(Buffer* b);
  void bind_buffers(Pipeline* p, const std::vector<const Buffer*>& buffers);

  // Records |count| dispatches of |groups| work-groups (a compute→compute barrier between
  // them: in-order, as a UDAL stream is), submits once, waits on a fence. Recording is
  // inside, as it is for every launch of a UDAL stream.
  VkResult dispatch_and_wait(const Pipeline& p, uint32_t groups, uint32_t count,
                             const void* push = nullptr);

  // An empty submit that signals the next value of a timeline semaphore, then a host wait
  // for it: the raw equivalent of recording an event on a stream and waiting for it.
  // VK_ERROR_FEATURE_NOT_PRESENT where the device has no timeline semaphores.
  VkResult signal_and_wait();

private:
  Context() = default;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  VkCommandPool command_pool_ = VK_NULL_HANDLE;
  VkCommandBuffer command_buffer_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  VkSemaphore timeline_ = VK_NULL_HANDLE;
  uint64_t timeline_value_ = 0;
  VkPhysicalDeviceMemoryProperties memory_ = {};
  std::string device_name_;
};

} // namespace raw_vulkan
