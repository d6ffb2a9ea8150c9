// The entry point, the driver object and its devices: one UDAL device per device of every
// Level Zero driver the loader lists. zeInit's failure (no Level Zero driver here) fails
// driver_create with the loader's result, and nothing else of Level Zero is called after it:
// the loader keeps pointers into drivers it unloaded.
#include <hwloc.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "ze_driver.h"

namespace udal::level_zero {

using udal::sdk::fail;

std::string ze_name(ze_result_t result) {
  const char* name = nullptr;
  switch (result) {
#define UDAL_ZE_NAME_(value) \
  case value: name = #value; break;
    UDAL_ZE_NAME_(ZE_RESULT_SUCCESS)
    UDAL_ZE_NAME_(ZE_RESULT_NOT_READY)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_DEVICE_LOST)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_MODULE_BUILD_FAILURE)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_UNINITIALIZED)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_UNSUPPORTED_VERSION)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_INVALID_ARGUMENT)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_INVALID_NULL_HANDLE)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_INVALID_NULL_POINTER)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_INVALID_SIZE)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_UNSUPPORTED_SIZE)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_INVALID_ENUMERATION)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_INVALID_NATIVE_BINARY)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_INVALID_KERNEL_NAME)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_INDEX)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_NOT_AVAILABLE)
    UDAL_ZE_NAME_(ZE_RESULT_ERROR_UNKNOWN)
#undef UDAL_ZE_NAME_
    default: break;
  }
  return fmt::format("{} ({:#x})", name != nullptr ? name : "ze_result_t",
                     static_cast<uint32_t>(result));
}

udal_result_t code_of(ze_result_t result, udal_result_t otherwise) noexcept {
  switch (result) {
    case ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY: return UDAL_ERROR_OUT_OF_HOST_MEMORY;
    case ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY: return UDAL_ERROR_OUT_OF_DEVICE_MEMORY;
    case ZE_RESULT_ERROR_DEVICE_LOST: return UDAL_ERROR_DEVICE_LOST;
    default: return otherwise;
  }
}

udal_result_t fail_ze(const char* function, const char* call, ze_result_t result,
                      udal_result_t code) noexcept {
  try {
    return fail(code_of(result, code), "{}: {} failed with {}", function, call, ze_name(result));
  } catch (...) {
    return fail(code_of(result, code), "{}: {} failed", function, call);
  }
}

void DeviceState::log_message(udal_log_level_t level, const std::string& message) const noexcept {
  if (log != nullptr) log(log_user_data, level, message.c_str());
}

namespace {

Driver* to_driver(udal_driver_t h) noexcept { return udal::sdk::from_handle<Driver>(h); }

uint32_t clamp32(uint64_t v) {
  return static_cast<uint32_t>(std::min<uint64_t>(std::max<uint64_t>(v, 1), UINT32_MAX));
}

std::string vendor_name(uint32_t id) {
  switch (id) {
    case 0x8086: return "Intel";
    case 0x10de: return "NVIDIA";
    case 0x1002: return "AMD";
    default: return fmt::format("vendor {:#x}", id);
  }
}

bool has_extension(ze_driver_handle_t driver, const char* name) {
  uint32_t count = 0;
  if (zeDriverGetExtensionProperties(driver, &count, nullptr) != ZE_RESULT_SUCCESS) return false;
  std::vector<ze_driver_extension_properties_t> ext(count);
  if (count == 0 ||
      zeDriverGetExtensionProperties(driver, &count, ext.data()) != ZE_RESULT_SUCCESS) {
    return false;
  }
  for (const auto& e : ext) {
    if (std::strcmp(e.name, name) == 0) return true;
  }
  return false;
}

// The NUMA node nearest PCI device |bus_id| ("dddd:bb:dd.f"), from hwloc; -1 when unknown.
int32_t numa_node_of(hwloc_topology_t topology, const char* bus_id) {
  unsigned domain = 0, bus = 0, dev = 0, function = 0;
  if (topology == nullptr ||
      std::sscanf(bus_id, "%x:%x:%x.%x", &domain, &bus, &dev, &function) != 4) {
    return -1;
  }
  hwloc_obj_t pci = hwloc_get_pcidev_by_busid(topology, domain, bus, dev, function);
  if (pci == nullptr) return -1;
  hwloc_obj_t parent = hwloc_get_non_io_ancestor_obj(topology, pci);
  if (parent == nullptr || parent->nodeset == nullptr) return -1;
  const int first = hwloc_bitmap_first(parent->nodeset);
  // A device under several nodes (the whole machine) is near none in particular.
  return first >= 0 && hwloc_bitmap_weight(parent->nodeset) == 1 ? first : -1;
}

// The single NUMA node of the machine (a CPU device of a one-node machine is on it), else -1.
int32_t single_numa_node(hwloc_topology_t topology) {
  if (topology == nullptr) return -1;
  const int nodes = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_NUMANODE);
  if (nodes != 1) return -1;
  hwloc_obj_t node = hwloc_get_obj_by_type(topology, HWLOC_OBJ_NUMANODE, 0);
  return node != nullptr ? static_cast<int32_t>(node->os_index) : -1;
}

