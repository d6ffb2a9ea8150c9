// local_memory.h — the dynamic local memory one thread gives the work-groups it runs.
#ifndef UDAL_CPU_LOCAL_MEMORY_H_
#define UDAL_CPU_LOCAL_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <memory>

namespace udal::cpu {

// The device limit max_local_memory_bytes: every thread that runs groups owns this much.
inline constexpr uint64_t kMaxLocalMemoryBytes = uint64_t{1} << 20;

// One block per thread serves every group it runs (a thread runs one group at a time),
// 64-byte aligned as udal_host_kernel.h says. Allocated whole when the thread's owner is
// made (a stream, the worker pool), where a failure can still be reported: get() runs in
// the middle of a launch and must neither allocate nor fail. The pages are untouched until
// a kernel uses them, so a thread that never runs a kernel with local memory costs only
// address space.
class LocalMemory {
 public:
  // Throws std::bad_alloc.
  explicit LocalMemory(uint64_t capacity = kMaxLocalMemoryBytes)
      : blocks_(std::make_unique_for_overwrite<Block[]>(
            static_cast<std::size_t>((capacity + sizeof(Block) - 1) / sizeof(Block)))),
        capacity_(capacity) {}

  // |bytes| of local memory, or NULL for 0 (and for more than the capacity, which launches
  // are checked against at enqueue).
  void* get(uint64_t bytes) const noexcept {
    return bytes == 0 || bytes > capacity_ ? nullptr : static_cast<void*>(blocks_.get());
  }

 private:
  struct alignas(64) Block {
    std::byte bytes[64];
  };
  std::unique_ptr<Block[]> blocks_;
  uint64_t capacity_;
};

}  // namespace udal::cpu

#endif  // UDAL_CPU_LOCAL_MEMORY_H_
