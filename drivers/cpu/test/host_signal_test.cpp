// Host-signalled events (UDAL_EVENT_FLAG_HOST_SIGNAL, udal_event_signal) and host functions
// on streams (udal_stream_enqueue_host_function).
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "fixture.h"

namespace udal::cpu::test {
namespace {

TEST_F(CpuDriverTest, AHostSignalEventIsPendingUntilSignalledOnce) {
  Event gate = make_gate();
  UDAL_EXPECT_FAILS(UDAL_NOT_READY, udal_event_query(gate.get()));
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_event_wait(gate.get(), 0));
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_event_wait(gate.get(), 1000000));
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_event_query(gate.get()));
  UDAL_ASSERT_OK(udal_event_wait(gate.get(), UDAL_TIMEOUT_INFINITE));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_event_signal(gate.get()), "already signalled");
  // Still complete after the refused second signal.
  UDAL_ASSERT_OK(udal_event_query(gate.get()));
}

TEST_F(CpuDriverTest, HostSignalMisuseIsRefused) {
  Event ordinary = make_event();
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_signal(ordinary.get()),
                    "UDAL_EVENT_FLAG_HOST_SIGNAL");
  Event gate = make_gate();
  Stream stream = make_stream();
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_record_event(stream.get(), gate.get()),
                    "HOST_SIGNAL");
  // The refused record left the event pending.
  UDAL_EXPECT_FAILS(UDAL_NOT_READY, udal_event_query(gate.get()));
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
}

TEST_F(CpuDriverTest, AStreamWaitingOnAGateHoldsOnlyItsOwnLaterWork) {
  Event gate = make_gate();
  Stream held = make_stream();
  Stream free_stream = make_stream();
  Buffer a = make_buffer(64);
  Buffer b = make_buffer(64);
  const uint32_t zero = 0;
  write(a.get(), 0, &zero, 4);
  const uint32_t one = 1;
  const uint32_t two = 2;
  UDAL_ASSERT_OK(udal_stream_wait_event(held.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_write_buffer(held.get(), a.get(), 0, &one, 4));
  UDAL_ASSERT_OK(udal_stream_write_buffer(free_stream.get(), b.get(), 0, &two, 4));
  // The other stream completes while this one is held.
  UDAL_ASSERT_OK(udal_stream_synchronize(free_stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(read_value<uint32_t>(b.get()), 2u);
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(held.get(), 0));
  EXPECT_EQ(read_value<uint32_t>(a.get()), 0u) << "work behind the gate ran before the signal";
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(held.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(read_value<uint32_t>(a.get()), 1u);
}

TEST_F(CpuDriverTest, OneSignalReleasesEveryStreamAndHostWaiter) {
  Event gate = make_gate();
  constexpr int kStreams = 3;
  std::vector<Stream> streams;
  Buffer buffer = make_buffer(64);
  std::vector<uint32_t> values = {11, 22, 33};
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(make_stream());
    UDAL_ASSERT_OK(udal_stream_wait_event(streams.back().get(), gate.get()));
    UDAL_ASSERT_OK(udal_stream_write_buffer(streams.back().get(), buffer.get(), 4 * i, &values[i], 4));
  }
  std::atomic<int> released{0};
  std::thread waiter([&] {
    if (udal_event_wait(gate.get(), UDAL_TIMEOUT_INFINITE) == UDAL_SUCCESS) released = 1;
  });
  for (auto& stream : streams) {
    UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 0));
  }
  EXPECT_EQ(released.load(), 0);
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  waiter.join();
  EXPECT_EQ(released.load(), 1);
  for (auto& stream : streams) UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  for (int i = 0; i < kStreams; ++i) EXPECT_EQ(read_value<uint32_t>(buffer.get(), 4 * i), values[i]);
}

TEST_F(CpuDriverTest, DestroyingAnUnsignalledGateReleasesItsWaiters) {
  Event gate = make_gate();
  Stream stream = make_stream();
  Buffer buffer = make_buffer(64);
  const uint32_t value = 77;
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_write_buffer(stream.get(), buffer.get(), 0, &value, 4));
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 0));
  gate.reset();
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(read_value<uint32_t>(buffer.get()), value);
  // A gate destroyed after its signal is just destroyed.
  Event signalled = make_gate();
  UDAL_ASSERT_OK(udal_event_signal(signalled.get()));
  signalled.reset();
}

