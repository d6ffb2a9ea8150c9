// fixture.h — the OpenCL driver's tests: udal::test::DeviceTest (testing/udal_test.h: RAII
// handles, result assertions that print and require the message, write/read helpers) on the
// first device of an instance that loads only the build tree's opencl manifest, with the test
// kernels (OpenCL C source, and SPIR-V compiled from it by clang + llvm-spirv at build time).
#ifndef UDAL_OPENCL_TEST_FIXTURE_H_
#define UDAL_OPENCL_TEST_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "udal/udal.h"
#include "udal_test.h"

namespace udal::opencl::test {

using namespace ::udal::test;

// The OpenCL C source of the test kernels, and their SPIR-V.
std::vector<uint8_t> kernel_source(const char* file = "test_kernels.cl");
std::vector<uint8_t> kernel_spirv(const char* file = "test_kernels.spv");

// An instance of the opencl driver alone (the build tree's manifest), with the tests' program
// cache and the OpenCL libraries kept mapped for LeakSanitizer.
udal_result_t create_opencl_instance(udal_instance_t* out);

constexpr uint64_t kWaitNs = 30'000'000'000ull;

class OpenclDriverTest : public DeviceTest {
protected:
  void SetUp() override;

  // Kernel |name| of the test kernels in |format| (OPENCL_C or SPIRV_KERNEL); the module is
  // kept by the fixture.
  Kernel make_kernel(const char* name, udal_module_format_t format = UDAL_MODULE_FORMAT_OPENCL_C);

  std::vector<Module> modules_;
};

// The cache directory (XDG_CACHE_HOME) of the tests.
std::string test_cache_home();

} // namespace udal::opencl::test

#endif // UDAL_OPENCL_TEST_FIXTURE_H_
