#include "topology.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace udal::cpu {

std::shared_ptr<Topology> Topology::load(std::string& error) {
  hwloc_topology_t topology = nullptr;
  if (hwloc_topology_init(&topology) != 0) {
    error = fmt::format("hwloc_topology_init failed: {}", std::strerror(errno));
    return nullptr;
  }
  // Destroyed here unless a Topology owns it: an allocation that fails below (the message,
  // make_shared) must not leak the whole hwloc tree.
  struct Owner {
    hwloc_topology_t topology;
    ~Owner() {
      if (topology != nullptr) hwloc_topology_destroy(topology);
    }
  } owner{topology};
  if (hwloc_topology_load(topology) != 0) {
    const int load_errno = errno;
    error = fmt::format("hwloc_topology_load failed: {}", std::strerror(load_errno));
    return nullptr;
  }
  auto loaded = std::make_shared<Topology>(topology);
  owner.topology = nullptr;
  return loaded;
}

Topology::~Topology() { hwloc_topology_destroy(topology_); }

namespace {

// The CPU model and vendor of the first package that shares PUs with |cpuset|.
void describe_cpu(hwloc_topology_t topology, hwloc_const_cpuset_t cpuset, NumaNode& node) {
  hwloc_obj_t package = nullptr;
  while ((package = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_PACKAGE, package))) {
    if (package->cpuset && hwloc_bitmap_intersects(package->cpuset, cpuset)) break;
  }
  hwloc_obj_t source = package ? package : hwloc_get_root_obj(topology);
  if (const char* model = hwloc_obj_get_info_by_name(source, "CPUModel")) node.cpu_model = model;
  if (const char* vendor = hwloc_obj_get_info_by_name(source, "CPUVendor")) {
    node.cpu_vendor = vendor;
  }
}

void count_units(hwloc_topology_t topology, NumaNode& node) {
  node.processing_units = static_cast<uint32_t>(
      hwloc_get_nbobjs_inside_cpuset_by_type(topology, node.cpuset.get(), HWLOC_OBJ_PU));
  int cores = hwloc_get_nbobjs_inside_cpuset_by_type(topology, node.cpuset.get(), HWLOC_OBJ_CORE);
  // Some VMs report PUs without cores; each PU then counts as a core.
  node.cores = cores > 0 ? static_cast<uint32_t>(cores) : node.processing_units;
}

}  // namespace

std::vector<NumaNode> numa_nodes(const Topology& topology) {
  hwloc_topology_t topo = topology.get();
  std::vector<NumaNode> nodes;
  hwloc_obj_t obj = nullptr;
  while ((obj = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, obj))) {
    if (!obj->cpuset || hwloc_bitmap_iszero(obj->cpuset)) continue;  // memory-only node
    NumaNode node;
    node.os_index = obj->os_index;
    node.cpuset = Bitmap(hwloc_bitmap_dup(obj->cpuset));
    node.nodeset = Bitmap(hwloc_bitmap_dup(obj->nodeset));
    node.memory_bytes = obj->attr ? obj->attr->numanode.local_memory : 0;
    count_units(topo, node);
    describe_cpu(topo, obj->cpuset, node);
    nodes.push_back(std::move(node));
  }
  if (nodes.empty()) {
    hwloc_obj_t root = hwloc_get_root_obj(topo);
    NumaNode node;
    node.cpuset = Bitmap(hwloc_bitmap_dup(root->cpuset));
    node.nodeset = Bitmap(hwloc_bitmap_dup(root->nodeset));
    node.memory_bytes = root->total_memory;
    count_units(topo, node);
    describe_cpu(topo, root->cpuset, node);
    nodes.push_back(std::move(node));
  }
  return nodes;
}

std::string machine_identity() {
  for (const char* path : {"/etc/machine-id", "/var/lib/dbus/machine-id"}) {
    std::ifstream file(path);
    std::string id;
    if (file >> id && !id.empty()) return id;
  }
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) return host;
  return "unknown-machine";
}

}  // namespace udal::cpu
