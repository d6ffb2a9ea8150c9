// topology.h — the hwloc topology and the NUMA nodes the driver turns into devices.
#ifndef UDAL_CPU_TOPOLOGY_H_
#define UDAL_CPU_TOPOLOGY_H_

#include <hwloc.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace udal::cpu {

struct BitmapDeleter {
  void operator()(hwloc_bitmap_s* bitmap) const noexcept { hwloc_bitmap_free(bitmap); }
};
using Bitmap = std::unique_ptr<hwloc_bitmap_s, BitmapDeleter>;

// Owns one loaded hwloc topology. Shared (shared_ptr) by the driver, its devices, their
// worker pools and every allocation, because hwloc_free needs it and memory may outlive
// its buffer handle while operations are in flight.
class Topology {
 public:
  // Loads the topology of this machine; nullptr with |error| set on failure.
  static std::shared_ptr<Topology> load(std::string& error);
  // Takes ownership of a loaded |topology|.
  explicit Topology(hwloc_topology_t topology) noexcept : topology_(topology) {}
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  hwloc_topology_t get() const noexcept { return topology_; }

 private:
  hwloc_topology_t topology_;
};

// What one device is made of: one NUMA node with its cores and memory.
struct NumaNode {
  uint32_t os_index = 0;       // the OS's number of the node
  Bitmap cpuset;               // PUs of the node
  Bitmap nodeset;              // the node itself, for memory binding
  uint32_t cores = 0;
  uint32_t processing_units = 0;
  uint64_t memory_bytes = 0;   // memory local to the node
  std::string cpu_model;       // "Intel(R) Xeon(R) ..." or "" when unknown
  std::string cpu_vendor;      // "GenuineIntel" or "" when unknown
};

// The NUMA nodes that have at least one PU, in OS index order. A machine hwloc reports
// without NUMA nodes gives one node of the whole machine.
std::vector<NumaNode> numa_nodes(const Topology& topology);

// This machine's identity for UUIDs: /etc/machine-id, else the host name.
std::string machine_identity();

}  // namespace udal::cpu

#endif  // UDAL_CPU_TOPOLOGY_H_
