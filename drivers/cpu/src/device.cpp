#include "device.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

namespace udal::cpu {
namespace {

// Stable across runs and unique per machine and node: FNV-1a over the machine id and the
// node number, twice with different offsets to fill 128 bits.
void make_uuid(const std::string& machine, uint32_t node, uint8_t out[UDAL_UUID_SIZE]) {
  const std::string key = fmt::format("udal-cpu:{}:numa{}", machine, node);
  uint64_t halves[2] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
  for (uint64_t& h : halves) {
    for (unsigned char c : key) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
    h ^= h >> 29;
  }
  std::memcpy(out, halves, UDAL_UUID_SIZE);
  out[6] = static_cast<uint8_t>((out[6] & 0x0f) | 0x80);  // RFC 9562 version 8 (custom)
  out[8] = static_cast<uint8_t>((out[8] & 0x3f) | 0x80);  // RFC 9562 variant
}

// "Intel" from "Intel(R) Xeon(R) ...", else the hwloc vendor id made readable.
std::string vendor_name(const NumaNode& node) {
  std::string_view model = node.cpu_model;
  if (!model.empty()) {
    std::string_view first = model.substr(0, model.find_first_of(" ("));
    if (!first.empty()) return std::string(first);
  }
  if (node.cpu_vendor == "GenuineIntel") return "Intel";
  if (node.cpu_vendor == "AuthenticAMD") return "AMD";
  if (!node.cpu_vendor.empty()) return node.cpu_vendor;
  return "Unknown CPU vendor";
}

template <std::size_t N>
void copy_string(char (&dst)[N], std::string_view src) {
  const std::size_t n = std::min(src.size(), N - 1);
  src.copy(dst, n);
  dst[n] = '\0';
}

}  // namespace

std::unique_ptr<Device> make_device(const udal_driver_table_t* dispatch, Driver* driver,
                                    std::shared_ptr<Topology> topology, NumaNode node,
                                    const char* driver_name, uint32_t driver_version) {
  auto device = std::make_unique<Device>();
  device->dispatch = dispatch;
  device->driver = driver;
  device->topology = topology;

  udal_device_info_t& info = device->info;
  std::memset(&info, 0, sizeof(info));
  info.struct_size = sizeof(info);
  copy_string(info.name, fmt::format("CPU (NUMA node {}, {} core{})", node.os_index, node.cores,
                                     node.cores == 1 ? "" : "s"));
  copy_string(info.vendor, vendor_name(node));
  copy_string(info.driver_name, driver_name ? driver_name : "cpu");
  info.driver_version = driver_version;
  info.abi_version = UDAL_ABI_VERSION;
  info.type = UDAL_DEVICE_TYPE_CPU;
  make_uuid(machine_identity(), node.os_index, info.uuid);
  // A VM may report no local memory for its node; fall back to a conservative 1 GiB so
  // the limits stay non-zero and coherent.
  const uint64_t memory = node.memory_bytes ? node.memory_bytes : (uint64_t{1} << 30);
  info.device_memory_bytes = memory;
  info.host_visible_memory_bytes = memory;
  // Work-items of a group are loop iterations of one host thread: any size works, the
  // limits only keep index arithmetic within 32 bits per axis.
  info.max_group_size[0] = 4096;
  info.max_group_size[1] = 4096;
  info.max_group_size[2] = 4096;
  info.max_group_invocations = 4096;
  info.max_group_count[0] = 0x7fffffffu;
  info.max_group_count[1] = 65535;
  info.max_group_count[2] = 65535;
  info.max_local_memory_bytes = 1u << 20;
  // Half of the node: one buffer may not starve everything else of the node.
  info.max_allocation_bytes = std::max<uint64_t>(memory / 2, 4096) & ~uint64_t{4095};
  info.max_kernel_arguments = 64;
  info.max_value_argument_bytes = 4096;
  info.min_buffer_alignment = 64;
  info.module_format_count = 1;
  info.module_formats[0] = UDAL_MODULE_FORMAT_HOST_NATIVE;
  info.features = UDAL_DEVICE_FEATURE_TIMESTAMPS | UDAL_DEVICE_FEATURE_HOST_BUFFERS |
                  UDAL_DEVICE_FEATURE_SHARED_BUFFERS | UDAL_DEVICE_FEATURE_LOCAL_MEMORY |
                  UDAL_DEVICE_FEATURE_FLOAT64 | UDAL_DEVICE_FEATURE_INT64;
  info.pci_bus_id[0] = '\0';
  info.numa_node = static_cast<int32_t>(node.os_index);

  // The stream executor that launches also runs chunks, so one worker fewer than PUs
  // fills the node without oversubscribing it.
  const uint32_t workers = node.processing_units > 1 ? node.processing_units - 1 : 1;
  device->pool = std::make_unique<WorkerPool>(topology, node.cpuset.get(), workers);
  device->cpuset = std::move(node.cpuset);
  device->nodeset = std::move(node.nodeset);
  return device;
}

udal_result_t device_get_info(udal_device_t handle, udal_device_info_t* out_info) {
  if (out_info == nullptr) {
    return udal::sdk::fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_device_get_info: out_info is NULL");
  }
  if (out_info->struct_size < offsetof(udal_device_info_t, name)) {
    return udal::sdk::fail(UDAL_ERROR_INVALID_ARGUMENT,
                           "udal_device_get_info: out_info->struct_size {} is smaller than "
                           "the struct's header ({} bytes)",
                           out_info->struct_size, offsetof(udal_device_info_t, name));
  }
  udal::sdk::write_struct(out_info, to_device(handle)->info);
  return UDAL_SUCCESS;
}

}  // namespace udal::cpu
