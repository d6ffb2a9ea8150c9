// memory.h — device memory: VkBuffers sub-allocated from large VkDeviceMemory blocks, so
// many small buffers do not run into maxMemoryAllocationCount (4096 on many GPUs).
#ifndef UDAL_VULKAN_MEMORY_H_
#define UDAL_VULKAN_MEMORY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "vk_util.h"

namespace udal::vulkan {

class MemoryPool;
struct Block;

// One VkBuffer over a range of a block. Held by shared_ptr by its UDAL buffer and by every
// batch in flight that uses it, so a buffer destroyed with work pending frees nothing under
// that work.
class Allocation {
 public:
  Allocation(MemoryPool* pool, Block* block, uint64_t offset, uint64_t size,
             UniqueBuffer buffer, std::byte* mapped) noexcept
      : pool_(pool), block_(block), offset_(offset), size_(size), buffer_(std::move(buffer)),
        mapped_(mapped) {}
  ~Allocation();
  Allocation(const Allocation&) = delete;
  Allocation& operator=(const Allocation&) = delete;

  VkBuffer buffer() const noexcept { return buffer_.get(); }
  // The host address of byte 0, or nullptr when the memory is not host-visible.
  std::byte* mapped() const noexcept { return mapped_; }
  uint64_t size() const noexcept { return size_; }

 private:
  MemoryPool* pool_;
  Block* block_;
  uint64_t offset_;  // in the block, of the range handed out (before alignment)
  uint64_t size_;    // of the range handed out
  UniqueBuffer buffer_;
  std::byte* mapped_;
};

struct Block {
  UniqueMemory memory;
  uint32_t type = 0;
  uint64_t size = 0;
  std::byte* mapped = nullptr;  // persistently mapped when host-visible
  bool dedicated = false;
  std::map<uint64_t, uint64_t> free_ranges;  // offset -> size, coalesced
  uint64_t used = 0;
};

class MemoryPool {
 public:
  MemoryPool(VkDevice device, const VkPhysicalDeviceMemoryProperties& properties,
             uint64_t min_alignment) noexcept
      : device_(device), properties_(properties), min_alignment_(min_alignment) {}
  ~MemoryPool();

  // A buffer of |size| bytes whose memory is of |type|, its offset a multiple of
  // |alignment| (a power of two). On failure returns nullptr and the VkResult in |*error|
  // (VK_ERROR_OUT_OF_DEVICE_MEMORY when the memory is exhausted). Throws std::bad_alloc.
  std::shared_ptr<Allocation> allocate(uint32_t type, uint64_t size, uint64_t alignment,
                                       VkResult* error);

 private:
  friend class Allocation;
  void release(Block* block, uint64_t offset, uint64_t size) noexcept;
  Block* new_block(uint32_t type, uint64_t size, bool dedicated, VkResult* error);

  VkDevice device_;
  VkPhysicalDeviceMemoryProperties properties_;
  uint64_t min_alignment_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Block>> blocks_;
};

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_MEMORY_H_
