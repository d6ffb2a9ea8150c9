// Events: query, wait with timeouts, completion only after the work before the record,
// dependencies across streams, re-recording, and elapsed time. Work that must still be
// pending is held back by a gate (a HOST_SIGNAL event), never by a slow kernel.
#include "cts.h"

#include <chrono>
#include <thread>

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
  desc.flags = uint64_t{1} << 40;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device(), &desc, &event)) << "unknown flag";
  EXPECT_EQ(nullptr, event);
  desc.flags = UDAL_EVENT_FLAG_TIMING | UDAL_EVENT_FLAG_HOST_SIGNAL;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device(), &desc, &event))
      << "TIMING with HOST_SIGNAL";
  EXPECT_EQ(nullptr, event);
  desc = UDAL_EVENT_DESC_INIT;
  desc.type = UDAL_STRUCTURE_TYPE_STREAM_DESC;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device(), &desc, &event)) << "wrong struct type";
  desc = UDAL_EVENT_DESC_INIT;
  desc.struct_size = 4;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device(), &desc, &event)) << "struct_size 4";
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
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_wait_event(nullptr, ok.get()));
}

TEST_P(EventTest, QueryIsNotReadyUntilThePrecedingWorkCompletes) {
  Stream stream = MakeStream();
  Event event = MakeEvent();
  Buffer buffer = MakeBuffer(64);
  ASSERT_TRUE(stream && event && buffer);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  ASSERT_OK(gate.Hold(stream.get()));
  const uint32_t value = 42;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 64, &value, 4));
  ASSERT_OK(udal_stream_record_event(stream.get(), event.get()));
  ASSERT_TRUE(StillPending(stream.get()));
  EXPECT_UDAL(UDAL_NOT_READY, udal_event_query(event.get()));
  gate.OpenAfter(std::chrono::seconds(3));  // a wait that ignored its timeout ends, and fails
  EXPECT_UDAL(UDAL_TIMEOUT, udal_event_wait(event.get(), 0));
  EXPECT_UDAL(UDAL_TIMEOUT, udal_event_wait(event.get(), 1'000'000));
  ASSERT_OK(gate.Open());
  EXPECT_OK(udal_event_wait(event.get(), kWaitNs));
  EXPECT_OK(udal_event_query(event.get()));
  EXPECT_EQ(std::vector<uint32_t>(16, value), ReadBackAs<uint32_t>(stream.get(), buffer.get(), 16));
}

// The event completes only when the work before it has: what the work wrote is there.
TEST_P(EventTest, CompletedEventMeansThePrecedingWorkIsDone) {
  Module module;
  Kernel add = MakeKernel("add_u32", &module);
  Stream stream = MakeStream(), reader = MakeStream();
  Event event = MakeEvent();
  constexpr uint32_t kWords = 4096;
  Buffer data = MakeBuffer(kWords * 4);
  ASSERT_TRUE(add && stream && reader && event && data);
  const uint32_t zero = 0, five = 5, n = kWords;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), data.get(), 0, kWords * 4, &zero, 4));
  for (int round = 0; round < 3; ++round) {
    Gate gate(device());
    ASSERT_TRUE(gate.ok());
    ASSERT_OK(gate.Hold(stream.get()));
    ASSERT_OK(Launch(stream.get(), add.get(), {kWords / 64, 1, 1}, {64, 1, 1},
                     {udal_arg_buffer(data.get(), 0), Value(five), Value(n)}));
    ASSERT_OK(udal_stream_record_event(stream.get(), event.get()));
    ASSERT_TRUE(StillPending(stream.get()));
    EXPECT_UDAL(UDAL_NOT_READY, udal_event_query(event.get())) << "round " << round;
    ASSERT_OK(gate.Open());
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
  Stream stream = MakeStream();
  Event event = MakeEvent();
  ASSERT_TRUE(stream && event);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  ASSERT_OK(gate.Hold(stream.get()));
  ASSERT_OK(udal_stream_record_event(stream.get(), event.get()));
  ASSERT_TRUE(StillPending(stream.get()));
  // A wait that ignored its timeout would wait for the gate: the valve opens it after 3 s,
  // so such a driver returns UDAL_SUCCESS and fails here instead of hanging.
  gate.OpenAfter(std::chrono::seconds(3));
  Clock::time_point start = Clock::now();
  EXPECT_UDAL(UDAL_TIMEOUT, udal_event_wait(event.get(), 20'000'000));
  double waited_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_GE(waited_ms, 19.0) << "returned before its timeout";
  ASSERT_OK(gate.Open());
  EXPECT_OK(udal_event_wait(event.get(), kWaitNs));
}

