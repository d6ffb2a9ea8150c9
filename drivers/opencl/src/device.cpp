// Device discovery details: capabilities and UDAL device info from OpenCL queries, memory
// accounting, device addresses, deferred frees and shutdown.
#include "device.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "buffer.h"
#include "event.h"
#include "formats.h"
#include "kernel.h"
#include "module.h"
#include "stream.h"
#include "translate.h"

namespace udal::opencl {

using udal::sdk::fail;

namespace {

template <std::size_t N> void copy_string(char (&dst)[N], std::string_view src) {
  const std::size_t n = std::min(src.size(), N - 1);
  src.copy(dst, n);
  dst[n] = '\0';
}

// Stable across runs and distinct per platform, device and position: FNV-1a over the key,
// twice with different offsets to fill 128 bits, marked as an RFC 9562 version 8 UUID.
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
  out[6] = static_cast<uint8_t>((out[6] & 0x0f) | 0x80);
  out[8] = static_cast<uint8_t>((out[8] & 0x3f) | 0x80);
}

// "OpenCL 3.0 PoCL ..." -> 30; 0 when the text does not start like that.
int parse_version(const std::string& text) {
  int major = 0;
  int minor = 0;
  if (std::sscanf(text.c_str(), "OpenCL %d.%d", &major, &minor) != 2)
    return 0;
  return major * 10 + minor;
}

bool has_extension(const std::string& extensions, std::string_view name) {
  size_t at = 0;
  while ((at = extensions.find(name, at)) != std::string::npos) {
    const size_t end = at + name.size();
    const bool starts = at == 0 || extensions[at - 1] == ' ';
    const bool ends = end == extensions.size() || extensions[end] == ' ';
    if (starts && ends)
      return true;
    at = end;
  }
  return false;
}

uint64_t host_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
}

// The NUMA node of a PCI device from sysfs; -1 when unknown.
int32_t pci_numa_node(const std::string& bus_id) {
  std::ifstream file("/sys/bus/pci/devices/" + bus_id + "/numa_node");
  int node = -1;
  if (!(file >> node))
    return -1;
  return node < 0 ? -1 : node;
}

// The host's only NUMA node (a CPU device on a one-node machine is on it); -1 when the
// machine has several nodes (the device spans them) or sysfs does not say.
int32_t single_numa_node() {
  DIR* dir = ::opendir("/sys/devices/system/node");
  if (dir == nullptr)
    return -1;
  int count = 0;
  int node = -1;
  while (const dirent* entry = ::readdir(dir)) {
    int n = 0;
    char tail = 0;
    if (std::sscanf(entry->d_name, "node%d%c", &n, &tail) == 1) {
      ++count;
      node = n;
    }
  }
  ::closedir(dir);
  return count == 1 ? node : -1;
}

uint64_t power_of_two_at_least(uint64_t v) {
  uint64_t p = 1;
  while (p < v && p < (uint64_t{1} << 62))
    p <<= 1;
  return p;
}

} // namespace

// ==========================================================================================
// make_device
// ==========================================================================================

