// The entry point and the table of the CPU reference driver.
#include "driver.h"

#include "buffer.h"
#include "event.h"
#include "kernel.h"
#include "module.h"
#include "stream.h"

namespace udal::cpu {
namespace {

using udal::sdk::fail;

Driver* to_driver(udal_driver_t handle) noexcept { return udal::sdk::from_handle<Driver>(handle); }

udal_result_t driver_create(const udal_driver_table_t* dispatch,
                            const udal_driver_create_desc_t* desc_in, udal_driver_t* out_driver) {
  if (out_driver == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "driver_create: out_driver is NULL");
  }
  *out_driver = nullptr;
  if (dispatch == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "driver_create: dispatch is NULL");
  }
  return udal::sdk::guard("driver_create", [&]() -> udal_result_t {
    const udal_driver_create_desc_t desc = udal::sdk::read_struct(desc_in);
    std::string error;
    auto topology = Topology::load(error);
    if (!topology) {
      return fail(UDAL_ERROR_INTERNAL, "cpu driver: cannot read the machine's topology: {}",
                  error);
    }
    auto driver = std::make_unique<Driver>();
    driver->dispatch = dispatch;
    driver->topology = topology;
    const char* name = desc.driver_name && desc.driver_name[0] ? desc.driver_name : UDAL_DRIVER_NAME;
    for (NumaNode& node : numa_nodes(*topology)) {
      try {
        driver->devices.push_back(make_device(dispatch, driver.get(), topology, std::move(node),
                                              name, UDAL_SDK_DRIVER_VERSION));
      } catch (const std::system_error& e) {
        return fail(UDAL_ERROR_OUT_OF_HOST_MEMORY,
                    "cpu driver: cannot start the worker threads of a device: {}", e.what());
      }
    }
    *out_driver = udal::sdk::to_handle<udal_driver_t>(driver.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t driver_destroy(udal_driver_t handle) {
  std::unique_ptr<Driver> driver(to_driver(handle));
  return UDAL_SUCCESS;
}

udal_result_t driver_get_device_count(udal_driver_t handle, uint32_t* out_count) {
  if (out_count == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "driver_get_device_count: out_count is NULL");
  }
  *out_count = static_cast<uint32_t>(to_driver(handle)->devices.size());
  return UDAL_SUCCESS;
}

udal_result_t driver_get_device(udal_driver_t handle, uint32_t index, udal_device_t* out_device) {
  if (out_device == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "driver_get_device: out_device is NULL");
  }
  *out_device = nullptr;
  Driver* driver = to_driver(handle);
  if (index >= driver->devices.size()) {
    return fail(UDAL_ERROR_NOT_FOUND, "driver_get_device: index {} is not below the device count {}",
                index, driver->devices.size());
  }
  *out_device = udal::sdk::to_handle<udal_device_t>(driver->devices[index].get());
  return UDAL_SUCCESS;
}

// Every entry this driver implements, as built against its header.
udal_driver_table_t full_table() noexcept { return UDAL_SDK_FULL_TABLE_1_0(); }

}  // namespace
}  // namespace udal::cpu

extern "C" UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(uint32_t loader_abi_version,
                                                                  udal_driver_table_t* table) {
  return udal::sdk::negotiate(loader_abi_version, table, udal::cpu::full_table(),
                              UDAL_SDK_DRIVER_VERSION);
}
