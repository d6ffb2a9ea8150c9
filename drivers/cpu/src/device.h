// device.h — a CPU device: one NUMA node, its cores (a worker pool) and its memory.
#ifndef UDAL_CPU_DEVICE_H_
#define UDAL_CPU_DEVICE_H_

#include <memory>

#include "topology.h"
#include "udal/sdk/sdk.h"
#include "worker_pool.h"

namespace udal::cpu {

struct Driver;

// The object behind a udal_device_t. Owned by its Driver.
struct Device {
  const udal_driver_table_t* dispatch;
  Driver* driver;
  std::shared_ptr<Topology> topology;
  Bitmap cpuset;
  Bitmap nodeset;
  udal_device_info_t info;  // complete; get_info copies what the caller's struct holds
  std::unique_ptr<WorkerPool> pool;
};
UDAL_SDK_DISPATCHABLE(Device);

// Makes the device of |node|. Throws std::bad_alloc / std::system_error (thread start).
std::unique_ptr<Device> make_device(const udal_driver_table_t* dispatch, Driver* driver,
                                    std::shared_ptr<Topology> topology, NumaNode node,
                                    const char* driver_name, uint32_t driver_version);

inline Device* to_device(udal_device_t handle) noexcept {
  return udal::sdk::from_handle<Device>(handle);
}

udal_result_t device_get_info(udal_device_t device, udal_device_info_t* out_info);

}  // namespace udal::cpu

#endif  // UDAL_CPU_DEVICE_H_
