// Objects of another device of the same driver: buffers, kernels and events given to a
// stream, and events given to udal_event_elapsed_ns, are UDAL_ERROR_INVALID_HANDLE (udal.h).
// Needs two devices of the driver under test; the CPU driver exposes several with
// UDAL_CPU_DEVICE_COUNT=N (docs/environment.md), and ctest runs these tests that way
// (cts.cpu.multi_device).
#include "cts.h"

#include <fmt/format.h>

namespace cts {
namespace {

class CrossDeviceTest : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped()) return;
    other_ = OtherDevice();
    if (other_ == nullptr) {
      GTEST_SKIP() << "needs a second device of driver " << GetParam().driver_name
                   << " (the CPU driver exposes several with UDAL_CPU_DEVICE_COUNT=2)";
    }
    stream_ = MakeStream();
    ASSERT_TRUE(stream_);
  }

  // A buffer of the other device holding |seed|'s pattern.
  Buffer ForeignBuffer(uint64_t size) {
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.size = size;
    Buffer buffer;
    EXPECT_OK(udal_buffer_create(other_->device, &desc, buffer.out()));
    return buffer;
  }

  const DeviceParam* other_ = nullptr;
  Stream stream_;
};

TEST_P(CrossDeviceTest, DevicesAreDistinct) {
  EXPECT_NE(0, std::memcmp(info().uuid, other_->info.uuid, UDAL_UUID_SIZE))
      << "two devices of one driver share a UUID";
  Buffer mine = MakeBuffer(64);
  Buffer foreign = ForeignBuffer(64);
  ASSERT_TRUE(mine && foreign);
  udal_buffer_info_t buffer_info = UDAL_BUFFER_INFO_INIT;
  ASSERT_OK(udal_buffer_get_info(foreign.get(), &buffer_info));
  EXPECT_EQ(other_->device, buffer_info.device);
}

TEST_P(CrossDeviceTest, BuffersOfAnotherDeviceAreInvalidHandle) {
  Buffer mine = MakeBuffer(256);
  Buffer foreign = ForeignBuffer(256);
  ASSERT_TRUE(mine && foreign);
  std::vector<uint8_t> model = Pattern(256, 91);
  Upload(stream_.get(), mine.get(), 0, model);
  udal_stream_t s = stream_.get();
  std::vector<uint8_t> host(256, 0x33);
  const uint32_t pattern = 0xf00f;
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_copy_buffer(s, foreign.get(), 0, mine.get(), 0, 64));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_copy_buffer(s, mine.get(), 0, foreign.get(), 0, 64));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_fill_buffer(s, foreign.get(), 0, 64, &pattern, 4));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_write_buffer(s, foreign.get(), 0, host.data(), 64));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_read_buffer(s, foreign.get(), 0, host.data(), 64));
  ASSERT_OK(udal_stream_synchronize(s, kWaitNs));
  EXPECT_EQ(std::vector<uint8_t>(256, 0x33), host) << "a refused read wrote host memory";
  EXPECT_EQ("", FirstDifference(model, ReadBack(s, mine.get(), 0, 256))) << "a refused copy wrote";
}

TEST_P(CrossDeviceTest, LaunchWithABufferOfAnotherDeviceIsInvalidHandle) {
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  Buffer foreign = ForeignBuffer(256);
  ASSERT_TRUE(kernel && foreign);
  const uint32_t n = 64, base = 0;
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE,
              Launch(stream_.get(), kernel.get(), {1, 1, 1}, {64, 1, 1},
                     {udal_arg_buffer(foreign.get(), 0), Value(n), Value(base)}));
}

TEST_P(CrossDeviceTest, KernelOfAnotherDeviceIsInvalidHandle) {
  KernelImages images = LoadKernelImages("fill_index");
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = images.images.data();
  desc.image_count = static_cast<uint32_t>(images.images.size());
  Module module;
  ASSERT_OK(udal_module_create(other_->device, &desc, module.out()));
  Kernel foreign;
  ASSERT_OK(udal_kernel_create(module.get(), "fill_index", foreign.out()));
  Buffer out = MakeBuffer(256);
  ASSERT_TRUE(out);
  const uint32_t n = 64, base = 0, poison = 0xabababab;
  ASSERT_OK(udal_stream_fill_buffer(stream_.get(), out.get(), 0, 256, &poison, 4));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE,
              Launch(stream_.get(), foreign.get(), {1, 1, 1}, {64, 1, 1},
                     {udal_arg_buffer(out.get(), 0), Value(n), Value(base)}));
  EXPECT_EQ(std::vector<uint32_t>(64, poison), ReadBackAs<uint32_t>(stream_.get(), out.get(), 64))
      << "the refused launch ran";
}

