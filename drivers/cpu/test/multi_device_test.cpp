// Several devices of one driver (UDAL_CPU_DEVICE_COUNT): each is its own device, and every
// object of one given to another is UDAL_ERROR_INVALID_HANDLE.
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "fixture.h"

namespace udal::cpu::test {
namespace {

std::vector<udal_device_t> devices_of(udal_instance_t instance) {
  uint32_t count = 0;
  EXPECT_EQ(udal_instance_get_device_count(instance, &count), UDAL_SUCCESS);
  std::vector<udal_device_t> devices(count);
  for (uint32_t i = 0; i < count; ++i) {
    EXPECT_EQ(udal_instance_get_device(instance, i, &devices[i]), UDAL_SUCCESS);
  }
  return devices;
}

TEST(CpuDeviceCount, TheEnvironmentSetsHowManyDevicesThereAre) {
  ScopedEnvironment count("UDAL_CPU_DEVICE_COUNT", "3");
  Instance instance = open_cpu_instance();
  ASSERT_TRUE(instance);
  std::vector<udal_device_t> devices = devices_of(instance.get());
  ASSERT_EQ(devices.size(), 3u);
  std::set<std::string> names;
  std::set<std::string> uuids;
  for (uint32_t i = 0; i < 3; ++i) {
    udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
    UDAL_ASSERT_OK(udal_device_get_info(devices[i], &info));
    EXPECT_NE(std::string(info.name).find("device " + std::to_string(i) + " of 3"), std::string::npos)
        << info.name;
    names.insert(info.name);
    uuids.insert(std::string(reinterpret_cast<const char*>(info.uuid), UDAL_UUID_SIZE));
    EXPECT_EQ(info.device_type, UDAL_DEVICE_TYPE_CPU);
  }
  EXPECT_EQ(names.size(), 3u);
  EXPECT_EQ(uuids.size(), 3u) << "UUIDs must be unique per device";
  // And stable: the same count gives the same UUIDs.
  Instance again = open_cpu_instance();
  udal_device_info_t first = UDAL_DEVICE_INFO_INIT;
  UDAL_ASSERT_OK(udal_device_get_info(devices_of(again.get())[2], &first));
  EXPECT_EQ(uuids.count(std::string(reinterpret_cast<const char*>(first.uuid), UDAL_UUID_SIZE)), 1u);
}

TEST(CpuDeviceCount, ABadCountFailsTheDriverWithTheReason) {
  for (const char* value : {"0", "17", "two", "3x", "-1"}) {
    ScopedEnvironment count("UDAL_CPU_DEVICE_COUNT", value);
    Instance instance = open_cpu_instance();
    ASSERT_TRUE(instance);
    uint32_t devices = 1;
    UDAL_ASSERT_OK(udal_instance_get_device_count(instance.get(), &devices));
    EXPECT_EQ(devices, 0u) << value;
    udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
    UDAL_ASSERT_OK(udal_instance_get_driver_status(instance.get(), 0, &status));
    EXPECT_EQ(status.state, UDAL_DRIVER_STATE_FAILED) << value;
    EXPECT_NE(std::string(status.reason).find("UDAL_CPU_DEVICE_COUNT"), std::string::npos)
        << status.reason;
    EXPECT_NE(std::string(status.reason).find(value), std::string::npos) << status.reason;
  }
}

// Two devices of one driver; objects made on each.
class TwoDevicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ScopedEnvironment count("UDAL_CPU_DEVICE_COUNT", "2");
    instance_ = open_cpu_instance();
    ASSERT_TRUE(instance_);
    std::vector<udal_device_t> devices = devices_of(instance_.get());
    ASSERT_EQ(devices.size(), 2u);
    for (int d = 0; d < 2; ++d) {
      Side& side = sides_[d];
      side.device = devices[d];
      udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
      desc.size = 256;
      udal_buffer_t buffer = nullptr;
      UDAL_ASSERT_OK(udal_buffer_create(side.device, &desc, &buffer));
      side.buffer.reset(buffer);
      udal_stream_t stream = nullptr;
      UDAL_ASSERT_OK(udal_stream_create(side.device, nullptr, &stream));
      side.stream.reset(stream);
      udal_event_desc_t event_desc = UDAL_EVENT_DESC_INIT;
      event_desc.flags = UDAL_EVENT_FLAG_TIMING;
      udal_event_t event = nullptr;
      UDAL_ASSERT_OK(udal_event_create(side.device, &event_desc, &event));
      side.event.reset(event);
      side.module = make_module(side.device, UDAL_MODULE_FORMAT_HOST_NATIVE, UDAL_CPU_TEST_KERNELS);
      ASSERT_TRUE(side.module);
      side.kernel = make_kernel(side.module.get(), "add_one");
      ASSERT_TRUE(side.kernel);
    }
  }

