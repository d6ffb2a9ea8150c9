// Streams and events: order inside a stream, across streams through events, timeouts,
// timestamps, work that runs without synchronize, and enqueueing from several threads.
#include <atomic>
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
  Event start = make_event(UDAL_EVENT_FLAG_TIMING), end = make_event(UDAL_EVENT_FLAG_TIMING);
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
  // One word per launch, each at its own offset (a multiple of the argument alignment).
  const uint64_t stride = info_.buffer_argument_offset_alignment;
  Buffer out = make_buffer(kThreads * kPerThread * stride);
  ASSERT_TRUE(out);
  Stream shared = make_stream();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        const uint32_t value = static_cast<uint32_t>(t * 1000 + k), n = 1;
        udal_kernel_arg_t args[3] = {
            udal_arg_buffer(out.get(), static_cast<uint64_t>(t * kPerThread + k) * stride),
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
  std::vector<uint8_t> back = read(out.get(), 0, kThreads * kPerThread * stride);
  for (int t = 0; t < kThreads; ++t) {
    for (int k = 0; k < kPerThread; ++k) {
      uint32_t word;
      std::memcpy(&word, back.data() + (t * kPerThread + k) * stride, 4);
      ASSERT_EQ(static_cast<uint32_t>(t * 1000 + k), word);
    }
  }
}

}  // namespace
}  // namespace udal::vulkan::test

namespace udal::vulkan::test {
namespace {

TEST_F(StreamTest, ElapsedTimeNeedsTimingEventsAndEndBeforeStartIsZero) {
  Event plain = make_event(), start = make_event(UDAL_EVENT_FLAG_TIMING),
        end = make_event(UDAL_EVENT_FLAG_TIMING);
  ASSERT_TRUE(plain && start && end);
  uint64_t ns = 1;
  UDAL_ASSERT_OK(udal_stream_record_event(io_stream_.get(), plain.get()));
  UDAL_ASSERT_OK(udal_stream_record_event(io_stream_.get(), end.get()));
  UDAL_ASSERT_OK(udal_stream_record_event(io_stream_.get(), start.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), kWaitNs));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_elapsed_ns(plain.get(), end.get(), &ns),
                    "UDAL_EVENT_FLAG_TIMING", "start");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_elapsed_ns(start.get(), plain.get(), &ns),
                    "end");
  // |end| was recorded (and completed) before |start|.
  UDAL_ASSERT_OK(udal_event_elapsed_ns(start.get(), end.get(), &ns));
  EXPECT_EQ(0u, ns);
  UDAL_ASSERT_OK(udal_event_elapsed_ns(end.get(), start.get(), &ns));
  EXPECT_LT(ns, 60'000'000'000ull);
  // TIMING and HOST_SIGNAL do not combine; unknown flags are refused.
  for (udal_event_flags_t flags : {UDAL_EVENT_FLAG_TIMING | UDAL_EVENT_FLAG_HOST_SIGNAL,
                                   udal_event_flags_t{1} << 20}) {
    udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
    desc.flags = flags;
    udal_event_t event = nullptr;
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device_, &desc, &event));
    EXPECT_EQ(nullptr, event);
  }
}

// Timing events take their queries from pools that are reused: many records cost no new
// pool each (a pool per record before), and every elapsed time stays sane.
TEST_F(StreamTest, ManyTimingRecordsReuseTheirQueries) {
  Event a = make_event(UDAL_EVENT_FLAG_TIMING), b = make_event(UDAL_EVENT_FLAG_TIMING);
  ASSERT_TRUE(a && b);
  for (int k = 0; k < 600; ++k) {
    UDAL_ASSERT_OK(udal_stream_record_event(io_stream_.get(), a.get()));
    UDAL_ASSERT_OK(udal_stream_record_event(io_stream_.get(), b.get()));
  }
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), kWaitNs));
  uint64_t ns = 0;
  UDAL_ASSERT_OK(udal_event_elapsed_ns(a.get(), b.get(), &ns));
  EXPECT_LT(ns, 60'000'000'000ull);
}