struct Topology {
  hwloc_topology_t topology = nullptr;
  Topology() {
    if (hwloc_topology_init(&topology) != 0) {
      topology = nullptr;
      return;
    }
    hwloc_topology_set_io_types_filter(topology, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    if (hwloc_topology_load(topology) != 0) {
      hwloc_topology_destroy(topology);
      topology = nullptr;
    }
  }
  ~Topology() {
    if (topology != nullptr) hwloc_topology_destroy(topology);
  }
};

// Fills |state| for |device| of |driver|; "" or why it cannot be a UDAL device.
std::string describe(DeviceState& state, hwloc_topology_t topology, const std::string& driver_name,
                     uint32_t index) {
  udal_device_info_t& info = state.info;
  info = UDAL_DEVICE_INFO_INIT;
  ze_device_properties_t props{ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES_1_2, nullptr};
  ze_result_t r = zeDeviceGetProperties(state.device, &props);
  if (r != ZE_RESULT_SUCCESS) return "zeDeviceGetProperties failed with " + ze_name(r);
  // ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES_1_2: timerResolution is in cycles per second.
  state.ns_per_tick = props.timerResolution > 0 ? 1e9 / static_cast<double>(props.timerResolution) : 1.0;
  state.timestamp_mask = props.timestampValidBits >= 64 || props.timestampValidBits == 0
                             ? ~uint64_t{0}
                             : (uint64_t{1} << props.timestampValidBits) - 1;
  ze_device_compute_properties_t compute{ZE_STRUCTURE_TYPE_DEVICE_COMPUTE_PROPERTIES, nullptr};
  r = zeDeviceGetComputeProperties(state.device, &compute);
  if (r != ZE_RESULT_SUCCESS) return "zeDeviceGetComputeProperties failed with " + ze_name(r);
  ze_device_module_properties_t module{ZE_STRUCTURE_TYPE_DEVICE_MODULE_PROPERTIES, nullptr};
  r = zeDeviceGetModuleProperties(state.device, &module);
  if (r != ZE_RESULT_SUCCESS) return "zeDeviceGetModuleProperties failed with " + ze_name(r);
  ze_device_memory_access_properties_t access{ZE_STRUCTURE_TYPE_DEVICE_MEMORY_ACCESS_PROPERTIES, nullptr};
  r = zeDeviceGetMemoryAccessProperties(state.device, &access);
  if (r != ZE_RESULT_SUCCESS) return "zeDeviceGetMemoryAccessProperties failed with " + ze_name(r);
  uint32_t memories = 0;
  uint64_t memory_bytes = 0;
  if (zeDeviceGetMemoryProperties(state.device, &memories, nullptr) == ZE_RESULT_SUCCESS && memories > 0) {
    std::vector<ze_device_memory_properties_t> m(memories, {ZE_STRUCTURE_TYPE_DEVICE_MEMORY_PROPERTIES, nullptr});
    if (zeDeviceGetMemoryProperties(state.device, &memories, m.data()) == ZE_RESULT_SUCCESS) {
      for (uint32_t i = 0; i < memories; ++i) memory_bytes += m[i].totalSize;
    }
  }
  if (memory_bytes == 0) memory_bytes = props.maxMemAllocSize;
  uint32_t groups = 0;
  zeDeviceGetCommandQueueGroupProperties(state.device, &groups, nullptr);
  std::vector<ze_command_queue_group_properties_t> queue_groups(
      groups, {ZE_STRUCTURE_TYPE_COMMAND_QUEUE_GROUP_PROPERTIES, nullptr});
  bool found_compute = false;
  if (groups > 0 &&
      zeDeviceGetCommandQueueGroupProperties(state.device, &groups, queue_groups.data()) == ZE_RESULT_SUCCESS) {
    for (uint32_t g = 0; g < groups; ++g) {
      if (queue_groups[g].flags & ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE) {
        state.compute_ordinal = g;
        state.fill_pattern_max = std::max<size_t>(queue_groups[g].maxMemoryFillPatternSize, 1);
        found_compute = true;
        break;
      }
    }
  }
  if (!found_compute) return "it has no command queue group with ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE";

  std::snprintf(info.name, sizeof(info.name), "%s", props.name);
  std::snprintf(info.vendor, sizeof(info.vendor), "%s", vendor_name(props.vendorId).c_str());
  std::snprintf(info.driver_name, sizeof(info.driver_name), "%s", driver_name.c_str());
  if (has_extension(state.driver, ZE_PCI_PROPERTIES_EXT_NAME)) {
    ze_pci_ext_properties_t pci{ZE_STRUCTURE_TYPE_PCI_EXT_PROPERTIES, nullptr, {}, {}};
    if (zeDevicePciGetPropertiesExt(state.device, &pci) == ZE_RESULT_SUCCESS) {
      std::snprintf(info.pci_bus_id, sizeof(info.pci_bus_id), "%04x:%02x:%02x.%x",
                    pci.address.domain, pci.address.bus, pci.address.device, pci.address.function);
    }
  }
  static_assert(sizeof(props.uuid.id) == UDAL_UUID_SIZE, "UUID sizes");
  std::memcpy(info.uuid, props.uuid.id, UDAL_UUID_SIZE);
  info.driver_version = UDAL_SDK_DRIVER_VERSION;
  info.abi_version = UDAL_ABI_VERSION;
  info.device_type = props.type == ZE_DEVICE_TYPE_GPU   ? UDAL_DEVICE_TYPE_GPU
                     : props.type == ZE_DEVICE_TYPE_CPU ? UDAL_DEVICE_TYPE_CPU
                                                        : UDAL_DEVICE_TYPE_ACCELERATOR;
  info.numa_node = info.pci_bus_id[0] != '\0'                 ? numa_node_of(topology, info.pci_bus_id)
                   : info.device_type == UDAL_DEVICE_TYPE_CPU ? single_numa_node(topology)
                                                              : -1;
  udal_device_features_t features = UDAL_DEVICE_FEATURE_TIMESTAMPS | UDAL_DEVICE_FEATURE_INT8 |
                                    UDAL_DEVICE_FEATURE_INT16 | UDAL_DEVICE_FEATURE_INT64 |
                                    UDAL_DEVICE_FEATURE_DEVICE_ADDRESS |
                                    UDAL_DEVICE_FEATURE_MEMORY_USAGE |
                                    UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO;
  if (access.hostAllocCapabilities != 0) features |= UDAL_DEVICE_FEATURE_HOST_BUFFERS;
  if (access.sharedSingleDeviceAllocCapabilities != 0) features |= UDAL_DEVICE_FEATURE_SHARED_BUFFERS;
  if (compute.maxSharedLocalMemory > 0) features |= UDAL_DEVICE_FEATURE_LOCAL_MEMORY;
  if (module.flags & ZE_DEVICE_MODULE_FLAG_FP64) features |= UDAL_DEVICE_FEATURE_FLOAT64;
  if (module.flags & ZE_DEVICE_MODULE_FLAG_FP16) features |= UDAL_DEVICE_FEATURE_FLOAT16;
  info.features = features;
  info.device_memory_bytes = memory_bytes;
  info.host_visible_memory_bytes =
      (features & (UDAL_DEVICE_FEATURE_HOST_BUFFERS | UDAL_DEVICE_FEATURE_SHARED_BUFFERS)) ? memory_bytes : 0;
  info.max_local_memory_bytes = std::max<uint64_t>(compute.maxSharedLocalMemory, 1);
  info.max_allocation_bytes = std::max<uint64_t>(props.maxMemAllocSize, 1);
  info.min_buffer_alignment = 64;
  // Kernels take pointers: any byte of an allocation is a valid argument.
  info.buffer_argument_offset_alignment = 1;
  info.max_group_invocations = clamp32(compute.maxTotalGroupSize);
  const uint32_t sizes[3] = {compute.maxGroupSizeX, compute.maxGroupSizeY, compute.maxGroupSizeZ};
  const uint32_t counts[3] = {compute.maxGroupCountX, compute.maxGroupCountY, compute.maxGroupCountZ};
  for (int a = 0; a < 3; ++a) {
    info.max_group_size[a] = std::min(clamp32(sizes[a]), info.max_group_invocations);
    info.max_group_count[a] = clamp32(counts[a]);
  }
  // An argument takes at least a pointer's worth of maxArgumentsSize.
  info.max_value_argument_bytes = clamp32(module.maxArgumentsSize);
  info.max_kernel_arguments = clamp32(std::min<uint64_t>(module.maxArgumentsSize / 8, 256));
  info.compute_unit_count =
      clamp32(uint64_t{props.numSlices} * std::max(props.numSubslicesPerSlice, 1u) *
              std::max(props.numEUsPerSubslice, 1u));
  std::vector<uint32_t> subgroups;
  for (uint32_t i = 0; i < compute.numSubGroupSizes && i < ZE_SUBGROUPSIZE_COUNT; ++i) {
    if (compute.subGroupSizes[i] > 0) subgroups.push_back(compute.subGroupSizes[i]);
  }
  if (subgroups.empty()) subgroups.push_back(1);
  std::sort(subgroups.begin(), subgroups.end());
  subgroups.erase(std::unique(subgroups.begin(), subgroups.end()), subgroups.end());
  info.subgroup_size_count = static_cast<uint32_t>(std::min<size_t>(subgroups.size(), UDAL_MAX_SUBGROUP_SIZES));
  for (uint32_t i = 0; i < info.subgroup_size_count; ++i) info.subgroup_sizes[i] = subgroups[i];
  info.preferred_group_size_multiple = subgroups.back();
  info.module_format_count = 2;
  info.module_formats[0] = UDAL_MODULE_FORMAT_SPIRV_KERNEL;
  info.module_formats[1] = UDAL_MODULE_FORMAT_LEVEL_ZERO_NATIVE;
  (void)index;
  return {};
}

udal_result_t create(const udal_driver_table_t* dispatch, const udal_driver_create_desc_t* desc_in,
                     udal_driver_t* out_driver) {
  static constexpr const char* fn = "driver_create";
  if (desc_in != nullptr) {
    if (udal_result_t r = udal::sdk::check_struct(fn, "desc", desc_in)) return r;
  }
  const udal_driver_create_desc_t desc = udal::sdk::read_struct(desc_in);
  const std::string name = desc.driver_name != nullptr && desc.driver_name[0] ? desc.driver_name : UDAL_DRIVER_NAME;
  // The loader's zeInit runs once per process; its result stands. After a failure nothing
  // else may be called: the loader unloaded the drivers it keeps pointers into.
  const ze_result_t init = zeInit(0);
  if (init != ZE_RESULT_SUCCESS) {
    return fail(UDAL_ERROR_UNSUPPORTED,
                "level_zero driver: zeInit failed with {}: the Level Zero loader found no "
                "driver it could initialize (a GPU driver such as intel-level-zero-gpu, or a "
                "library named by ZE_ENABLE_ALT_DRIVERS)",
                ze_name(init));
  }
  uint32_t driver_count = 0;
  ze_result_t r = zeDriverGet(&driver_count, nullptr);
  if (r != ZE_RESULT_SUCCESS) return fail_ze("level_zero driver", "zeDriverGet", r, UDAL_ERROR_UNSUPPORTED);
  std::vector<ze_driver_handle_t> drivers(driver_count);
  if (driver_count > 0) {
    r = zeDriverGet(&driver_count, drivers.data());
    if (r != ZE_RESULT_SUCCESS) return fail_ze("level_zero driver", "zeDriverGet", r, UDAL_ERROR_UNSUPPORTED);
  }
  auto driver = std::make_unique<Driver>();
  driver->dispatch = dispatch;
  struct Cleanup {
    Driver* d;
    bool active = true;
    ~Cleanup() {
      if (!active) return;
      d->devices.clear();
      for (ze_context_handle_t c : d->contexts) zeContextDestroy(c);
    }
  } cleanup{driver.get()};
  Topology topology;
  std::vector<std::string> skipped;
  for (ze_driver_handle_t zdriver : drivers) {
    uint32_t device_count = 0;
    if (zeDeviceGet(zdriver, &device_count, nullptr) != ZE_RESULT_SUCCESS || device_count == 0) continue;
    std::vector<ze_device_handle_t> zdevices(device_count);
    if (zeDeviceGet(zdriver, &device_count, zdevices.data()) != ZE_RESULT_SUCCESS) continue;
    ze_context_desc_t context_desc{ZE_STRUCTURE_TYPE_CONTEXT_DESC, nullptr, 0};
    ze_context_handle_t context = nullptr;
    r = zeContextCreate(zdriver, &context_desc, &context);
    if (r != ZE_RESULT_SUCCESS) {
      skipped.push_back("a Level Zero driver's context: zeContextCreate failed with " + ze_name(r));
      continue;
    }
    driver->contexts.push_back(context);
    for (ze_device_handle_t zdevice : zdevices) {
      auto state = std::make_unique<DeviceState>();
      state->log = desc.log;
      state->log_user_data = desc.log_user_data;
      state->driver = zdriver;
      state->device = zdevice;
      state->context = context;
      const std::string why =
          describe(*state, topology.topology, name, static_cast<uint32_t>(driver->devices.size()));
      if (!why.empty()) {
        skipped.push_back(why);
        state->log_message(UDAL_LOG_LEVEL_INFO, "level_zero driver: skipping a device: " + why);
        continue;
      }
      state->slots = std::make_unique<SlotPool>(state.get());
      auto device = std::make_unique<Device>();
      device->dispatch = dispatch;
      device->state = std::move(state);
      driver->devices.push_back(std::move(device));
    }
  }
  if (driver->devices.empty()) {
    std::string reasons;
    for (const std::string& s : skipped) reasons += (reasons.empty() ? "" : "; ") + s;
    return fail(UDAL_ERROR_UNSUPPORTED, "level_zero driver: the Level Zero loader lists {} driver(s) but no usable device{}",
                driver_count, reasons.empty() ? std::string() : " (" + reasons + ")");
  }
  cleanup.active = false;
  *out_driver = udal::sdk::to_handle<udal_driver_t>(driver.release());
  return UDAL_SUCCESS;
}

}  // namespace

