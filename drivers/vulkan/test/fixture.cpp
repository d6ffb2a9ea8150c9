#include "fixture.h"

#include <dlfcn.h>

#include <cstdlib>
#include <string>

namespace udal::vulkan::test {

std::vector<uint8_t> kernel_spirv(const char* name) {
  return read_file(std::string(UDAL_VULKAN_KERNEL_DIR) + "/" + name + ".spv");
}

void VulkanDriverTest::SetUp() {
  // The driver reads them when it creates its devices, i.e. in udal_instance_create.
  if (force_staging_) {
    setenv("UDAL_VULKAN_FORCE_STAGING", "1", 1);
  } else {
    unsetenv("UDAL_VULKAN_FORCE_STAGING");
  }
  // The tests' pipeline cache goes to the build tree, not the user's cache directory.
  setenv("UDAL_VULKAN_PIPELINE_CACHE", UDAL_VULKAN_TEST_CACHE_DIR, 0);
  if (device_copies_ > 1) {
    setenv("UDAL_VULKAN_DEVICE_COPIES", std::to_string(device_copies_).c_str(), 1);
  } else {
    unsetenv("UDAL_VULKAN_DEVICE_COPIES");
  }
  io_wait_ns_ = kWaitNs;
  udal_instance_t instance = nullptr;
  UDAL_ASSERT_OK(create_instance(UDAL_VULKAN_MANIFEST, &instance));
  instance_.reset(instance);
  // LeakSanitizer symbolizes at exit, when the Vulkan loader and libudal have unloaded
  // Mesa's ICD and this driver: their frames would read "<unknown module>", which no
  // suppression can name (and which would hide this driver's own leaks). Keep both mapped.
  static const bool pinned = [] {
    dlopen("libvulkan_lvp.so", RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
    dlopen(UDAL_VULKAN_DRIVER_LIBRARY, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
    return true;
  }();
  (void)pinned;
  if (device_count(instance) == 0) {
    GTEST_SKIP() << "no Vulkan device with compute (is lavapipe installed?)";
  }
  use_device();
}

void VulkanDriverTest::TearDown() {
  unsetenv("UDAL_VULKAN_FORCE_STAGING");
  unsetenv("UDAL_VULKAN_DEVICE_COPIES");
}

Kernel VulkanDriverTest::make_kernel(const char* name) { return make_kernel_from(name, name); }

Kernel VulkanDriverTest::make_kernel_from(const char* file, const char* name) {
  Module module = make_module(device_, UDAL_MODULE_FORMAT_SPIRV_COMPUTE, kernel_spirv(file));
  if (!module) return nullptr;
  modules_.push_back(std::move(module));
  return ::udal::test::make_kernel(modules_.back().get(), name);
}

}  // namespace udal::vulkan::test
