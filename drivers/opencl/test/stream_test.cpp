// Streams, events (plain, TIMING, HOST_SIGNAL) and host functions.
#include <atomic>
#include <thread>

#include "fixture.h"

namespace udal::opencl::test {
namespace {

class StreamTest : public OpenclDriverTest {
protected:
  void SetUp() override {
    OpenclDriverTest::SetUp();
    if (IsSkipped())
      return;
    spin_ = make_kernel("spin");
    scratch_ = make_buffer(4 * 1024);
    ASSERT_TRUE(spin_ && scratch_);
  }
  // Work that lasts a while (many groups of dependent steps) on |stream|.
  void enqueue_spin(udal_stream_t stream, uint32_t rounds = 3'000'000) {
    UDAL_ASSERT_OK(launch(stream, spin_.get(),
                          {udal_arg_buffer(scratch_.get(), 0), udal_arg_value(&rounds, 4)}, 8, 32));
  }
  Kernel spin_;
  Buffer scratch_;
};

TEST_F(StreamTest, StreamIsInOrder) {
  Stream stream = make_stream();
  Buffer buffer = make_buffer(4 * 64);
  Kernel add = make_kernel("add_u32");
  const uint32_t zero = 0;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 4 * 64, &zero, 4));
  const uint32_t n = 64;
  for (uint32_t value = 1; value <= 20; ++value) {
    UDAL_ASSERT_OK(
        launch(stream.get(), add.get(),
               {udal_arg_buffer(buffer.get(), 0), udal_arg_value(&value, 4), udal_arg_value(&n, 4)},
               2, 32));
  }
  std::vector<uint32_t> host(64, 1);
  UDAL_ASSERT_OK(udal_stream_read_buffer(stream.get(), buffer.get(), 0, host.data(), 4 * 64));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(host, std::vector<uint32_t>(64, 210));
}

TEST_F(StreamTest, SynchronizeWithATimeoutReturnsTimeoutWhileWorkRuns) {
  Stream stream = make_stream();
  Event gate = make_event(UDAL_EVENT_FLAG_HOST_SIGNAL);
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  enqueue_spin(stream.get(), 1000);
  EXPECT_EQ(udal_stream_synchronize(stream.get(), 0), UDAL_TIMEOUT);
  EXPECT_EQ(udal_stream_synchronize(stream.get(), 2'000'000), UDAL_TIMEOUT);
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_EXPECT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
}

TEST_F(StreamTest, EventOrdersWorkAcrossStreams) {
  Stream producer = make_stream();
  Stream consumer = make_stream();
  Event ready = make_event();
  Buffer buffer = make_buffer(4 * 256);
  Buffer copy = make_buffer(4 * 256);
  enqueue_spin(producer.get());
  const uint32_t pattern = 0xfeedf00d;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(producer.get(), buffer.get(), 0, 4 * 256, &pattern, 4));
  UDAL_ASSERT_OK(udal_stream_record_event(producer.get(), ready.get()));
  UDAL_ASSERT_OK(udal_stream_wait_event(consumer.get(), ready.get()));
  UDAL_ASSERT_OK(udal_stream_copy_buffer(consumer.get(), buffer.get(), 0, copy.get(), 0, 4 * 256));
  UDAL_ASSERT_OK(udal_stream_synchronize(consumer.get(), kWaitNs));
  EXPECT_EQ(udal_event_query(ready.get()), UDAL_SUCCESS);
  EXPECT_EQ(read_as<uint32_t>(copy.get(), 256), std::vector<uint32_t>(256, pattern));
}

TEST_F(StreamTest, NeverRecordedEventIsComplete) {
  Event event = make_event();
  EXPECT_EQ(udal_event_query(event.get()), UDAL_SUCCESS);
  EXPECT_EQ(udal_event_wait(event.get(), 0), UDAL_SUCCESS);
  Stream stream = make_stream();
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), event.get()));
  UDAL_EXPECT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
}

