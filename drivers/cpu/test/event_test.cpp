// Events: records, waits across streams, timing, timeouts. Pending work is held by
// HOST_SIGNAL gates (host_signal_test.cpp tests the gates themselves), never by timing.
#include <cstdint>
#include <vector>

#include "fixture.h"

namespace udal::cpu::test {
namespace {

TEST_F(CpuDriverTest, AnEventNeverRecordedIsComplete) {
  Event event = make_event(UDAL_EVENT_FLAG_TIMING);
  UDAL_ASSERT_OK(udal_event_query(event.get()));
  UDAL_ASSERT_OK(udal_event_wait(event.get(), 0));
  UDAL_ASSERT_OK(udal_event_wait(event.get(), UDAL_TIMEOUT_INFINITE));
  Stream stream = make_stream();
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), event.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  uint64_t ns = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_event_elapsed_ns(event.get(), event.get(), &ns),
                    "never recorded");
  EXPECT_EQ(ns, 0u);
}

TEST_F(CpuDriverTest, TimingEventsGiveTheTimeBetweenTheirRecords) {
  Stream stream = make_stream();
  Event start = make_event(UDAL_EVENT_FLAG_TIMING);
  Event end = make_event(UDAL_EVENT_FLAG_TIMING);
  Kernel sleep = make_kernel("sleep_ms");
  const uint32_t ms = 2;
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), start.get()));
  UDAL_ASSERT_OK(launch(stream.get(), sleep.get(), {udal_arg_value(&ms, 4)}));
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), end.get()));
  UDAL_ASSERT_OK(udal_event_wait(end.get(), UDAL_TIMEOUT_INFINITE));
  UDAL_ASSERT_OK(udal_event_query(start.get()));
  UDAL_ASSERT_OK(udal_event_query(end.get()));
  uint64_t ns = 0;
  UDAL_ASSERT_OK(udal_event_elapsed_ns(start.get(), end.get(), &ns));
  // The sleep lies between the records: at least its 2 ms (a lower bound, not a speed).
  EXPECT_GE(ns, 2000000u);
  // The other way round the end completed first: 0, never a wrapped value.
  ns = 1;
  UDAL_ASSERT_OK(udal_event_elapsed_ns(end.get(), start.get(), &ns));
  EXPECT_EQ(ns, 0u);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_elapsed_ns(start.get(), end.get(), nullptr));
}

TEST_F(CpuDriverTest, ElapsedTimeNeedsTimingEvents) {
  Stream stream = make_stream();
  Event timed = make_event(UDAL_EVENT_FLAG_TIMING);
  Event plain = make_event();
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), timed.get()));
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), plain.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  uint64_t ns = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_elapsed_ns(timed.get(), plain.get(), &ns),
                    "UDAL_EVENT_FLAG_TIMING", "end");
  EXPECT_EQ(ns, 0u);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_elapsed_ns(plain.get(), timed.get(), &ns),
                    "UDAL_EVENT_FLAG_TIMING", "start");
  Event gate = make_gate();
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_elapsed_ns(gate.get(), timed.get(), &ns));
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
}

TEST_F(CpuDriverTest, PendingEventsAreNotReadyAndWaitsTimeOut) {
  Stream stream = make_stream();
  Event gate = make_gate();
  Event start = make_event(UDAL_EVENT_FLAG_TIMING);
  Event event = make_event(UDAL_EVENT_FLAG_TIMING);
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), start.get()));
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), event.get()));
  UDAL_EXPECT_FAILS(UDAL_NOT_READY, udal_event_query(event.get()));
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_event_wait(event.get(), 1000000));
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_event_wait(event.get(), 0));
  uint64_t ns = 0;
  UDAL_EXPECT_FAILS(UDAL_NOT_READY, udal_event_elapsed_ns(start.get(), event.get(), &ns));
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_event_wait(event.get(), UDAL_TIMEOUT_INFINITE));
  UDAL_ASSERT_OK(udal_event_elapsed_ns(start.get(), event.get(), &ns));
}