udal_result_t driver_create(const udal_driver_table_t* dispatch, const udal_driver_create_desc_t* desc,
                            udal_driver_t* out_driver) {
  if (out_driver == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "driver_create: out_driver is NULL");
  *out_driver = nullptr;
  if (dispatch == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "driver_create: dispatch is NULL");
  return udal::sdk::guard("driver_create", [&] { return create(dispatch, desc, out_driver); });
}

udal_result_t driver_destroy(udal_driver_t handle) {
  std::unique_ptr<Driver> driver(to_driver(handle));
  for (auto& device : driver->devices) device->state->shut_down();
  driver->devices.clear();
  for (ze_context_handle_t c : driver->contexts) zeContextDestroy(c);
  return UDAL_SUCCESS;
}

udal_result_t driver_get_device_count(udal_driver_t handle, uint32_t* out_count) {
  return udal::sdk::answer_device_count(to_driver(handle)->devices, out_count);
}

udal_result_t driver_get_device(udal_driver_t handle, uint32_t index, udal_device_t* out_device) {
  return udal::sdk::answer_device(to_driver(handle)->devices, index, out_device);
}

udal_result_t device_get_info(udal_device_t handle, udal_device_info_t* out_info) {
  return udal::sdk::answer_struct("udal_device_get_info", "out_info", out_info,
                                  to_device(handle)->state->info);
}

