// zeInit, the driver, devices and contexts.
//
// libze_udal's own libudal instance loads the UDAL drivers found the way libudal finds them
// (UDAL_DRIVER_FILES, UDAL_ADD_DRIVER_FILES, the standard directories, the directory beside
// libudal), or those of UDAL_ZE_DRIVER_FILES, but never UDAL's Level Zero driver: that one
// would call back into the loader that is loading this library. Its devices are the UDAL
// devices that accept SPIRV_KERNEL modules.
#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ze_udal.h"

#ifndef UDAL_ZE_RELATIVE_MANIFEST_DIR
#define UDAL_ZE_RELATIVE_MANIFEST_DIR "../share/udal/drivers.d"
#endif
#ifndef UDAL_ZE_INSTALL_MANIFEST_DIR
#define UDAL_ZE_INSTALL_MANIFEST_DIR "/usr/local/share/udal/drivers.d"
#endif

namespace udal::ze {

namespace {

const char* env(const char* name) noexcept { return secure_getenv(name); }

bool g_log = false;

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::stringstream stream(text);
  while (std::getline(stream, item, ':')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_regular(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Whether the manifest or library at |path| is UDAL's Level Zero driver.
bool is_level_zero_driver(const std::string& path) {
  const std::string base = path.substr(path.find_last_of('/') + 1);
  if (base.find("udal_driver_level_zero") != std::string::npos) return true;
  if (!ends_with(path, ".json")) return false;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) {
    return false;  // libudal reports what is wrong with it
  }
  try {
    std::ifstream in(path);
    const nlohmann::json manifest = nlohmann::json::parse(in, nullptr, false);
    if (manifest.is_discarded() || !manifest.is_object()) return false;
    const auto d = manifest.find("driver");
    if (d == manifest.end() || !d->is_object()) return false;
    const auto name = d->find("name");
    if (name != d->end() && name->is_string() && name->get<std::string>() == "level_zero") {
      return true;
    }
    const auto library = d->find("library_path");
    return library != d->end() && library->is_string() &&
           library->get<std::string>().find("udal_driver_level_zero") != std::string::npos;
  } catch (...) {
    return false;
  }
}

void add_directory(const std::string& dir, std::vector<std::string>* out) {
  if (!is_directory(dir)) return;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(d)) {
    const std::string name = entry->d_name;
    if (ends_with(name, ".json")) names.push_back(dir + "/" + name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (auto& n : names) out->push_back(std::move(n));
}

// The manifests and libraries this library's instance loads (see the file comment).
std::vector<std::string> driver_files() {
  std::vector<std::string> found;
  if (const char* own = env("UDAL_ZE_DRIVER_FILES"); own != nullptr && *own != '\0') {
    for (const std::string& item : split(own)) {
      if (is_directory(item)) {
        add_directory(item, &found);
      } else {
        found.push_back(item);
      }
    }
  } else if (const char* files = env("UDAL_DRIVER_FILES"); files != nullptr && *files != '\0') {
    for (const std::string& item : split(files)) {
      if (is_directory(item)) {
        add_directory(item, &found);
      } else {
        found.push_back(item);
      }
    }
  } else {
    if (const char* add = env("UDAL_ADD_DRIVER_FILES"); add != nullptr) {
      for (const std::string& item : split(add)) {
        if (is_directory(item)) {
          add_directory(item, &found);
        } else {
          found.push_back(item);
        }
      }
    }
    std::vector<std::string> dirs;
    const char* config = env("XDG_CONFIG_DIRS");
    for (const std::string& d : split(config != nullptr && *config ? config : "/etc/xdg")) {
      if (!d.empty() && d[0] == '/') dirs.push_back(d + "/udal/drivers.d");
    }
    dirs.push_back("/etc/udal/drivers.d");
    const char* data = env("XDG_DATA_DIRS");
    for (const std::string& d :
         split(data != nullptr && *data ? data : "/usr/local/share:/usr/share")) {
      if (!d.empty() && d[0] == '/') dirs.push_back(d + "/udal/drivers.d");
    }
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(&udal_instance_create), &info) != 0 &&
        info.dli_fname != nullptr) {
      std::string lib = info.dli_fname;
      const auto slash = lib.find_last_of('/');
      if (slash != std::string::npos) {
        dirs.push_back(lib.substr(0, slash) + "/" + UDAL_ZE_RELATIVE_MANIFEST_DIR);
      }
    }
    dirs.push_back(UDAL_ZE_INSTALL_MANIFEST_DIR);
    std::set<std::string> seen;
    for (const std::string& d : dirs) {
      char resolved[PATH_MAX];
      const std::string key = ::realpath(d.c_str(), resolved) != nullptr ? resolved : d;
      if (!seen.insert(key).second) continue;
      add_directory(d, &found);
    }
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& path : found) {
    if (is_level_zero_driver(path)) {
      if (g_log) log_message("libze_udal: not loading " + path + " (UDAL's Level Zero driver)");
      continue;
    }
    char resolved[PATH_MAX];
    const std::string key =
        is_regular(path) && ::realpath(path.c_str(), resolved) != nullptr ? resolved : path;
    if (seen.insert(key).second) out.push_back(path);
  }
  return out;
}

ze_device_type_t type_override(ze_device_type_t type) {
  const char* name = env("UDAL_ZE_DEVICE_TYPE");
  if (name == nullptr) return type;
  const std::string t = name;
  if (t == "gpu" || t == "GPU") return ZE_DEVICE_TYPE_GPU;
  if (t == "cpu" || t == "CPU") return ZE_DEVICE_TYPE_CPU;
  if (t == "fpga" || t == "FPGA") return ZE_DEVICE_TYPE_FPGA;
  if (t == "mca" || t == "MCA") return ZE_DEVICE_TYPE_MCA;
  if (t == "vpu" || t == "VPU") return ZE_DEVICE_TYPE_VPU;
  return type;
}

bool takes_spirv_kernel(const udal_device_info_t& info) {
  for (uint32_t i = 0; i < info.module_format_count && i < UDAL_MAX_MODULE_FORMATS; ++i) {
    if (info.module_formats[i] == UDAL_MODULE_FORMAT_SPIRV_KERNEL) return true;
  }
  return false;
}

ze_result_t start_clock(Device* device) {
  if (udal_stream_create(device->udal, nullptr, &device->clock_stream) != UDAL_SUCCESS) {
    return from_udal(UDAL_ERROR_INTERNAL, "zeInit: udal_stream_create");
  }
  if (!device->timestamps) {
    device->epoch_host_ns = host_ns();
    return ZE_RESULT_SUCCESS;
  }
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_TIMING;
  udal_result_t r = udal_event_create(device->udal, &desc, &device->epoch);
  if (r == UDAL_SUCCESS) r = udal_stream_record_event(device->clock_stream, device->epoch);
  if (r == UDAL_SUCCESS) r = udal_stream_synchronize(device->clock_stream, UDAL_TIMEOUT_INFINITE);
  device->epoch_host_ns = host_ns();
  if (r != UDAL_SUCCESS) {
    // Without a working clock the device still computes: timestamps come from the host.
    if (device->epoch != nullptr) udal_event_destroy(device->epoch);
    device->epoch = nullptr;
    device->timestamps = false;
  }
  return ZE_RESULT_SUCCESS;
}

ze_result_t initialize(Driver& d, ze_init_flags_t flags) {
  if (flags & ~static_cast<ze_init_flags_t>(ZE_INIT_FLAG_GPU_ONLY | ZE_INIT_FLAG_VPU_ONLY)) {
    return fail(ZE_RESULT_ERROR_INVALID_ENUMERATION, "zeInit: flags {:#x} has unknown bits",
                flags);
  }
  const std::vector<std::string> files = driver_files();
  std::vector<const char*> paths;
  for (const std::string& f : files) paths.push_back(f.c_str());
  if (paths.empty()) {
    return fail(ZE_RESULT_ERROR_UNINITIALIZED,
                "zeInit: libze_udal found no UDAL driver to load (set UDAL_ZE_DRIVER_FILES)");
  }
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.driver_paths = paths.data();
  desc.driver_path_count = static_cast<uint32_t>(paths.size());
  udal_result_t r = udal_instance_create(&desc, &d.instance);
  if (r != UDAL_SUCCESS) return from_udal(r, "zeInit: udal_instance_create");
  uint32_t count = 0;
  udal_instance_get_device_count(d.instance, &count);
  // UDAL_ZE_DEVICE_COPIES=N (1..16): each UDAL device is offered N times, as distinct Level
  // Zero devices, so tests of several devices run on a machine with one.
  uint32_t copies = 1;
  if (const char* text = env("UDAL_ZE_DEVICE_COPIES"); text != nullptr && *text != '\0') {
    char* end = nullptr;
    const unsigned long n = std::strtoul(text, &end, 10);
    if (*end != '\0' || n < 1 || n > 16) {
      udal_instance_release(d.instance);
      d.instance = nullptr;
      return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "zeInit: UDAL_ZE_DEVICE_COPIES='{}' is not 1..16", text);
    }
    copies = static_cast<uint32_t>(n);
  }
  for (uint32_t i = 0; i < count; ++i) {
    udal_device_t handle = nullptr;
    if (udal_instance_get_device(d.instance, i, &handle) != UDAL_SUCCESS) continue;
    udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
    if (udal_device_get_info(handle, &info) != UDAL_SUCCESS) continue;
    if (!takes_spirv_kernel(info)) continue;
    ze_device_type_t type = ZE_DEVICE_TYPE_GPU;
    switch (info.device_type) {
      case UDAL_DEVICE_TYPE_CPU: type = ZE_DEVICE_TYPE_CPU; break;
      case UDAL_DEVICE_TYPE_ACCELERATOR: type = ZE_DEVICE_TYPE_MCA; break;
      default: type = ZE_DEVICE_TYPE_GPU; break;
    }
    type = type_override(type);
    if ((flags & ZE_INIT_FLAG_GPU_ONLY) && !(flags & ZE_INIT_FLAG_VPU_ONLY) &&
        type != ZE_DEVICE_TYPE_GPU) {
      continue;
    }
    if ((flags & ZE_INIT_FLAG_VPU_ONLY) && !(flags & ZE_INIT_FLAG_GPU_ONLY) &&
        type != ZE_DEVICE_TYPE_VPU) {
      continue;
    }
    for (uint32_t copy = 0; copy < copies; ++copy) {
      auto device = std::make_unique<Device>();
      device->info = info;
      // A Level Zero device of its own: not the UUID of the UDAL device under it (a process
      // may see both), stable across runs.
      uint64_t hash = 1469598103934665603ull;
      for (uint8_t b : info.uuid) hash = (hash ^ b) * 1099511628211ull;
      for (const char* c = "libze_udal"; *c; ++c) hash = (hash ^ static_cast<unsigned char>(*c)) * 1099511628211ull;
      hash = (hash ^ copy) * 1099511628211ull;
      for (int b = 0; b < 8; ++b) device->uuid[b] = static_cast<uint8_t>(hash >> (8 * b));
      for (int b = 8; b < 16; ++b) device->uuid[b] = static_cast<uint8_t>(info.uuid[b] ^ (copy * 0x3b));
      if (copies > 1) {
        std::snprintf(device->info.name, sizeof(device->info.name), "%.240s #%u", info.name, copy);
      }
      device->magic = Device::kMagic;
      device->driver = &d;
      device->udal = handle;
      device->type = type;
      device->timestamps = (info.features & UDAL_DEVICE_FEATURE_TIMESTAMPS) != 0;
      device->addresses = (info.features & UDAL_DEVICE_FEATURE_DEVICE_ADDRESS) != 0;
      device->index = static_cast<uint32_t>(d.devices.size());
      if (ze_result_t z = start_clock(device.get()); z != ZE_RESULT_SUCCESS) continue;
      d.devices.push_back(std::move(device));
    }
  }
  // ZE_AFFINITY_MASK: "0,2" or "0.0,1" keeps the listed root devices (libze_udal exposes
  // no sub-devices, so "N.M" names device N); unset or empty keeps them all.
  if (const char* mask = env("ZE_AFFINITY_MASK"); mask != nullptr && *mask != '\0') {
    std::vector<bool> keep(d.devices.size(), false);
    std::stringstream list(mask);
    std::string item;
    while (std::getline(list, item, ',')) {
      char* end = nullptr;
      const unsigned long index = std::strtoul(item.c_str(), &end, 10);
      if (end != item.c_str() && index < keep.size()) keep[index] = true;
    }
    std::vector<std::unique_ptr<Device>> kept;
    for (size_t i = 0; i < d.devices.size(); ++i) {
      if (keep[i]) {
        kept.push_back(std::move(d.devices[i]));
      } else {
        if (d.devices[i]->epoch != nullptr) udal_event_destroy(d.devices[i]->epoch);
        if (d.devices[i]->clock_stream != nullptr) udal_stream_destroy(d.devices[i]->clock_stream);
      }
    }
    d.devices = std::move(kept);
    for (size_t i = 0; i < d.devices.size(); ++i) d.devices[i]->index = static_cast<uint32_t>(i);
  }
  if (d.devices.empty()) {
    std::string why;
    uint32_t drivers = 0;
    udal_instance_get_driver_count(d.instance, &drivers);
    for (uint32_t i = 0; i < drivers; ++i) {
      udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
      if (udal_instance_get_driver_status(d.instance, i, &status) != UDAL_SUCCESS) continue;
      why += fmt::format("; {}: {} device(s){}{}", status.name, status.device_count,
                         *status.reason ? ", " : "", status.reason);
    }
    udal_instance_release(d.instance);
    d.instance = nullptr;
    return fail(ZE_RESULT_ERROR_UNINITIALIZED,
                "zeInit: no UDAL device takes SPIRV_KERNEL modules{}{}", why,
                flags != 0 ? fmt::format(" (init flags {:#x})", flags) : std::string());
  }
  return ZE_RESULT_SUCCESS;
}

// The library's one driver object; its devices and instance are released when the library
// is unloaded.
struct DriverHolder {
  Driver driver;
  DriverHolder() { driver.magic = Driver::kMagic; }
  ~DriverHolder() {
    for (auto& device : driver.devices) {
      if (device->epoch != nullptr) udal_event_destroy(device->epoch);
      if (device->clock_stream != nullptr) udal_stream_destroy(device->clock_stream);
      device->magic = 0;
    }
    driver.devices.clear();
    driver.allocations.clear();
    if (driver.instance != nullptr) udal_instance_release(driver.instance);
    driver.magic = 0;
  }
};

DriverHolder g_holder;

// ----- zeInit, drivers ------------------------------------------------------------------

ze_result_t ZE_APICALL init(ze_init_flags_t flags) {
  return guard("zeInit", [&] {
    Driver& d = driver();
    std::lock_guard lock(d.init_mutex);
    if (!d.initialized) {
      d.init_result = initialize(d, flags);
      d.initialized = true;
    }
    return d.init_result;
  });
}

Driver* initialized_driver() noexcept {
  Driver& d = driver();
  std::lock_guard lock(d.init_mutex);
  return d.initialized && d.init_result == ZE_RESULT_SUCCESS ? &d : nullptr;
}

ze_result_t ZE_APICALL driver_get(uint32_t* pCount, ze_driver_handle_t* phDrivers) {
  static constexpr const char* fn = "zeDriverGet";
  ZE_NOT_NULL(pCount, fn);
  Driver* d = initialized_driver();
  if (d == nullptr) {
    return fail(ZE_RESULT_ERROR_UNINITIALIZED, "{}: zeInit has not succeeded", fn);
  }
  if (*pCount == 0 || phDrivers == nullptr) {
    *pCount = 1;
    return ZE_RESULT_SUCCESS;
  }
  phDrivers[0] = to_handle<ze_driver_handle_t>(d);
  *pCount = 1;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL driver_get_api_version(ze_driver_handle_t hDriver,
                                              ze_api_version_t* version) {
  static constexpr const char* fn = "zeDriverGetApiVersion";
  ZE_OBJECT(Driver, d, hDriver, fn);
  ZE_NOT_NULL(version, fn);
  (void)d;
  *version = ZE_API_VERSION_CURRENT;
  return ZE_RESULT_SUCCESS;
}

constexpr uint8_t kDriverUuid[ZE_MAX_DRIVER_UUID_SIZE] = {'u', 'd', 'a', 'l', '-', 'l', 'e', 'v',
                                                          'e', 'l', '-', 'z', 'e', 'r', 'o', 1};

ze_result_t ZE_APICALL driver_get_properties(ze_driver_handle_t hDriver,
                                             ze_driver_properties_t* p) {
  static constexpr const char* fn = "zeDriverGetProperties";
  ZE_OBJECT(Driver, d, hDriver, fn);
  ZE_NOT_NULL(p, fn);
  (void)d;
  std::memcpy(p->uuid.id, kDriverUuid, sizeof(kDriverUuid));
  p->driverVersion = (1u << 24) | (0u << 16) | 0u;  // 1.0.0
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL driver_get_ipc_properties(ze_driver_handle_t hDriver,
                                                 ze_driver_ipc_properties_t* p) {
  static constexpr const char* fn = "zeDriverGetIpcProperties";
  ZE_OBJECT(Driver, d, hDriver, fn);
  ZE_NOT_NULL(p, fn);
  (void)d;
  p->flags = 0;  // no IPC
  return ZE_RESULT_SUCCESS;
}

struct Extension {
  const char* name;
  uint32_t version;
};
constexpr Extension kExtensions[] = {
    {ZE_PCI_PROPERTIES_EXT_NAME, ZE_PCI_PROPERTIES_EXT_VERSION_CURRENT},
};

ze_result_t ZE_APICALL driver_get_extension_properties(ze_driver_handle_t hDriver,
                                                       uint32_t* pCount,
                                                       ze_driver_extension_properties_t* p) {
  static constexpr const char* fn = "zeDriverGetExtensionProperties";
  ZE_OBJECT(Driver, d, hDriver, fn);
  ZE_NOT_NULL(pCount, fn);
  (void)d;
  constexpr uint32_t total = sizeof(kExtensions) / sizeof(kExtensions[0]);
  if (*pCount == 0 || p == nullptr) {
    *pCount = total;
    return ZE_RESULT_SUCCESS;
  }
  const uint32_t n = std::min(*pCount, total);
  for (uint32_t i = 0; i < n; ++i) {
    std::snprintf(p[i].name, sizeof(p[i].name), "%s", kExtensions[i].name);
    p[i].version = kExtensions[i].version;
  }
  *pCount = n;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL driver_get_extension_function_address(ze_driver_handle_t hDriver,
                                                             const char* name, void** out) {
  static constexpr const char* fn = "zeDriverGetExtensionFunctionAddress";
  ZE_OBJECT(Driver, d, hDriver, fn);
  ZE_NOT_NULL(name, fn);
  ZE_NOT_NULL(out, fn);
  (void)d;
  *out = nullptr;
  return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: libze_udal has no extension function '{}'",
              fn, name);
}

// ----- devices --------------------------------------------------------------------------

ze_result_t ZE_APICALL device_get(ze_driver_handle_t hDriver, uint32_t* pCount,
                                  ze_device_handle_t* phDevices) {
  static constexpr const char* fn = "zeDeviceGet";
  ZE_OBJECT(Driver, d, hDriver, fn);
  ZE_NOT_NULL(pCount, fn);
  const auto total = static_cast<uint32_t>(d->devices.size());
  if (*pCount == 0 || phDevices == nullptr) {
    *pCount = total;
    return ZE_RESULT_SUCCESS;
  }
  const uint32_t n = std::min(*pCount, total);
  for (uint32_t i = 0; i < n; ++i) phDevices[i] = to_handle<ze_device_handle_t>(d->devices[i].get());
  *pCount = n;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_get_sub_devices(ze_device_handle_t hDevice, uint32_t* pCount,
                                              ze_device_handle_t*) {
  static constexpr const char* fn = "zeDeviceGetSubDevices";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(pCount, fn);
  (void)device;
  *pCount = 0;
  return ZE_RESULT_SUCCESS;
}

uint32_t clamp32(uint64_t v) { return v > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(v); }

// A vendor id for the device: PCI vendor from the UDAL vendor name where known.
uint32_t vendor_id(const udal_device_info_t& info) {
  std::string v = info.vendor;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v.find("intel") != std::string::npos) return 0x8086;
  if (v.find("nvidia") != std::string::npos) return 0x10de;
  if (v.find("amd") != std::string::npos || v.find("advanced micro") != std::string::npos) {
    return 0x1002;
  }
  return 0x10000;  // Khronos vendor id space: "no PCI vendor"
}

ze_result_t ZE_APICALL device_get_properties(ze_device_handle_t hDevice,
                                             ze_device_properties_t* p) {
  static constexpr const char* fn = "zeDeviceGetProperties";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(p, fn);
  const udal_device_info_t& info = device->info;
  p->type = device->type;
  p->vendorId = vendor_id(info);
  uint32_t hash = 2166136261u;
  for (const char* c = info.name; *c; ++c) hash = (hash ^ static_cast<unsigned char>(*c)) * 16777619u;
  p->deviceId = hash & 0xffffu;
  p->flags = device->type == ZE_DEVICE_TYPE_CPU ? ZE_DEVICE_PROPERTY_FLAG_INTEGRATED : 0;
  if (info.host_visible_memory_bytes > 0 && info.device_memory_bytes == info.host_visible_memory_bytes) {
    p->flags |= ZE_DEVICE_PROPERTY_FLAG_INTEGRATED;
  }
  p->subdeviceId = 0;
  p->coreClockRate = 1000;  // MHz: UDAL does not report clocks
  p->maxMemAllocSize = info.max_allocation_bytes;
  p->maxHardwareContexts = 64;
  p->maxCommandQueuePriority = 0;
  p->numThreadsPerEU = 1;
  p->physicalEUSimdWidth = info.preferred_group_size_multiple ? info.preferred_group_size_multiple : 1;
  p->numEUsPerSubslice = 1;
  p->numSubslicesPerSlice = 1;
  p->numSlices = info.compute_unit_count ? info.compute_unit_count : 1;
  // Device time is counted in nanoseconds.
  p->timerResolution = p->stype == ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES_1_2 ? 1000000000ull : 1ull;
  p->timestampValidBits = 64;
  p->kernelTimestampValidBits = 64;
  static_assert(sizeof(p->uuid.id) == sizeof(device->uuid), "uuid sizes");
  std::memcpy(p->uuid.id, device->uuid, sizeof(device->uuid));
  std::snprintf(p->name, sizeof(p->name), "%s", info.name);
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_get_compute_properties(ze_device_handle_t hDevice,
                                                     ze_device_compute_properties_t* p) {
  static constexpr const char* fn = "zeDeviceGetComputeProperties";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(p, fn);
  const udal_device_info_t& info = device->info;
  p->maxTotalGroupSize = info.max_group_invocations;
  p->maxGroupSizeX = info.max_group_size[0];
  p->maxGroupSizeY = info.max_group_size[1];
  p->maxGroupSizeZ = info.max_group_size[2];
  p->maxGroupCountX = info.max_group_count[0];
  p->maxGroupCountY = info.max_group_count[1];
  p->maxGroupCountZ = info.max_group_count[2];
  p->maxSharedLocalMemory = clamp32(info.max_local_memory_bytes);
  const uint32_t n = std::min<uint32_t>(info.subgroup_size_count, ZE_SUBGROUPSIZE_COUNT);
  p->numSubGroupSizes = n;
  for (uint32_t i = 0; i < ZE_SUBGROUPSIZE_COUNT; ++i) {
    p->subGroupSizes[i] = i < n ? info.subgroup_sizes[i] : 0;
  }
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_get_module_properties(ze_device_handle_t hDevice,
                                                    ze_device_module_properties_t* p) {
  static constexpr const char* fn = "zeDeviceGetModuleProperties";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(p, fn);
  const udal_device_info_t& info = device->info;
  p->spirvVersionSupported = ZE_MAKE_VERSION(1, 2);
  p->flags = 0;
  if (info.features & UDAL_DEVICE_FEATURE_FLOAT16) p->flags |= ZE_DEVICE_MODULE_FLAG_FP16;
  if (info.features & UDAL_DEVICE_FEATURE_FLOAT64) p->flags |= ZE_DEVICE_MODULE_FLAG_FP64;
  const ze_device_fp_flags_t fp = ZE_DEVICE_FP_FLAG_INF_NAN | ZE_DEVICE_FP_FLAG_ROUND_TO_NEAREST;
  p->fp16flags = (info.features & UDAL_DEVICE_FEATURE_FLOAT16) ? fp : 0;
  p->fp32flags = fp;
  p->fp64flags = (info.features & UDAL_DEVICE_FEATURE_FLOAT64) ? fp : 0;
  p->maxArgumentsSize = info.max_value_argument_bytes;
  p->printfBufferSize = 0;
  std::memcpy(p->nativeKernelSupported.id, kDriverUuid, sizeof(p->nativeKernelSupported.id));
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_get_command_queue_group_properties(
    ze_device_handle_t hDevice, uint32_t* pCount, ze_command_queue_group_properties_t* p) {
  static constexpr const char* fn = "zeDeviceGetCommandQueueGroupProperties";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(pCount, fn);
  (void)device;
  if (*pCount == 0 || p == nullptr) {
    *pCount = 1;
    return ZE_RESULT_SUCCESS;
  }
  p[0].flags = ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE | ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COPY |
               ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COOPERATIVE_KERNELS;
  p[0].maxMemoryFillPatternSize = 128;
  p[0].numQueues = 64;  // each queue is its own UDAL stream
  *pCount = 1;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_get_memory_properties(ze_device_handle_t hDevice, uint32_t* pCount,
                                                    ze_device_memory_properties_t* p) {
  static constexpr const char* fn = "zeDeviceGetMemoryProperties";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(pCount, fn);
  if (*pCount == 0 || p == nullptr) {
    *pCount = 1;
    return ZE_RESULT_SUCCESS;
  }
  p[0].flags = 0;
  p[0].maxClockRate = 1;  // UDAL does not report memory clocks or bus widths
  p[0].maxBusWidth = 64;
  p[0].totalSize = device->info.device_memory_bytes;
  std::snprintf(p[0].name, sizeof(p[0].name), "%s", "device memory");
  *pCount = 1;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_get_memory_access_properties(
    ze_device_handle_t hDevice, ze_device_memory_access_properties_t* p) {
  static constexpr const char* fn = "zeDeviceGetMemoryAccessProperties";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(p, fn);
  const auto rw = ZE_MEMORY_ACCESS_CAP_FLAG_RW | ZE_MEMORY_ACCESS_CAP_FLAG_ATOMIC;
  p->deviceAllocCapabilities = rw;
  p->hostAllocCapabilities = (device->info.features & UDAL_DEVICE_FEATURE_HOST_BUFFERS) ? rw : 0;
  p->sharedSingleDeviceAllocCapabilities =
      (device->info.features & UDAL_DEVICE_FEATURE_SHARED_BUFFERS) ? rw : 0;
  p->sharedCrossDeviceAllocCapabilities = 0;
  p->sharedSystemAllocCapabilities = 0;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_get_cache_properties(ze_device_handle_t hDevice, uint32_t* pCount,
                                                   ze_device_cache_properties_t* p) {
  static constexpr const char* fn = "zeDeviceGetCacheProperties";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(pCount, fn);
  (void)device;
  if (*pCount == 0 || p == nullptr) {
    *pCount = 1;
    return ZE_RESULT_SUCCESS;
  }
  p[0].flags = 0;
  p[0].cacheSize = 0;  // unknown
  *pCount = 1;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_get_image_properties(ze_device_handle_t hDevice,
                                                   ze_device_image_properties_t* p) {
  static constexpr const char* fn = "zeDeviceGetImageProperties";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(p, fn);
  (void)device;
  p->maxImageDims1D = p->maxImageDims2D = p->maxImageDims3D = 0;  // no images
  p->maxImageBufferSize = 0;
  p->maxImageArraySlices = p->maxSamplers = p->maxReadImageArgs = p->maxWriteImageArgs = 0;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_get_external_memory_properties(
    ze_device_handle_t hDevice, ze_device_external_memory_properties_t* p) {
  static constexpr const char* fn = "zeDeviceGetExternalMemoryProperties";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(p, fn);
  (void)device;
  p->memoryAllocationImportTypes = p->memoryAllocationExportTypes = 0;
  p->imageImportTypes = p->imageExportTypes = 0;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_get_p2p_properties(ze_device_handle_t hDevice,
                                                 ze_device_handle_t hPeer,
                                                 ze_device_p2p_properties_t* p) {
  static constexpr const char* fn = "zeDeviceGetP2PProperties";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_OBJECT(Device, peer, hPeer, fn);
  ZE_NOT_NULL(p, fn);
  (void)device, (void)peer;
  p->flags = 0;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_can_access_peer(ze_device_handle_t hDevice,
                                              ze_device_handle_t hPeer, ze_bool_t* value) {
  static constexpr const char* fn = "zeDeviceCanAccessPeer";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_OBJECT(Device, peer, hPeer, fn);
  ZE_NOT_NULL(value, fn);
  *value = device == peer;  // a device reaches its own memory only
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_get_status(ze_device_handle_t hDevice) {
  static constexpr const char* fn = "zeDeviceGetStatus";
  ZE_OBJECT(Device, device, hDevice, fn);
  (void)device;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_get_global_timestamps(ze_device_handle_t hDevice,
                                                    uint64_t* hostTimestamp,
                                                    uint64_t* deviceTimestamp) {
  static constexpr const char* fn = "zeDeviceGetGlobalTimestamps";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(hostTimestamp, fn);
  ZE_NOT_NULL(deviceTimestamp, fn);
  *deviceTimestamp = device->now_ns();
  *hostTimestamp = host_ns();
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL device_pci_get_properties(ze_device_handle_t hDevice,
                                                 ze_pci_ext_properties_t* p) {
  static constexpr const char* fn = "zeDevicePciGetPropertiesExt";
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(p, fn);
  unsigned domain = 0, bus = 0, dev = 0, function = 0;
  if (std::sscanf(device->info.pci_bus_id, "%x:%x:%x.%x", &domain, &bus, &dev, &function) != 4) {
    return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "{}: device '{}' is not a PCI device", fn,
                device->info.name);
  }
  p->address = {domain, bus, dev, function};
  p->maxSpeed = {-1, -1, -1};
  return ZE_RESULT_SUCCESS;
}

// ----- contexts -------------------------------------------------------------------------

ze_result_t create_context(ze_driver_handle_t hDriver, const ze_context_desc_t* desc,
                           uint32_t numDevices, ze_device_handle_t* phDevices,
                           ze_context_handle_t* phContext, const char* fn) {
  ZE_OBJECT(Driver, d, hDriver, fn);
  ZE_NOT_NULL(desc, fn);
  ZE_NOT_NULL(phContext, fn);
  if (numDevices > 0 && phDevices == nullptr) {
    return fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "{}: phDevices is NULL with {} devices", fn,
                numDevices);
  }
  return guard(fn, [&] {
    auto context = std::make_unique<Context>();
    context->driver = d;
    if (numDevices == 0) {
      for (auto& device : d->devices) context->devices.push_back(device.get());
    } else {
      for (uint32_t i = 0; i < numDevices; ++i) {
        Device* device = from_handle<Device>(phDevices[i]);
        if (device == nullptr) {
          return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "{}: phDevices[{}] is not a device", fn, i);
        }
        context->devices.push_back(device);
      }
    }
    context->magic = Context::kMagic;
    *phContext = to_handle<ze_context_handle_t>(context.release());
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL context_create(ze_driver_handle_t hDriver, const ze_context_desc_t* desc,
                                      ze_context_handle_t* phContext) {
  return create_context(hDriver, desc, 0, nullptr, phContext, "zeContextCreate");
}

ze_result_t ZE_APICALL context_create_ex(ze_driver_handle_t hDriver, const ze_context_desc_t* desc,
                                         uint32_t numDevices, ze_device_handle_t* phDevices,
                                         ze_context_handle_t* phContext) {
  return create_context(hDriver, desc, numDevices, phDevices, phContext, "zeContextCreateEx");
}

ze_result_t ZE_APICALL context_destroy(ze_context_handle_t hContext) {
  static constexpr const char* fn = "zeContextDestroy";
  ZE_OBJECT(Context, context, hContext, fn);
  context->magic = 0;
  std::unique_ptr<Context> owned(context);
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL context_get_status(ze_context_handle_t hContext) {
  static constexpr const char* fn = "zeContextGetStatus";
  ZE_OBJECT(Context, context, hContext, fn);
  (void)context;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL context_system_barrier(ze_context_handle_t hContext,
                                              ze_device_handle_t hDevice) {
  static constexpr const char* fn = "zeContextSystemBarrier";
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_OBJECT(Device, device, hDevice, fn);
  (void)context, (void)device;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL context_make_memory_resident(ze_context_handle_t hContext,
                                                    ze_device_handle_t hDevice, void* ptr,
                                                    size_t) {
  static constexpr const char* fn = "zeContextMakeMemoryResident";
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(ptr, fn);
  (void)context, (void)device;
  return ZE_RESULT_SUCCESS;  // UDAL memory is always resident
}

ze_result_t ZE_APICALL context_evict_memory(ze_context_handle_t hContext,
                                            ze_device_handle_t hDevice, void* ptr, size_t) {
  static constexpr const char* fn = "zeContextEvictMemory";
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(ptr, fn);
  (void)context, (void)device;
  return ZE_RESULT_SUCCESS;
}

}  // namespace

// ----- shared helpers -------------------------------------------------------------------

Driver& driver() noexcept { return g_holder.driver; }

bool log_enabled() noexcept { return g_log; }

void log_message(const std::string& text) noexcept {
  std::fprintf(stderr, "libze_udal: %s\n", text.c_str());
}

namespace {
struct LogInit {
  LogInit() {
    const char* v = secure_getenv("UDAL_ZE_LOG");
    g_log = v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
  }
} g_log_init;
}  // namespace

uint64_t host_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

ze_result_t from_udal(udal_result_t result, const char* function) noexcept {
  ze_result_t code = ZE_RESULT_ERROR_UNKNOWN;
  switch (result) {
    case UDAL_SUCCESS: return ZE_RESULT_SUCCESS;
    case UDAL_NOT_READY:
    case UDAL_TIMEOUT: return ZE_RESULT_NOT_READY;
    case UDAL_ERROR_INVALID_ARGUMENT:
    case UDAL_ERROR_INVALID_HANDLE: code = ZE_RESULT_ERROR_INVALID_ARGUMENT; break;
    case UDAL_ERROR_OUT_OF_RANGE: code = ZE_RESULT_ERROR_INVALID_SIZE; break;
    case UDAL_ERROR_UNSUPPORTED: code = ZE_RESULT_ERROR_UNSUPPORTED_FEATURE; break;
    case UDAL_ERROR_OUT_OF_HOST_MEMORY: code = ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY; break;
    case UDAL_ERROR_OUT_OF_DEVICE_MEMORY: code = ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY; break;
    case UDAL_ERROR_INVALID_MODULE: code = ZE_RESULT_ERROR_MODULE_BUILD_FAILURE; break;
    case UDAL_ERROR_KERNEL_NOT_FOUND: code = ZE_RESULT_ERROR_INVALID_KERNEL_NAME; break;
    case UDAL_ERROR_INVALID_STATE: code = ZE_RESULT_ERROR_NOT_AVAILABLE; break;
    case UDAL_ERROR_DEVICE_LOST: code = ZE_RESULT_ERROR_DEVICE_LOST; break;
    default: code = ZE_RESULT_ERROR_UNKNOWN; break;
  }
  return fail(code, "{}: {}: {}", function, udal_result_name(result), udal_last_error_message());
}

bool Context::has(const Device* device) const noexcept {
  return std::find(devices.begin(), devices.end(), device) != devices.end();
}

uint64_t Device::device_ns(udal_event_t event) noexcept {
  if (!timestamps || epoch == nullptr || event == nullptr) return host_ns() - epoch_host_ns;
  uint64_t ns = 0;
  if (udal_event_elapsed_ns(epoch, event, &ns) != UDAL_SUCCESS) return host_ns() - epoch_host_ns;
  return ns;
}

uint64_t Device::now_ns() noexcept {
  if (!timestamps) return host_ns() - epoch_host_ns;
  std::lock_guard lock(clock_mutex);
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_TIMING;
  udal_event_t now = nullptr;
  if (udal_event_create(udal, &desc, &now) != UDAL_SUCCESS) return host_ns() - epoch_host_ns;
  uint64_t ns = host_ns() - epoch_host_ns;
  if (udal_stream_record_event(clock_stream, now) == UDAL_SUCCESS &&
      udal_event_wait(now, UDAL_TIMEOUT_INFINITE) == UDAL_SUCCESS) {
    ns = device_ns(now);
  }
  udal_event_destroy(now);
  return ns;
}

void fill(ze_global_dditable_t* t) noexcept { t->pfnInit = init; }

void fill(ze_driver_dditable_t* t) noexcept {
  t->pfnGet = driver_get;
  t->pfnGetApiVersion = driver_get_api_version;
  t->pfnGetProperties = driver_get_properties;
  t->pfnGetIpcProperties = driver_get_ipc_properties;
  t->pfnGetExtensionProperties = driver_get_extension_properties;
  t->pfnGetExtensionFunctionAddress = driver_get_extension_function_address;
}

void fill(ze_device_dditable_t* t) noexcept {
  t->pfnGet = device_get;
  t->pfnGetSubDevices = device_get_sub_devices;
  t->pfnGetProperties = device_get_properties;
  t->pfnGetComputeProperties = device_get_compute_properties;
  t->pfnGetModuleProperties = device_get_module_properties;
  t->pfnGetCommandQueueGroupProperties = device_get_command_queue_group_properties;
  t->pfnGetMemoryProperties = device_get_memory_properties;
  t->pfnGetMemoryAccessProperties = device_get_memory_access_properties;
  t->pfnGetCacheProperties = device_get_cache_properties;
  t->pfnGetImageProperties = device_get_image_properties;
  t->pfnGetExternalMemoryProperties = device_get_external_memory_properties;
  t->pfnGetP2PProperties = device_get_p2p_properties;
  t->pfnCanAccessPeer = device_can_access_peer;
  t->pfnGetStatus = device_get_status;
  t->pfnGetGlobalTimestamps = device_get_global_timestamps;
  t->pfnPciGetPropertiesExt = device_pci_get_properties;
}

void fill(ze_context_dditable_t* t) noexcept {
  t->pfnCreate = context_create;
  t->pfnCreateEx = context_create_ex;
  t->pfnDestroy = context_destroy;
  t->pfnGetStatus = context_get_status;
  t->pfnSystemBarrier = context_system_barrier;
  t->pfnMakeMemoryResident = context_make_memory_resident;
  t->pfnEvictMemory = context_evict_memory;
}

}  // namespace udal::ze