TEST_F(CpuDriverTest, AStreamWaitsForAnotherStreamsEvent) {
  Stream producer = make_stream();
  Stream consumer = make_stream();
  Event gate = make_gate();
  Event ready = make_event();
  Buffer a = make_buffer(4096);
  Buffer b = make_buffer(4096);
  std::vector<uint8_t> zeros(4096, 0);
  write(b.get(), 0, zeros.data(), zeros.size());
  std::vector<uint8_t> data(4096, 0x77);
  UDAL_ASSERT_OK(udal_stream_wait_event(producer.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_write_buffer(producer.get(), a.get(), 0, data.data(), 4096));
  UDAL_ASSERT_OK(udal_stream_record_event(producer.get(), ready.get()));
  UDAL_ASSERT_OK(udal_stream_wait_event(consumer.get(), ready.get()));
  UDAL_ASSERT_OK(udal_stream_copy_buffer(consumer.get(), a.get(), 0, b.get(), 0, 4096));
  // The consumer cannot have run its copy: the producer is held.
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(consumer.get(), 20000000));
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(consumer.get(), UDAL_TIMEOUT_INFINITE));
  auto back = read(b.get(), 0, 4096);
  for (uint8_t x : back) ASSERT_EQ(x, 0x77);
}

TEST_F(CpuDriverTest, AWaitCapturesTheRecordLatestAtEnqueueTime) {
  Stream slow = make_stream();
  Stream fast = make_stream();
  Stream consumer = make_stream();
  Event gate = make_gate();
  Event event = make_event();
  Buffer a = make_buffer(64);
  Buffer b = make_buffer(64);
  const uint64_t zero = 0;
  const uint64_t marker = 0xfeedface;
  write(a.get(), 0, &zero, 8);
  write(b.get(), 0, &zero, 8);
  UDAL_ASSERT_OK(udal_stream_wait_event(slow.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_write_buffer(slow.get(), a.get(), 0, &marker, 8));
  UDAL_ASSERT_OK(udal_stream_record_event(slow.get(), event.get()));
  UDAL_ASSERT_OK(udal_stream_wait_event(consumer.get(), event.get()));
  // Re-recording on an idle stream must not release the consumer's earlier wait.
  UDAL_ASSERT_OK(udal_stream_record_event(fast.get(), event.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(fast.get(), UDAL_TIMEOUT_INFINITE));
  UDAL_ASSERT_OK(udal_event_query(event.get()));  // the latest record has completed...
  UDAL_ASSERT_OK(udal_stream_copy_buffer(consumer.get(), a.get(), 0, b.get(), 0, 8));
  // ...but the consumer still waits for the one it captured.
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(consumer.get(), 20000000));
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(consumer.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(read_value<uint64_t>(b.get()), marker);
}

TEST_F(CpuDriverTest, DestroyingAnEventWithARecordPendingIsSafe) {
  Stream stream = make_stream();
  Stream waiter = make_stream();
  Event gate = make_gate();
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  Event event = make_event();
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), event.get()));
  UDAL_ASSERT_OK(udal_stream_wait_event(waiter.get(), event.get()));
  event.reset();
  // The waiter still waits for the record, which the destroy did not complete.
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(waiter.get(), 20000000));
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(waiter.get(), UDAL_TIMEOUT_INFINITE));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
}

TEST_F(CpuDriverTest, BadEventArgumentsAreRejected) {
  udal_event_t out = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device_, nullptr, nullptr));
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = 4;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device_, &desc, &out));
  EXPECT_EQ(out, nullptr);
  desc.flags = UDAL_EVENT_FLAG_TIMING | UDAL_EVENT_FLAG_HOST_SIGNAL;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device_, &desc, &out));
  EXPECT_EQ(out, nullptr);
  desc.flags = 0;
  desc.type = UDAL_STRUCTURE_TYPE_STREAM_DESC;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device_, &desc, &out),
                    "UDAL_STRUCTURE_TYPE_EVENT_DESC");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_event_create(nullptr, nullptr, &out));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_event_query(nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_event_wait(nullptr, 0));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_event_destroy(nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_event_signal(nullptr));
  Stream stream = make_stream();
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_record_event(stream.get(), nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_wait_event(stream.get(), nullptr));
  uint64_t ns = 0;
  Event event = make_event(UDAL_EVENT_FLAG_TIMING);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_event_elapsed_ns(nullptr, event.get(), &ns));
}

}  // namespace
}  // namespace udal::cpu::test