TEST_F(CpuDriverTest, AWaitOnAnAlreadySignalledGateHoldsNothing) {
  Event gate = make_gate();
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  Stream stream = make_stream();
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
}

// ---- host functions ------------------------------------------------------------------

struct HostCall {
  std::atomic<int> calls{0};
  std::thread::id thread;
  uint32_t seen = 0;           // what the earlier read had brought in when fn ran
  const uint32_t* earlier = nullptr;
  uint32_t* later_source = nullptr;
};

void record_call(void* user_data) {
  auto* call = static_cast<HostCall*>(user_data);
  call->thread = std::this_thread::get_id();
  if (call->earlier) call->seen = *call->earlier;
  if (call->later_source) *call->later_source = 2;
  call->calls.fetch_add(1);
}

TEST_F(CpuDriverTest, AHostFunctionRunsAfterEarlierWorkAndBeforeLaterWork) {
  Event gate = make_gate();
  Stream stream = make_stream();
  Buffer buffer = make_buffer(64);
  const uint32_t one = 1;
  uint32_t earlier = 0;
  uint32_t source = 0;  // written by the host function, read by the later write when it runs
  HostCall call;
  call.earlier = &earlier;
  call.later_source = &source;
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_write_buffer(stream.get(), buffer.get(), 0, &one, 4));
  UDAL_ASSERT_OK(udal_stream_read_buffer(stream.get(), buffer.get(), 0, &earlier, 4));
  UDAL_ASSERT_OK(udal_stream_enqueue_host_function(stream.get(), record_call, &call));
  UDAL_ASSERT_OK(udal_stream_write_buffer(stream.get(), buffer.get(), 0, &source, 4));
  // Held: the function has not run, and the enqueue did not run it on this thread.
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 0));
  EXPECT_EQ(call.calls.load(), 0);
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(call.calls.load(), 1);
  EXPECT_EQ(call.seen, 1u) << "the host function ran before the earlier read completed";
  EXPECT_EQ(read_value<uint32_t>(buffer.get()), 2u)
      << "the later write ran before the host function";
  EXPECT_NE(call.thread, std::this_thread::get_id()) << "host functions run on a driver thread";
}

struct Chain {
  udal_stream_t stream;
  udal_buffer_t buffer;
  uint32_t value;
  udal_result_t result = UDAL_ERROR_INTERNAL;
};

TEST_F(CpuDriverTest, AHostFunctionMayEnqueueOnItsOwnStream) {
  Stream stream = make_stream();
  Buffer buffer = make_buffer(64);
  Chain chain{stream.get(), buffer.get(), 0xabcd};
  UDAL_ASSERT_OK(udal_stream_enqueue_host_function(
      stream.get(),
      [](void* user_data) {
        auto* c = static_cast<Chain*>(user_data);
        c->result = udal_stream_write_buffer(c->stream, c->buffer, 0, &c->value, 4);
      },
      &chain));
  // The first synchronize covers the function, the second what it enqueued.
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(chain.result, UDAL_SUCCESS);
  EXPECT_EQ(read_value<uint32_t>(buffer.get()), 0xabcdu);
}

TEST_F(CpuDriverTest, HostFunctionsRunInStreamOrderFromSeveralThreads) {
  Stream stream = make_stream();
  struct Log {
    std::vector<int> order;  // written by the stream's thread only, one call at a time
  } log;
  struct Entry {
    Log* log;
    int value;
  };
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::vector<Entry>> entries(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) entries[t].push_back({&log, t * 1000 + i});
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (Entry& entry : entries[t]) {
        if (udal_stream_enqueue_host_function(
                stream.get(),
                [](void* user_data) {
                  auto* e = static_cast<Entry*>(user_data);
                  e->log->order.push_back(e->value);
                },
                &entry) != UDAL_SUCCESS) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(log.order.size(), size_t{kThreads * kEach});
  // Each thread's functions ran in the order it enqueued them.
  std::vector<int> next(kThreads, 0);
  for (int value : log.order) {
    const int t = value / 1000;
    EXPECT_EQ(value % 1000, next[t]++) << "thread " << t;
  }
}

TEST_F(CpuDriverTest, BadHostFunctionArgumentsAreRefused) {
  Stream stream = make_stream();
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_enqueue_host_function(stream.get(), nullptr, nullptr), "fn");
  HostCall call;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE,
                    udal_stream_enqueue_host_function(nullptr, record_call, &call));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(call.calls.load(), 0);
}

}  // namespace
}  // namespace udal::cpu::test