TEST_F(StreamTest, EventWaitHonoursItsTimeout) {
  Stream stream = make_stream();
  Event gate = make_event(UDAL_EVENT_FLAG_HOST_SIGNAL);
  Event done = make_event();
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), done.get()));
  EXPECT_EQ(udal_event_query(done.get()), UDAL_NOT_READY);
  EXPECT_EQ(udal_event_wait(done.get(), 1'000'000), UDAL_TIMEOUT);
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_EXPECT_OK(udal_event_wait(done.get(), kWaitNs));
  UDAL_EXPECT_OK(udal_event_wait(done.get(), UDAL_TIMEOUT_INFINITE));
}

TEST_F(StreamTest, TimingEventsMeasureTheWorkBetweenThem) {
  if ((info_.features & UDAL_DEVICE_FEATURE_TIMESTAMPS) == 0)
    GTEST_SKIP() << "no TIMESTAMPS";
  Stream stream = make_stream();
  Event start = make_event(UDAL_EVENT_FLAG_TIMING);
  Event end = make_event(UDAL_EVENT_FLAG_TIMING);
  uint64_t ns = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_event_elapsed_ns(start.get(), end.get(), &ns),
                    "never recorded");
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), start.get()));
  enqueue_spin(stream.get());
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), end.get()));
  UDAL_ASSERT_OK(udal_event_wait(end.get(), kWaitNs));
  UDAL_ASSERT_OK(udal_event_elapsed_ns(start.get(), end.get(), &ns));
  EXPECT_GT(ns, 0u);
  // Reversed: end completed before start, so 0, never a wrapped value.
  uint64_t reversed = 1;
  UDAL_ASSERT_OK(udal_event_elapsed_ns(end.get(), start.get(), &reversed));
  EXPECT_EQ(reversed, 0u);
  Event plain = make_event();
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), plain.get()));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_event_elapsed_ns(start.get(), plain.get(), &ns), "UDAL_EVENT_FLAG_TIMING");
}

TEST_F(StreamTest, HostSignalEventRules) {
  Stream stream = make_stream();
  Event host = make_event(UDAL_EVENT_FLAG_HOST_SIGNAL);
  Event plain = make_event();
  EXPECT_EQ(udal_event_query(host.get()), UDAL_NOT_READY);
  EXPECT_EQ(udal_event_wait(host.get(), 1000), UDAL_TIMEOUT);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_record_event(stream.get(), host.get()),
                    "HOST_SIGNAL");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_signal(plain.get()), "HOST_SIGNAL");
  UDAL_ASSERT_OK(udal_event_signal(host.get()));
  EXPECT_EQ(udal_event_query(host.get()), UDAL_SUCCESS);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_event_signal(host.get()), "already");
  udal_event_desc_t both = UDAL_EVENT_DESC_INIT;
  both.flags = UDAL_EVENT_FLAG_TIMING | UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t event = nullptr;
  EXPECT_EQ(udal_event_create(device_, &both, &event), UDAL_ERROR_INVALID_ARGUMENT);
}

TEST_F(StreamTest, DestroyingAnUnsignalledHostEventReleasesItsWaiters) {
  Stream stream = make_stream();
  udal_event_t host = nullptr;
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  UDAL_ASSERT_OK(udal_event_create(device_, &desc, &host));
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), host));
  Buffer buffer = make_buffer(4);
  const uint32_t value = 9;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 4, &value, 4));
  EXPECT_EQ(udal_stream_synchronize(stream.get(), 1'000'000), UDAL_TIMEOUT);
  UDAL_ASSERT_OK(udal_event_destroy(host));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(read_as<uint32_t>(buffer.get(), 1)[0], 9u);
}

struct HostCalls {
  std::atomic<int> calls{0};
  std::atomic<uint32_t> seen{0};
  std::atomic<bool> release{false};
  uint32_t* word = nullptr; // a mapped HOST buffer the device wrote before the call
};