TEST_F(StreamTest, HostSignalEventRules) {
  Event gate = make_event(UDAL_EVENT_FLAG_HOST_SIGNAL), plain = make_event();
  ASSERT_TRUE(gate && plain);
  EXPECT_EQ(UDAL_NOT_READY, udal_event_query(gate.get())) << "a HOST_SIGNAL event starts pending";
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_event_wait(gate.get(), 1'000'000));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_record_event(io_stream_.get(), gate.get()),
                    "HOST_SIGNAL");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_signal(plain.get()),
                    "UDAL_EVENT_FLAG_HOST_SIGNAL");
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  EXPECT_EQ(UDAL_SUCCESS, udal_event_query(gate.get()));
  UDAL_ASSERT_OK(udal_event_wait(gate.get(), 0));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_event_signal(gate.get()), "already signalled");
}

// A stream that waits on a host-signalled event holds its later work on the host: the one
// queue is not blocked, so another stream's work completes meanwhile.
TEST_F(StreamTest, GatedStreamHoldsItsWorkWithoutBlockingOtherStreams) {
  Stream a = make_stream(), b = make_stream();
  Event gate = make_event(UDAL_EVENT_FLAG_HOST_SIGNAL), a_done = make_event(), b_done = make_event();
  Buffer buffer = make_buffer(64);
  ASSERT_TRUE(a && b && gate && a_done && b_done && buffer);
  const uint32_t one = 1, two = 2;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(a.get(), buffer.get(), 0, 64, &one, 4));
  UDAL_ASSERT_OK(udal_stream_wait_event(a.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_fill_buffer(a.get(), buffer.get(), 0, 32, &two, 4));
  UDAL_ASSERT_OK(udal_stream_record_event(a.get(), a_done.get()));
  // b waits on a's record, which is itself held: b holds too, and a third stream goes on.
  UDAL_ASSERT_OK(udal_stream_wait_event(b.get(), a_done.get()));
  uint32_t seen_by_b = 0;
  UDAL_ASSERT_OK(udal_stream_read_buffer(b.get(), buffer.get(), 0, &seen_by_b, 4));
  UDAL_ASSERT_OK(udal_stream_record_event(b.get(), b_done.get()));
  Stream c = make_stream();
  Buffer other = make_buffer(64);
  UDAL_ASSERT_OK(udal_stream_fill_buffer(c.get(), other.get(), 0, 64, &two, 4));
  UDAL_ASSERT_OK(udal_stream_synchronize(c.get(), kWaitNs));
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(a.get(), 10'000'000));
  EXPECT_EQ(UDAL_NOT_READY, udal_event_query(a_done.get()));
  EXPECT_EQ(UDAL_NOT_READY, udal_event_query(b_done.get()));
  EXPECT_EQ(0u, __atomic_load_n(&seen_by_b, __ATOMIC_ACQUIRE));
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_event_wait(b_done.get(), kWaitNs));
  EXPECT_EQ(2u, seen_by_b) << "b read before a's gated fill";
  UDAL_ASSERT_OK(udal_stream_synchronize(a.get(), kWaitNs));
}

TEST_F(StreamTest, DestroyingAnUnsignalledEventReleasesItsWaiters) {
  Stream stream = make_stream();
  Buffer buffer = make_buffer(64);
  ASSERT_TRUE(stream && buffer);
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t gate = nullptr;
  UDAL_ASSERT_OK(udal_event_create(device_, &desc, &gate));
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate));
  const uint32_t value = 0x5eed;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 64, &value, 4));
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 1'000'000));
  UDAL_ASSERT_OK(udal_event_destroy(gate));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  std::vector<uint8_t> back = read(buffer.get(), 60, 4);
  uint32_t word;
  std::memcpy(&word, back.data(), 4);
  EXPECT_EQ(value, word);
}

struct HostCall {
  udal_buffer_t buffer = nullptr;
  uint32_t* mapped = nullptr;
  std::atomic<uint32_t> seen{0};
  std::atomic<bool> ran{false};
  std::thread::id thread;
};