TEST_P(EventTest, StreamWaitsForAnEventOfAnotherStream) {
  Stream producer = MakeStream(), consumer = MakeStream();
  Event event = MakeEvent();
  Buffer a = MakeBuffer(1024), b = MakeBuffer(1024);
  ASSERT_TRUE(producer && consumer && event && a && b);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  const uint32_t old_value = 1, new_value = 0xfeed;
  ASSERT_OK(udal_stream_fill_buffer(producer.get(), a.get(), 0, 1024, &old_value, 4));
  ASSERT_OK(udal_stream_synchronize(producer.get(), kWaitNs));
  ASSERT_OK(gate.Hold(producer.get()));
  ASSERT_OK(udal_stream_fill_buffer(producer.get(), a.get(), 0, 1024, &new_value, 4));
  ASSERT_OK(udal_stream_record_event(producer.get(), event.get()));
  ASSERT_OK(udal_stream_wait_event(consumer.get(), event.get()));
  ASSERT_OK(udal_stream_copy_buffer(consumer.get(), a.get(), 0, b.get(), 0, 1024));
  Event copied = MakeEvent();
  ASSERT_TRUE(copied);
  ASSERT_OK(udal_stream_record_event(consumer.get(), copied.get()));
  ASSERT_TRUE(StillPending(producer.get()));
  ASSERT_TRUE(StillPending(consumer.get())) << "the consumer must wait for the held producer";
  // Given time, a consumer that did not wait would have copied by now.
  EXPECT_UDAL(UDAL_TIMEOUT, udal_event_wait(copied.get(), 200'000'000))
      << "the consumer's copy completed while the producer was held";
  ASSERT_OK(gate.Open());
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

// A wait captures the record that is latest when it is enqueued: re-recording the event
// later on an idle stream must not release it early. The consumer is itself held until the
// re-record has completed, so a driver that looks the record up when the wait runs (instead
// of when it was enqueued) sees the new, completed record and copies too early: every time.
TEST_P(EventTest, WaitUsesTheRecordLatestAtTheTimeOfTheCall) {
  Stream slow = MakeStream(), idle = MakeStream(), consumer = MakeStream();
  Event event = MakeEvent(), copied = MakeEvent();
  Buffer a = MakeBuffer(64), b = MakeBuffer(64);
  ASSERT_TRUE(slow && idle && consumer && event && copied && a && b);
  Gate slow_gate(device()), consumer_gate(device());
  ASSERT_TRUE(slow_gate.ok() && consumer_gate.ok());
  const uint32_t first = 1, second = 2;
  ASSERT_OK(udal_stream_fill_buffer(slow.get(), a.get(), 0, 64, &first, 4));
  ASSERT_OK(udal_stream_synchronize(slow.get(), kWaitNs));
  ASSERT_OK(slow_gate.Hold(slow.get()));
  ASSERT_OK(udal_stream_fill_buffer(slow.get(), a.get(), 0, 64, &second, 4));
  ASSERT_OK(udal_stream_record_event(slow.get(), event.get()));
  ASSERT_OK(consumer_gate.Hold(consumer.get()));
  ASSERT_OK(udal_stream_wait_event(consumer.get(), event.get()));
  ASSERT_OK(udal_stream_copy_buffer(consumer.get(), a.get(), 0, b.get(), 0, 64));
  ASSERT_OK(udal_stream_record_event(consumer.get(), copied.get()));
  ASSERT_OK(udal_stream_record_event(idle.get(), event.get()));  // completes at once
  ASSERT_OK(udal_event_wait(event.get(), kWaitNs)) << "the re-record on an idle stream";
  ASSERT_TRUE(StillPending(slow.get()));
  ASSERT_TRUE(StillPending(consumer.get()));
  ASSERT_OK(consumer_gate.Open());
  slow_gate.OpenAfter(std::chrono::seconds(3));  // a wait that ignored its timeout ends, and fails
  // The consumer still waits for the slow stream's record: its copy stays pending.
  EXPECT_UDAL(UDAL_TIMEOUT, udal_event_wait(copied.get(), 200'000'000))
      << "the consumer went on: its wait used the event's record of when it ran";
  ASSERT_OK(slow_gate.Open());
  std::vector<uint32_t> seen = ReadBackAs<uint32_t>(consumer.get(), b.get(), 16);
  EXPECT_EQ(second, seen[0]) << "the copy ran before the record it waited for";
  ASSERT_OK(udal_stream_synchronize(slow.get(), kWaitNs));
}

TEST_P(EventTest, ReRecordingReplacesThePreviousRecord) {
  Stream stream = MakeStream();
  Event event = MakeEvent();
  ASSERT_TRUE(stream && event);
  ASSERT_OK(udal_stream_record_event(stream.get(), event.get()));
  ASSERT_OK(udal_event_wait(event.get(), kWaitNs));
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  ASSERT_OK(gate.Hold(stream.get()));
  ASSERT_OK(udal_stream_record_event(stream.get(), event.get()));
  ASSERT_TRUE(StillPending(stream.get()));
  EXPECT_UDAL(UDAL_NOT_READY, udal_event_query(event.get())) << "the completed record was not replaced";
  ASSERT_OK(gate.Open());
  EXPECT_OK(udal_event_wait(event.get(), kWaitNs));
}

TEST_P(EventTest, DestroyWithRecordPendingIsHarmless) {
  Stream stream = MakeStream();
  Buffer buffer = MakeBuffer(64);
  ASSERT_TRUE(stream && buffer);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  ASSERT_OK(gate.Hold(stream.get()));
  {
    Event event = MakeEvent();
    ASSERT_OK(udal_stream_record_event(stream.get(), event.get()));
    ASSERT_TRUE(StillPending(stream.get()));
  }  // destroyed while its record is pending
  const uint32_t value = 9;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 64, &value, 4));
  ASSERT_OK(gate.Open());
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(std::vector<uint32_t>(16, value), ReadBackAs<uint32_t>(stream.get(), buffer.get(), 16));
}

