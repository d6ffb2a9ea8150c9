// The entry point and the table of the CPU reference driver.
#include "driver.h"

#include <cerrno>
#include <cstdlib>
#include <string>

#include "buffer.h"
#include "event.h"
#include "kernel.h"
#include "module.h"
#include "stream.h"

namespace udal::cpu {

using udal::sdk::fail;

namespace {

constexpr int kMaxDevicesFromEnvironment = 16;

Driver* to_driver(udal_driver_t handle) noexcept { return udal::sdk::from_handle<Driver>(handle); }

}  // namespace

int device_count_from_environment(std::string& error) {
  // secure_getenv: a setuid program is not steered from outside, as libudal's own variables.
  const char* value = secure_getenv("UDAL_CPU_DEVICE_COUNT");
  if (value == nullptr || value[0] == '\0') return 0;
  char* end = nullptr;
  errno = 0;
  const long count = std::strtol(value, &end, 10);
  if (errno != 0 || end == value || *end != '\0' || count < 1 || count > kMaxDevicesFromEnvironment) {
    error = fmt::format("UDAL_CPU_DEVICE_COUNT is '{}', not a number of devices from 1 to {}",
                        value, kMaxDevicesFromEnvironment);
    return -1;
  }
  return static_cast<int>(count);
}

udal_result_t driver_create(const udal_driver_table_t* dispatch,
                            const udal_driver_create_desc_t* desc_in, udal_driver_t* out_driver) {
  constexpr const char* kFn = "driver_create";
  if (out_driver == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_driver is NULL", kFn);
  *out_driver = nullptr;
  if (dispatch == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: dispatch is NULL", kFn);
  if (desc_in != nullptr) {
    if (udal_result_t r = udal::sdk::check_struct(kFn, "desc", desc_in)) return r;
  }
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    const udal_driver_create_desc_t desc = udal::sdk::read_struct(desc_in);
    std::string error;
    const int from_environment = device_count_from_environment(error);
    if (from_environment < 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "cpu driver: {}", error);
    }
    auto topology = Topology::load(error);
    if (!topology) {
      return fail(UDAL_ERROR_INTERNAL, "cpu driver: cannot read the machine's topology: {}",
                  error);
    }
    auto driver = std::make_unique<Driver>();
    driver->dispatch = dispatch;
    driver->topology = topology;
    const char* name = desc.driver_name && desc.driver_name[0] ? desc.driver_name : UDAL_DRIVER_NAME;
    std::vector<NumaNode> nodes = numa_nodes(*topology);
    // One device per NUMA node; UDAL_CPU_DEVICE_COUNT devices spread over the nodes when set.
    const auto count = static_cast<uint32_t>(from_environment > 0 ? from_environment : nodes.size());
    const std::size_t used_nodes = std::min<std::size_t>(nodes.size(), count);
    std::vector<std::shared_ptr<NodeResources>> resources;
    try {
      for (std::size_t i = 0; i < used_nodes; ++i) {
        resources.push_back(make_node_resources(topology, std::move(nodes[i])));
      }
    } catch (const std::system_error& e) {
      return fail(UDAL_ERROR_OUT_OF_HOST_MEMORY,
                  "cpu driver: cannot start the worker threads of a device: {}", e.what());
    }
    for (uint32_t i = 0; i < count; ++i) {
      driver->devices.push_back(make_device(dispatch, driver.get(), topology,
                                            resources[i % resources.size()], i, count,
                                            from_environment > 0, name, UDAL_SDK_DRIVER_VERSION));
    }
    *out_driver = udal::sdk::to_handle<udal_driver_t>(driver.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t driver_destroy(udal_driver_t handle) {
  std::unique_ptr<Driver> driver(to_driver(handle));
  // Nothing of the driver may run once this returns (libudal may unload it). So streams
  // the application left behind finish their work and stop their threads first; streams
  // held by an unsignalled HOST_SIGNAL event are released as if it had been destroyed.
  // Then what is left is freed; the devices' worker pools stop with the devices.
  udal::sdk::destroy_left_behind(*driver);
  return UDAL_SUCCESS;
}

udal_result_t driver_get_device_count(udal_driver_t handle, uint32_t* out_count) {
  return udal::sdk::answer_device_count(to_driver(handle)->devices, out_count);
}

udal_result_t driver_get_device(udal_driver_t handle, uint32_t index, udal_device_t* out_device) {
  return udal::sdk::answer_device(to_driver(handle)->devices, index, out_device);
}

namespace {

// Every entry of UDAL_DRIVER_ENTRIES (declared in entries.h, defined beside its object).

// Every entry runs inside udal::sdk::guard: no exception crosses the C ABI.
udal_driver_table_t full_table() noexcept { return UDAL_SDK_GUARDED_FULL_TABLE(); }

}  // namespace
}  // namespace udal::cpu

extern "C" UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(uint32_t loader_abi_version,
                                                                  udal_driver_table_t* table) {
  return udal::sdk::negotiate(loader_abi_version, table, udal::cpu::full_table(),
                              UDAL_SDK_DRIVER_VERSION);
}