udal_result_t device_get_memory_usage(udal_device_t handle, udal_memory_usage_t* out_usage) {
  static constexpr const char* fn = "udal_device_get_memory_usage";
  if (out_usage == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_usage is NULL", fn);
  if (udal_result_t r = udal::sdk::check_struct(fn, "out_usage", out_usage)) return r;
  const DeviceState& state = *to_device(handle)->state;
  udal_memory_usage_t usage = udal::sdk::make_struct<udal_memory_usage_t>();
  usage.device_allocated_bytes = state.device_allocated.load();
  usage.device_budget_bytes = state.info.device_memory_bytes;
  usage.host_visible_allocated_bytes = state.host_allocated.load();
  usage.host_visible_budget_bytes = state.info.host_visible_memory_bytes;
  udal::sdk::write_struct(out_usage, usage);
  return UDAL_SUCCESS;
}

void DeviceState::shut_down() noexcept {
  try {
    // Work held by a host-signalled event nobody will signal now is released first, as if it
    // were destroyed: the streams can then finish.
    for (Event* e : events.snapshot()) {
      std::lock_guard lock(e->mutex);
      if (e->host_signal() && !e->signalled && e->current) {
        zeEventHostSignal(e->current->event);
        e->signalled = true;
      }
    }
    for (Stream* s : streams.snapshot()) destroy_stream(s);
    for (Kernel* k : kernels.snapshot()) destroy_kernel(k);
    for (Module* m : modules.snapshot()) destroy_module(m);
    for (Event* e : events.snapshot()) destroy_event(e);
    for (Buffer* b : buffers.snapshot()) destroy_buffer(b);
  } catch (...) {
  }
}

DeviceState::~DeviceState() { slots.reset(); }

namespace {
// Every entry runs inside udal::sdk::guard: no exception crosses the C ABI.
udal_driver_table_t full_table() noexcept { return UDAL_SDK_GUARDED_FULL_TABLE(); }
}  // namespace

}  // namespace udal::level_zero

extern "C" UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(uint32_t loader_abi_version,
                                                                  udal_driver_table_t* table) {
  return udal::sdk::negotiate(loader_abi_version, table, udal::level_zero::full_table(),
                              UDAL_SDK_DRIVER_VERSION);
}
