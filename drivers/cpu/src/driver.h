// driver.h — the driver's root object: the topology, the devices, and every object handed
// out and not yet destroyed.
#ifndef UDAL_CPU_DRIVER_H_
#define UDAL_CPU_DRIVER_H_

#include <memory>
#include <vector>

#include "device.h"
#include "entries.h"
#include "topology.h"
#include "udal/sdk/live_set.h"
#include "udal/sdk/sdk.h"

namespace udal::cpu {

struct Buffer;
struct Event;
struct Kernel;
struct Module;
struct Stream;

// The object behind a udal_driver_t; one per instance that loads the driver, so two
// instances (or two copies of libudal) share nothing.
struct Driver {
  const udal_driver_table_t* dispatch;
  std::shared_ptr<Topology> topology;
  std::vector<std::unique_ptr<Device>> devices;
  udal::sdk::LiveSet<Buffer> buffers;
  udal::sdk::LiveSet<Event> events;
  udal::sdk::LiveSet<Module> modules;
  udal::sdk::LiveSet<Kernel> kernels;
  udal::sdk::LiveSet<Stream> streams;
};
UDAL_SDK_DISPATCHABLE(Driver);

// The number of devices UDAL_CPU_DEVICE_COUNT asks for (1..16): 0 when it is not set;
// -1 with |error| set when it is set to anything else.
int device_count_from_environment(std::string& error);

}  // namespace udal::cpu

#endif  // UDAL_CPU_DRIVER_H_
