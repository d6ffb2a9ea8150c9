// memory.h — device memory: VkBuffers sub-allocated from large VkDeviceMemory blocks, so
// many small buffers do not run into maxMemoryAllocationCount (4096 on many GPUs), with
// what each heap holds counted so an allocation past the heap (or the budget
// VK_EXT_memory_budget gives) is refused as out of device memory instead of handed out.
#ifndef UDAL_VULKAN_MEMORY_H_
#define UDAL_VULKAN_MEMORY_H_

#include <atomic>
#include <cstdint>
#include <functional>
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
// that work: the range goes back to the pool when the last holder lets go.
class Allocation {
 public:
  Allocation(MemoryPool* pool, Block* block, uint64_t offset, uint64_t size, UniqueBuffer buffer,
             std::byte* mapped) noexcept
      : pool_(pool), block_(block), offset_(offset), size_(size), buffer_(std::move(buffer)),
        mapped_(mapped) {}
  ~Allocation();
  Allocation(const Allocation&) = delete;
  Allocation& operator=(const Allocation&) = delete;

  VkBuffer buffer() const noexcept { return buffer_.get(); }
  // The host address of byte 0, or nullptr when the memory is not host-visible.
  std::byte* mapped() const noexcept { return mapped_; }
  uint64_t size() const noexcept { return size_; }

  // Counts |bytes| in |*counter| for as long as the allocation lives (what
  // udal_device_get_memory_usage reports).
  void count_in(std::atomic<uint64_t>* counter, uint64_t bytes) noexcept {
    counter_ = counter;
    counted_ = bytes;
    counter->fetch_add(bytes, std::memory_order_relaxed);
  }

 private:
  MemoryPool* pool_;
  Block* block_;
  uint64_t offset_;  // in the block, of the range handed out (before alignment)
  uint64_t size_;    // of the range handed out
  UniqueBuffer buffer_;
  std::byte* mapped_;
  std::atomic<uint64_t>* counter_ = nullptr;
  uint64_t counted_ = 0;
};

struct Block {
  UniqueMemory memory;
  uint32_t type = 0;
  uint32_t heap = 0;
  uint64_t size = 0;
  std::byte* mapped = nullptr;  // persistently mapped when host-visible
  bool dedicated = false;
  std::map<uint64_t, uint64_t> free_ranges;  // offset -> size, coalesced
  uint64_t used = 0;
};

struct AllocationRequest {
  uint32_t type = 0;        // memory type index
  uint64_t size = 0;        // bytes
  uint64_t alignment = 1;   // of the buffer's device offset and, when mapped, host address
  bool device_address = false;  // VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT
};

class MemoryPool {
 public:
  // |budget| gives a heap's budget in bytes (the heap's size, or VK_EXT_memory_budget's
  // heapBudget); |device_address| allocates every block with
  // VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT (the device enabled bufferDeviceAddress).
  MemoryPool(VkDevice device, const VkPhysicalDeviceMemoryProperties& properties,
             uint64_t min_alignment, bool device_address,
             std::function<uint64_t(uint32_t heap)> budget) noexcept
      : device_(device), properties_(properties), min_alignment_(min_alignment),
        device_address_(device_address), budget_(std::move(budget)) {}
  ~MemoryPool();
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

  // A buffer as |request| asks. On failure returns nullptr and the VkResult in |*error|
  // (VK_ERROR_OUT_OF_DEVICE_MEMORY when the heap or its budget would be exceeded).
  // Throws std::bad_alloc.
  std::shared_ptr<Allocation> allocate(const AllocationRequest& request, VkResult* error);

  // Bytes of VkDeviceMemory the pool holds on |heap|.
  uint64_t heap_bytes(uint32_t heap);

 private:
  friend class Allocation;
  void release(Block* block, uint64_t offset, uint64_t size) noexcept;
  Block* new_block(uint32_t type, uint64_t size, bool dedicated, VkResult* error);
  void drop_block(Block* block) noexcept;

  VkDevice device_;
  VkPhysicalDeviceMemoryProperties properties_;
  uint64_t min_alignment_;
  bool device_address_;
  std::function<uint64_t(uint32_t)> budget_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Block>> blocks_;
  uint64_t heap_used_[VK_MAX_MEMORY_HEAPS] = {};
};

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_MEMORY_H_
