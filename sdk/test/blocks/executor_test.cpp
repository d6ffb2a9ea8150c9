// The SDK's stream executor and events (udal/sdk/executor.h): order, enqueues that return
// before their work runs, records and cross-stream waits, host-signalled events, host
// functions, timeouts at 0 and UINT64_MAX, and failures reported at synchronize.
#include "udal/sdk/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "udal/sdk/error.h"

namespace {

using udal::sdk::EventState;
using udal::sdk::StreamExecutor;

constexpr uint64_t kForever = UINT64_MAX;

std::string message() { return udal::sdk::last_error_message(); }

// A gate an operation waits at until the test opens it: the test controls when work runs.
class Gate {
 public:
  void open() { promise_.set_value(); }
  void wait() const { future_.wait(); }

 private:
  std::promise<void> promise_;
  std::shared_future<void> future_ = promise_.get_future().share();
};

TEST(StreamExecutor, OperationsRunInOrderOnTheStreamsThreadAfterTheEnqueueReturns) {
  StreamExecutor stream("udal-test");
  Gate gate;
  std::vector<int> order;  // written by the stream's thread only, read after synchronize
  std::thread::id ran_on;
  stream.submit([&] { gate.wait(); });
  for (int i = 0; i < 100; ++i) {
    stream.submit([&order, &ran_on, i] {
      order.push_back(i);
      ran_on = std::this_thread::get_id();
    });
  }
  // Every enqueue returned while the first operation still held the stream.
  EXPECT_TRUE(order.empty());
  EXPECT_FALSE(stream.idle());
  EXPECT_EQ(stream.query("q"), UDAL_NOT_READY);
  gate.open();
  ASSERT_EQ(stream.synchronize("s", kForever), UDAL_SUCCESS);
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_TRUE(stream.idle());
  EXPECT_EQ(stream.query("q"), UDAL_SUCCESS);
}

TEST(StreamExecutor, SynchronizeWithTimeoutZeroAndMaxOnlyWaitsAsAsked) {
  StreamExecutor stream;
  Gate gate;
  stream.submit([&] { gate.wait(); });
  EXPECT_EQ(stream.synchronize("s", 0), UDAL_TIMEOUT);
  EXPECT_EQ(stream.synchronize("s", 1'000'000), UDAL_TIMEOUT);  // 1 ms
  // The largest finite timeout is a deadline in the future, not a wrapped one in the past.
  const auto huge = udal::sdk::Deadline::after(UINT64_MAX - 1);
  EXPECT_FALSE(huge.infinite);
  EXPECT_GT(huge.at, udal::sdk::Clock::now() + std::chrono::hours(24 * 365));
  EXPECT_TRUE(udal::sdk::Deadline::after(UINT64_MAX).infinite);
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    gate.open();
  });
  EXPECT_EQ(stream.synchronize("s", kForever), UDAL_SUCCESS);
  opener.join();
  EXPECT_EQ(stream.synchronize("s", 0), UDAL_SUCCESS);
}

TEST(StreamExecutor, AFailedOperationIsReportedOnceWithItsCodeAndMessage) {
  StreamExecutor stream;
  bool later_ran = false;
  stream.submit([]() -> udal_result_t {
    return udal::sdk::fail(UDAL_ERROR_DEVICE_LOST, "the device fell off the bus at {}", 42);
  });
  stream.submit([]() -> udal_result_t {
    return udal::sdk::fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, "a second failure");
  });
  stream.submit([&] { later_ran = true; });
  EXPECT_EQ(stream.synchronize("udal_stream_synchronize", kForever), UDAL_ERROR_DEVICE_LOST);
  EXPECT_EQ(message(), "udal_stream_synchronize: an operation of the stream failed: the device "
                       "fell off the bus at 42");
  EXPECT_TRUE(later_ran);  // work after a failure still runs
  // Reported once: the stream is usable again.
  EXPECT_EQ(stream.synchronize("udal_stream_synchronize", kForever), UDAL_SUCCESS);
  stream.submit([]() -> udal_result_t { return udal::sdk::fail(UDAL_ERROR_INTERNAL, "x"); });
  ASSERT_EQ(stream.synchronize("s", kForever), UDAL_ERROR_INTERNAL);
  EXPECT_EQ(stream.query("q"), UDAL_SUCCESS);
}