// ---------------------------------------------------------------------------------------
// Elapsed time (events created with UDAL_EVENT_FLAG_TIMING)
// ---------------------------------------------------------------------------------------

TEST_P(EventTest, ElapsedTimeCoversTheWorkBetweenRecords) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_TIMESTAMPS)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_TIMESTAMPS";
  Stream stream = MakeStream();
  Event start = MakeEvent(UDAL_EVENT_FLAG_TIMING), end = MakeEvent(UDAL_EVENT_FLAG_TIMING);
  ASSERT_TRUE(stream && start && end);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  ASSERT_OK(udal_stream_record_event(stream.get(), start.get()));
  ASSERT_OK(gate.Hold(stream.get()));
  ASSERT_OK(udal_stream_record_event(stream.get(), end.get()));
  ASSERT_OK(udal_event_wait(start.get(), kWaitNs));
  ASSERT_TRUE(StillPending(stream.get()));
  // The end record cannot run before the gate opens, 30 ms after start completed at least.
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  ASSERT_OK(gate.Open());
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  uint64_t ns = UINT64_MAX;
  ASSERT_OK(udal_event_elapsed_ns(start.get(), end.get(), &ns));
  EXPECT_GE(ns, 29'000'000u) << "the end record ran at least 30 ms after the start record";
  EXPECT_LT(ns, 3'600'000'000'000u) << "over an hour: a wrapped or unscaled value";
  uint64_t self = UINT64_MAX;
  ASSERT_OK(udal_event_elapsed_ns(start.get(), start.get(), &self));
  EXPECT_EQ(0u, self);
}