void check_and_write(void* user_data) {
  auto* call = static_cast<HostCall*>(user_data);
  call->seen = __atomic_load_n(call->mapped, __ATOMIC_ACQUIRE);  // what the fill before wrote
  __atomic_store_n(call->mapped + 1, 0xf00du, __ATOMIC_RELEASE);  // for the copy after
  call->thread = std::this_thread::get_id();
  call->ran = true;
}

// A host function runs on a driver thread after all earlier work and before later work.
TEST_F(StreamTest, HostFunctionRunsBetweenEarlierAndLaterWork) {
  Stream stream = make_stream();
  Event gate = make_event(UDAL_EVENT_FLAG_HOST_SIGNAL);
  Buffer host = make_buffer(64, UDAL_BUFFER_KIND_HOST), copy = make_buffer(64);
  ASSERT_TRUE(stream && gate && host && copy);
  void* p = nullptr;
  UDAL_ASSERT_OK(udal_buffer_map(host.get(), 0, 64, &p));
  std::memset(p, 0, 64);
  HostCall call;
  call.buffer = host.get();
  call.mapped = static_cast<uint32_t*>(p);
  const uint32_t value = 0xbeef;
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), host.get(), 0, 4, &value, 4));
  UDAL_ASSERT_OK(udal_stream_enqueue_host_function(stream.get(), check_and_write, &call));
  UDAL_ASSERT_OK(udal_stream_copy_buffer(stream.get(), host.get(), 4, copy.get(), 0, 4));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(call.ran) << "the host function ran before the work before it";
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_TRUE(call.ran);
  EXPECT_EQ(value, call.seen.load());
  EXPECT_NE(std::this_thread::get_id(), call.thread);
  std::vector<uint8_t> back = read(copy.get(), 0, 4);
  uint32_t word;
  std::memcpy(&word, back.data(), 4);
  EXPECT_EQ(0xf00du, word) << "the copy after the host function did not see its write";
  UDAL_ASSERT_OK(udal_buffer_unmap(host.get()));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_enqueue_host_function(stream.get(), nullptr, nullptr));
}

struct Reenter {
  udal_stream_t other;
  udal_buffer_t buffer;
  std::atomic<udal_result_t> result{UDAL_ERROR_INTERNAL};
};

// A host function may call UDAL, e.g. enqueue work on another stream.
TEST_F(StreamTest, HostFunctionMayEnqueueOnAnotherStream) {
  Stream stream = make_stream(), other = make_stream();
  Buffer buffer = make_buffer(64);
  ASSERT_TRUE(stream && other && buffer);
  Reenter state{other.get(), buffer.get()};
  UDAL_ASSERT_OK(udal_stream_enqueue_host_function(
      stream.get(),
      [](void* user_data) {
        auto* s = static_cast<Reenter*>(user_data);
        const uint32_t value = 77;
        s->result = udal_stream_fill_buffer(s->other, s->buffer, 0, 64, &value, 4);
      },
      &state));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(UDAL_SUCCESS, state.result.load());
  UDAL_ASSERT_OK(udal_stream_synchronize(other.get(), kWaitNs));
  std::vector<uint8_t> back = read(buffer.get(), 0, 4);
  uint32_t word;
  std::memcpy(&word, back.data(), 4);
  EXPECT_EQ(77u, word);
}

void mark_ran(void* user_data) { static_cast<std::atomic<int>*>(user_data)->fetch_add(1); }