std::unique_ptr<Device> make_device(const DeviceSettings& settings, cl_platform_id platform,
                                    cl_device_id id, uint32_t index_on_platform, std::string* why) {
  auto state = std::make_unique<DeviceState>();
  state->driver = settings.driver;
  state->platform = platform;
  state->id = id;
  DeviceCaps& caps = state->caps;
  caps.identity.platform_name = platform_string(platform, CL_PLATFORM_NAME);
  caps.identity.platform_version = platform_string(platform, CL_PLATFORM_VERSION);
  caps.identity.device_name = device_string(id, CL_DEVICE_NAME);
  caps.identity.device_version = device_string(id, CL_DEVICE_VERSION);
  caps.identity.driver_version = device_string(id, CL_DRIVER_VERSION);
  const std::string label =
      fmt::format("'{}' of platform '{}'", caps.identity.device_name, caps.identity.platform_name);

  caps.version = parse_version(caps.identity.device_version);
  if (caps.version < 12) {
    *why = fmt::format("{}: device version '{}' is older than OpenCL 1.2 (markers, barriers and "
                       "fills the driver needs)",
                       label, caps.identity.device_version);
    return nullptr;
  }
  cl_bool available = CL_FALSE;
  device_info(id, CL_DEVICE_AVAILABLE, &available);
  if (!available) {
    *why = fmt::format("{}: CL_DEVICE_AVAILABLE is false", label);
    return nullptr;
  }

  const std::string extensions = device_string(id, CL_DEVICE_EXTENSIONS);
  cl_device_type type = 0;
  device_info(id, CL_DEVICE_TYPE, &type);
  cl_command_queue_properties queue_properties = 0;
  device_info(id, CL_DEVICE_QUEUE_PROPERTIES, &queue_properties);
  caps.profiling = (queue_properties & CL_QUEUE_PROFILING_ENABLE) != 0;
  if (caps.version >= 20) {
    cl_device_svm_capabilities svm = 0;
    if (device_info(id, CL_DEVICE_SVM_CAPABILITIES, &svm) == CL_SUCCESS) {
      caps.svm_coarse = (svm & CL_DEVICE_SVM_COARSE_GRAIN_BUFFER) != 0;
      caps.svm_fine = (svm & CL_DEVICE_SVM_FINE_GRAIN_BUFFER) != 0;
    }
  }
  cl_bool unified = CL_FALSE;
  if (device_info(id, CL_DEVICE_HOST_UNIFIED_MEMORY, &unified) != CL_SUCCESS) {
    unified = (type & CL_DEVICE_TYPE_CPU) != 0 ? CL_TRUE : CL_FALSE;
  }
  caps.unified_memory = unified != CL_FALSE;
  cl_bool compiler = CL_FALSE;
  device_info(id, CL_DEVICE_COMPILER_AVAILABLE, &compiler);
  caps.compiler = compiler != CL_FALSE;
  device_info(id, CL_DEVICE_ADDRESS_BITS, &caps.address_bits);
  if (caps.address_bits != 32 && caps.address_bits != 64)
    caps.address_bits = 64;
  cl_uint base_bits = 0;
  device_info(id, CL_DEVICE_MEM_BASE_ADDR_ALIGN, &base_bits);
  caps.base_alignment = power_of_two_at_least(std::max<uint64_t>(base_bits / 8, 1));
  cl_ulong value = 0;
  device_info(id, CL_DEVICE_GLOBAL_MEM_SIZE, &value);
  caps.global_memory = value;
  value = 0;
  device_info(id, CL_DEVICE_LOCAL_MEM_SIZE, &value);
  caps.local_memory = value;
  value = 0;
  device_info(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, &value);
  caps.max_allocation = value != 0 ? value : caps.global_memory;
  size_t parameter_bytes = 0;
  device_info(id, CL_DEVICE_MAX_PARAMETER_SIZE, &parameter_bytes);
  caps.parameter_bytes = parameter_bytes != 0 ? parameter_bytes : 256;
  caps.host_visible_memory = caps.unified_memory ? caps.global_memory : host_memory_bytes();

  // SPIR-V: the device's own IL first; else SPIR (LLVM bitcode) through the translator.
  if (caps.version >= 21 || has_extension(extensions, "cl_khr_il_program")) {
    if (device_string(id, CL_DEVICE_IL_VERSION).find("SPIR-V") != std::string::npos) {
      caps.spirv = SpirvPath::kIl;
    }
  }
  caps.set_spec_constants = caps.version >= 22;
  if (caps.spirv == SpirvPath::kNone && has_extension(extensions, "cl_khr_spir") && caps.compiler) {
    if (!settings.llvm_spirv_tool.empty()) {
      caps.spirv = SpirvPath::kTool;
      caps.llvm_spirv_tool = settings.llvm_spirv_tool;
    } else if (settings.have_translator_library) {
      caps.spirv = SpirvPath::kLibrary;
    }
  }

  // One context per device: its objects are then the device's alone, and another device's
  // buffer or event given to it is caught by a pointer compare.
  cl_int created = CL_SUCCESS;
  const cl_context_properties properties[] = {CL_CONTEXT_PLATFORM,
                                              reinterpret_cast<cl_context_properties>(platform), 0};
  state->context = ClContext(clCreateContext(properties, 1, &id, nullptr, nullptr, &created));
  if (created != CL_SUCCESS) {
    *why = fmt::format("{}: clCreateContext failed with {}", label, cl_error_name(created));
    return nullptr;
  }
  if (caps.version >= 20) {
    state->utility_queue =
        ClQueue(clCreateCommandQueueWithProperties(state->context.get(), id, nullptr, &created));
  } else {
    state->utility_queue = ClQueue(clCreateCommandQueue(state->context.get(), id, 0, &created));
  }
  if (created != CL_SUCCESS) {
    *why =
        fmt::format("{}: creating a command queue failed with {}", label, cl_error_name(created));
    return nullptr;
  }

  // ---- UDAL device info ----
  udal_device_info_t& info = state->info;
  info = udal::sdk::make_struct<udal_device_info_t>();
  copy_string(info.name, caps.identity.device_name);
  copy_string(info.vendor, device_string(id, CL_DEVICE_VENDOR));
  copy_string(info.driver_name, settings.driver->name);
  if (has_extension(extensions, "cl_khr_pci_bus_info")) {
    cl_device_pci_bus_info_khr pci{};
    if (device_info(id, CL_DEVICE_PCI_BUS_INFO_KHR, &pci) == CL_SUCCESS) {
      const std::string bus = fmt::format("{:04x}:{:02x}:{:02x}.{:x}", pci.pci_domain, pci.pci_bus,
                                          pci.pci_device, pci.pci_function);
      copy_string(info.pci_bus_id, bus);
    }
  }
  bool have_uuid = false;
  if (has_extension(extensions, "cl_khr_device_uuid")) {
    cl_uchar uuid[CL_UUID_SIZE_KHR] = {};
    if (clGetDeviceInfo(id, CL_DEVICE_UUID_KHR, sizeof(uuid), uuid, nullptr) == CL_SUCCESS) {
      std::memcpy(info.uuid, uuid, UDAL_UUID_SIZE);
      have_uuid = std::any_of(std::begin(uuid), std::end(uuid), [](cl_uchar b) { return b; });
    }
  }
  if (!have_uuid) {
    cl_uint vendor_id = 0;
    device_info(id, CL_DEVICE_VENDOR_ID, &vendor_id);
    make_uuid(fmt::format("udal-opencl|{}|{}|{}|{:#x}|{}", caps.identity.platform_name,
                          platform_string(platform, CL_PLATFORM_VENDOR), caps.identity.device_name,
                          vendor_id, index_on_platform),
              info.uuid);
  }
  info.driver_version = UDAL_SDK_DRIVER_VERSION;
  info.abi_version = UDAL_ABI_VERSION;
  info.device_type = (type & CL_DEVICE_TYPE_GPU) != 0           ? UDAL_DEVICE_TYPE_GPU
                     : (type & CL_DEVICE_TYPE_CPU) != 0         ? UDAL_DEVICE_TYPE_CPU
                     : (type & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? UDAL_DEVICE_TYPE_ACCELERATOR
                                                                : UDAL_DEVICE_TYPE_OTHER;
  info.numa_node = info.pci_bus_id[0] != '\0'                 ? pci_numa_node(info.pci_bus_id)
                   : info.device_type == UDAL_DEVICE_TYPE_CPU ? single_numa_node()
                                                              : -1;

  udal_device_features_t features = UDAL_DEVICE_FEATURE_HOST_BUFFERS |
                                    UDAL_DEVICE_FEATURE_SHARED_BUFFERS | UDAL_DEVICE_FEATURE_INT8 |
                                    UDAL_DEVICE_FEATURE_INT16 | UDAL_DEVICE_FEATURE_MEMORY_USAGE |
                                    UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO;
  if (caps.profiling)
    features |= UDAL_DEVICE_FEATURE_TIMESTAMPS;
  if (caps.local_memory > 0)
    features |= UDAL_DEVICE_FEATURE_LOCAL_MEMORY;
  cl_device_fp_config doubles = 0;
  if (device_info(id, CL_DEVICE_DOUBLE_FP_CONFIG, &doubles) == CL_SUCCESS && doubles != 0) {
    features |= UDAL_DEVICE_FEATURE_FLOAT64;
  }
  if (device_string(id, CL_DEVICE_PROFILE) == "FULL_PROFILE" ||
      has_extension(extensions, "cles_khr_int64")) {
    features |= UDAL_DEVICE_FEATURE_INT64;
  }
  if (has_extension(extensions, "cl_khr_fp16"))
    features |= UDAL_DEVICE_FEATURE_FLOAT16;
  if (caps.svm_coarse)
    features |= UDAL_DEVICE_FEATURE_DEVICE_ADDRESS;
  info.features = features;

  info.device_memory_bytes = caps.global_memory;
  info.host_visible_memory_bytes = caps.host_visible_memory;
  info.max_local_memory_bytes = std::max<uint64_t>(caps.local_memory, 1);
  info.max_allocation_bytes = caps.max_allocation;
  info.min_buffer_alignment = caps.base_alignment;
  // A buffer argument at an offset is a sub-buffer, whose origin OpenCL wants aligned to
  // CL_DEVICE_MEM_BASE_ADDR_ALIGN.
  info.buffer_argument_offset_alignment = caps.base_alignment;
  size_t group_size = 1;
  device_info(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, &group_size);
  const auto clamp32 = [](uint64_t v) {
    return static_cast<uint32_t>(std::min<uint64_t>(std::max<uint64_t>(v, 1), UINT32_MAX));
  };
  info.max_group_invocations = clamp32(group_size);
  size_t item_sizes[3] = {1, 1, 1};
  clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof(item_sizes), item_sizes, nullptr);
  for (int axis = 0; axis < 3; ++axis) {
    info.max_group_size[axis] = std::min(clamp32(item_sizes[axis]), info.max_group_invocations);
    // OpenCL bounds only the global size (a size_t); UDAL's counts are 32-bit.
    info.max_group_count[axis] = UINT32_MAX;
  }
  // A buffer argument takes a pointer's worth of the parameter space.
  info.max_kernel_arguments = clamp32(caps.parameter_bytes / (caps.address_bits / 8));
  info.max_value_argument_bytes = clamp32(caps.parameter_bytes);
  cl_uint units = 1;
  device_info(id, CL_DEVICE_MAX_COMPUTE_UNITS, &units);
  info.compute_unit_count = std::max<cl_uint>(units, 1);
  size_t multiple = 0;
  if (caps.version >= 30) {
    device_info(id, CL_DEVICE_PREFERRED_WORK_GROUP_SIZE_MULTIPLE, &multiple);
  }
  info.preferred_group_size_multiple = clamp32(multiple);
  std::vector<uint32_t> subgroups;
  if (has_extension(extensions, "cl_intel_required_subgroup_size")) {
    size_t bytes = 0;
    if (clGetDeviceInfo(id, CL_DEVICE_SUB_GROUP_SIZES_INTEL, 0, nullptr, &bytes) == CL_SUCCESS &&
        bytes >= sizeof(size_t)) {
      std::vector<size_t> sizes(bytes / sizeof(size_t));
      if (clGetDeviceInfo(id, CL_DEVICE_SUB_GROUP_SIZES_INTEL, bytes, sizes.data(), nullptr) ==
          CL_SUCCESS) {
        for (size_t s : sizes) {
          if (s > 0)
            subgroups.push_back(clamp32(s));
        }
      }
    }
  }
  if (subgroups.empty())
    subgroups.push_back(1); // no sub-groups: each item is its own
  std::sort(subgroups.begin(), subgroups.end());
  subgroups.erase(std::unique(subgroups.begin(), subgroups.end()), subgroups.end());
  info.subgroup_size_count =
      static_cast<uint32_t>(std::min<size_t>(subgroups.size(), UDAL_MAX_SUBGROUP_SIZES));
  for (uint32_t i = 0; i < info.subgroup_size_count; ++i)
    info.subgroup_sizes[i] = subgroups[i];

  uint32_t formats = 0;
  if (caps.spirv != SpirvPath::kNone)
    info.module_formats[formats++] = UDAL_MODULE_FORMAT_SPIRV_KERNEL;
  if (caps.compiler)
    info.module_formats[formats++] = UDAL_MODULE_FORMAT_OPENCL_C;
  info.module_formats[formats++] = kProgramBinaryFormat;
  info.module_format_count = formats;
  state->cache_dir = settings.cache_dir;

  auto device = std::make_unique<Device>();
  device->dispatch = settings.dispatch;
  device->state = std::move(state);
  return device;
}

