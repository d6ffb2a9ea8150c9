// The entry point and the table of the Vulkan driver.
#include "driver.h"

#include <dlfcn.h>
#include <link.h>

#include <cerrno>
#include <cstdlib>
#include <set>
#include <string>

#include "buffer.h"
#include "event.h"
#include "kernel.h"
#include "module.h"
#include "stream.h"

namespace udal::vulkan {

const char* vk_result_name(VkResult result) noexcept {
  switch (result) {
#define UDAL_VK_CASE(x) \
  case x: return #x;
    UDAL_VK_CASE(VK_SUCCESS)
    UDAL_VK_CASE(VK_NOT_READY)
    UDAL_VK_CASE(VK_TIMEOUT)
    UDAL_VK_CASE(VK_INCOMPLETE)
    UDAL_VK_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    UDAL_VK_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    UDAL_VK_CASE(VK_ERROR_INITIALIZATION_FAILED)
    UDAL_VK_CASE(VK_ERROR_DEVICE_LOST)
    UDAL_VK_CASE(VK_ERROR_MEMORY_MAP_FAILED)
    UDAL_VK_CASE(VK_ERROR_LAYER_NOT_PRESENT)
    UDAL_VK_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    UDAL_VK_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    UDAL_VK_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    UDAL_VK_CASE(VK_ERROR_TOO_MANY_OBJECTS)
    UDAL_VK_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    UDAL_VK_CASE(VK_ERROR_UNKNOWN)
    UDAL_VK_CASE(VK_ERROR_INVALID_SHADER_NV)
#undef UDAL_VK_CASE
    default: return "VkResult(unknown)";
  }
}

namespace {

using udal::sdk::fail;

Driver* to_driver(udal_driver_t handle) noexcept { return udal::sdk::from_handle<Driver>(handle); }

constexpr uint32_t kMaxDeviceCopies = 16;

// UDAL_VULKAN_DEVICE_COPIES=N shows every physical device N times, each copy its own
// VkDevice and queue, so that machines with one Vulkan device (lavapipe) can test objects
// of another device. Ignored in set-uid processes (secure_getenv).
udal_result_t device_copies(uint32_t* copies) {
  *copies = 1;
  const char* value = secure_getenv("UDAL_VULKAN_DEVICE_COPIES");
  if (value == nullptr || value[0] == '\0') return UDAL_SUCCESS;
  char* end = nullptr;
  errno = 0;
  const unsigned long n = std::strtoul(value, &end, 10);
  if (errno != 0 || *end != '\0' || value[0] == '-' || n < 1 || n > kMaxDeviceCopies) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "vulkan driver: UDAL_VULKAN_DEVICE_COPIES is '{}', "
                "not a number of copies from 1 to {}", value, kMaxDeviceCopies);
  }
  *copies = static_cast<uint32_t>(n);
  return UDAL_SUCCESS;
}

namespace {

std::set<std::string> loaded_libraries() {
  std::set<std::string> names;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0') {
          static_cast<std::set<std::string>*>(data)->insert(info->dlpi_name);
        }
        return 0;
      },
      &names);
  return names;
}

// The Vulkan runtime the instance loaded (the loader, the ICDs and what they pulled in)
// stays mapped for the life of the process, as the OpenCL driver keeps its ICD loader:
// Mesa's drivers keep threads and exit handlers that must not outlive their code, a
// leak or crash they report later still names its library, and the next instance does
// not load them again. Only libraries that vkCreateInstance loaded are pinned.
void pin_libraries_loaded_since(const std::set<std::string>& before) {
  for (const std::string& name : loaded_libraries()) {
    if (before.count(name) == 0) dlopen(name.c_str(), RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
  }
}

}  // namespace