// Releasing the instance with work in flight: the driver waits for that work (a host
// function enqueued after it has run when the release returns) and drops work still held
// behind an unsignalled event; no driver thread outlives the release.
TEST_F(StreamTest, InstanceReleaseWaitsForWorkInFlight) {
  udal_instance_t instance = nullptr;
  UDAL_ASSERT_OK(create_instance(UDAL_VULKAN_MANIFEST, &instance));
  udal_device_t device = nullptr;
  UDAL_ASSERT_OK(udal_instance_get_device(instance, 0, &device));
  udal_stream_t running = nullptr, held = nullptr;
  UDAL_ASSERT_OK(udal_stream_create(device, nullptr, &running));
  UDAL_ASSERT_OK(udal_stream_create(device, nullptr, &held));
  udal_event_desc_t gate_desc = UDAL_EVENT_DESC_INIT;
  gate_desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t gate = nullptr;
  UDAL_ASSERT_OK(udal_event_create(device, &gate_desc, &gate));
  udal_buffer_desc_t buffer_desc = UDAL_BUFFER_DESC_INIT;
  buffer_desc.size = 16 << 20;
  udal_buffer_t buffer = nullptr;
  UDAL_ASSERT_OK(udal_buffer_create(device, &buffer_desc, &buffer));
  std::atomic<int> ran_after_work{0}, ran_after_gate{0};
  const uint32_t pattern = 3;
  for (int k = 0; k < 8; ++k) {
    UDAL_ASSERT_OK(udal_stream_fill_buffer(running, buffer, 0, 16 << 20, &pattern, 4));
  }
  UDAL_ASSERT_OK(udal_stream_enqueue_host_function(running, mark_ran, &ran_after_work));
  UDAL_ASSERT_OK(udal_stream_wait_event(held, gate));
  UDAL_ASSERT_OK(udal_stream_fill_buffer(held, buffer, 0, 64, &pattern, 4));
  UDAL_ASSERT_OK(udal_stream_enqueue_host_function(held, mark_ran, &ran_after_gate));
  UDAL_ASSERT_OK(udal_buffer_destroy(buffer));  // its memory lives until the fills complete
  // Streams and the (unsignalled) event are left for the release to clean up.
  UDAL_ASSERT_OK(udal_instance_release(instance));
  EXPECT_EQ(1, ran_after_work.load());
  EXPECT_EQ(0, ran_after_gate.load());
}

TEST_F(StreamTest, RecordAndWaitOneEventFromSeveralThreads) {
  constexpr int kThreads = 4, kRounds = 50;
  Buffer buffer = make_buffer(kThreads * 4);
  Event shared = make_event();
  ASSERT_TRUE(buffer && shared);
  std::vector<Stream> streams;
  for (int t = 0; t < kThreads; ++t) streams.push_back(make_stream());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kRounds; ++k) {
        const uint32_t value = static_cast<uint32_t>(k);
        if (udal_stream_fill_buffer(streams[t].get(), buffer.get(), t * 4, 4, &value, 4) != UDAL_SUCCESS) ++failures;
        if (udal_stream_record_event(streams[t].get(), shared.get()) != UDAL_SUCCESS) ++failures;
        if (udal_stream_wait_event(streams[(t + 1) % kThreads].get(), shared.get()) != UDAL_SUCCESS) ++failures;
        const udal_result_t q = udal_event_query(shared.get());
        if (q != UDAL_SUCCESS && q != UDAL_NOT_READY) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(0, failures.load());
  for (auto& stream : streams) UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  std::vector<uint8_t> back = read(buffer.get(), 0, kThreads * 4);
  for (int t = 0; t < kThreads; ++t) {
    uint32_t word;
    std::memcpy(&word, back.data() + t * 4, 4);
    EXPECT_EQ(static_cast<uint32_t>(kRounds - 1), word);
  }
}

TEST_F(StreamTest, SignalFromAnotherThreadReleasesAWaitingStream) {
  Stream stream = make_stream();
  Event gate = make_event(UDAL_EVENT_FLAG_HOST_SIGNAL), done = make_event();
  ASSERT_TRUE(stream && gate && done);
  std::atomic<int> calls{0};
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_enqueue_host_function(stream.get(), mark_ran, &calls));
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), done.get()));
  std::thread signaller([&] { EXPECT_EQ(UDAL_SUCCESS, udal_event_signal(gate.get())); });
  UDAL_ASSERT_OK(udal_event_wait(done.get(), kWaitNs));
  signaller.join();
  EXPECT_EQ(1, calls.load());
}

}  // namespace
}  // namespace udal::vulkan::test