  struct Side {
    udal_device_t device = nullptr;
    Buffer buffer;
    Stream stream;
    Event event;
    Module module;
    Kernel kernel;
  };
  Instance instance_;  // first: released after the objects
  Side sides_[2];
};

TEST_F(TwoDevicesTest, ObjectsOfTheOtherDeviceAreInvalidHandles) {
  udal_stream_t s = sides_[0].stream.get();
  udal_buffer_t mine = sides_[0].buffer.get();
  udal_buffer_t theirs = sides_[1].buffer.get();
  const uint32_t pattern = 1;
  std::vector<uint8_t> host(64);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_copy_buffer(s, theirs, 0, mine, 0, 64),
                    "device 1 of 2", "device 0 of 2");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_copy_buffer(s, mine, 0, theirs, 0, 64));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_fill_buffer(s, theirs, 0, 64, &pattern, 4));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_write_buffer(s, theirs, 0, host.data(), 64));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_read_buffer(s, theirs, 0, host.data(), 64));
  const uint32_t n = 1;
  std::vector<udal_kernel_arg_t> theirs_as_arg = {udal_arg_buffer(theirs, 0), udal_arg_value(&n, 4)};
  std::vector<udal_kernel_arg_t> mine_as_arg = {udal_arg_buffer(mine, 0), udal_arg_value(&n, 4)};
  udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
  desc.args = theirs_as_arg.data();
  desc.arg_count = 2;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_launch(s, sides_[0].kernel.get(), &desc),
                    "args[0]");
  desc.args = mine_as_arg.data();
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_launch(s, sides_[1].kernel.get(), &desc),
                    "'add_one'");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_record_event(s, sides_[1].event.get()));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_wait_event(s, sides_[1].event.get()));
  uint64_t ns = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE,
                    udal_event_elapsed_ns(sides_[0].event.get(), sides_[1].event.get(), &ns));
  EXPECT_EQ(ns, 0u);
  // The same calls with this device's objects work.
  UDAL_ASSERT_OK(udal_stream_launch(s, sides_[0].kernel.get(), &desc));
  UDAL_ASSERT_OK(udal_stream_record_event(s, sides_[0].event.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(s, UDAL_TIMEOUT_INFINITE));
  UDAL_ASSERT_OK(udal_event_elapsed_ns(sides_[0].event.get(), sides_[0].event.get(), &ns));
}

TEST_F(TwoDevicesTest, EachDeviceCountsItsOwnMemory) {
  udal_memory_usage_t usage[2] = {UDAL_MEMORY_USAGE_INIT, UDAL_MEMORY_USAGE_INIT};
  for (int d = 0; d < 2; ++d) UDAL_ASSERT_OK(udal_device_get_memory_usage(sides_[d].device, &usage[d]));
  EXPECT_EQ(usage[0].device_allocated_bytes, 256u);
  EXPECT_EQ(usage[1].device_allocated_bytes, 256u);
  // Devices on one node share its memory: each one's budget leaves out what the other holds.
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  UDAL_ASSERT_OK(udal_device_get_info(sides_[0].device, &info));
  EXPECT_LE(usage[0].device_budget_bytes, info.device_memory_bytes);
}

TEST_F(TwoDevicesTest, BothDevicesRunWork) {
  const uint32_t n = 64;
  for (int d = 0; d < 2; ++d) {
    const uint32_t zero = 0;
    udal_stream_t s = sides_[d].stream.get();
    UDAL_ASSERT_OK(udal_stream_fill_buffer(s, sides_[d].buffer.get(), 0, 256, &zero, 4));
    udal_kernel_arg_t args[2] = {udal_arg_buffer(sides_[d].buffer.get(), 0), udal_arg_value(&n, 4)};
    udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
    desc.group_size[0] = 64;
    desc.args = args;
    desc.arg_count = 2;
    UDAL_ASSERT_OK(udal_stream_launch(s, sides_[d].kernel.get(), &desc));
    uint32_t back[64] = {};
    UDAL_ASSERT_OK(udal_stream_read_buffer(s, sides_[d].buffer.get(), 0, back, 256));
    UDAL_ASSERT_OK(udal_stream_synchronize(s, UDAL_TIMEOUT_INFINITE));
    for (uint32_t v : back) ASSERT_EQ(v, 1u) << "device " << d;
  }
}

}  // namespace
}  // namespace udal::cpu::test
