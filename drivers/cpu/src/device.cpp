#include "device.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "local_memory.h"

namespace udal::cpu {

using udal::sdk::fail;

namespace {

// Stable across runs and unique per machine, node and device: FNV-1a over the key, twice
// with different offsets to fill 128 bits.
void make_uuid(const std::string& key, uint8_t out[UDAL_UUID_SIZE]) {
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

// 32-bit lanes of the widest vector unit: work-items are iterations of the loop a kernel
// runs over its group, which the compiler vectorizes best in whole vectors.
uint32_t vector_lanes() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return 16;
  if (__builtin_cpu_supports("avx")) return 8;
  return 4;
#else
  return 4;  // NEON and most others: 128 bits
#endif
}

// Halves in host kernels: _Float16 with hardware conversions (x86 F16C; every AArch64).
bool has_float16() {
#if defined(__x86_64__) || defined(__i386__)
  // CPUID leaf 1, ECX bit 29 (clang 14's __builtin_cpu_supports does not know "f16c").
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
#elif defined(__aarch64__)
  return true;
#else
  return false;
#endif
}

}  // namespace

bool MemoryAccount::reserve(bool host_visible, uint64_t bytes) noexcept {
  uint64_t held = node_->allocated.load(std::memory_order_relaxed);
  do {
    if (bytes > node_->memory_bytes || held > node_->memory_bytes - bytes) return false;
  } while (!node_->allocated.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
  (host_visible ? host_visible_ : device_).fetch_add(bytes, std::memory_order_relaxed);
  return true;
}

void MemoryAccount::release(bool host_visible, uint64_t bytes) noexcept {
  (host_visible ? host_visible_ : device_).fetch_sub(bytes, std::memory_order_relaxed);
  node_->allocated.fetch_sub(bytes, std::memory_order_relaxed);
}

uint64_t MemoryAccount::budget() const noexcept {
  const uint64_t mine = allocated(false) + allocated(true);
  const uint64_t node_held = node_allocated();
  const uint64_t others = node_held > mine ? node_held - mine : 0;
  return node_->memory_bytes > others ? node_->memory_bytes - others : 0;
}

std::shared_ptr<NodeResources> make_node_resources(std::shared_ptr<Topology> topology,
                                                   NumaNode node) {
  auto resources = std::make_shared<NodeResources>();
  // A VM may report no local memory for its node; fall back to a conservative 1 GiB so
  // the limits stay non-zero and coherent.
  resources->memory_bytes = node.memory_bytes ? node.memory_bytes : (uint64_t{1} << 30);
  // The stream executor that launches also runs chunks, so one worker fewer than PUs
  // fills the node without oversubscribing it.
  const uint32_t workers = node.processing_units > 1 ? node.processing_units - 1 : 1;
  resources->pool = std::make_unique<WorkerPool>(std::move(topology), node.cpuset.get(), workers);
  resources->node = std::move(node);
  return resources;
}

std::unique_ptr<Device> make_device(const udal_driver_table_t* dispatch, Driver* driver,
                                    std::shared_ptr<Topology> topology,
                                    std::shared_ptr<NodeResources> node, uint32_t index,
                                    uint32_t count, bool count_from_environment,
                                    const char* driver_name, uint32_t driver_version) {
  auto device = std::make_unique<Device>();
  device->dispatch = dispatch;
  device->driver = driver;
  device->topology = std::move(topology);
  device->memory = std::make_shared<MemoryAccount>(node);
  const NumaNode& numa = node->node;

  udal_device_info_t& info = device->info;
  info = udal::sdk::make_struct<udal_device_info_t>();
  std::string name = fmt::format("CPU (NUMA node {}, {} core{}", numa.os_index, numa.cores,
                                 numa.cores == 1 ? "" : "s");
  std::string uuid_key = fmt::format("udal-cpu:{}:numa{}", machine_identity(), numa.os_index);
  if (count_from_environment) {
    // Devices made by UDAL_CPU_DEVICE_COUNT are told apart by their index.
    name += fmt::format(", device {} of {}", index, count);
    uuid_key += fmt::format(":device{}", index);
  }
  copy_string(info.name, name + ")");
  copy_string(info.vendor, vendor_name(numa));
  copy_string(info.driver_name, driver_name ? driver_name : "cpu");
  make_uuid(uuid_key, info.uuid);
  info.pci_bus_id[0] = '\0';
  info.driver_version = driver_version;
  info.abi_version = UDAL_ABI_VERSION;
  info.device_type = UDAL_DEVICE_TYPE_CPU;
  info.numa_node = static_cast<int32_t>(numa.os_index);
  info.features = UDAL_DEVICE_FEATURE_TIMESTAMPS | UDAL_DEVICE_FEATURE_HOST_BUFFERS |
                  UDAL_DEVICE_FEATURE_SHARED_BUFFERS | UDAL_DEVICE_FEATURE_LOCAL_MEMORY |
                  UDAL_DEVICE_FEATURE_FLOAT64 | UDAL_DEVICE_FEATURE_INT64 |
                  UDAL_DEVICE_FEATURE_INT8 | UDAL_DEVICE_FEATURE_INT16 |
                  UDAL_DEVICE_FEATURE_DEVICE_ADDRESS | UDAL_DEVICE_FEATURE_MEMORY_USAGE |
                  UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO;
  if (has_float16()) info.features |= UDAL_DEVICE_FEATURE_FLOAT16;
  // Every kind of buffer is the node's memory.
  info.device_memory_bytes = node->memory_bytes;
  info.host_visible_memory_bytes = node->memory_bytes;
  info.max_local_memory_bytes = kMaxLocalMemoryBytes;
  // Half of the node: one buffer may not starve everything else of the node.
  info.max_allocation_bytes = std::max<uint64_t>(node->memory_bytes / 2, 4096) & ~uint64_t{4095};
  info.min_buffer_alignment = 64;
  // Buffer arguments are plain pointers: any offset works.
  info.buffer_argument_offset_alignment = 1;
  // Work-items of a group are loop iterations of one host thread: any size works, the
  // limits only keep index arithmetic within 32 bits per axis.
  info.max_group_size[0] = 4096;
  info.max_group_size[1] = 4096;
  info.max_group_size[2] = 4096;
  info.max_group_invocations = 4096;
  info.max_group_count[0] = 0x7fffffffu;
  info.max_group_count[1] = 65535;
  info.max_group_count[2] = 65535;
  info.max_kernel_arguments = 64;
  info.max_value_argument_bytes = 4096;
  // One group runs on one core at a time.
  info.compute_unit_count = numa.cores > 0 ? numa.cores : 1;
  info.preferred_group_size_multiple = vector_lanes();
  // A group's work-items run one after another on one thread: subgroups of one item.
  info.subgroup_size_count = 1;
  info.subgroup_sizes[0] = 1;
  info.module_format_count = 1;
  info.module_formats[0] = UDAL_MODULE_FORMAT_HOST_NATIVE;
  device->node = std::move(node);
  return device;
}

udal_result_t device_get_info(udal_device_t handle, udal_device_info_t* out_info) {
  constexpr const char* kFn = "udal_device_get_info";
  if (out_info == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", kFn);
  if (udal_result_t r = udal::sdk::check_struct(kFn, "out_info", out_info)) return r;
  udal::sdk::write_struct(out_info, to_device(handle)->info);
  return UDAL_SUCCESS;
}

udal_result_t device_get_memory_usage(udal_device_t handle, udal_memory_usage_t* out_usage) {
  constexpr const char* kFn = "udal_device_get_memory_usage";
  if (out_usage == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_usage is NULL", kFn);
  if (udal_result_t r = udal::sdk::check_struct(kFn, "out_usage", out_usage)) return r;
  const MemoryAccount& memory = *to_device(handle)->memory;
  auto usage = udal::sdk::make_struct<udal_memory_usage_t>();
  // DEVICE and HOST/SHARED buffers come from the same node memory: each kind's budget is
  // what the device may hold in all.
  usage.device_allocated_bytes = memory.allocated(false);
  usage.host_visible_allocated_bytes = memory.allocated(true);
  usage.device_budget_bytes = memory.budget();
  usage.host_visible_budget_bytes = usage.device_budget_bytes;
  udal::sdk::write_struct(out_usage, usage);
  return UDAL_SUCCESS;
}

}  // namespace udal::cpu
