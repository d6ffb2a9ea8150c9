#include "fixture.h"

namespace udal::cpu::test {

void CpuDriverTest::SetUp() {
  // One device, whatever the developer's environment says (tests of several devices set
  // UDAL_CPU_DEVICE_COUNT themselves).
  ScopedEnvironment one_device("UDAL_CPU_DEVICE_COUNT", nullptr);
  instance_ = open_cpu_instance();
  ASSERT_TRUE(instance_);
  ASSERT_GE(device_count(instance_.get()), 1u) << "the cpu driver reported no device";
  use_device();
  if (HasFatalFailure()) return;
  const std::vector<uint8_t> kernels = read_file(UDAL_CPU_TEST_KERNELS);
  ASSERT_FALSE(kernels.empty()) << "cannot read " << UDAL_CPU_TEST_KERNELS;
  test_module_ = make_module(device_, UDAL_MODULE_FORMAT_HOST_NATIVE, kernels);
  ASSERT_TRUE(test_module_);
}

}  // namespace udal::cpu::test
