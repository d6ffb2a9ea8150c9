// inventory.cpp — reads drivers and devices from libudal, and names the ABI's enums.
#include "inventory.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace udal_info {

bool collect(udal_instance_t instance, Inventory& out, QueryError& error) {
  auto fail = [&](const char* call, udal_result_t result) {
    error = QueryError{call, result, udal_last_error_message()};
    return false;
  };

  out.libudal_abi_version = udal_get_abi_version();
  // The header promises non-NULL strings; a NULL would be a libudal bug, and a tool
  // meant for diagnosing broken setups should not crash on one.
  auto str = [](const char* s) { return std::string(s ? s : ""); };

  uint32_t layer_count = 0;
  if (udal_result_t r = udal_instance_get_layer_count(instance, &layer_count); r != UDAL_SUCCESS)
    return fail("udal_instance_get_layer_count", r);
  for (uint32_t i = 0; i < layer_count; ++i) {
    udal_layer_status_t status = UDAL_LAYER_STATUS_INIT;
    if (udal_result_t r = udal_instance_get_layer_status(instance, i, &status); r != UDAL_SUCCESS)
      return fail("udal_instance_get_layer_status", r);
    out.layers.push_back(LayerEntry{status.layer, status.state, status.sources, status.flags,
                                    str(status.name), str(status.environment_variable),
                                    str(status.environment_value), str(status.output_path),
                                    str(status.reason)});
  }

  uint32_t driver_count = 0;
  if (udal_result_t r = udal_instance_get_driver_count(instance, &driver_count); r != UDAL_SUCCESS)
    return fail("udal_instance_get_driver_count", r);
  for (uint32_t i = 0; i < driver_count; ++i) {
    udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
    if (udal_result_t r = udal_instance_get_driver_status(instance, i, &status); r != UDAL_SUCCESS)
      return fail("udal_instance_get_driver_status", r);
    out.drivers.push_back(DriverEntry{status.state, status.result, str(status.name),
                                      str(status.manifest_path), str(status.library_path),
                                      str(status.reason), status.abi_version, status.driver_version,
                                      status.device_count});
  }

  uint32_t device_count = 0;
  if (udal_result_t r = udal_instance_get_device_count(instance, &device_count); r != UDAL_SUCCESS)
    return fail("udal_instance_get_device_count", r);
  for (uint32_t i = 0; i < device_count; ++i) {
    udal_device_t device = nullptr;
    if (udal_result_t r = udal_instance_get_device(instance, i, &device); r != UDAL_SUCCESS)
      return fail("udal_instance_get_device", r);
    DeviceEntry entry;
    entry.index = i;
    entry.result = udal_device_get_info(device, &entry.info);
    if (entry.result != UDAL_SUCCESS)
      entry.error_message = udal_last_error_message();
    if (entry.result == UDAL_SUCCESS && (entry.info.features & UDAL_DEVICE_FEATURE_MEMORY_USAGE)) {
      entry.has_memory_usage = true;
      entry.memory_usage_result = udal_device_get_memory_usage(device, &entry.memory_usage);
      if (entry.memory_usage_result != UDAL_SUCCESS)
        entry.memory_usage_error = udal_last_error_message();
    }
    out.devices.push_back(entry);
  }

  for (const char* name : {"UDAL_DRIVER_FILES", "UDAL_ADD_DRIVER_FILES", "UDAL_DRIVERS_SELECT",
                           "UDAL_DRIVERS_DISABLE", "UDAL_LOG", "UDAL_CPU_DEVICE_COUNT",
                           "UDAL_VALIDATION", "UDAL_TRACE"}) {
    if (const char* value = std::getenv(name))
      out.environment.emplace_back(name, value);
  }
  return true;
}

std::vector<std::string> explain_no_devices(const Inventory& inventory) {
  std::vector<std::string> why;
  if (!inventory.devices.empty())
    return why;
  if (inventory.drivers.empty()) {
    why.push_back("no driver was found: no manifest in the search path (UDAL_DRIVER_FILES, "
                  "UDAL_ADD_DRIVER_FILES, $XDG_CONFIG_DIRS, /etc, $XDG_DATA_DIRS and the install "
                  "prefix, each + /udal/drivers.d) and no --driver given");
    return why;
  }
  for (const DriverEntry& d : inventory.drivers) {
    switch (d.state) {
    case UDAL_DRIVER_STATE_LOADED:
      why.push_back(fmt::format("driver '{}' loaded but reports no devices", d.name));
      break;
    case UDAL_DRIVER_STATE_FILTERED:
      why.push_back(fmt::format("driver '{}' was filtered out: {}", d.name,
                                d.reason.empty() ? "by UDAL_DRIVERS_SELECT / UDAL_DRIVERS_DISABLE"
                                                 : d.reason));
      break;
    default:
      why.push_back(fmt::format("driver '{}' failed to load ({}): {}", d.name,
                                udal_result_name(d.result),
                                d.reason.empty() ? "no reason given" : d.reason));
      break;
    }
  }
  return why;
}

std::string version_string(uint32_t version) {
  if (version == 0)
    return "unknown";
  return fmt::format("{}.{}", UDAL_VERSION_MAJOR(version), UDAL_VERSION_MINOR(version));
}

const char* driver_state_name(udal_driver_state_t state) {
  switch (state) {
  case UDAL_DRIVER_STATE_LOADED:
    return "loaded";
  case UDAL_DRIVER_STATE_FAILED:
    return "failed";
  case UDAL_DRIVER_STATE_FILTERED:
    return "filtered";
  default:
    return "unknown";
  }
}

