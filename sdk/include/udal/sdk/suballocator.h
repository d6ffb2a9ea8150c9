// suballocator.h — carving buffers out of one large device allocation: an offset allocator
// over [0, capacity) with alignment, first fit, and frees that coalesce with their free
// neighbours. Header-only.
//
// For a driver whose device memory is expensive to allocate (a VkDeviceMemory, a device
// heap, a BAR window): allocate big blocks from the device, give each a RangeAllocator, and
// carve each udal_buffer_t from one; a buffer larger than a block gets a block of its own.
//
//   udal::sdk::RangeAllocator block(64 << 20);                     // one 64 MiB block
//   std::optional<udal::sdk::Range> range = block.allocate(size, alignment);
//   if (!range) { /* full: the next block, or a new one */ }
//   bind(device_memory, range->start);                            // aligned, size bytes
//   ...
//   block.free(*range);                                           // when the buffer goes
//   if (block.used() == 0) { /* the block may go back to the device */ }
//
// Not thread-safe: call it under the driver's lock of the block. allocate() may throw
// std::bad_alloc; free() never throws (each allocation keeps the node its free needs), so
// a buffer's destructor may call it.
#ifndef UDAL_SDK_SUBALLOCATOR_H_
#define UDAL_SDK_SUBALLOCATOR_H_

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace udal::sdk {

// A range taken from a RangeAllocator: [offset, offset + size) is reserved, and the caller
// uses [start, start + requested size), |start| aligned as asked.
struct Range {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t start = 0;
};

class RangeAllocator {
 public:
  // Manages [0, |capacity|). |base| is the address (or device offset) that offset 0 stands
  // for: alignment is of base + start, so a block whose mapping is not aligned still gives
  // aligned host pointers.
  explicit RangeAllocator(uint64_t capacity, uint64_t base = 0)
      : capacity_(capacity), base_(base) {
    if (capacity_ > 0) free_.emplace(0, capacity_);
  }

  // The first free range that holds |size| bytes starting at a multiple of |alignment|
  // (a power of two; 0 counts as 1), or nullopt: |size| 0, an alignment that is not a power
  // of two, or no room. Throws std::bad_alloc.
  std::optional<Range> allocate(uint64_t size, uint64_t alignment) {
    if (alignment == 0) alignment = 1;
    if (size == 0 || (alignment & (alignment - 1)) != 0 || size > capacity_) return std::nullopt;
    // The node a later free() may need, taken now, where failing is still allowed.
    std::map<uint64_t, uint64_t> scratch;
    scratch.emplace(0, 0);
    spare_.reserve(spare_.size() + 1);
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      const auto [offset, free_size] = *it;
      uint64_t start = 0;
      if (!aligned_start(offset, alignment, start)) continue;
      const uint64_t padding = start - offset;
      if (padding > free_size || size > free_size - padding) continue;
      const uint64_t taken = padding + size;
      if (taken < free_size) {
        // The rest of the range stays free: the same node, moved to its new offset.
        auto node = free_.extract(it);
        node.key() = offset + taken;
        node.mapped() = free_size - taken;
        free_.insert(std::move(node));
      } else {
        free_.erase(it);
      }
      spare_.push_back(scratch.extract(scratch.begin()));
      used_ += taken;
      return Range{offset, taken, start};
    }
    return std::nullopt;
  }

  // Gives back |range| (from allocate() of this allocator, once). Never throws.
  void free(const Range& range) noexcept {
    if (spare_.empty() || range.size > used_) return;  // nothing of this allocator is live
    used_ -= range.size;
    auto node = std::move(spare_.back());
    spare_.pop_back();
    node.key() = range.offset;
    node.mapped() = range.size;
    auto it = free_.insert(std::move(node)).position;
    auto next = std::next(it);
    if (next != free_.end() && it->first + it->second == next->first) {
      it->second += next->second;
      free_.erase(next);
    }
    if (it != free_.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        free_.erase(it);
      }
    }
  }

  uint64_t capacity() const noexcept { return capacity_; }
  // Bytes reserved by live ranges (alignment padding included).
  uint64_t used() const noexcept { return used_; }
  // The largest free range (an allocation of that size with alignment 1 fits).
  uint64_t largest_free() const noexcept {
    uint64_t largest = 0;
    for (const auto& [offset, size] : free_) largest = size > largest ? size : largest;
    return largest;
  }
  // How many separate free ranges there are (1 when nothing is allocated).
  std::size_t free_range_count() const noexcept { return free_.size(); }

 private:
  // The first offset at or after |offset| whose base + offset is a multiple of |alignment|;
  // false when it would pass UINT64_MAX.
  bool aligned_start(uint64_t offset, uint64_t alignment, uint64_t& out) const noexcept {
    const uint64_t mask = alignment - 1;
    const uint64_t address = base_ + offset;  // wraps harmlessly: only its low bits count
    const uint64_t padding = (alignment - (address & mask)) & mask;
    if (offset > UINT64_MAX - padding) return false;
    out = offset + padding;
    return true;
  }

  uint64_t capacity_;
  uint64_t base_;
  uint64_t used_ = 0;
  std::map<uint64_t, uint64_t> free_;  // offset -> size, coalesced, sorted by offset
  std::vector<std::map<uint64_t, uint64_t>::node_type> spare_;  // one per live range
};

}  // namespace udal::sdk

#endif  // UDAL_SDK_SUBALLOCATOR_H_