TEST_P(CrossDeviceTest, EventsOfAnotherDeviceAreInvalidHandle) {
  Event foreign;
  ASSERT_OK(udal_event_create(other_->device, nullptr, foreign.out()));
  Event foreign_signal;
  udal_event_desc_t signal_desc = UDAL_EVENT_DESC_INIT;
  signal_desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  ASSERT_OK(udal_event_create(other_->device, &signal_desc, foreign_signal.out()));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_record_event(stream_.get(), foreign.get()));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_wait_event(stream_.get(), foreign.get()));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_wait_event(stream_.get(), foreign_signal.get()));
  EXPECT_OK(udal_stream_synchronize(stream_.get(), kWaitNs))
      << "the refused wait on an unsignalled event of another device holds the stream";
}

TEST_P(CrossDeviceTest, ElapsedTimeBetweenEventsOfTwoDevicesIsInvalidHandle) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_TIMESTAMPS) || (other_->info.features & UDAL_DEVICE_FEATURE_TIMESTAMPS) == 0)
    GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_TIMESTAMPS on both devices";
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_TIMING;
  Event mine, foreign;
  ASSERT_OK(udal_event_create(device(), &desc, mine.out()));
  ASSERT_OK(udal_event_create(other_->device, &desc, foreign.out()));
  Stream other_stream;
  ASSERT_OK(udal_stream_create(other_->device, nullptr, other_stream.out()));
  ASSERT_OK(udal_stream_record_event(stream_.get(), mine.get()));
  ASSERT_OK(udal_stream_record_event(other_stream.get(), foreign.get()));
  ASSERT_OK(udal_stream_synchronize(stream_.get(), kWaitNs));
  ASSERT_OK(udal_stream_synchronize(other_stream.get(), kWaitNs));
  uint64_t ns = 5;
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_event_elapsed_ns(mine.get(), foreign.get(), &ns));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_event_elapsed_ns(foreign.get(), mine.get(), &ns));
  EXPECT_OK(udal_event_elapsed_ns(mine.get(), mine.get(), &ns));
}

// The second device works on its own at the same time: its stream's work is not held by a
// gate of the first device's stream.
TEST_P(CrossDeviceTest, EachDeviceRunsItsOwnWork) {
  Stream other_stream;
  ASSERT_OK(udal_stream_create(other_->device, nullptr, other_stream.out()));
  Buffer mine = MakeBuffer(64);
  Buffer foreign = ForeignBuffer(64);
  ASSERT_TRUE(mine && foreign);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  const uint32_t a = 1, b = 2;
  ASSERT_OK(gate.Hold(stream_.get()));
  ASSERT_OK(udal_stream_fill_buffer(stream_.get(), mine.get(), 0, 64, &a, 4));
  ASSERT_OK(udal_stream_fill_buffer(other_stream.get(), foreign.get(), 0, 64, &b, 4));
  ASSERT_OK(udal_stream_synchronize(other_stream.get(), kWaitNs));
  ASSERT_TRUE(StillPending(stream_.get()));
  std::vector<uint32_t> seen(16, 0);
  ASSERT_OK(udal_stream_read_buffer(other_stream.get(), foreign.get(), 0, seen.data(), 64));
  ASSERT_OK(udal_stream_synchronize(other_stream.get(), kWaitNs));
  EXPECT_EQ(std::vector<uint32_t>(16, b), seen);
  ASSERT_OK(gate.Open());
  EXPECT_EQ(std::vector<uint32_t>(16, a), ReadBackAs<uint32_t>(stream_.get(), mine.get(), 16));
}

}  // namespace

CTS_INSTANTIATE(CrossDeviceTest);

}  // namespace cts
