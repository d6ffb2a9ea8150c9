// device.h — a CPU device: the cores (a worker pool) and memory of one NUMA node.
#ifndef UDAL_CPU_DEVICE_H_
#define UDAL_CPU_DEVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "entries.h"
#include "topology.h"
#include "udal/sdk/sdk.h"
#include "worker_pool.h"

namespace udal::cpu {

struct Driver;

// What the devices of one NUMA node share: its cpuset and nodeset, the worker pool bound to
// its cores, and the bytes allocated from its memory. With UDAL_CPU_DEVICE_COUNT several
// devices live on one node; they split its memory, and their work shares its cores.
struct NodeResources {
  NumaNode node;
  uint64_t memory_bytes = 0;              // what the node's devices may allocate in all
  std::atomic<uint64_t> allocated{0};     // what they hold now
  std::unique_ptr<WorkerPool> pool;
};

// The bytes one device's buffers hold, per kind, against its node's memory. Shared by the
// device and every Memory allocated through it (memory may outlive its buffer handle while
// work that uses it is in flight).
class MemoryAccount {
 public:
  explicit MemoryAccount(std::shared_ptr<NodeResources> node) noexcept : node_(std::move(node)) {}

  // Takes |bytes| from the node's memory; false when the node has less left.
  bool reserve(bool host_visible, uint64_t bytes) noexcept;
  void release(bool host_visible, uint64_t bytes) noexcept;

  uint64_t allocated(bool host_visible) const noexcept {
    return (host_visible ? host_visible_ : device_).load(std::memory_order_relaxed);
  }
  // What this device may hold in all now: the node's memory less what its other devices hold.
  uint64_t budget() const noexcept;
  uint64_t node_allocated() const noexcept {
    return node_->allocated.load(std::memory_order_relaxed);
  }
  uint64_t node_memory() const noexcept { return node_->memory_bytes; }

 private:
  std::shared_ptr<NodeResources> node_;
  std::atomic<uint64_t> device_{0};
  std::atomic<uint64_t> host_visible_{0};
};

// The object behind a udal_device_t. Owned by its Driver.
struct Device {
  const udal_driver_table_t* dispatch;
  Driver* driver;
  std::shared_ptr<Topology> topology;
  std::shared_ptr<NodeResources> node;
  std::shared_ptr<MemoryAccount> memory;
  udal_device_info_t info;  // complete; get_info copies what the caller's struct holds
};
UDAL_SDK_DISPATCHABLE(Device);

// The resources of |node| (taken): its worker pool is started. Throws std::bad_alloc /
// std::system_error (thread start).
std::shared_ptr<NodeResources> make_node_resources(std::shared_ptr<Topology> topology,
                                                   NumaNode node);

// Makes device |index| of |count| on |node|. |count_from_environment|: UDAL_CPU_DEVICE_COUNT
// set the count (names and UUIDs then carry the index). Throws std::bad_alloc.
std::unique_ptr<Device> make_device(const udal_driver_table_t* dispatch, Driver* driver,
                                    std::shared_ptr<Topology> topology,
                                    std::shared_ptr<NodeResources> node, uint32_t index,
                                    uint32_t count, bool count_from_environment,
                                    const char* driver_name, uint32_t driver_version);

inline Device* to_device(udal_device_t handle) noexcept {
  return udal::sdk::from_handle<Device>(handle);
}

}  // namespace udal::cpu

#endif  // UDAL_CPU_DEVICE_H_
