// inventory.h — everything udal-info reports, read from libudal once and owned here, so
// the two renderers (text and JSON) show exactly the same facts.
#pragma once

#include <udal/udal.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace udal_info {

// Releases the instance on every exit path; the strings of driver statuses are copied out
// before that, so the inventory outlives the instance.
struct InstanceRelease {
  void operator()(udal_instance_s* instance) const { udal_instance_release(instance); }
};
using InstancePtr = std::unique_ptr<udal_instance_s, InstanceRelease>;

struct DriverEntry {
  udal_driver_state_t state = UDAL_DRIVER_STATE_FAILED;
  udal_result_t result = UDAL_SUCCESS;
  std::string name;
  std::string manifest_path;
  std::string library_path;
  std::string reason;
  uint32_t abi_version = 0;
  uint32_t driver_version = 0;
  uint32_t device_count = 0;
};

struct DeviceEntry {
  uint32_t index = 0;
  // When udal_device_get_info fails the device is still listed, with the failure.
  udal_result_t result = UDAL_SUCCESS;
  std::string error_message;
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  // Read only from a device with UDAL_DEVICE_FEATURE_MEMORY_USAGE; a failure is shown too.
  bool has_memory_usage = false;
  udal_result_t memory_usage_result = UDAL_SUCCESS;
  std::string memory_usage_error;
  udal_memory_usage_t memory_usage = UDAL_MEMORY_USAGE_INIT;
};

// One layer of libudal (validation, trace) as the instance runs it: what libudal says, never
// what this tool guesses from the environment.
struct LayerEntry {
  udal_layer_t layer = UDAL_LAYER_VALIDATION;
  udal_layer_state_t state = UDAL_LAYER_STATE_OFF;
  udal_layer_sources_t sources = 0;
  udal_layer_flags_t flags = 0;
  std::string name;
  std::string environment_variable;
  std::string environment_value;
  std::string output_path;
  std::string reason;
};

struct Inventory {
  uint32_t libudal_abi_version = 0;
  std::vector<LayerEntry> layers;
  std::vector<DriverEntry> drivers;
  std::vector<DeviceEntry> devices;
  // UDAL_* variables that steer the driver search, as set in this process: half of every
  // "why is my driver not there" question is answered by them.
  std::vector<std::pair<std::string, std::string>> environment;
};

// A failure of a libudal call that stops udal-info; what() names the call and the result.
struct QueryError {
  std::string call;
  udal_result_t result;
  std::string message;
};

// Reads drivers and devices of |instance|. On failure returns false and fills |error|.
bool collect(udal_instance_t instance, Inventory& out, QueryError& error);

// Why the inventory has no devices, one line per cause ("" when it has devices).
std::vector<std::string> explain_no_devices(const Inventory& inventory);

// ---- names shared by both renderers ----------------------------------------------------
std::string version_string(uint32_t version); // "1.0"; "unknown" for 0
const char* driver_state_name(udal_driver_state_t state);
std::string layer_state_name(udal_layer_state_t state); // "on", "off", "failed"
// What turned a layer on: "environment", "instance_flag", "BITn" for newer sources.
std::vector<std::string> layer_source_names(udal_layer_sources_t sources);
std::vector<std::string> layer_flag_names(udal_layer_flags_t flags); // "BACKTRACES", "BITn"
std::string device_type_name(udal_device_type_t type);
std::string module_format_name(udal_module_format_t format);
std::vector<std::string> feature_names(udal_device_features_t features);
std::string uuid_hex(const uint8_t (&uuid)[UDAL_UUID_SIZE], bool dashed);
std::string human_bytes(uint64_t bytes); // "15.6 GiB"
// The subgroup sizes a device reports (at most UDAL_MAX_SUBGROUP_SIZES of them).
std::vector<uint32_t> subgroup_sizes(const udal_device_info_t& info);

// ---- renderers ---------------------------------------------------------------------------
std::string render_text(const Inventory& inventory);
std::string render_json(const Inventory& inventory);

} // namespace udal_info
