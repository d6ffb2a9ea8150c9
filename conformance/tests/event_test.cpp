// Events: query, wait with timeouts, completion only after the work before the record,
// dependencies across streams, re-recording, and elapsed time.
#include "cts.h"

#include <chrono>

namespace cts {
namespace {

using EventTest = DeviceTest;
using Clock = std::chrono::steady_clock;

TEST_P(EventTest, NeverRecordedEventIsComplete) {
  Event event = MakeEvent();
  ASSERT_TRUE(event);
  EXPECT_OK(udal_event_query(event.get()));
  EXPECT_OK(udal_event_wait(event.get(), 0));
  EXPECT_OK(udal_event_wait(event.get(), UDAL_TIMEOUT_INFINITE));
  Stream stream = MakeStream();
  ASSERT_OK(udal_stream_wait_event(stream.get(), event.get()));
  EXPECT_OK(udal_stream_synchronize(stream.get(), kWaitNs)) << "waiting on it must not block";
}

TEST_P(EventTest, CreateRejectsBadArguments) {
  udal_event_t event = Poison<udal_event_t>();
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = 1;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device(), &desc, &event));
  EXPECT_EQ(nullptr, event);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device(), nullptr, nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_event_create(nullptr, nullptr, &event));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_event_destroy(nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_event_query(nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_event_wait(nullptr, 0));
  Stream stream = MakeStream();
  Event ok = MakeEvent();
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_record_event(stream.get(), nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_wait_event(stream.get(), nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_record_event(nullptr, ok.get()));
}

TEST_P(EventTest, QueryIsNotReadyUntilThePrecedingWorkCompletes) {
  Delayer delay(this);
  Stream stream = MakeStream();
  Event event = MakeEvent();
  ASSERT_TRUE(delay.ok() && stream && event);
  ASSERT_OK(delay.Enqueue(stream.get(), 200'000));
  ASSERT_OK(udal_stream_record_event(stream.get(), event.get()));
  EXPECT_UDAL(UDAL_NOT_READY, udal_event_query(event.get()));
  EXPECT_UDAL(UDAL_TIMEOUT, udal_event_wait(event.get(), 0));
  EXPECT_OK(udal_event_wait(event.get(), kWaitNs));
  EXPECT_OK(udal_event_query(event.get()));
  EXPECT_EQ(1u, delay.Count(stream.get()));
}

// The event completes only when the work before it has: what the work wrote is there.
TEST_P(EventTest, CompletedEventMeansThePrecedingWorkIsDone) {
  Module module;
  Kernel add = MakeKernel("add_u32", &module);
  Delayer delay(this);
  Stream stream = MakeStream(), reader = MakeStream();
  Event event = MakeEvent();
  constexpr uint32_t kWords = 4096;
  Buffer data = MakeBuffer(kWords * 4);
  ASSERT_TRUE(add && delay.ok() && stream && reader && event && data);
  const uint32_t zero = 0, five = 5, n = kWords;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), data.get(), 0, kWords * 4, &zero, 4));
  for (int round = 0; round < 3; ++round) {
    ASSERT_OK(delay.Enqueue(stream.get(), 30'000));
    ASSERT_OK(Launch(stream.get(), add.get(), {kWords / 64, 1, 1}, {64, 1, 1},
                     {udal_arg_buffer(data.get(), 0), udal_arg_value(&five, 4), udal_arg_value(&n, 4)}));
    ASSERT_OK(udal_stream_record_event(stream.get(), event.get()));
    ASSERT_OK(udal_event_wait(event.get(), kWaitNs));
    // Read on another stream without any dependency: only the event orders it.
    std::vector<uint32_t> seen = ReadBackAs<uint32_t>(reader.get(), data.get(), kWords);
    for (uint32_t i = 0; i < kWords; ++i) {
      ASSERT_EQ(5u * (round + 1), seen[i]) << "round " << round << ", word " << i
                                           << ": the event completed before its work";
    }
  }
}

TEST_P(EventTest, WaitHonoursItsTimeout) {
  Delayer delay(this);
  Stream stream = MakeStream();
  Event event = MakeEvent();
  ASSERT_TRUE(delay.ok() && stream && event);
  ASSERT_OK(delay.Enqueue(stream.get(), 400'000));
  ASSERT_OK(udal_stream_record_event(stream.get(), event.get()));
  Clock::time_point start = Clock::now();
  EXPECT_UDAL(UDAL_TIMEOUT, udal_event_wait(event.get(), 20'000'000));
  double waited_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_GE(waited_ms, 15.0) << "returned before its timeout";
  EXPECT_LT(waited_ms, 350.0) << "waited for the work instead of the 20 ms timeout";
  EXPECT_OK(udal_event_wait(event.get(), UDAL_TIMEOUT_INFINITE));
}

TEST_P(EventTest, StreamWaitsForAnEventOfAnotherStream) {
  Delayer delay(this);
  Stream producer = MakeStream(), consumer = MakeStream();
  Event event = MakeEvent();
  Buffer a = MakeBuffer(1024), b = MakeBuffer(1024);
  ASSERT_TRUE(delay.ok() && producer && consumer && event && a && b);
  const uint32_t old_value = 1, new_value = 0xfeed;
  ASSERT_OK(udal_stream_fill_buffer(producer.get(), a.get(), 0, 1024, &old_value, 4));
  ASSERT_OK(udal_stream_synchronize(producer.get(), kWaitNs));
  ASSERT_OK(delay.Enqueue(producer.get(), 50'000));
  ASSERT_OK(udal_stream_fill_buffer(producer.get(), a.get(), 0, 1024, &new_value, 4));
  ASSERT_OK(udal_stream_record_event(producer.get(), event.get()));
  ASSERT_OK(udal_stream_wait_event(consumer.get(), event.get()));
  ASSERT_OK(udal_stream_copy_buffer(consumer.get(), a.get(), 0, b.get(), 0, 1024));
  std::vector<uint32_t> seen = ReadBackAs<uint32_t>(consumer.get(), b.get(), 256);
  for (uint32_t i = 0; i < 256; ++i) ASSERT_EQ(new_value, seen[i]) << "word " << i;
}

// A chain that hops between three streams through events: each hop adds one.
TEST_P(EventTest, ChainAcrossThreeStreamsThroughEvents) {
  constexpr int kHops = 60;
  Stream streams[3] = {MakeStream(), MakeStream(), MakeStream()};
  Event events[3] = {MakeEvent(), MakeEvent(), MakeEvent()};
  Buffer a = MakeBuffer(64), b = MakeBuffer(64);
  ASSERT_TRUE(a && b);
  std::vector<uint32_t> values(kHops);
  const uint32_t zero = 0;
  ASSERT_OK(udal_stream_fill_buffer(streams[0].get(), a.get(), 0, 64, &zero, 4));
  ASSERT_OK(udal_stream_record_event(streams[0].get(), events[0].get()));
  for (int hop = 1; hop < kHops; ++hop) {
    udal_stream_t s = streams[hop % 3].get();
    ASSERT_OK(udal_stream_wait_event(s, events[(hop - 1) % 3].get()));
    values[hop] = static_cast<uint32_t>(hop);
    // a → b, then b := hop written over a: the order of the hops decides the final value.
    ASSERT_OK(udal_stream_copy_buffer(s, a.get(), 0, b.get(), 0, 64));
    ASSERT_OK(udal_stream_fill_buffer(s, a.get(), 0, 64, &values[hop], 4));
    ASSERT_OK(udal_stream_record_event(s, events[hop % 3].get()));
  }
  for (Stream& s : streams) ASSERT_OK(udal_stream_synchronize(s.get(), kWaitNs));
  std::vector<uint32_t> last_a = ReadBackAs<uint32_t>(streams[0].get(), a.get(), 16);
  std::vector<uint32_t> last_b = ReadBackAs<uint32_t>(streams[0].get(), b.get(), 16);
  EXPECT_EQ(static_cast<uint32_t>(kHops - 1), last_a[0]);
  EXPECT_EQ(static_cast<uint32_t>(kHops - 2), last_b[0]);
}

// A wait captures the record that is latest when it is enqueued (re-recording later on an
// idle stream must not release it early).
TEST_P(EventTest, WaitUsesTheRecordLatestAtTheTimeOfTheCall) {
  Delayer delay(this);
  Stream slow = MakeStream(), idle = MakeStream(), consumer = MakeStream();
  Event event = MakeEvent();
  Buffer a = MakeBuffer(64), b = MakeBuffer(64);
  ASSERT_TRUE(delay.ok() && slow && idle && consumer && event && a && b);
  const uint32_t first = 1, second = 2;
  ASSERT_OK(udal_stream_fill_buffer(slow.get(), a.get(), 0, 64, &first, 4));
  ASSERT_OK(udal_stream_synchronize(slow.get(), kWaitNs));
  ASSERT_OK(delay.Enqueue(slow.get(), 80'000));
  ASSERT_OK(udal_stream_fill_buffer(slow.get(), a.get(), 0, 64, &second, 4));
  ASSERT_OK(udal_stream_record_event(slow.get(), event.get()));
  ASSERT_OK(udal_stream_wait_event(consumer.get(), event.get()));
  ASSERT_OK(udal_stream_copy_buffer(consumer.get(), a.get(), 0, b.get(), 0, 64));
  ASSERT_OK(udal_stream_record_event(idle.get(), event.get()));  // completes at once
  std::vector<uint32_t> seen = ReadBackAs<uint32_t>(consumer.get(), b.get(), 16);
  EXPECT_EQ(second, seen[0]);
  ASSERT_OK(udal_stream_synchronize(slow.get(), kWaitNs));
}

TEST_P(EventTest, DestroyWithRecordPendingIsHarmless) {
  Delayer delay(this);
  Stream stream = MakeStream();
  ASSERT_TRUE(delay.ok() && stream);
  ASSERT_OK(delay.Enqueue(stream.get(), 50'000));
  {
    Event event = MakeEvent();
    ASSERT_OK(udal_stream_record_event(stream.get(), event.get()));
  }  // destroyed while its record is pending
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(1u, delay.Count(stream.get()));
}

// ---------------------------------------------------------------------------------------
// Elapsed time
// ---------------------------------------------------------------------------------------

TEST_P(EventTest, ElapsedTimeCoversTheWorkBetweenRecords) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_TIMESTAMPS)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_TIMESTAMPS";
  Delayer delay(this);
  Stream stream = MakeStream();
  Event start = MakeEvent(), end = MakeEvent();
  ASSERT_TRUE(delay.ok() && stream && start && end);
  ASSERT_OK(udal_stream_record_event(stream.get(), start.get()));
  ASSERT_OK(delay.Enqueue(stream.get(), 30'000));
  ASSERT_OK(udal_stream_record_event(stream.get(), end.get()));
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  uint64_t ns = UINT64_MAX;
  ASSERT_OK(udal_event_elapsed_ns(start.get(), end.get(), &ns));
  EXPECT_GE(ns, 25'000'000u) << "30 ms of work lie between the two records";
  EXPECT_LT(ns, 10'000'000'000u);
  uint64_t self = UINT64_MAX;
  ASSERT_OK(udal_event_elapsed_ns(start.get(), start.get(), &self));
  EXPECT_EQ(0u, self);
}

TEST_P(EventTest, ElapsedTimeRulesAreEnforced) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_TIMESTAMPS)) {
    Event a = MakeEvent(), b = MakeEvent();
    uint64_t ns = 7;
    EXPECT_UDAL(UDAL_ERROR_UNSUPPORTED, udal_event_elapsed_ns(a.get(), b.get(), &ns));
    return;
  }
  Delayer delay(this);
  Stream stream = MakeStream();
  Event start = MakeEvent(), end = MakeEvent(), never = MakeEvent();
  ASSERT_TRUE(delay.ok() && stream && start && end && never);
  uint64_t ns = 7;
  ASSERT_OK(udal_stream_record_event(stream.get(), start.get()));
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_UDAL(UDAL_ERROR_INVALID_STATE, udal_event_elapsed_ns(start.get(), never.get(), &ns));
  EXPECT_UDAL(UDAL_ERROR_INVALID_STATE, udal_event_elapsed_ns(never.get(), start.get(), &ns));
  ASSERT_OK(delay.Enqueue(stream.get(), 200'000));
  ASSERT_OK(udal_stream_record_event(stream.get(), end.get()));
  EXPECT_UDAL(UDAL_NOT_READY, udal_event_elapsed_ns(start.get(), end.get(), &ns));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_elapsed_ns(start.get(), end.get(), nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_event_elapsed_ns(nullptr, end.get(), &ns));
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_OK(udal_event_elapsed_ns(start.get(), end.get(), &ns));
}

}  // namespace

CTS_INSTANTIATE(EventTest);

}  // namespace cts
