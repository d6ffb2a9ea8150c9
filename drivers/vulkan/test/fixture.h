// fixture.h — the Vulkan driver's tests: udal::test::DeviceTest (testing/udal_test.h: RAII
// handles, result assertions that print and require the message, write/read helpers) on the
// first device of an instance that loads only the build tree's vulkan manifest, with SPIR-V
// kernels built from GLSL.
#ifndef UDAL_VULKAN_TEST_FIXTURE_H_
#define UDAL_VULKAN_TEST_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "udal/udal.h"
#include "udal_test.h"

namespace udal::vulkan::test {

using namespace ::udal::test;

// The SPIR-V of test kernel |name| (kernels/<name>.comp, entry point |name|).
std::vector<uint8_t> kernel_spirv(const char* name);

constexpr uint64_t kWaitNs = 20'000'000'000ull;
// The format of the test kernels.
constexpr udal_module_format_t kSpirv = UDAL_MODULE_FORMAT_SPIRV_COMPUTE;

class VulkanDriverTest : public DeviceTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  Kernel make_kernel(const char* name);  // from kernel_spirv(name), module kept by the fixture
  // Kernel |name| of the module of SPIR-V file |file| (kernels/<file>.spv), kept by the fixture.
  Kernel make_kernel_from(const char* file, const char* name);

  // Set by tests that run the staging paths (UDAL_VULKAN_FORCE_STAGING) before SetUp.
  bool force_staging_ = false;
  // Set by tests that need a second device (UDAL_VULKAN_DEVICE_COPIES) before SetUp.
  uint32_t device_copies_ = 1;
  std::vector<Module> modules_;
};

}  // namespace udal::vulkan::test

#endif  // UDAL_VULKAN_TEST_FIXTURE_H_