TEST_F(StreamTest, HostFunctionRunsAfterEarlierWorkAndBeforeLaterWork) {
  Stream stream = make_stream();
  Buffer buffer = make_buffer(4, UDAL_BUFFER_KIND_HOST);
  void* pointer = nullptr;
  UDAL_ASSERT_OK(udal_buffer_map(buffer.get(), 0, 4, &pointer));
  HostCalls state;
  state.word = static_cast<uint32_t*>(pointer);
  *state.word = 0;
  enqueue_spin(stream.get());
  const uint32_t first = 11;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 4, &first, 4));
  UDAL_ASSERT_OK(udal_stream_enqueue_host_function(
      stream.get(),
      [](void* user) {
        auto* s = static_cast<HostCalls*>(user);
        s->seen = *s->word; // the fill before the call has completed
        // Later work waits for the function: hold it until the test releases us.
        while (!s->release)
          std::this_thread::yield();
        *s->word = 22;
        ++s->calls;
      },
      &state));
  const uint32_t third = 33;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 4, &third, 4));
  EXPECT_EQ(udal_stream_synchronize(stream.get(), 1'000'000), UDAL_TIMEOUT);
  state.release = true;
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(state.calls, 1);
  EXPECT_EQ(state.seen, 11u);
  EXPECT_EQ(*state.word, 33u); // the fill after the call ran after it
  UDAL_ASSERT_OK(udal_buffer_unmap(buffer.get()));
}

