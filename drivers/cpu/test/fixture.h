// fixture.h — the CPU driver's tests: udal::test::DeviceTest (testing/udal_test.h: RAII
// handles, result assertions that print the message, write/read helpers) on the first device
// of an instance that loads only the build tree's cpu manifest, with the test kernels
// (test_kernels.c) loaded.
#ifndef UDAL_CPU_TEST_FIXTURE_H_
#define UDAL_CPU_TEST_FIXTURE_H_

#include <gtest/gtest.h>

#include "udal/udal.h"
#include "udal_test.h"

namespace udal::cpu::test {

using namespace ::udal::test;

// A new instance that loads only this build's cpu driver (whatever UDAL_* variables the
// developer has set), or null with a test failure.
inline Instance open_cpu_instance() { return open_instance(UDAL_CPU_MANIFEST); }

class CpuDriverTest : public DeviceTest {
 protected:
  void SetUp() override;

  // A kernel of the test module (test_kernels.c).
  Kernel make_kernel(const char* name) {
    return ::udal::test::make_kernel(test_module_.get(), name);
  }

  Module test_module_;
};

}  // namespace udal::cpu::test

#endif  // UDAL_CPU_TEST_FIXTURE_H_
