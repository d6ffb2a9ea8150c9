// buffer.h — buffers: host memory on the device's NUMA node, for all three kinds.
#ifndef UDAL_CPU_BUFFER_H_
#define UDAL_CPU_BUFFER_H_

#include <atomic>
#include <cstddef>
#include <memory>

#include "device.h"
#include "entries.h"
#include "topology.h"
#include "udal/sdk/sdk.h"

namespace udal::cpu {

// The bytes of a buffer. Held by shared_ptr by the buffer and by every operation in flight
// that uses it, so destroying a buffer with work pending frees nothing under that work; the
// bytes count against the device's memory until the last holder lets go.
class Memory {
 public:
  // nullptr when the node cannot map |size| bytes aligned to |alignment|. |size| bytes of
  // |account| must already be reserved: the Memory releases them when it dies (also when
  // this throws std::bad_alloc).
  static std::shared_ptr<Memory> allocate(std::shared_ptr<Topology> topology,
                                          hwloc_const_nodeset_t nodeset, uint64_t size,
                                          uint64_t alignment,
                                          std::shared_ptr<MemoryAccount> account,
                                          bool host_visible);
  Memory(std::shared_ptr<Topology> topology, void* mapping, std::size_t mapping_bytes,
         std::byte* data, std::shared_ptr<MemoryAccount> account, bool host_visible,
         uint64_t accounted_bytes) noexcept
      : topology_(std::move(topology)), mapping_(mapping), mapping_bytes_(mapping_bytes),
        data_(data), account_(std::move(account)), host_visible_(host_visible),
        accounted_bytes_(accounted_bytes) {}
  ~Memory();
  Memory(const Memory&) = delete;
  Memory& operator=(const Memory&) = delete;

  std::byte* data() const noexcept { return data_; }

 private:
  std::shared_ptr<Topology> topology_;
  void* mapping_;
  std::size_t mapping_bytes_;
  std::byte* data_;  // inside the mapping, aligned as asked
  std::shared_ptr<MemoryAccount> account_;
  bool host_visible_;
  uint64_t accounted_bytes_;
};

// The object behind a udal_buffer_t.
struct Buffer {
  const udal_driver_table_t* dispatch;
  Device* device;
  std::shared_ptr<Memory> memory;
  udal_buffer_kind_t kind;
  udal_buffer_flags_t flags;
  uint64_t size;
  uint64_t alignment;
  std::atomic<bool> mapped;
};
UDAL_SDK_DISPATCHABLE(Buffer);

inline Buffer* to_buffer(udal_buffer_t handle) noexcept {
  return udal::sdk::from_handle<Buffer>(handle);
}

}  // namespace udal::cpu

#endif  // UDAL_CPU_BUFFER_H_
