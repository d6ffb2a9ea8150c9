// Releasing an instance with objects left and work in flight: the driver finishes that
// work and stops every thread before libudal unloads it (brief rule: no driver code runs
// after the driver is unloaded).
#include <dirent.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <string>

#include "fixture.h"

namespace udal::cpu::test {
namespace {

// Threads of this process the driver started (it names them "udal-cpu-*"; a sanitizer's
// own threads come and go as they please, so they are not counted).
int driver_threads() {
  int count = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      std::ifstream comm(std::string("/proc/self/task/") + entry->d_name + "/comm");
      std::string name;
      if (std::getline(comm, name) && name.rfind("udal-cpu-", 0) == 0) ++count;
    }
    closedir(dir);
  }
  return count;
}

std::atomic<int> g_host_calls{0};

TEST(CpuTeardown, ReleasingAnInstanceWithWorkInFlightRunsItAndStopsEveryThread) {
  ASSERT_EQ(driver_threads(), 0) << "this test needs a process without another instance";
  g_host_calls = 0;
  {
    ScopedEnvironment count("UDAL_CPU_DEVICE_COUNT", "2");
    Instance instance = open_cpu_instance();
    ASSERT_TRUE(instance);
    udal_device_t device = nullptr;
    UDAL_ASSERT_OK(udal_instance_get_device(instance.get(), 1, &device));
    // Objects the application never destroys: two streams held by a gate nobody signals,
    // each with a buffer, a kernel launch and a host function behind it.
    udal_event_desc_t gate_desc = UDAL_EVENT_DESC_INIT;
    gate_desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
    udal_event_t gate = nullptr;
    UDAL_ASSERT_OK(udal_event_create(device, &gate_desc, &gate));
    udal_module_t module =
        make_module(device, UDAL_MODULE_FORMAT_HOST_NATIVE, UDAL_CPU_TEST_KERNELS).release();
    ASSERT_NE(module, nullptr);
    udal_kernel_t kernel = nullptr;
    UDAL_ASSERT_OK(udal_kernel_create(module, "add_one", &kernel));
    for (int i = 0; i < 2; ++i) {
      // A buffer per stream: the two launches run at once when the gate goes, and two
      // streams writing one buffer unordered would be the test's own data race.
      udal_buffer_desc_t buffer_desc = UDAL_BUFFER_DESC_INIT;
      buffer_desc.size = 1 << 16;
      udal_buffer_t buffer = nullptr;
      UDAL_ASSERT_OK(udal_buffer_create(device, &buffer_desc, &buffer));
      udal_stream_t stream = nullptr;
      UDAL_ASSERT_OK(udal_stream_create(device, nullptr, &stream));
      UDAL_ASSERT_OK(udal_stream_wait_event(stream, gate));
      const uint32_t n = 1 << 14;
      udal_kernel_arg_t args[2] = {udal_arg_buffer(buffer, 0), udal_arg_value(&n, 4)};
      udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
      launch.group_count[0] = 64;
      launch.group_size[0] = 256;
      launch.args = args;
      launch.arg_count = 2;
      UDAL_ASSERT_OK(udal_stream_launch(stream, kernel, &launch));
      UDAL_ASSERT_OK(udal_stream_enqueue_host_function(
          stream, [](void*) { g_host_calls.fetch_add(1); }, nullptr));
    }
    EXPECT_EQ(udal_event_query(gate), UDAL_NOT_READY);
    // Two streams and the worker pool of the node.
    EXPECT_GE(driver_threads(), 3) << "the driver's threads are not named udal-cpu-*?";
    EXPECT_EQ(g_host_calls.load(), 0);
  }  // udal_instance_release
  EXPECT_EQ(g_host_calls.load(), 2) << "the work in flight was dropped, not run";
  EXPECT_EQ(driver_threads(), 0) << "a driver thread outlived the instance";
}

}  // namespace
}  // namespace udal::cpu::test
