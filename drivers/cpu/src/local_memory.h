// local_memory.h — the dynamic local memory one thread gives the work-groups it runs.
#ifndef UDAL_CPU_LOCAL_MEMORY_H_
#define UDAL_CPU_LOCAL_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace udal::cpu {

// Grows to the largest size asked and is reused: a thread runs one group at a time, so
// one block per thread serves every group it runs (64-byte aligned, as the header says).
class LocalMemory {
 public:
  void* get(uint64_t bytes) {
    if (bytes == 0) return nullptr;
    const std::size_t blocks = static_cast<std::size_t>((bytes + sizeof(Block) - 1) / sizeof(Block));
    if (blocks_.size() < blocks) blocks_.resize(blocks);
    return blocks_.data();
  }

 private:
  struct alignas(64) Block {
    std::byte bytes[64];
  };
  std::vector<Block> blocks_;
};

}  // namespace udal::cpu

#endif  // UDAL_CPU_LOCAL_MEMORY_H_
