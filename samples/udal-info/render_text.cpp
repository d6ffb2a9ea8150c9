// render_text.cpp — the inventory as aligned columns for a person.
#include "inventory.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace udal_info {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// Pads every column to its widest cell; the last column is not padded so lines carry no
// trailing blanks.
void append_table(std::string& out, const Rows& rows, const std::string& indent) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line = indent;
    for (size_t c = 0; c < row.size(); ++c) {
      if (c + 1 < row.size())
        line += fmt::format("{:<{}}  ", row[c], widths[c]);
      else
        line += row[c];
    }
    out += line + '\n';
  }
}

using Fields = std::vector<std::pair<std::string, std::string>>;

void append_fields(std::string& out, const Fields& fields, const std::string& indent) {
  Rows rows;
  for (const auto& [key, value] : fields)
    rows.push_back({key, value});
  append_table(out, rows, indent);
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string joined;
  for (size_t i = 0; i < items.size(); ++i)
    joined += (i ? separator : "") + items[i];
  return joined;
}

std::string axes(const uint32_t (&v)[3]) {
  return fmt::format("{} x {} x {}", v[0], v[1], v[2]);
}

// "15.6 GiB (16777216000 bytes)"; small values need no parenthesis.
std::string memory(uint64_t bytes) {
  if (bytes < 1024)
    return fmt::format("{} bytes", bytes);
  return fmt::format("{} ({} bytes)", human_bytes(bytes), bytes);
}

// "-" rather than "unknown" keeps the summary table narrow.
std::string short_version(uint32_t version) {
  return version ? version_string(version) : "-";
}

// "on with backtraces, turned on by UDAL_VALIDATION=backtrace"; "off"; "on, writes
// /tmp/t.json, turned on by UDAL_TRACE=/tmp/t.json"; "failed: <why> (UDAL_TRACE=...)".
std::string layer_description(const LayerEntry& layer) {
  const std::string setting =
      layer.environment_value.empty()
          ? std::string()
          : fmt::format("{}={}", layer.environment_variable, layer.environment_value);
  switch (layer.state) {
  case UDAL_LAYER_STATE_OFF:
    return setting.empty() ? "off" : fmt::format("off ({})", setting);
  case UDAL_LAYER_STATE_FAILED:
    return fmt::format("failed: {}{}", layer.reason.empty() ? "no reason given" : layer.reason,
                       setting.empty() ? "" : fmt::format(" ({})", setting));
  default:
    break;
  }
  std::string text = layer_state_name(layer.state);
  if (layer.flags & UDAL_LAYER_FLAG_BACKTRACES)
    text += " with backtraces";
  for (const std::string& flag : layer_flag_names(layer.flags & ~UDAL_LAYER_FLAG_BACKTRACES))
    text += ", flag " + flag;
  if (!layer.output_path.empty())
    text += ", writes " + layer.output_path;
  std::vector<std::string> by;
  for (const std::string& source : layer_source_names(layer.sources)) {
    if (source == "environment")
      by.push_back(setting.empty() ? layer.environment_variable : setting);
    else if (source == "instance_flag")
      by.push_back(layer.layer == UDAL_LAYER_VALIDATION
                       ? "the instance flag UDAL_INSTANCE_FLAG_VALIDATION"
                       : "an instance flag");
    else
      by.push_back("source " + source);
  }
  if (!by.empty())
    text += ", turned on by " + join(by, " and ");
  return text;
}

void append_layers(std::string& out, const Inventory& inv) {
  out += "Layers:\n";
  Fields fields;
  for (const LayerEntry& layer : inv.layers)
    fields.push_back({layer.name, layer_description(layer)});
  append_fields(out, fields, "  ");
}

void append_drivers(std::string& out, const Inventory& inv) {
  size_t loaded = 0, failed = 0, filtered = 0;
  for (const auto& d : inv.drivers) {
    if (d.state == UDAL_DRIVER_STATE_LOADED)
      ++loaded;
    else if (d.state == UDAL_DRIVER_STATE_FILTERED)
      ++filtered;
    else
      ++failed;
  }
  out += fmt::format("Drivers: {} found ({} loaded, {} failed, {} filtered)\n", inv.drivers.size(),
                     loaded, failed, filtered);
  if (inv.drivers.empty())
    return;

  Rows summary{{"#", "NAME", "STATE", "RESULT", "ABI", "VERSION", "DEVICES"}};
  for (size_t i = 0; i < inv.drivers.size(); ++i) {
    const DriverEntry& d = inv.drivers[i];
    summary.push_back({std::to_string(i), d.name, driver_state_name(d.state),
                       udal_result_name(d.result), short_version(d.abi_version),
                       short_version(d.driver_version), std::to_string(d.device_count)});
  }
  append_table(out, summary, "  ");

  for (size_t i = 0; i < inv.drivers.size(); ++i) {
    const DriverEntry& d = inv.drivers[i];
    out += fmt::format("\n  Driver {}: {} ({})\n", i, d.name, driver_state_name(d.state));
    Fields fields{
        {"manifest", d.manifest_path.empty() ? "none (given as a library)" : d.manifest_path},
        {"library", d.library_path.empty() ? "unknown" : d.library_path},
        {"abi version", version_string(d.abi_version)},
        {"driver version", version_string(d.driver_version)},
        {"devices", std::to_string(d.device_count)},
    };
    if (d.state != UDAL_DRIVER_STATE_LOADED) {
      // A filtered driver was never tried, so its result is no news.
      if (d.result != UDAL_SUCCESS)
        fields.insert(fields.begin(), {"result", udal_result_name(d.result)});
      fields.insert(fields.begin(), {"reason", d.reason.empty() ? "no reason given" : d.reason});
    }
    append_fields(out, fields, "    ");
  }
}

