// Streams and events: order inside a stream, across streams through events, timeouts,
// timestamps, work that runs without synchronize, and enqueueing from several threads.
#include <thread>

#include "fixture.h"

namespace udal::vulkan::test {
namespace {

using StreamTest = VulkanDriverTest;

// Groups of kSpinIterations iterations of spin.comp that take well over a second on
// lavapipe, which caps loops at 65535 iterations.
constexpr uint32_t kSpinIterations = 60'000;
constexpr uint32_t kLongSpinGroups = 2'000;

TEST_F(StreamTest, KernelsAndCopiesStayInOrder) {
  Kernel spin = make_kernel("spin");
  Buffer counter = make_buffer(8), copy = make_buffer(8);
  ASSERT_TRUE(spin && counter && copy);
  const uint32_t zero = 0, iterations = 1000;
  write(counter.get(), 0, &zero, 4);
  udal_stream_t s = io_stream_.get();
  // counter += 1 a hundred times, each followed by a copy: the last copy must see 100.
  for (int k = 0; k < 100; ++k) {
    UDAL_ASSERT_OK(launch(s, spin.get(), {udal_arg_buffer(counter.get(), 0), udal_arg_value(&iterations, 4)}));
    UDAL_ASSERT_OK(udal_stream_copy_buffer(s, counter.get(), 0, copy.get(), 0, 4));
  }
  std::vector<uint8_t> back = read(copy.get(), 0, 4);
  uint32_t got;
  std::memcpy(&got, back.data(), 4);
  EXPECT_EQ(100u, got);
}

TEST_F(StreamTest, HostReadCompletesWithoutSynchronize) {
  Buffer buffer = make_buffer(64);
  ASSERT_TRUE(buffer);
  Stream stream = make_stream();
  Event done = make_event();
  const uint32_t pattern = 0x12345678;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 64, &pattern, 4));
  uint32_t word = 0;
  UDAL_ASSERT_OK(udal_stream_read_buffer(stream.get(), buffer.get(), 60, &word, 4));
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), done.get()));
  UDAL_ASSERT_OK(udal_event_wait(done.get(), kWaitNs));
  EXPECT_EQ(pattern, word);
  // A read alone, no event and no synchronize, also runs: poll its result.
  uint32_t second = 0;
  UDAL_ASSERT_OK(udal_stream_read_buffer(stream.get(), buffer.get(), 0, &second, 4));
  for (int k = 0; k < 20000 && __atomic_load_n(&second, __ATOMIC_ACQUIRE) != pattern; ++k) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  EXPECT_EQ(pattern, __atomic_load_n(&second, __ATOMIC_ACQUIRE));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
}

TEST_F(StreamTest, EventsOrderWorkAcrossStreams) {
  Kernel spin = make_kernel("spin");
  Buffer counter = make_buffer(8);
  ASSERT_TRUE(spin && counter);
  Stream a = make_stream(), b = make_stream();
  Event event = make_event();
  const uint32_t zero = 0, iterations = 2'000'000;
  write(counter.get(), 0, &zero, 4);
  UDAL_ASSERT_OK(launch(a.get(), spin.get(), {udal_arg_buffer(counter.get(), 0), udal_arg_value(&iterations, 4)}));
  UDAL_ASSERT_OK(udal_stream_record_event(a.get(), event.get()));
  UDAL_ASSERT_OK(udal_stream_wait_event(b.get(), event.get()));
  uint32_t seen = 0;
  UDAL_ASSERT_OK(udal_stream_read_buffer(b.get(), counter.get(), 0, &seen, 4));
  UDAL_ASSERT_OK(udal_stream_synchronize(b.get(), kWaitNs));
  EXPECT_EQ(1u, seen) << "stream b read before stream a's kernel finished";
  EXPECT_EQ(UDAL_SUCCESS, udal_event_query(event.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(a.get(), kWaitNs));
}

TEST_F(StreamTest, TimeoutsExpireWhileWorkRuns) {
  Kernel spin = make_kernel("spin");
  Buffer counter = make_buffer(8);
  ASSERT_TRUE(spin && counter);
  Stream stream = make_stream();
  Event event = make_event();
  EXPECT_EQ(UDAL_SUCCESS, udal_event_query(event.get())) << "never recorded is complete";
  UDAL_ASSERT_OK(launch(stream.get(), spin.get(), {udal_arg_buffer(counter.get(), 0), udal_arg_value(&kSpinIterations, 4)}, kLongSpinGroups));
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), event.get()));
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 0));
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 1'000'000));
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_event_wait(event.get(), 1'000'000));
  EXPECT_EQ(UDAL_NOT_READY, udal_event_query(event.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(UDAL_SUCCESS, udal_event_query(event.get()));
}

TEST_F(StreamTest, ElapsedTimeCoversTheWorkBetweenRecords) {
  Kernel spin = make_kernel("spin");
  Buffer counter = make_buffer(8);
  ASSERT_TRUE(spin && counter);
  Event start = make_event(), end = make_event();
  uint64_t ns = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_event_elapsed_ns(start.get(), end.get(), &ns),
                    "never recorded");
  const uint32_t iterations = 5'000'000;
  UDAL_ASSERT_OK(udal_stream_record_event(io_stream_.get(), start.get()));
  UDAL_ASSERT_OK(launch(io_stream_.get(), spin.get(), {udal_arg_buffer(counter.get(), 0), udal_arg_value(&iterations, 4)}));
  UDAL_ASSERT_OK(udal_stream_record_event(io_stream_.get(), end.get()));
  UDAL_ASSERT_OK(udal_event_wait(end.get(), kWaitNs));
  UDAL_ASSERT_OK(udal_event_elapsed_ns(start.get(), end.get(), &ns));
  EXPECT_GT(ns, 1000u) << "5 million dependent steps take more than a microsecond";
}

TEST_F(StreamTest, EnqueueFromSeveralThreadsOnOneStream) {
  Kernel kernel = make_kernel("store_u32");
  ASSERT_TRUE(kernel);
  constexpr int kThreads = 4, kPerThread = 50;
  Buffer out = make_buffer(kThreads * kPerThread * 4);
  ASSERT_TRUE(out);
  Stream shared = make_stream();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        const uint32_t value = static_cast<uint32_t>(t * 1000 + k), n = 1;
        udal_kernel_arg_t args[3] = {
            udal_arg_buffer(out.get(), static_cast<uint64_t>(t * kPerThread + k) * 4),
            udal_arg_value(&value, 4), udal_arg_value(&n, 4)};
        udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
        desc.args = args;
        desc.arg_count = 3;
        if (udal_stream_launch(shared.get(), kernel.get(), &desc) != UDAL_SUCCESS) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(0, failures.load());
  UDAL_ASSERT_OK(udal_stream_synchronize(shared.get(), kWaitNs));
  std::vector<uint8_t> back = read(out.get(), 0, kThreads * kPerThread * 4);
  for (int t = 0; t < kThreads; ++t) {
    for (int k = 0; k < kPerThread; ++k) {
      uint32_t word;
      std::memcpy(&word, back.data() + (t * kPerThread + k) * 4, 4);
      ASSERT_EQ(static_cast<uint32_t>(t * 1000 + k), word);
    }
  }
}

}  // namespace
}  // namespace udal::vulkan::test
