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

// The first offset at or after |offset| in |block| that is a multiple of |alignment| and,
// when the block is mapped, whose host address is one too.
uint64_t aligned_start(const Block& block, uint64_t offset, uint64_t alignment) noexcept {
  if (block.mapped == nullptr) return align_up(offset, alignment);
  const auto base = reinterpret_cast<uintptr_t>(block.mapped);
  return align_up(base + offset, alignment) - base;
}

}  // namespace

Allocation::~Allocation() {
  if (counter_ != nullptr) counter_->fetch_sub(counted_, std::memory_order_relaxed);
  buffer_.reset();
  pool_->release(block_, offset_, size_);
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
      if ((*it)->used == 0 && (*it)->heap == heap) {
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
  auto block = std::make_unique<Block>();
  VkMemoryAllocateFlagsInfo flags{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO};
  flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
  VkMemoryAllocateInfo info{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  if (device_address_) info.pNext = &flags;
  info.allocationSize = size;
  info.memoryTypeIndex = type;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  *error = vkAllocateMemory(device_, &info, nullptr, &memory);
  if (*error != VK_SUCCESS) return nullptr;
  block->memory = UniqueMemory(device_, memory);
  block->type = type;
  block->heap = heap;
  block->size = size;
  block->dedicated = dedicated;
  if (properties_.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
    void* mapped = nullptr;
    *error = vkMapMemory(device_, memory, 0, VK_WHOLE_SIZE, 0, &mapped);
    if (*error != VK_SUCCESS) return nullptr;
    block->mapped = static_cast<std::byte*>(mapped);
  }
  block->free_ranges.emplace(0, size);
  blocks_.push_back(std::move(block));
  heap_used_[heap] += size;
  return blocks_.back().get();
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

  std::unique_lock lock(mutex_);
  Block* chosen = nullptr;
  uint64_t range_offset = 0, range_size = 0, aligned = 0;
  if (needed <= kDedicatedAbove && alignment <= kDedicatedAbove) {
    for (auto& block : blocks_) {
      if (block->dedicated || block->type != type) continue;
      for (auto [offset, free_size] : block->free_ranges) {
        const uint64_t start = aligned_start(*block, offset, alignment);
        if (start - offset + needed <= free_size) {
          chosen = block.get();
          range_offset = offset;
          range_size = start - offset + needed;
          aligned = start;
          break;
        }
      }
      if (chosen) break;
    }
    if (!chosen) {
      chosen = new_block(type, kBlockBytes, false, error);
      if (!chosen) return nullptr;
      range_offset = 0;
      aligned = aligned_start(*chosen, 0, alignment);
      range_size = aligned + needed;
    }
  } else {
    // A dedicated block; over-allocated by the alignment when its mapping is not aligned
    // enough by itself.
    chosen = new_block(type, needed, true, error);
    if (!chosen) return nullptr;
    aligned = aligned_start(*chosen, 0, alignment);
    if (aligned != 0) {
      drop_block(chosen);  // never used
      chosen = new_block(type, needed + alignment, true, error);
      if (!chosen) return nullptr;
      aligned = aligned_start(*chosen, 0, alignment);
    }
    range_offset = 0;
    range_size = chosen->size;
  }
  if (range_size > chosen->size - range_offset) {
    // Only a fresh block whose mapping sits badly for a large alignment gets here.
    *error = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    return nullptr;
  }
  // Carve [range_offset, range_offset + range_size) out of its free range.
  auto it = chosen->free_ranges.find(range_offset);
  const uint64_t free_size = it->second;
  chosen->free_ranges.erase(it);
  if (free_size > range_size) {
    chosen->free_ranges.emplace(range_offset + range_size, free_size - range_size);
  }
  chosen->used += range_size;
  lock.unlock();
  *error = vkBindBufferMemory(device_, raw, chosen->memory.get(), aligned);
  std::byte* mapped = chosen->mapped ? chosen->mapped + aligned : nullptr;
  auto allocation = std::make_shared<Allocation>(this, chosen, range_offset, range_size,
                                                 std::move(buffer), mapped);
  if (*error != VK_SUCCESS) return nullptr;  // the Allocation gives the range back
  return allocation;
}

// Called with mutex_ held.
void MemoryPool::drop_block(Block* block) noexcept {
  heap_used_[block->heap] -= block->size;
  blocks_.erase(std::find_if(blocks_.begin(), blocks_.end(),
                             [block](const auto& b) { return b.get() == block; }));
}

void MemoryPool::release(Block* block, uint64_t offset, uint64_t size) noexcept {
  std::lock_guard lock(mutex_);
  block->used -= size;
  if (block->used == 0) {
    // One empty shared block per memory type is kept, so a program that allocates and frees
    // does not allocate device memory each time; the others (and dedicated ones) go back to
    // the device, where another process may need them.
    const bool keep = !block->dedicated && std::none_of(blocks_.begin(), blocks_.end(), [block](const auto& b) {
      return b.get() != block && b->used == 0 && !b->dedicated && b->type == block->type;
    });
    if (!keep) {
      drop_block(block);
      return;
    }
    block->free_ranges.clear();
    block->free_ranges.emplace(0, block->size);
    return;
  }
  auto [it, inserted] = block->free_ranges.emplace(offset, size);
  auto next = std::next(it);
  if (next != block->free_ranges.end() && it->first + it->second == next->first) {
    it->second += next->second;
    block->free_ranges.erase(next);
  }
  if (it != block->free_ranges.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second == it->first) {
      prev->second += it->second;
      block->free_ranges.erase(it);
    }
  }
}

}  // namespace udal::vulkan
