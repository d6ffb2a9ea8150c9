// The entry point, the table, and the driver object: one UDAL device per OpenCL device of
// every platform the ICD loader lists, filtered by UDAL_OPENCL_PLATFORM and
// UDAL_OPENCL_DEVICE_TYPE.
#include "driver.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "cache.h"
#include "device.h"
#include "translate.h"

namespace udal::opencl {

using udal::sdk::fail;

void DriverState::log_message(udal_log_level_t level, std::string_view message) const noexcept {
  if (log == nullptr)
    return;
  try {
    const std::string text(message);
    log(log_user_data, level, text.c_str());
  } catch (...) {
  }
}

DriverState::~DriverState() = default;

namespace {

Driver* to_driver(udal_driver_t handle) noexcept {
  return udal::sdk::from_handle<Driver>(handle);
}

std::string lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// UDAL_OPENCL_DEVICE_TYPE: a comma-separated list of cpu, gpu, accelerator, custom, all.
bool parse_device_types(const char* text, cl_device_type* out, std::string* bad) {
  *out = 0;
  std::string list = lower(text);
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos)
      end = list.size();
    std::string word = list.substr(start, end - start);
    start = end + 1;
    while (!word.empty() && word.back() == ' ')
      word.pop_back();
    while (!word.empty() && word.front() == ' ')
      word.erase(word.begin());
    if (word.empty())
      continue;
    if (word == "cpu") {
      *out |= CL_DEVICE_TYPE_CPU;
    } else if (word == "gpu") {
      *out |= CL_DEVICE_TYPE_GPU;
    } else if (word == "accelerator") {
      *out |= CL_DEVICE_TYPE_ACCELERATOR;
    } else if (word == "custom") {
      *out |= CL_DEVICE_TYPE_CUSTOM;
    } else if (word == "all") {
      *out |= CL_DEVICE_TYPE_ALL;
    } else {
      *bad = word;
      return false;
    }
  }
  if (*out == 0)
    *out = CL_DEVICE_TYPE_ALL;
  return true;
}