// ==========================================================================================
// Memory accounting, device addresses, deferred frees
// ==========================================================================================

udal_result_t DeviceState::reserve_memory(udal_buffer_kind_t kind, uint64_t size) noexcept {
  const bool device_kind = kind == UDAL_BUFFER_KIND_DEVICE;
  std::atomic<uint64_t>& counter = device_kind ? device_allocated : host_allocated;
  const uint64_t before = counter.fetch_add(size);
  // On unified memory every kind comes out of the device's one memory.
  const uint64_t used =
      caps.unified_memory ? device_allocated.load() + host_allocated.load() : before + size;
  const uint64_t limit =
      caps.unified_memory || device_kind ? caps.global_memory : caps.host_visible_memory;
  if (before + size < before || used > limit) {
    counter.fetch_sub(size);
    return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                "udal_buffer_create: {} bytes do not fit in the {} bytes of {} memory of device "
                "'{}' ({} bytes are allocated through UDAL)",
                size, limit, device_kind || caps.unified_memory ? "device" : "host-visible",
                info.name, used - size);
  }
  return UDAL_SUCCESS;
}

void DeviceState::release_memory(udal_buffer_kind_t kind, uint64_t size) noexcept {
  (kind == UDAL_BUFFER_KIND_DEVICE ? device_allocated : host_allocated).fetch_sub(size);
}

