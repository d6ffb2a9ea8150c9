// driver.h — the driver's root object: the topology and one device per NUMA node.
#ifndef UDAL_CPU_DRIVER_H_
#define UDAL_CPU_DRIVER_H_

#include <memory>
#include <vector>

#include "device.h"
#include "topology.h"
#include "udal/sdk/sdk.h"

namespace udal::cpu {

// The object behind a udal_driver_t; one per instance that loads the driver, so two
// instances (or two copies of libudal) share nothing.
struct Driver {
  const udal_driver_table_t* dispatch;
  std::shared_ptr<Topology> topology;
  std::vector<std::unique_ptr<Device>> devices;
};
UDAL_SDK_DISPATCHABLE(Driver);

}  // namespace udal::cpu

#endif  // UDAL_CPU_DRIVER_H_
