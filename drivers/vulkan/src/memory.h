// memory.h — device memory: VkBuffers sub-allocated from large VkDeviceMemory blocks, so
// many small buffers do not run into maxMemoryAllocationCount (4096 on many GPUs), with
// what each heap holds counted so an allocation past the heap (or the budget
// VK_EXT_memory_budget gives) is refused as out of device memory instead of handed out.
#ifndef UDAL_VULKAN_MEMORY_H_
#define UDAL_VULKAN_MEMORY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "udal/sdk/suballocator.h"
#include "vk_util.h"

namespace udal::vulkan {

class MemoryPool;
struct Block;

// One VkBuffer over a range of a block. Held by shared_ptr by its UDAL buffer and by every
// batch in flight that uses it, so a buffer destroyed with work pending frees nothing under
// that work: the range goes back to the pool when the last holder lets go.
class Allocation {
 public:
  // Holds no memory until the pool gives it a range (MemoryPool::allocate), so the pool can
  // make it before taking one: nothing that may throw comes between taking the range and
  // handing the allocation that gives it back.
  Allocation(MemoryPool* pool, UniqueBuffer buffer) noexcept
      : pool_(pool), buffer_(std::move(buffer)) {}
  ~Allocation();
  Allocation(const Allocation&) = delete;
  Allocation& operator=(const Allocation&) = delete;

  VkBuffer buffer() const noexcept { return buffer_.get(); }
  // The host address of byte 0, or nullptr when the memory is not host-visible.
  std::byte* mapped() const noexcept { return mapped_; }

  // Counts |bytes| in |*counter| for as long as the allocation lives (what
  // udal_device_get_memory_usage reports).
  void count_in(std::atomic<uint64_t>* counter, uint64_t bytes) noexcept {
    counter_ = counter;
    counted_ = bytes;
    counter->fetch_add(bytes, std::memory_order_relaxed);
  }

 private:
  friend class MemoryPool;

  MemoryPool* pool_;
  Block* block_ = nullptr;  // nullptr until a range is taken
  udal::sdk::Range range_;  // taken from block_->ranges; the buffer is bound at range_.start
  UniqueBuffer buffer_;
  std::byte* mapped_ = nullptr;
  std::atomic<uint64_t>* counter_ = nullptr;
  uint64_t counted_ = 0;
};

// One VkDeviceMemory and the ranges carved from it. The allocator's base is the block's
// mapped address when it is host-visible, so a range's start aligns the host pointer as the
// request asks (the device offset too, given a mapping aligned at least that much).
struct Block {
  Block(UniqueMemory memory_in, uint32_t type_in, uint32_t heap_in, uint64_t size_in,
        std::byte* mapped_in, bool dedicated_in)
      : memory(std::move(memory_in)), type(type_in), heap(heap_in), size(size_in),
        mapped(mapped_in), dedicated(dedicated_in),
        ranges(size_in, reinterpret_cast<uintptr_t>(mapped_in)) {}

  UniqueMemory memory;
  uint32_t type;
  uint32_t heap;
  uint64_t size;
  std::byte* mapped;  // persistently mapped when host-visible, else nullptr
  bool dedicated;
  udal::sdk::RangeAllocator ranges;  // guarded by the pool's mutex
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
  void release(Block* block, const udal::sdk::Range& range) noexcept;
  Block* new_block(uint32_t type, uint64_t size, bool dedicated, VkResult* error);
  std::optional<udal::sdk::Range> carve_new(Block* block, uint64_t size, uint64_t alignment);
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
