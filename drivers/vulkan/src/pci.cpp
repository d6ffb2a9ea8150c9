#include "pci.h"

#include <fmt/format.h>

#include <vector>

#ifdef UDAL_VULKAN_HAVE_LIBDRM
#include <xf86drm.h>
#endif
#ifdef UDAL_VULKAN_HAVE_HWLOC
#include <hwloc.h>
#endif

namespace udal::vulkan {

std::string format_pci_bus_id(const PciAddress& a) {
  return fmt::format("{:04x}:{:02x}:{:02x}.{:x}", a.domain, a.bus, a.device, a.function);
}

std::string drm_render_node(const PciAddress& address) {
#ifdef UDAL_VULKAN_HAVE_LIBDRM
  // A negative count is an errno: -ENOENT (no /dev/dri) means "no devices", not a failure.
  const int count = drmGetDevices2(0, nullptr, 0);
  if (count <= 0) return "";
  std::vector<drmDevicePtr> devices(static_cast<size_t>(count));
  const int got = drmGetDevices2(0, devices.data(), count);
  std::string node;
  for (int i = 0; i < got; ++i) {
    const drmDevicePtr d = devices[static_cast<size_t>(i)];
    if (d->bustype != DRM_BUS_PCI || !(d->available_nodes & (1 << DRM_NODE_RENDER))) continue;
    const drmPciBusInfo& bus = *d->businfo.pci;
    if (bus.domain == address.domain && bus.bus == address.bus && bus.dev == address.device &&
        bus.func == address.function) {
      node = d->nodes[DRM_NODE_RENDER];
      break;
    }
  }
  if (got > 0) drmFreeDevices(devices.data(), got);
  return node;
#else
  (void)address;
  return "";
#endif
}

int32_t numa_node_of(const PciAddress& address) {
#ifdef UDAL_VULKAN_HAVE_HWLOC
  hwloc_topology_t topology;
  if (hwloc_topology_init(&topology) != 0) return -1;
  int32_t node = -1;
  // PCI devices are I/O objects, which hwloc leaves out unless asked.
  hwloc_topology_set_io_types_filter(topology, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  if (hwloc_topology_load(topology) == 0) {
    hwloc_obj_t pci = hwloc_get_pcidev_by_busid(topology, address.domain, address.bus,
                                                address.device, address.function);
    hwloc_obj_t parent = pci ? hwloc_get_non_io_ancestor_obj(topology, pci) : nullptr;
    if (parent && parent->nodeset) {
      const int first = hwloc_bitmap_first(parent->nodeset);
      if (first >= 0) node = first;
    }
  }
  hwloc_topology_destroy(topology);
  return node;
#else
  (void)address;
  return -1;
#endif
}

}  // namespace udal::vulkan