udal_result_t driver_create(const udal_driver_table_t* dispatch,
                            const udal_driver_create_desc_t* desc_in, udal_driver_t* out_driver) {
  if (out_driver == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "driver_create: out_driver is NULL");
  }
  *out_driver = nullptr;
  if (dispatch == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "driver_create: dispatch is NULL");
  }
  return udal::sdk::guard("driver_create", [&]() -> udal_result_t {
    const udal_driver_create_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc_in != nullptr) {
      if (udal_result_t r = refuse_chain("driver_create", "desc", desc_in->next); r != UDAL_SUCCESS)
        return r;
    }
    uint32_t copies = 1;
    if (udal_result_t r = device_copies(&copies); r != UDAL_SUCCESS) return r;
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "udal";
    app.pEngineName = "udal_driver_vulkan";
    app.engineVersion = UDAL_SDK_DRIVER_VERSION;
    app.apiVersion = VK_API_VERSION_1_2;
    VkInstanceCreateInfo instance_info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    instance_info.pApplicationInfo = &app;
    VkInstance vk_instance = VK_NULL_HANDLE;
    const std::set<std::string> before = loaded_libraries();
    const VkResult created = vkCreateInstance(&instance_info, nullptr, &vk_instance);
    pin_libraries_loaded_since(before);
    if (created != VK_SUCCESS) {
      return fail(UDAL_ERROR_UNSUPPORTED,
                  "vulkan driver: vkCreateInstance failed with {} (no Vulkan implementation "
                  "installed, or none for Vulkan 1.2)",
                  vk_result_name(created));
    }
    auto state = std::make_unique<DriverState>(vk_instance);
    uint32_t count = 0;
    vkEnumeratePhysicalDevices(vk_instance, &count, nullptr);
    std::vector<VkPhysicalDevice> physical(count);
    vkEnumeratePhysicalDevices(vk_instance, &count, physical.data());
    const char* name = desc.driver_name && desc.driver_name[0] ? desc.driver_name : UDAL_DRIVER_NAME;
    // libudal's log outlives the driver (its user data is libudal's record of the driver).
    LogFunction log = [fn = desc.log, user = desc.log_user_data](udal_log_level_t level,
                                                                 const std::string& text) {
      if (fn != nullptr) fn(user, level, fmt::format("vulkan driver: {}", text).c_str());
    };
    for (VkPhysicalDevice p : physical) {
      for (uint32_t copy = 0; copy < copies; ++copy) {
        std::string why;
        auto device = make_device(dispatch, p, name, UDAL_SDK_DRIVER_VERSION, copy, copies, log, &why);
        if (device) {
          state->devices.push_back(std::move(device));
        } else {
          // Not a failure of the driver: the device is skipped and the log says why.
          if (desc.log) {
            desc.log(desc.log_user_data, UDAL_LOG_LEVEL_INFO,
                     fmt::format("vulkan driver: skipping {}", why).c_str());
          }
          break;
        }
      }
    }
    auto driver = std::make_unique<Driver>();
    driver->dispatch = dispatch;
    driver->state = std::move(state);
    *out_driver = udal::sdk::to_handle<udal_driver_t>(driver.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t driver_destroy(udal_driver_t handle) {
  // Each device stops the streams its user left (waiting for their work in flight and
  // joining their workers) before it goes, then the instance: no driver code runs after
  // this returns and libudal unloads the driver.
  std::unique_ptr<Driver> driver(to_driver(handle));
  driver->state.reset();
  return UDAL_SUCCESS;
}

udal_result_t driver_get_device_count(udal_driver_t handle, uint32_t* out_count) {
  return udal::sdk::answer_device_count(to_driver(handle)->state->devices, out_count);
}

udal_result_t driver_get_device(udal_driver_t handle, uint32_t index, udal_device_t* out_device) {
  return udal::sdk::answer_device(to_driver(handle)->state->devices, index, out_device);
}


// Every entry runs inside udal::sdk::guard: no exception crosses the C ABI.
udal_driver_table_t full_table() noexcept { return UDAL_SDK_GUARDED_FULL_TABLE(); }

}  // namespace
}  // namespace udal::vulkan

extern "C" UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(uint32_t loader_abi_version,
                                                                  udal_driver_table_t* table) {
  return udal::sdk::negotiate(loader_abi_version, table, udal::vulkan::full_table(),
                              UDAL_SDK_DRIVER_VERSION);
}