// UDAL_OPENCL_PLATFORM: a platform index ("0") or a case-insensitive part of the platform's
// name or vendor ("pocl", "intel").
bool platform_selected(const char* filter, uint32_t index, const std::string& name,
                       const std::string& vendor) {
  if (filter == nullptr || filter[0] == '\0')
    return true;
  std::string f = filter;
  if (std::all_of(f.begin(), f.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return std::strtoul(f.c_str(), nullptr, 10) == index;
  }
  f = lower(f);
  return lower(name).find(f) != std::string::npos || lower(vendor).find(f) != std::string::npos;
}

// The translator tool whose LLVM matches the platform's ("LLVM 15.0.6" in PoCL's version):
// llvm-spirv-15, else plain llvm-spirv.
std::string tool_for_platform(const std::string& platform_version) {
  const size_t at = platform_version.find("LLVM ");
  if (at != std::string::npos) {
    const int major = std::atoi(platform_version.c_str() + at + 5);
    if (major > 0) {
      std::string tool = find_executable(fmt::format("llvm-spirv-{}", major));
      if (!tool.empty())
        return tool;
    }
  }
  return find_executable("llvm-spirv");
}

udal_result_t driver_create_impl(const udal_driver_table_t* dispatch,
                                 const udal_driver_create_desc_t* desc_in,
                                 udal_driver_t* out_driver) {
  if (desc_in != nullptr) {
    if (udal_result_t r = udal::sdk::check_struct("driver_create", "desc", desc_in))
      return r;
  }
  const udal_driver_create_desc_t desc = udal::sdk::read_struct(desc_in);
  auto driver_state = std::make_unique<DriverState>();
  driver_state->name = desc.driver_name != nullptr && desc.driver_name[0] != '\0'
                           ? desc.driver_name
                           : UDAL_DRIVER_NAME;
  driver_state->log = desc.log;
  driver_state->log_user_data = desc.log_user_data;
  DriverState& state = *driver_state;

  cl_device_type types = CL_DEVICE_TYPE_ALL;
  if (const char* text = secure_getenv("UDAL_OPENCL_DEVICE_TYPE"); text != nullptr) {
    std::string bad;
    if (!parse_device_types(text, &types, &bad)) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "opencl driver: UDAL_OPENCL_DEVICE_TYPE='{}' names '{}', which is not cpu, gpu, "
                  "accelerator, custom or all",
                  text, bad);
    }
  }
  const char* platform_filter = secure_getenv("UDAL_OPENCL_PLATFORM");

  // The ICD loader stays loaded once used, with the platforms it loaded: PoCL keeps worker
  // threads for the life of the process, which must never outlive its code, and the next
  // instance then skips the platform search (tens of milliseconds on PoCL).
  dlopen("libOpenCL.so.1", RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);

  cl_uint platform_count = 0;
  cl_int listed = clGetPlatformIDs(0, nullptr, &platform_count);
  if (listed == CL_PLATFORM_NOT_FOUND_KHR || (listed == CL_SUCCESS && platform_count == 0)) {
    return fail(UDAL_ERROR_UNSUPPORTED,
                "opencl driver: no OpenCL platform is installed (clGetPlatformIDs: {}); the ICD "
                "loader reads /etc/OpenCL/vendors/*.icd, or the files OCL_ICD_VENDORS names",
                cl_error_name(listed == CL_SUCCESS ? CL_PLATFORM_NOT_FOUND_KHR : listed));
  }
  if (listed != CL_SUCCESS) {
    return fail(UDAL_ERROR_UNSUPPORTED, "opencl driver: clGetPlatformIDs failed with {} ({})",
                cl_error_name(listed), listed);
  }
  std::vector<cl_platform_id> platforms(platform_count);
  listed = clGetPlatformIDs(platform_count, platforms.data(), nullptr);
  if (listed != CL_SUCCESS) {
    return fail(UDAL_ERROR_UNSUPPORTED, "opencl driver: clGetPlatformIDs failed with {} ({})",
                cl_error_name(listed), listed);
  }

  DeviceSettings settings;
  settings.dispatch = dispatch;
  settings.driver = &state;
  settings.cache_dir = cache_directory();
  settings.have_translator_library = have_translator_library();
  // The translator runs as a tool in a process of its own when one is installed: Debian's
  // translator library asserts (aborts the process) on malformed SPIR-V the driver's own
  // checks let through. UDAL_OPENCL_LLVM_SPIRV names the tool, or "library" for the library.
  std::string forced_tool;
  bool force_library = false;
  if (const char* tool = secure_getenv("UDAL_OPENCL_LLVM_SPIRV"); tool != nullptr && tool[0]) {
    if (std::strcmp(tool, "library") == 0) {
      force_library = settings.have_translator_library;
    } else {
      forced_tool = find_executable(tool);
      if (forced_tool.empty()) {
        state.log_message(UDAL_LOG_LEVEL_WARNING,
                          fmt::format("opencl driver: UDAL_OPENCL_LLVM_SPIRV='{}' is not an "
                                      "executable; using the default translator",
                                      tool));
      }
    }
  }

  std::vector<std::string> skipped;
  for (uint32_t p = 0; p < platforms.size(); ++p) {
    const std::string name = platform_string(platforms[p], CL_PLATFORM_NAME);
    const std::string vendor = platform_string(platforms[p], CL_PLATFORM_VENDOR);
    if (!platform_selected(platform_filter, p, name, vendor)) {
      skipped.push_back(fmt::format("platform {} '{}' (not UDAL_OPENCL_PLATFORM='{}')", p, name,
                                    platform_filter));
      continue;
    }
    settings.llvm_spirv_tool = forced_tool;
    if (settings.llvm_spirv_tool.empty() && !force_library) {
      settings.llvm_spirv_tool =
          tool_for_platform(platform_string(platforms[p], CL_PLATFORM_VERSION));
    }
    cl_uint device_count = 0;
    const cl_int found = clGetDeviceIDs(platforms[p], types, 0, nullptr, &device_count);
    if (found != CL_SUCCESS || device_count == 0) {
      skipped.push_back(fmt::format("platform {} '{}' has no device of the types asked for ({})", p,
                                    name, cl_error_name(found)));
      continue;
    }
    std::vector<cl_device_id> ids(device_count);
    if (clGetDeviceIDs(platforms[p], types, device_count, ids.data(), nullptr) != CL_SUCCESS) {
      continue;
    }
    for (uint32_t d = 0; d < ids.size(); ++d) {
      std::string why;
      auto device = make_device(settings, platforms[p], ids[d], d, &why);
      if (device) {
        state.devices.push_back(std::move(device));
      } else {
        state.log_message(UDAL_LOG_LEVEL_INFO, fmt::format("opencl driver: skipping {}", why));
        skipped.push_back(std::move(why));
      }
    }
  }
  if (state.devices.empty()) {
    std::string reasons;
    for (const std::string& s : skipped)
      reasons += (reasons.empty() ? "" : "; ") + s;
    return fail(UDAL_ERROR_UNSUPPORTED, "opencl driver: no usable OpenCL device ({})",
                reasons.empty() ? std::string("no platform lists a device") : reasons);
  }
  auto driver = std::make_unique<Driver>();
  driver->dispatch = dispatch;
  driver->state = std::move(driver_state);
  *out_driver = udal::sdk::to_handle<udal_driver_t>(driver.release());
  return UDAL_SUCCESS;
}

} // namespace

udal_result_t driver_create(const udal_driver_table_t* dispatch,
                            const udal_driver_create_desc_t* desc, udal_driver_t* out_driver) {
  if (out_driver == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "driver_create: out_driver is NULL");
  }
  *out_driver = nullptr;
  if (dispatch == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "driver_create: dispatch is NULL");
  }
  return udal::sdk::guard("driver_create",
                          [&] { return driver_create_impl(dispatch, desc, out_driver); });
}

udal_result_t driver_destroy(udal_driver_t handle) {
  std::unique_ptr<Driver> driver(to_driver(handle));
  // Every stream's work is finished and its thread joined before the library can go.
  for (auto& device : driver->state->devices)
    device->state->shut_down();
  return UDAL_SUCCESS;
}

udal_result_t driver_get_device_count(udal_driver_t handle, uint32_t* out_count) {
  return udal::sdk::answer_device_count(to_driver(handle)->state->devices, out_count);
}

udal_result_t driver_get_device(udal_driver_t handle, uint32_t index, udal_device_t* out_device) {
  return udal::sdk::answer_device(to_driver(handle)->state->devices, index, out_device);
}

namespace {

// Every entry runs inside udal::sdk::guard: no exception crosses the C ABI.
udal_driver_table_t full_table() noexcept { return UDAL_SDK_GUARDED_FULL_TABLE(); }
} // namespace

} // namespace udal::opencl

extern "C" UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(uint32_t loader_abi_version,
                                                                  udal_driver_table_t* table) {
  return udal::sdk::negotiate(loader_abi_version, table, udal::opencl::full_table(),
                              UDAL_SDK_DRIVER_VERSION);
}