TEST(StreamExecutor, AnOperationThatThrowsFailsTheStreamInsteadOfTheProcess) {
  StreamExecutor stream;
  stream.submit([]() -> udal_result_t { throw std::runtime_error("boom"); });
  stream.submit([]() -> udal_result_t { throw std::bad_alloc(); });
  EXPECT_EQ(stream.synchronize("s", kForever), UDAL_ERROR_INTERNAL);
  EXPECT_NE(message().find("boom"), std::string::npos) << message();
  stream.submit([]() -> udal_result_t { throw std::bad_alloc(); });
  EXPECT_EQ(stream.synchronize("s", kForever), UDAL_ERROR_OUT_OF_HOST_MEMORY);
}

void count_call(void* user_data) { static_cast<std::atomic<int>*>(user_data)->fetch_add(1); }

TEST(StreamExecutor, HostFunctionsRunInStreamOrderAndTheThreadStartHookFirst) {
  std::atomic<bool> started{false};
  std::atomic<int> calls{0};
  bool started_before_work = false;
  {
    StreamExecutor stream("udal-test", [&] { started = true; });
    stream.submit([&] { started_before_work = started.load(); });
    stream.host_function(count_call, &calls);
    stream.host_function(count_call, &calls);
    // Destroying the executor runs what was submitted.
  }
  EXPECT_TRUE(started_before_work);
  EXPECT_EQ(calls.load(), 2);
}

TEST(Events, ARecordCompletesWhenItsStreamGetsThereWithATimestamp) {
  StreamExecutor stream;
  EventState start, end;
  start.init(UDAL_EVENT_FLAG_TIMING);
  end.init(UDAL_EVENT_FLAG_TIMING);
  Gate gate;
  ASSERT_EQ(start.record_on("r", &start, stream), UDAL_SUCCESS);
  stream.submit([&] {
    gate.wait();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  });
  ASSERT_EQ(end.record_on("r", &end, stream), UDAL_SUCCESS);
  EXPECT_EQ(end.query(), UDAL_NOT_READY);
  EXPECT_EQ(end.wait(0), UDAL_TIMEOUT);
  uint64_t ns = 7;
  EXPECT_EQ(EventState::elapsed_ns("e", start, &start, end, &end, ns), UDAL_NOT_READY);
  gate.open();
  EXPECT_EQ(end.wait(kForever), UDAL_SUCCESS);
  EXPECT_EQ(end.query(), UDAL_SUCCESS);
  ASSERT_EQ(EventState::elapsed_ns("e", start, &start, end, &end, ns), UDAL_SUCCESS);
  EXPECT_GE(ns, 2'000'000u);  // the sleep between the two records
  // The other way round: the end completed first, which gives 0, never a wrap.
  ASSERT_EQ(EventState::elapsed_ns("e", end, &end, start, &start, ns), UDAL_SUCCESS);
  EXPECT_EQ(ns, 0u);
}

TEST(Events, ElapsedTimeNeedsTimingEventsThatWereRecorded) {
  StreamExecutor stream;
  EventState timed, untimed, never;
  timed.init(UDAL_EVENT_FLAG_TIMING);
  untimed.init(0);
  never.init(UDAL_EVENT_FLAG_TIMING);
  ASSERT_EQ(timed.record_on("r", &timed, stream), UDAL_SUCCESS);
  ASSERT_EQ(untimed.record_on("r", &untimed, stream), UDAL_SUCCESS);
  ASSERT_EQ(stream.synchronize("s", kForever), UDAL_SUCCESS);
  uint64_t ns = 7;
  EXPECT_EQ(EventState::elapsed_ns("e", timed, &timed, untimed, &untimed, ns),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("the end event"), std::string::npos) << message();
  EXPECT_EQ(ns, 0u);
  EXPECT_EQ(EventState::elapsed_ns("e", never, &never, timed, &timed, ns),
            UDAL_ERROR_INVALID_STATE);
  EXPECT_NE(message().find("the start event"), std::string::npos) << message();
  EXPECT_NE(message().find("was never recorded"), std::string::npos) << message();
}

TEST(Events, AnEventNeverRecordedIsCompleteAndWaitingOnItHoldsNothing) {
  StreamExecutor stream;
  EventState never;
  never.init(0);
  EXPECT_EQ(never.query(), UDAL_SUCCESS);
  EXPECT_EQ(never.wait(0), UDAL_SUCCESS);
  EXPECT_EQ(never.wait(kForever), UDAL_SUCCESS);
  never.wait_on(stream);
  EXPECT_TRUE(stream.idle());  // nothing was enqueued
  EXPECT_EQ(stream.synchronize("s", 0), UDAL_SUCCESS);
}

