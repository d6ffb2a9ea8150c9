#include "fixture.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

namespace udal::opencl::test {

std::vector<uint8_t> kernel_source(const char* file) {
  return read_file(std::string(UDAL_OPENCL_KERNEL_SOURCE_DIR) + "/" + file);
}

std::vector<uint8_t> kernel_spirv(const char* file) {
  return read_file(std::string(UDAL_OPENCL_KERNEL_DIR) + "/" + file);
}

std::string test_cache_home() {
  return std::string(UDAL_OPENCL_TEST_TMP_DIR) + "/cache";
}

udal_result_t create_opencl_instance(udal_instance_t* out) {
  // LeakSanitizer symbolizes at exit, after libudal unloaded this driver and the ICD loader
  // dropped PoCL: their frames would read "<unknown module>", which no suppression can name
  // (and which would hide the driver's own leaks). Keep them mapped.
  static const bool pinned = [] {
    dlopen(UDAL_OPENCL_DRIVER_LIBRARY, RTLD_LAZY | RTLD_NODELETE);
    // Programs the tests build go to a cache of their own (the driver's, and PoCL's kernel
    // cache), not the user's; shared by the test processes, so each builds only once.
    setenv("XDG_CACHE_HOME", test_cache_home().c_str(), 0);
    return true;
  }();
  (void)pinned;
  udal_result_t r = create_instance(UDAL_OPENCL_MANIFEST, out);
  static const bool pinned_pocl = [] {
    dlopen("libpocl.so.2", RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
    return true;
  }();
  (void)pinned_pocl;
  return r;
}

void OpenclDriverTest::SetUp() {
  io_wait_ns_ = kWaitNs;
  udal_instance_t instance = nullptr;
  UDAL_ASSERT_OK(create_opencl_instance(&instance));
  instance_.reset(instance);
  if (device_count(instance) == 0) {
    udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
    udal_instance_get_driver_status(instance, 0, &status);
    GTEST_SKIP() << "no OpenCL device: " << status.reason;
  }
  use_device();
}

Kernel OpenclDriverTest::make_kernel(const char* name, udal_module_format_t format) {
  const std::vector<uint8_t> bytes =
      format == UDAL_MODULE_FORMAT_SPIRV_KERNEL ? kernel_spirv() : kernel_source();
  Module module = make_module(device_, format, bytes);
  if (!module)
    return nullptr;
  modules_.push_back(std::move(module));
  return ::udal::test::make_kernel(modules_.back().get(), name);
}

} // namespace udal::opencl::test