std::string layer_state_name(udal_layer_state_t state) {
  switch (state) {
  case UDAL_LAYER_STATE_OFF:
    return "off";
  case UDAL_LAYER_STATE_ON:
    return "on";
  case UDAL_LAYER_STATE_FAILED:
    return "failed";
  default:
    return fmt::format("unknown({})", static_cast<int>(state));
  }
}

namespace {

// Names of the bits of |bits| that |known| names, then "BITn" for the rest: this tool may be
// older than libudal.
template <size_t N>
std::vector<std::string> bit_names(uint64_t bits,
                                   const std::array<std::pair<uint64_t, const char*>, N>& known) {
  std::vector<std::string> names;
  for (const auto& [bit, name] : known) {
    if (bits & bit) {
      names.emplace_back(name);
      bits &= ~bit;
    }
  }
  for (int bit = 0; bit < 64; ++bit) {
    if (bits & (uint64_t{1} << bit))
      names.push_back(fmt::format("BIT{}", bit));
  }
  return names;
}

} // namespace

std::vector<std::string> layer_source_names(udal_layer_sources_t sources) {
  static constexpr std::array<std::pair<uint64_t, const char*>, 2> kKnown{{
      {UDAL_LAYER_SOURCE_ENVIRONMENT, "environment"},
      {UDAL_LAYER_SOURCE_INSTANCE_FLAG, "instance_flag"},
  }};
  return bit_names(sources, kKnown);
}

std::vector<std::string> layer_flag_names(udal_layer_flags_t flags) {
  static constexpr std::array<std::pair<uint64_t, const char*>, 1> kKnown{{
      {UDAL_LAYER_FLAG_BACKTRACES, "BACKTRACES"},
  }};
  return bit_names(flags, kKnown);
}

std::string device_type_name(udal_device_type_t type) {
  switch (type) {
  case UDAL_DEVICE_TYPE_OTHER:
    return "other";
  case UDAL_DEVICE_TYPE_CPU:
    return "cpu";
  case UDAL_DEVICE_TYPE_GPU:
    return "gpu";
  case UDAL_DEVICE_TYPE_ACCELERATOR:
    return "accelerator";
  default:
    return fmt::format("unknown({})", static_cast<int>(type));
  }
}

std::string module_format_name(udal_module_format_t format) {
  switch (format) {
  case UDAL_MODULE_FORMAT_NONE:
    return "NONE";
  case UDAL_MODULE_FORMAT_HOST_NATIVE:
    return "HOST_NATIVE";
  case UDAL_MODULE_FORMAT_SPIRV_COMPUTE:
    return "SPIRV_COMPUTE";
  case UDAL_MODULE_FORMAT_SPIRV_KERNEL:
    return "SPIRV_KERNEL";
  case UDAL_MODULE_FORMAT_OPENCL_C:
    return "OPENCL_C";
  case UDAL_MODULE_FORMAT_PTX:
    return "PTX";
  default:
    break;
  }
  const auto value = static_cast<uint32_t>(format);
  if (value >= UDAL_MODULE_FORMAT_VENDOR_BEGIN)
    return fmt::format("VENDOR(0x{:x})", value);
  return fmt::format("UNKNOWN({})", value);
}

std::vector<std::string> feature_names(udal_device_features_t features) {
  static constexpr std::array<std::pair<udal_device_features_t, const char*>, 12> kKnown{{
      {UDAL_DEVICE_FEATURE_TIMESTAMPS, "TIMESTAMPS"},
      {UDAL_DEVICE_FEATURE_HOST_BUFFERS, "HOST_BUFFERS"},
      {UDAL_DEVICE_FEATURE_SHARED_BUFFERS, "SHARED_BUFFERS"},
      {UDAL_DEVICE_FEATURE_LOCAL_MEMORY, "LOCAL_MEMORY"},
      {UDAL_DEVICE_FEATURE_FLOAT64, "FLOAT64"},
      {UDAL_DEVICE_FEATURE_INT64, "INT64"},
      {UDAL_DEVICE_FEATURE_FLOAT16, "FLOAT16"},
      {UDAL_DEVICE_FEATURE_INT8, "INT8"},
      {UDAL_DEVICE_FEATURE_INT16, "INT16"},
      {UDAL_DEVICE_FEATURE_DEVICE_ADDRESS, "DEVICE_ADDRESS"},
      {UDAL_DEVICE_FEATURE_MEMORY_USAGE, "MEMORY_USAGE"},
      {UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO, "KERNEL_ARGUMENT_INFO"},
  }};
  std::vector<std::string> names;
  for (const auto& [bit, name] : kKnown) {
    if (features & bit) {
      names.emplace_back(name);
      features &= ~bit;
    }
  }
  // Bits of a newer minor version are shown, not dropped: this tool may be older than
  // the driver.
  for (int bit = 0; bit < 64; ++bit) {
    if (features & (udal_device_features_t{1} << bit))
      names.push_back(fmt::format("BIT{}", bit));
  }
  return names;
}

std::string uuid_hex(const uint8_t (&uuid)[UDAL_UUID_SIZE], bool dashed) {
  std::string hex;
  for (int i = 0; i < UDAL_UUID_SIZE; ++i) {
    if (dashed && (i == 4 || i == 6 || i == 8 || i == 10))
      hex += '-';
    hex += fmt::format("{:02x}", uuid[i]);
  }
  return hex;
}

std::vector<uint32_t> subgroup_sizes(const udal_device_info_t& info) {
  const uint32_t count = std::min<uint32_t>(info.subgroup_size_count, UDAL_MAX_SUBGROUP_SIZES);
  return std::vector<uint32_t>(info.subgroup_sizes, info.subgroup_sizes + count);
}

std::string human_bytes(uint64_t bytes) {
  static constexpr std::array<const char*, 7> kUnits{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024)
    return fmt::format("{} B", bytes);
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < kUnits.size()) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

} // namespace udal_info