TEST_F(StreamTest, HostFunctionsRunInOrderAndMayCallUdal) {
  Stream stream = make_stream();
  struct Log {
    std::vector<int> order;
    udal_event_t event = nullptr;
    udal_result_t signalled = UDAL_ERROR_INTERNAL;
  } log;
  Event event = make_event(UDAL_EVENT_FLAG_HOST_SIGNAL);
  log.event = event.get();
  for (int i = 0; i < 5; ++i) {
    UDAL_ASSERT_OK(udal_stream_enqueue_host_function(
        stream.get(), [](void* user) { static_cast<Log*>(user)->order.push_back(0); }, &log));
  }
  UDAL_ASSERT_OK(udal_stream_enqueue_host_function(
      stream.get(),
      [](void* user) {
        auto* l = static_cast<Log*>(user);
        l->order.push_back(1);
        l->signalled = udal_event_signal(l->event);
      },
      &log));
  UDAL_ASSERT_OK(udal_event_wait(event.get(), kWaitNs));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(log.order, (std::vector<int>{0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(log.signalled, UDAL_SUCCESS);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_enqueue_host_function(stream.get(), nullptr, nullptr));
}

// Instance release with work in flight: the driver finishes it and stops its threads before
// it returns (no driver code may run once libudal unloads it).
TEST_F(StreamTest, InstanceReleaseWaitsForWorkInFlight) {
  udal_instance_t instance = nullptr;
  UDAL_ASSERT_OK(create_opencl_instance(&instance));
  udal_device_t device = nullptr;
  UDAL_ASSERT_OK(udal_instance_get_device(instance, 0, &device));
  udal_stream_t stream = nullptr;
  UDAL_ASSERT_OK(udal_stream_create(device, nullptr, &stream));
  udal_event_t gate = nullptr;
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  UDAL_ASSERT_OK(udal_event_create(device, &desc, &gate));
  UDAL_ASSERT_OK(udal_stream_wait_event(stream, gate)); // never signalled
  std::atomic<int> calls{0};
  UDAL_ASSERT_OK(udal_stream_enqueue_host_function(
      stream, [](void* user) { ++*static_cast<std::atomic<int>*>(user); }, &calls));
  udal_buffer_desc_t buffer_desc = UDAL_BUFFER_DESC_INIT;
  buffer_desc.size = 64;
  buffer_desc.kind = UDAL_BUFFER_KIND_HOST;
  udal_buffer_t buffer = nullptr;
  UDAL_ASSERT_OK(udal_buffer_create(device, &buffer_desc, &buffer));
  // Stream, event and buffer are left alive.
  UDAL_ASSERT_OK(udal_instance_release(instance));
  EXPECT_EQ(calls.load(), 1);
}

// ---------------------------------------------------------------------------------------
// Objects of another device (ctest opencl.TwoDevices runs PoCL with two devices)
// ---------------------------------------------------------------------------------------

TEST(TwoDevices, ObjectsOfAnotherDeviceAreInvalidHandles) {
  udal_instance_t raw = nullptr;
  UDAL_ASSERT_OK(create_opencl_instance(&raw));
  Instance instance(raw);
  uint32_t count = 0;
  UDAL_ASSERT_OK(udal_instance_get_device_count(raw, &count));
  if (count < 2)
    GTEST_SKIP() << "runs under ctest's opencl.TwoDevices (POCL_DEVICES='pthread pthread')";
  udal_device_t a = nullptr;
  udal_device_t b = nullptr;
  UDAL_ASSERT_OK(udal_instance_get_device(raw, 0, &a));
  UDAL_ASSERT_OK(udal_instance_get_device(raw, 1, &b));
  udal_device_info_t info_a = UDAL_DEVICE_INFO_INIT;
  udal_device_info_t info_b = UDAL_DEVICE_INFO_INIT;
  UDAL_ASSERT_OK(udal_device_get_info(a, &info_a));
  UDAL_ASSERT_OK(udal_device_get_info(b, &info_b));
  EXPECT_NE(0, std::memcmp(info_a.uuid, info_b.uuid, UDAL_UUID_SIZE));

  udal_stream_t stream = nullptr;
  UDAL_ASSERT_OK(udal_stream_create(a, nullptr, &stream));
  Stream stream_owner(stream);
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 256;
  udal_buffer_t mine = nullptr;
  udal_buffer_t theirs = nullptr;
  UDAL_ASSERT_OK(udal_buffer_create(a, &desc, &mine));
  UDAL_ASSERT_OK(udal_buffer_create(b, &desc, &theirs));
  Buffer mine_owner(mine);
  Buffer theirs_owner(theirs);
  udal_event_t other_event = nullptr;
  UDAL_ASSERT_OK(udal_event_create(b, nullptr, &other_event));
  Event event_owner(other_event);
  udal_event_t own_event = nullptr;
  udal_event_desc_t timing = UDAL_EVENT_DESC_INIT;
  timing.flags = UDAL_EVENT_FLAG_TIMING;
  UDAL_ASSERT_OK(udal_event_create(a, &timing, &own_event));
  Event own_owner(own_event);
  udal_event_t other_timing = nullptr;
  UDAL_ASSERT_OK(udal_event_create(b, &timing, &other_timing));
  Event other_timing_owner(other_timing);
  uint8_t host[16] = {};
  const uint32_t pattern = 0;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE,
                    udal_stream_copy_buffer(stream, theirs, 0, mine, 0, 16), "device");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE,
                    udal_stream_fill_buffer(stream, theirs, 0, 16, &pattern, 4), "device");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_read_buffer(stream, theirs, 0, host, 16),
                    "device");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE,
                    udal_stream_write_buffer(stream, theirs, 0, host, 16), "device");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_record_event(stream, other_event),
                    "device");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_wait_event(stream, other_event),
                    "device");
  uint64_t ns = 0;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_event_elapsed_ns(own_event, other_timing, &ns),
                    "device");
  std::vector<uint8_t> source = kernel_source();
  udal_module_t module = nullptr;
  UDAL_ASSERT_OK(create_module(b, UDAL_MODULE_FORMAT_OPENCL_C, source, &module));
  Module module_owner(module);
  udal_kernel_t kernel = nullptr;
  UDAL_ASSERT_OK(udal_kernel_create(module, "add_u32", &kernel));
  Kernel kernel_owner(kernel);
  const uint32_t value = 1;
  const uint32_t n = 4;
  udal_kernel_arg_t args[3] = {udal_arg_buffer(mine, 0), udal_arg_value(&value, 4),
                               udal_arg_value(&n, 4)};
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  launch.args = args;
  launch.arg_count = 3;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_launch(stream, kernel, &launch),
                    "device");
  udal_module_t own_module = nullptr;
  UDAL_ASSERT_OK(create_module(a, UDAL_MODULE_FORMAT_OPENCL_C, source, &own_module));
  Module own_module_owner(own_module);
  udal_kernel_t own_kernel = nullptr;
  UDAL_ASSERT_OK(udal_kernel_create(own_module, "add_u32", &own_kernel));
  Kernel own_kernel_owner(own_kernel);
  args[0] = udal_arg_buffer(theirs, 0);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_launch(stream, own_kernel, &launch),
                    "device");
}

} // namespace
} // namespace udal::opencl::test