TEST(Events, AWaitOnAnotherStreamsRecordHoldsOnlyTheWaitingStream) {
  StreamExecutor producer, consumer, bystander;
  EventState event;
  event.init(0);
  Gate gate;
  std::atomic<int> produced{0};
  int seen = -1;
  producer.submit([&] {
    gate.wait();
    produced = 1;
  });
  ASSERT_EQ(event.record_on("r", &event, producer), UDAL_SUCCESS);
  event.wait_on(consumer);
  consumer.submit([&] { seen = produced.load(); });
  bystander.submit([] {});
  EXPECT_EQ(bystander.synchronize("s", kForever), UDAL_SUCCESS);  // not held
  EXPECT_EQ(consumer.synchronize("s", 0), UDAL_TIMEOUT);
  gate.open();
  EXPECT_EQ(consumer.synchronize("s", kForever), UDAL_SUCCESS);
  EXPECT_EQ(seen, 1);
  // A later record of the event does not disturb the wait already enqueued.
  ASSERT_EQ(event.record_on("r", &event, producer), UDAL_SUCCESS);
  EXPECT_EQ(producer.synchronize("s", kForever), UDAL_SUCCESS);
}

TEST(Events, AHostSignalEventHoldsStreamsUntilItIsSignalledOnce) {
  StreamExecutor stream;
  EventState event;
  event.init(UDAL_EVENT_FLAG_HOST_SIGNAL);
  EXPECT_EQ(event.query(), UDAL_NOT_READY);  // pending from its creation
  EXPECT_EQ(event.record_on("udal_stream_record_event", &event, stream),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("only udal_event_signal completes it"), std::string::npos);
  bool after = false;
  event.wait_on(stream);
  stream.submit([&] { after = true; });
  EXPECT_EQ(stream.synchronize("s", 1'000'000), UDAL_TIMEOUT);
  EXPECT_EQ(event.wait(0), UDAL_TIMEOUT);
  ASSERT_EQ(event.signal("udal_event_signal", &event), UDAL_SUCCESS);
  EXPECT_EQ(stream.synchronize("s", kForever), UDAL_SUCCESS);
  EXPECT_TRUE(after);
  EXPECT_EQ(event.signal("udal_event_signal", &event), UDAL_ERROR_INVALID_STATE);
  EXPECT_NE(message().find("already signalled"), std::string::npos);
  EventState plain;
  plain.init(0);
  EXPECT_EQ(plain.signal("udal_event_signal", &plain), UDAL_ERROR_INVALID_ARGUMENT);
}

TEST(Events, ReleasingAnUnsignalledHostSignalEventLetsItsWaitersGo) {
  StreamExecutor stream;
  EventState event;
  event.init(UDAL_EVENT_FLAG_HOST_SIGNAL);
  event.wait_on(stream);
  EXPECT_EQ(stream.synchronize("s", 0), UDAL_TIMEOUT);
  event.release_host_signal();
  EXPECT_EQ(stream.synchronize("s", kForever), UDAL_SUCCESS);
  // Released counts as signalled.
  EXPECT_EQ(event.signal("udal_event_signal", &event), UDAL_ERROR_INVALID_STATE);
}

TEST(Events, FlagsNoVersionDefinesAndTimingWithHostSignalAreRefused) {
  EXPECT_EQ(udal::sdk::check_event_flags("c", 0), UDAL_SUCCESS);
  EXPECT_EQ(udal::sdk::check_event_flags("c", UDAL_EVENT_FLAG_TIMING), UDAL_SUCCESS);
  EXPECT_EQ(udal::sdk::check_event_flags("c", uint64_t{1} << 40), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(udal::sdk::check_event_flags("c", UDAL_EVENT_FLAG_TIMING | UDAL_EVENT_FLAG_HOST_SIGNAL),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("has no device time"), std::string::npos);
}

TEST(StreamExecutor, ManyThreadsEnqueueAndSynchronizeOneStreamAtOnce) {
  StreamExecutor stream;
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        stream.submit([&] { done.fetch_add(1); });
        if (i % 50 == 0) {
          EXPECT_EQ(stream.synchronize("s", kForever), UDAL_SUCCESS);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(stream.synchronize("s", kForever), UDAL_SUCCESS);
  EXPECT_EQ(done.load(), 800);
}

}  // namespace
