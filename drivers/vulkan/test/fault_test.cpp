// Faults injected below the driver by VK_LAYER_UDAL_test_faults (fault_layer.cpp): a failed
// submission or allocation is reported as what it is, nothing waits for ever, and the
// device goes on working.
#include <cstdlib>

#include "fixture.h"

namespace udal::vulkan::test {
namespace {

class FaultTest : public VulkanDriverTest {
 protected:
  // |faults|: the UDAL_TEST_FAULT_* variables of this test.
  void start(std::vector<std::pair<const char*, const char*>> faults) {
    setenv("VK_LAYER_PATH", UDAL_VULKAN_TEST_LAYER_DIR, 1);
    setenv("VK_INSTANCE_LAYERS", "VK_LAYER_UDAL_test_faults", 1);
    for (auto [name, value] : faults) setenv(name, value, 1);
    faults_ = std::move(faults);
    VulkanDriverTest::SetUp();
  }
  void SetUp() override {}
  void TearDown() override {
    VulkanDriverTest::TearDown();
    unsetenv("VK_LAYER_PATH");
    unsetenv("VK_INSTANCE_LAYERS");
    for (auto [name, value] : faults_) unsetenv(name);
  }
  // A round trip through a new stream: the device still works.
  void expect_device_works() {
    Buffer buffer = make_buffer(64);
    ASSERT_TRUE(buffer);
    const uint32_t word = 0x600d;
    write(buffer.get(), 8, &word, 4);
    std::vector<uint8_t> back = read(buffer.get(), 8, 4);
    uint32_t got;
    std::memcpy(&got, back.data(), 4);
    EXPECT_EQ(word, got);
  }
  std::vector<std::pair<const char*, const char*>> faults_;
};

// Today any submit error was taken for a lost device, and a synchronize already waiting
// never returned.
TEST_F(FaultTest, SubmitOutOfMemoryFailsTheStreamAsOutOfMemory) {
  start({{"UDAL_TEST_FAULT_SUBMIT", "1"}});
  if (IsSkipped() || HasFatalFailure()) return;
  Stream stream = make_stream();
  Buffer buffer = make_buffer(256);
  ASSERT_TRUE(stream && buffer);
  const uint32_t pattern = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                    udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 256, &pattern, 4),
                    "VK_ERROR_OUT_OF_DEVICE_MEMORY");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, udal_stream_synchronize(stream.get(), kWaitNs),
                    "failed earlier");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                    udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 256, &pattern, 4));
  expect_device_works();
}

TEST_F(FaultTest, SubmitFailureWithWorkInFlightWaitsForThatWork) {
  start({{"UDAL_TEST_FAULT_SUBMIT", "2"}});
  if (IsSkipped() || HasFatalFailure()) return;
  Stream stream = make_stream();
  Event done = make_event();
  const uint64_t size = 16 << 20;
  Buffer big = make_buffer(size), other = make_buffer(64);
  ASSERT_TRUE(stream && done && big && other);
  const uint32_t first = 0xa1, second = 0xb2;
  // Submission 1 (in flight), then operations gathered behind it and sealed by the record:
  // submission 2 fails.
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), big.get(), 0, size, &first, 4));
  const udal_result_t gathered = udal_stream_fill_buffer(stream.get(), other.get(), 0, 64, &second, 4);
  const udal_result_t recorded = udal_stream_record_event(stream.get(), done.get());
  EXPECT_TRUE(gathered == UDAL_ERROR_OUT_OF_DEVICE_MEMORY || recorded == UDAL_ERROR_OUT_OF_DEVICE_MEMORY)
      << udal_result_name(gathered) << " " << udal_result_name(recorded);
  // The buffer goes while its fill may still run: the driver keeps it until that completes.
  big.reset();
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, udal_stream_synchronize(stream.get(), kWaitNs));
  expect_device_works();
}

TEST_F(FaultTest, SubmitDeviceLostIsDeviceLostAndNothingHangs) {
  start({{"UDAL_TEST_FAULT_SUBMIT", "1"}, {"UDAL_TEST_FAULT_SUBMIT_RESULT", "device_lost"}});
  if (IsSkipped() || HasFatalFailure()) return;
  Stream stream = make_stream();
  Event gate = make_event(UDAL_EVENT_FLAG_HOST_SIGNAL), done = make_event();
  Buffer buffer = make_buffer(64);
  ASSERT_TRUE(stream && gate && done && buffer);
  // Held behind the gate, then the gate opens and the submission is "lost".
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  const uint32_t pattern = 3;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 64, &pattern, 4));
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), done.get()));
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_EXPECT_FAILS(UDAL_ERROR_DEVICE_LOST, udal_event_wait(done.get(), kWaitNs));
  UDAL_EXPECT_FAILS(UDAL_ERROR_DEVICE_LOST, udal_stream_synchronize(stream.get(), kWaitNs));
}

TEST_F(FaultTest, FailedAllocationIsOutOfDeviceMemoryAndTheNextOneWorks) {
  start({{"UDAL_TEST_FAULT_ALLOCATE", "1"}});
  if (IsSkipped() || HasFatalFailure()) return;
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 4096;
  udal_buffer_t buffer = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, udal_buffer_create(device_, &desc, &buffer),
                    "cannot allocate");
  EXPECT_EQ(nullptr, buffer);
  expect_device_works();
}

}  // namespace
}  // namespace udal::vulkan::test