void DeviceState::add_address(void* pointer) {
  std::lock_guard lock(address_mutex);
  address_pointers.push_back(pointer);
  address_count.store(address_pointers.size());
}

void DeviceState::remove_address(void* pointer) noexcept {
  std::lock_guard lock(address_mutex);
  auto it = std::find(address_pointers.begin(), address_pointers.end(), pointer);
  if (it != address_pointers.end())
    address_pointers.erase(it);
  address_count.store(address_pointers.size());
}

void DeviceState::reap_deferred(bool wait) noexcept {
  std::lock_guard lock(deferred_mutex);
  auto done = [this, wait](DeferredFree& entry) {
    for (ClEvent& work : entry.pending) {
      if (wait) {
        cl_event e = work.get();
        clWaitForEvents(1, &e);
      } else if (event_status(work.get()) > 0) {
        return false;
      }
    }
    release_memory(entry.kind, entry.bytes);
    return true;
  };
  deferred.erase(std::remove_if(deferred.begin(), deferred.end(), done), deferred.end());
}

// ==========================================================================================
// Shutdown
// ==========================================================================================

void DeviceState::shut_down() noexcept {
  try {
    // Work held by host-signalled events must be able to finish.
    for (Event* event : events.snapshot())
      release_event_waiters(event);
    for (Stream* stream : streams.snapshot())
      destroy_stream(stream);
    for (Kernel* kernel : kernels.snapshot())
      destroy_kernel(kernel);
    for (Module* module : modules.snapshot())
      destroy_module(module);
    for (Event* event : events.snapshot())
      destroy_event(event);
    for (Buffer* buffer : buffers.snapshot())
      destroy_buffer(buffer);
  } catch (...) {
    // Out of memory for a snapshot: what is left is reclaimed with the context.
  }
  if (utility_queue)
    clFinish(utility_queue.get());
  reap_deferred(true);
}

