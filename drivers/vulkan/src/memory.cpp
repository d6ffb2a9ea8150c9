#include "memory.h"

#include <algorithm>

namespace udal::vulkan {
namespace {

// Blocks are large enough that a few hold the small buffers of a typical program; a buffer
// of more than a quarter of a block gets memory of its own.
constexpr uint64_t kBlockBytes = 32ull << 20;
constexpr uint64_t kDedicatedAbove = kBlockBytes / 4;

uint64_t align_up(uint64_t value, uint64_t alignment) noexcept {
  return (value + alignment - 1) & ~(alignment - 1);
}

}  // namespace

Allocation::~Allocation() {
  if (counter_ != nullptr) counter_->fetch_sub(counted_, std::memory_order_relaxed);
  buffer_.reset();
  if (block_ != nullptr) pool_->release(block_, range_);
}

MemoryPool::~MemoryPool() = default;

uint64_t MemoryPool::heap_bytes(uint32_t heap) {
  std::lock_guard lock(mutex_);
  return heap < VK_MAX_MEMORY_HEAPS ? heap_used_[heap] : 0;
}

// Called with mutex_ held.
Block* MemoryPool::new_block(uint32_t type, uint64_t size, bool dedicated, VkResult* error) {
  const uint32_t heap = properties_.memoryTypes[type].heapIndex;
  // Implementations such as lavapipe hand out far more than their heap (it is malloc); the
  // heap's size, or the budget, is the limit UDAL promises. Empty blocks kept for reuse go
  // first.
  if (heap_used_[heap] + size > budget_(heap)) {
    for (auto it = blocks_.begin(); it != blocks_.end();) {
      if ((*it)->ranges.used() == 0 && (*it)->heap == heap) {
        heap_used_[heap] -= (*it)->size;
        it = blocks_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (heap_used_[heap] + size > budget_(heap)) {
    *error = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    return nullptr;
  }
  // What may throw comes before the device memory is taken, or while its owner would free it.
  blocks_.reserve(blocks_.size() + 1);
  VkMemoryAllocateFlagsInfo flags{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO};
  flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
  VkMemoryAllocateInfo info{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  if (device_address_) info.pNext = &flags;
  info.allocationSize = size;
  info.memoryTypeIndex = type;
  VkDeviceMemory raw = VK_NULL_HANDLE;
  *error = vkAllocateMemory(device_, &info, nullptr, &raw);
  if (*error != VK_SUCCESS) return nullptr;
  UniqueMemory memory(device_, raw);
  std::byte* mapped = nullptr;
  if (properties_.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
    void* address = nullptr;
    *error = vkMapMemory(device_, raw, 0, VK_WHOLE_SIZE, 0, &address);
    if (*error != VK_SUCCESS) return nullptr;
    mapped = static_cast<std::byte*>(address);
  }
  blocks_.push_back(std::make_unique<Block>(std::move(memory), type, heap, size, mapped, dedicated));
  heap_used_[heap] += size;
  return blocks_.back().get();
}

// Called with mutex_ held, on a block new_block has just made: a range of |size| bytes at
// |alignment|, or nullopt when the block cannot hold one; the block goes back to the device
// unless a range was carved from it.
std::optional<udal::sdk::Range> MemoryPool::carve_new(Block* block, uint64_t size,
                                                      uint64_t alignment) {
  std::optional<udal::sdk::Range> range;
  try {
    range = block->ranges.allocate(size, alignment);
  } catch (...) {
    drop_block(block);
    throw;
  }
  if (!range) drop_block(block);
  return range;
}

std::shared_ptr<Allocation> MemoryPool::allocate(const AllocationRequest& request,
                                                 VkResult* error) {
  uint64_t alignment = std::max(request.alignment, min_alignment_);
  VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  info.size = request.size;
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  if (request.device_address) info.usage |= VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer raw = VK_NULL_HANDLE;
  *error = vkCreateBuffer(device_, &info, nullptr, &raw);
  if (*error != VK_SUCCESS) return nullptr;
  UniqueBuffer buffer(device_, raw);
  VkMemoryRequirements requirements;
  vkGetBufferMemoryRequirements(device_, raw, &requirements);
  const uint32_t type = request.type;
  if (!(requirements.memoryTypeBits & (1u << type))) {
    *error = VK_ERROR_FORMAT_NOT_SUPPORTED;  // "this memory type cannot hold a buffer"
    return nullptr;
  }
  alignment = std::max<uint64_t>(alignment, requirements.alignment);
  const uint64_t needed = align_up(requirements.size, 4);
  // Made before a range is taken: from then on nothing throws until it holds the range.
  auto allocation = std::make_shared<Allocation>(this, std::move(buffer));

  std::unique_lock lock(mutex_);
  Block* chosen = nullptr;
  std::optional<udal::sdk::Range> range;
  if (needed <= kDedicatedAbove && alignment <= kDedicatedAbove) {
    for (auto& block : blocks_) {
      if (block->dedicated || block->type != type) continue;
      range = block->ranges.allocate(needed, alignment);
      if (range) {
        chosen = block.get();
        break;
      }
    }
    if (!chosen) {
      // A fresh block always holds it: padding and size are each at most a quarter of it.
      chosen = new_block(type, kBlockBytes, false, error);
      if (!chosen) return nullptr;
      range = carve_new(chosen, needed, alignment);
    }
  } else {
    // A dedicated block; over-allocated by the alignment when its mapping is not aligned
    // enough by itself.
    chosen = new_block(type, needed, true, error);
    if (!chosen) return nullptr;
    range = carve_new(chosen, needed, alignment);
    if (!range) {
      chosen = new_block(type, needed + alignment, true, error);
      if (!chosen) return nullptr;
      range = carve_new(chosen, needed, alignment);
    }
  }
  if (!range) {
    *error = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    return nullptr;
  }
  allocation->block_ = chosen;
  allocation->range_ = *range;
  lock.unlock();
  *error = vkBindBufferMemory(device_, allocation->buffer(), chosen->memory.get(), range->start);
  if (*error != VK_SUCCESS) return nullptr;  // the allocation gives the range back
  if (chosen->mapped != nullptr) allocation->mapped_ = chosen->mapped + range->start;
  return allocation;
}

// Called with mutex_ held.
void MemoryPool::drop_block(Block* block) noexcept {
  heap_used_[block->heap] -= block->size;
  blocks_.erase(std::find_if(blocks_.begin(), blocks_.end(),
                             [block](const auto& b) { return b.get() == block; }));
}

void MemoryPool::release(Block* block, const udal::sdk::Range& range) noexcept {
  std::lock_guard lock(mutex_);
  block->ranges.free(range);
  if (block->ranges.used() != 0) return;
  // One empty shared block per memory type is kept, so a program that allocates and frees
  // does not allocate device memory each time; the others (and dedicated ones) go back to
  // the device, where another process may need them.
  const bool keep =
      !block->dedicated && std::none_of(blocks_.begin(), blocks_.end(), [block](const auto& b) {
        return b.get() != block && b->ranges.used() == 0 && !b->dedicated && b->type == block->type;
      });
  if (!keep) drop_block(block);
}

}  // namespace udal::vulkan
