// render_json.cpp — the inventory as one JSON object, for scripts and CI.
#include "inventory.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace udal_info {
namespace {

// ordered_json keeps keys in the order written here (the struct's order), not sorted.
using json = nlohmann::ordered_json;

// "1.0", or null when the version is not known (0), so a script need not parse "unknown".
json version_json(uint32_t version) {
  return version == 0 ? json(nullptr) : json(version_string(version));
}

json axes(const uint32_t (&v)[3]) {
  return json::array({v[0], v[1], v[2]});
}

json driver_json(const DriverEntry& d) {
  return json{
      {"name", d.name},
      {"state", driver_state_name(d.state)},
      {"result", udal_result_name(d.result)},
      {"manifest_path", d.manifest_path},
      {"library_path", d.library_path},
      {"reason", d.reason},
      {"abi_version", version_json(d.abi_version)},
      {"driver_version", version_json(d.driver_version)},
      {"device_count", d.device_count},
  };
}

// Field names follow udal_layer_status_t; "" strings are null, so a script tests for null.
json layer_json(const LayerEntry& layer) {
  auto or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return json{
      {"name", layer.name},
      {"state", layer_state_name(layer.state)},
      {"sources", layer_source_names(layer.sources)},
      {"flags", layer_flag_names(layer.flags)},
      {"environment_variable", layer.environment_variable},
      {"environment_value", or_null(layer.environment_value)},
      {"output_path", or_null(layer.output_path)},
      {"reason", layer.reason},
  };
}

// null when the device does not offer UDAL_DEVICE_FEATURE_MEMORY_USAGE.
json memory_usage_json(const DeviceEntry& dev) {
  if (!dev.has_memory_usage)
    return json(nullptr);
  if (dev.memory_usage_result != UDAL_SUCCESS) {
    return json{{"error",
                 {{"result", udal_result_name(dev.memory_usage_result)},
                  {"message", dev.memory_usage_error}}}};
  }
  const udal_memory_usage_t& usage = dev.memory_usage;
  return json{
      {"device_allocated_bytes", usage.device_allocated_bytes},
      {"device_budget_bytes", usage.device_budget_bytes},
      {"host_visible_allocated_bytes", usage.host_visible_allocated_bytes},
      {"host_visible_budget_bytes", usage.host_visible_budget_bytes},
  };
}

json device_json(const DeviceEntry& dev) {
  if (dev.result != UDAL_SUCCESS) {
    return json{
        {"index", dev.index},
        {"error", {{"result", udal_result_name(dev.result)}, {"message", dev.error_message}}}};
  }
  const udal_device_info_t& info = dev.info;
  json formats = json::array();
  for (uint32_t i = 0; i < std::min<uint32_t>(info.module_format_count, UDAL_MAX_MODULE_FORMATS);
       ++i)
    formats.push_back(module_format_name(info.module_formats[i]));
  // Field names follow udal_device_info_t, in its order, so the JSON needs no separate
  // documentation; the arrays with a count are one JSON array each.
  return json{
      {"index", dev.index},
      {"name", info.name},
      {"vendor", info.vendor},
      {"driver_name", info.driver_name},
      {"pci_bus_id", info.pci_bus_id[0] ? json(info.pci_bus_id) : json(nullptr)},
      {"uuid", uuid_hex(info.uuid, false)},
      {"driver_version", version_json(info.driver_version)},
      {"abi_version", version_json(info.abi_version)},
      {"device_type", device_type_name(info.device_type)},
      {"numa_node", info.numa_node},
      {"features", feature_names(info.features)},
      {"device_memory_bytes", info.device_memory_bytes},
      {"host_visible_memory_bytes", info.host_visible_memory_bytes},
      {"max_local_memory_bytes", info.max_local_memory_bytes},
      {"max_allocation_bytes", info.max_allocation_bytes},
      {"min_buffer_alignment", info.min_buffer_alignment},
      {"buffer_argument_offset_alignment", info.buffer_argument_offset_alignment},
      {"max_group_size", axes(info.max_group_size)},
      {"max_group_invocations", info.max_group_invocations},
      {"max_group_count", axes(info.max_group_count)},
      {"max_kernel_arguments", info.max_kernel_arguments},
      {"max_value_argument_bytes", info.max_value_argument_bytes},
      {"compute_unit_count", info.compute_unit_count},
      {"preferred_group_size_multiple", info.preferred_group_size_multiple},
      {"subgroup_sizes", subgroup_sizes(info)},
      {"module_formats", formats},
      {"memory_usage", memory_usage_json(dev)},
  };
}

} // namespace

std::string render_json(const Inventory& inv) {
  json layers = json::array();
  for (const auto& layer : inv.layers)
    layers.push_back(layer_json(layer));
  json drivers = json::array();
  for (const auto& d : inv.drivers)
    drivers.push_back(driver_json(d));
  json devices = json::array();
  for (const auto& dev : inv.devices)
    devices.push_back(device_json(dev));
  json environment = json::object();
  for (const auto& [name, value] : inv.environment)
    environment[name] = value;

  json root{
      {"abi_version", version_string(inv.libudal_abi_version)},
      {"environment", environment},
      {"layers", layers},
      {"drivers", drivers},
      {"devices", devices},
  };
  if (inv.devices.empty())
    root["no_devices_reasons"] = explain_no_devices(inv);
  // Names come from drivers; a stray non-UTF-8 byte must not abort the report.
  return root.dump(2, ' ', false, json::error_handler_t::replace) + '\n';
}

} // namespace udal_info