std::string join_numbers(const std::vector<uint32_t>& numbers) {
  std::vector<std::string> items;
  for (uint32_t n : numbers)
    items.push_back(std::to_string(n));
  return items.empty() ? "none" : join(items, ", ");
}

// "1.2 GiB (1288490188 bytes) of 15.6 GiB (...)"
std::string usage(uint64_t allocated, uint64_t budget) {
  return fmt::format("{} of {}", memory(allocated), memory(budget));
}

void append_device(std::string& out, const DeviceEntry& dev) {
  if (dev.result != UDAL_SUCCESS) {
    out += fmt::format("\n  Device {}: udal_device_get_info failed: {}: {}\n", dev.index,
                       udal_result_name(dev.result), dev.error_message);
    return;
  }
  const udal_device_info_t& info = dev.info;
  std::vector<std::string> formats;
  for (uint32_t i = 0; i < std::min<uint32_t>(info.module_format_count, UDAL_MAX_MODULE_FORMATS);
       ++i)
    formats.push_back(module_format_name(info.module_formats[i]));
  const auto features = feature_names(info.features);

  Fields fields{
      {"vendor", info.vendor},
      {"type", device_type_name(info.device_type)},
      {"driver", info.driver_name},
      {"driver version", version_string(info.driver_version)},
      {"abi version", version_string(info.abi_version)},
      {"uuid", uuid_hex(info.uuid, true)},
      {"device memory", memory(info.device_memory_bytes)},
      {"host-visible memory", memory(info.host_visible_memory_bytes)},
      {"compute units", std::to_string(info.compute_unit_count)},
      {"max group size", axes(info.max_group_size)},
      {"max group invocations", std::to_string(info.max_group_invocations)},
      {"preferred group size multiple", std::to_string(info.preferred_group_size_multiple)},
      {"subgroup sizes", join_numbers(subgroup_sizes(info))},
      {"max group count", axes(info.max_group_count)},
      {"max local memory", memory(info.max_local_memory_bytes)},
      {"max allocation", memory(info.max_allocation_bytes)},
      {"max kernel arguments", std::to_string(info.max_kernel_arguments)},
      {"max value argument bytes", std::to_string(info.max_value_argument_bytes)},
      {"min buffer alignment", fmt::format("{} bytes", info.min_buffer_alignment)},
      {"buffer argument offset alignment",
       fmt::format("{} bytes", info.buffer_argument_offset_alignment)},
      {"module formats", formats.empty() ? "none" : join(formats, ", ")},
      {"features", features.empty() ? "none" : join(features, ", ")},
      {"pci bus id", info.pci_bus_id[0] ? std::string(info.pci_bus_id) : "none"},
      {"numa node", info.numa_node < 0 ? "unknown" : std::to_string(info.numa_node)},
  };
  if (!dev.has_memory_usage) {
    fields.push_back({"memory usage", "not offered by the device"});
  } else if (dev.memory_usage_result != UDAL_SUCCESS) {
    fields.push_back({"memory usage", fmt::format("udal_device_get_memory_usage failed: {}: {}",
                                                  udal_result_name(dev.memory_usage_result),
                                                  dev.memory_usage_error)});
  } else {
    const udal_memory_usage_t& u = dev.memory_usage;
    fields.push_back({"device memory used",
                      usage(u.device_allocated_bytes, u.device_budget_bytes)});
    fields.push_back({"host-visible memory used",
                      usage(u.host_visible_allocated_bytes, u.host_visible_budget_bytes)});
  }
  out += fmt::format("\n  Device {}: {}\n", dev.index, info.name);
  append_fields(out, fields, "    ");
}

} // namespace

std::string render_text(const Inventory& inv) {
  std::string out =
      fmt::format("UDAL ABI {} (libudal), {} (this tool)\n",
                  version_string(inv.libudal_abi_version), version_string(UDAL_ABI_VERSION));
  if (!inv.environment.empty()) {
    out += "Environment:\n";
    append_fields(out, Fields(inv.environment.begin(), inv.environment.end()), "  ");
  }
  append_layers(out, inv);
  out += '\n';
  append_drivers(out, inv);

  out += fmt::format("\nDevices: {}\n", inv.devices.size());
  if (inv.devices.empty()) {
    out += "  No devices, because:\n";
    for (const auto& line : explain_no_devices(inv))
      out += "    - " + line + '\n';
  }
  for (const auto& dev : inv.devices)
    append_device(out, dev);
  return out;
}

} // namespace udal_info