DeviceState::~DeviceState() {
  reap_deferred(true);
}

} // namespace udal::opencl

// ==========================================================================================
// Entries
// ==========================================================================================

namespace udal::opencl {

udal_result_t device_get_info(udal_device_t handle, udal_device_info_t* out_info) {
  if (out_info == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_device_get_info: out_info is NULL");
  }
  return udal::sdk::answer_struct("udal_device_get_info", "out_info", out_info,
                                  to_device(handle)->state->info);
}

udal_result_t device_get_memory_usage(udal_device_t handle, udal_memory_usage_t* out_usage) {
  if (out_usage == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_device_get_memory_usage: out_usage is NULL");
  }
  if (udal_result_t r =
          udal::sdk::check_struct("udal_device_get_memory_usage", "out_usage", out_usage)) {
    return r;
  }
  DeviceState& device = *to_device(handle)->state;
  device.reap_deferred(false);
  auto usage = udal::sdk::make_struct<udal_memory_usage_t>();
  // OpenCL has no query for free memory: the budget is the device's size.
  usage.device_allocated_bytes = device.device_allocated.load();
  usage.device_budget_bytes = device.caps.global_memory;
  usage.host_visible_allocated_bytes = device.host_allocated.load();
  usage.host_visible_budget_bytes = device.caps.host_visible_memory;
  udal::sdk::write_struct(out_usage, usage);
  return UDAL_SUCCESS;
}

} // namespace udal::opencl
