// pci.h — where a device sits: its PCI bus id (confirmed against libdrm's devices) and the
// NUMA node nearest to it (hwloc).
#ifndef UDAL_VULKAN_PCI_H_
#define UDAL_VULKAN_PCI_H_

#include <cstdint>
#include <string>

namespace udal::vulkan {

struct PciAddress {
  uint32_t domain, bus, device, function;
};

// "dddd:bb:dd.f".
std::string format_pci_bus_id(const PciAddress& address);

// The DRM render node of |address| ("/dev/dri/renderD128"), or "" when libdrm lists none
// for it (no libdrm, no /dev/dri, or a device DRM does not drive).
std::string drm_render_node(const PciAddress& address);

// The OS index of the NUMA node nearest |address|, or -1 when unknown.
int32_t numa_node_of(const PciAddress& address);

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_PCI_H_
