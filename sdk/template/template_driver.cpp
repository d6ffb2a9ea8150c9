// template_driver.cpp — the smallest complete UDAL driver: one device, its info, and
// UDAL_ERROR_UNSUPPORTED for everything else. Copy it, rename it, fill it in.
//
// The rules this file follows are in docs/driver-guide.md; the numbers (R1, R2, ...) below
// refer to them.
#include <cstring>
#include <memory>

#include <udal/sdk/sdk.h>

namespace {

using udal::sdk::fail;

// R3: every object behind a handle is standard-layout with the table pointer first.
struct Device {
  const udal_driver_table_t* dispatch;
  udal_device_info_t info;
};
UDAL_SDK_DISPATCHABLE(Device);

struct Driver {
  const udal_driver_table_t* dispatch;
  Device device;  // one device; a real driver enumerates its hardware here
};
UDAL_SDK_DISPATCHABLE(Driver);

void fill_info(udal_device_info_t& info, const char* driver_name) {
  info = udal::sdk::make_struct<udal_device_info_t>();  // zeros, with its type and size
  std::strncpy(info.name, "UDAL template device", sizeof(info.name) - 1);
  std::strncpy(info.vendor, "Example Vendor", sizeof(info.vendor) - 1);
  std::strncpy(info.driver_name, driver_name, sizeof(info.driver_name) - 1);
  info.driver_version = UDAL_SDK_DRIVER_VERSION;
  info.abi_version = UDAL_ABI_VERSION;
  info.device_type = UDAL_DEVICE_TYPE_ACCELERATOR;
  const uint8_t uuid[UDAL_UUID_SIZE] = {0x75, 0x64, 0x61, 0x6c, 0x2d, 0x74, 0x65, 0x6d,
                                        0x70, 0x6c, 0x61, 0x74, 0x65, 0x00, 0x00, 0x01};
  std::memcpy(info.uuid, uuid, sizeof(uuid));
  info.device_memory_bytes = uint64_t{1} << 30;
  info.host_visible_memory_bytes = 0;
  // Limits must all be non-zero, even for a device that cannot launch yet.
  for (int axis = 0; axis < 3; ++axis) {
    info.max_group_size[axis] = 256;
    info.max_group_count[axis] = 65535;
  }
  info.max_group_invocations = 256;
  info.max_local_memory_bytes = 16384;
  info.max_allocation_bytes = uint64_t{1} << 28;
  info.max_kernel_arguments = 16;
  info.max_value_argument_bytes = 256;
  info.min_buffer_alignment = 256;
  info.buffer_argument_offset_alignment = 256;
  info.compute_unit_count = 1;
  info.preferred_group_size_multiple = 32;
  info.subgroup_size_count = 1;
  info.subgroup_sizes[0] = 32;
  info.module_format_count = 0;  // takes no module format yet
  info.features = 0;
  info.numa_node = -1;
}

// ---- entries ------------------------------------------------------------------------

udal_result_t driver_create(const udal_driver_table_t* dispatch,
                            const udal_driver_create_desc_t* desc_in, udal_driver_t* out_driver) {
  *out_driver = nullptr;  // R6: outputs cleared on entry
  // R8: no exception crosses the ABI; guard turns bad_alloc into OUT_OF_HOST_MEMORY.
  return udal::sdk::guard("driver_create", [&]() -> udal_result_t {
    // R5: check the struct's type and refuse every chained struct this driver does not know.
    if (udal_result_t r = udal::sdk::check_struct("driver_create", "desc", desc_in)) return r;
    const udal_driver_create_desc_t desc = udal::sdk::read_struct(desc_in);
    auto driver = std::make_unique<Driver>();
    driver->dispatch = dispatch;
    driver->device.dispatch = dispatch;  // R4: children carry the parent's table
    fill_info(driver->device.info,
              desc.driver_name && desc.driver_name[0] ? desc.driver_name : UDAL_DRIVER_NAME);
    *out_driver = udal::sdk::to_handle<udal_driver_t>(driver.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t driver_destroy(udal_driver_t driver) {
  std::unique_ptr<Driver> owned(udal::sdk::from_handle<Driver>(driver));
  return UDAL_SUCCESS;
}

udal_result_t driver_get_device_count(udal_driver_t, uint32_t* out_count) {
  *out_count = 1;
  return UDAL_SUCCESS;
}

udal_result_t driver_get_device(udal_driver_t driver, uint32_t index, udal_device_t* out_device) {
  *out_device = nullptr;
  if (index != 0) {
    return fail(UDAL_ERROR_NOT_FOUND, "template driver: device index {} is not below 1", index);
  }
  *out_device = udal::sdk::to_handle<udal_device_t>(&udal::sdk::from_handle<Driver>(driver)->device);
  return UDAL_SUCCESS;
}

udal_result_t device_get_info(udal_device_t device, udal_device_info_t* out_info) {
  // A caller may chain vendor structs to be filled; this driver knows none.
  if (udal_result_t r = udal::sdk::check_struct("udal_device_get_info", "out_info", out_info)) {
    return r;
  }
  // R5: only the bytes inside the caller's struct_size are written.
  udal::sdk::write_struct(out_info, udal::sdk::from_handle<Device>(device)->info);
  return UDAL_SUCCESS;
}

// An entry that exists but cannot do the job yet says so, and why (R7). Entries left
// NULL in the table get the same code from libudal with its own message.
udal_result_t buffer_create(udal_device_t, const udal_buffer_desc_t*, udal_buffer_t* out_buffer) {
  *out_buffer = nullptr;
  return fail(UDAL_ERROR_UNSUPPORTED,
              "udal_buffer_create: the template driver does not allocate memory yet");
}

// Every entry defined above, found by name (the names of UDAL_DRIVER_ENTRIES in
// udal_driver.h); the others stay NULL. A driver whose entries live in several files
// declares them in its common header with UDAL_SDK_DECLARE_ENTRY(name), or all of them with
// UDAL_SDK_DECLARE_ENTRIES() and fills the table with UDAL_SDK_GUARDED_FULL_TABLE(), which
// also runs every entry inside udal::sdk::guard (no C++ exception crosses the C ABI).
udal_driver_table_t full_table() noexcept { return UDAL_SDK_TABLE(); }

}  // namespace

// R1: the one exported symbol (udal_add_driver's version script hides everything else).
extern "C" UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(uint32_t loader_abi_version,
                                                                  udal_driver_table_t* table) {
  return udal::sdk::negotiate(loader_abi_version, table, full_table(), UDAL_SDK_DRIVER_VERSION);
}