// udal.h: when |end| completed before |start| the result is 0, never a wrapped value.
TEST_P(EventTest, ElapsedTimeIsZeroWhenEndCompletedBeforeStart) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_TIMESTAMPS)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_TIMESTAMPS";
  Stream held = MakeStream(), running = MakeStream();
  Event start = MakeEvent(UDAL_EVENT_FLAG_TIMING), end = MakeEvent(UDAL_EVENT_FLAG_TIMING);
  ASSERT_TRUE(held && running && start && end);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  ASSERT_OK(gate.Hold(held.get()));
  ASSERT_OK(udal_stream_record_event(held.get(), start.get()));
  ASSERT_TRUE(StillPending(held.get()));
  ASSERT_OK(udal_stream_record_event(running.get(), end.get()));
  ASSERT_OK(udal_event_wait(end.get(), kWaitNs));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_OK(gate.Open());
  ASSERT_OK(udal_event_wait(start.get(), kWaitNs));
  uint64_t ns = UINT64_MAX;
  ASSERT_OK(udal_event_elapsed_ns(start.get(), end.get(), &ns));
  EXPECT_EQ(0u, ns) << "end completed before start";
  ASSERT_OK(udal_event_elapsed_ns(end.get(), start.get(), &ns));
  EXPECT_GT(ns, 0u) << "start completed at least 5 ms after end";
  EXPECT_LT(ns, 3'600'000'000'000u);
}

TEST_P(EventTest, ElapsedTimeRulesAreEnforced) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_TIMESTAMPS)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_TIMESTAMPS";
  Stream stream = MakeStream();
  Event start = MakeEvent(UDAL_EVENT_FLAG_TIMING), end = MakeEvent(UDAL_EVENT_FLAG_TIMING),
        never = MakeEvent(UDAL_EVENT_FLAG_TIMING), plain = MakeEvent();
  ASSERT_TRUE(stream && start && end && never && plain);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  uint64_t ns = 7;
  ASSERT_OK(udal_stream_record_event(stream.get(), start.get()));
  ASSERT_OK(udal_stream_record_event(stream.get(), plain.get()));
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_UDAL(UDAL_ERROR_INVALID_STATE, udal_event_elapsed_ns(start.get(), never.get(), &ns));
  EXPECT_UDAL(UDAL_ERROR_INVALID_STATE, udal_event_elapsed_ns(never.get(), start.get(), &ns));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_elapsed_ns(start.get(), plain.get(), &ns))
      << "an event created without UDAL_EVENT_FLAG_TIMING";
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_elapsed_ns(plain.get(), start.get(), &ns))
      << "an event created without UDAL_EVENT_FLAG_TIMING";
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_elapsed_ns(gate.event(), start.get(), &ns))
      << "a HOST_SIGNAL event has no timestamp";
  ASSERT_OK(gate.Hold(stream.get()));
  ASSERT_OK(udal_stream_record_event(stream.get(), end.get()));
  ASSERT_TRUE(StillPending(stream.get()));
  EXPECT_UDAL(UDAL_NOT_READY, udal_event_elapsed_ns(start.get(), end.get(), &ns));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_elapsed_ns(start.get(), end.get(), nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_event_elapsed_ns(nullptr, end.get(), &ns));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_event_elapsed_ns(start.get(), nullptr, &ns));
  ASSERT_OK(gate.Open());
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_OK(udal_event_elapsed_ns(start.get(), end.get(), &ns));
}

TEST_P(EventTest, TimingWithoutTimestampsIsUnsupported) {
  if (HasFeature(UDAL_DEVICE_FEATURE_TIMESTAMPS)) GTEST_SKIP() << "the device has UDAL_DEVICE_FEATURE_TIMESTAMPS";
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_TIMING;
  udal_event_t event = Poison<udal_event_t>();
  EXPECT_UDAL(UDAL_ERROR_UNSUPPORTED, udal_event_create(device(), &desc, &event));
  EXPECT_EQ(nullptr, event);
}

}  // namespace

CTS_INSTANTIATE(EventTest);

}  // namespace cts
