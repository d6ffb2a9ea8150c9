// Host-signalled events (UDAL_EVENT_FLAG_HOST_SIGNAL, udal_event_signal): pending until the
// host signals them, once; streams that wait on one hold their later work; destroying an
// unsignalled one releases its waiters. Required of every driver.
#include "cts.h"

#include <fmt/format.h>

#include <atomic>
#include <thread>

namespace cts {
namespace {

using HostSignalTest = DeviceTest;

TEST_P(HostSignalTest, PendingUntilSignalledThenComplete) {
  Gate gate(device());  // a HOST_SIGNAL event
  ASSERT_TRUE(gate.ok());
  udal_event_t event = gate.event();
  EXPECT_UDAL(UDAL_NOT_READY, udal_event_query(event));
  gate.OpenAfter(std::chrono::seconds(3));  // a wait that ignored its timeout ends, and fails
  EXPECT_UDAL(UDAL_TIMEOUT, udal_event_wait(event, 0));
  EXPECT_UDAL(UDAL_TIMEOUT, udal_event_wait(event, 2'000'000));
  EXPECT_UDAL(UDAL_NOT_READY, udal_event_query(event)) << "still pending after the waits";
  ASSERT_OK(gate.Open());
  EXPECT_OK(udal_event_query(event));
  EXPECT_OK(udal_event_wait(event, 0));
  EXPECT_OK(udal_event_wait(event, UDAL_TIMEOUT_INFINITE));
}

TEST_P(HostSignalTest, StreamThatWaitsHoldsItsLaterWorkUntilTheSignal) {
  Stream stream = MakeStream();
  Buffer buffer = MakeBuffer(256);
  ASSERT_TRUE(stream && buffer);
  Event event = MakeEvent(UDAL_EVENT_FLAG_HOST_SIGNAL);
  ASSERT_TRUE(event);
  const uint32_t before = 1, after = 2;
  uint32_t seen = 0;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 256, &before, 4));
  ASSERT_OK(udal_stream_wait_event(stream.get(), event.get()));
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 256, &after, 4));
  ASSERT_OK(udal_stream_read_buffer(stream.get(), buffer.get(), 252, &seen, 4));
  // The work before the wait completes; the work after it does not.
  Stream other = MakeStream();
  ASSERT_TRUE(other);
  for (int poll = 0; poll < 3; ++poll) {
    ASSERT_TRUE(StillPending(stream.get())) << "poll " << poll;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(0u, seen) << "the read behind the wait ran before the signal";
  std::vector<uint32_t> now = ReadBackAs<uint32_t>(other.get(), buffer.get(), 64);
  EXPECT_EQ(std::vector<uint32_t>(64, before), now) << "the fill behind the wait ran before the signal";
  ASSERT_OK(udal_event_signal(event.get()));
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(after, seen);
}

// A wait is work of the stream like any other: a stream whose last work is a wait on an
// unsignalled event has not finished (what udal_stream_synchronize and a record after it say).
TEST_P(HostSignalTest, AStreamWhoseLastWorkIsAPendingWaitIsNotFinished) {
  Stream stream = MakeStream();
  ASSERT_TRUE(stream);
  Event event = MakeEvent(UDAL_EVENT_FLAG_HOST_SIGNAL);
  ASSERT_TRUE(event);
  ASSERT_OK(udal_stream_wait_event(stream.get(), event.get()));
  EXPECT_UDAL(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 0));
  EXPECT_UDAL(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 2'000'000));
  Event after = MakeEvent(0);
  ASSERT_TRUE(after);
  ASSERT_OK(udal_stream_record_event(stream.get(), after.get()));
  EXPECT_UDAL(UDAL_NOT_READY, udal_event_query(after.get())) << "a record behind the wait";
  ASSERT_OK(udal_event_signal(event.get()));
  EXPECT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_OK(udal_event_query(after.get()));
}

TEST_P(HostSignalTest, SecondSignalIsInvalidState) {
  Event event = MakeEvent(UDAL_EVENT_FLAG_HOST_SIGNAL);
  ASSERT_TRUE(event);
  ASSERT_OK(udal_event_signal(event.get()));
  EXPECT_UDAL(UDAL_ERROR_INVALID_STATE, udal_event_signal(event.get()));
  EXPECT_OK(udal_event_query(event.get())) << "a refused second signal leaves it complete";
}

TEST_P(HostSignalTest, SignalOfAnEventWithoutTheFlagIsInvalidArgument) {
  Event plain = MakeEvent();
  ASSERT_TRUE(plain);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_signal(plain.get()));
  if (HasFeature(UDAL_DEVICE_FEATURE_TIMESTAMPS)) {
    Event timing = MakeEvent(UDAL_EVENT_FLAG_TIMING);
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_signal(timing.get()));
  }
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_event_signal(nullptr));
}

TEST_P(HostSignalTest, RecordingAHostSignalEventIsInvalidArgument) {
  Stream stream = MakeStream();
  Event event = MakeEvent(UDAL_EVENT_FLAG_HOST_SIGNAL);
  ASSERT_TRUE(stream && event);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_record_event(stream.get(), event.get()));
  EXPECT_UDAL(UDAL_NOT_READY, udal_event_query(event.get())) << "the refused record changed the event";
  ASSERT_OK(udal_event_signal(event.get()));
}

TEST_P(HostSignalTest, DestroyingAnUnsignalledEventReleasesItsWaiters) {
  Stream stream = MakeStream();
  Buffer buffer = MakeBuffer(64);
  ASSERT_TRUE(stream && buffer);
  udal_event_t event = nullptr;
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  ASSERT_OK(udal_event_create(device(), &desc, &event));
  ASSERT_OK(udal_stream_wait_event(stream.get(), event));
  const uint32_t value = 0x77;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 64, &value, 4));
  ASSERT_TRUE(StillPending(stream.get()));
  ASSERT_OK(udal_event_destroy(event));
  EXPECT_OK(udal_stream_synchronize(stream.get(), kWaitNs)) << "the stream still waits on a destroyed event";
  EXPECT_EQ(std::vector<uint32_t>(16, value), ReadBackAs<uint32_t>(stream.get(), buffer.get(), 16));
}

TEST_P(HostSignalTest, OneSignalReleasesSeveralStreams) {
  constexpr int kStreams = 4;
  std::vector<Stream> streams;
  std::vector<Buffer> buffers;
  for (int s = 0; s < kStreams; ++s) {
    streams.push_back(MakeStream());
    buffers.push_back(MakeBuffer(64));
    ASSERT_TRUE(streams.back() && buffers.back());
  }
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  std::vector<uint32_t> values(kStreams);
  for (int s = 0; s < kStreams; ++s) {
    values[s] = 0x100 + static_cast<uint32_t>(s);
    ASSERT_OK(gate.Hold(streams[s].get()));
    ASSERT_OK(udal_stream_fill_buffer(streams[s].get(), buffers[s].get(), 0, 64, &values[s], 4));
  }
  for (int s = 0; s < kStreams; ++s) ASSERT_TRUE(StillPending(streams[s].get())) << "stream " << s;
  ASSERT_OK(gate.Open());
  for (int s = 0; s < kStreams; ++s) {
    ASSERT_OK(udal_stream_synchronize(streams[s].get(), kWaitNs)) << "stream " << s;
    EXPECT_EQ(std::vector<uint32_t>(16, values[s]), ReadBackAs<uint32_t>(streams[s].get(), buffers[s].get(), 16));
  }
}

TEST_P(HostSignalTest, WaitOnAnAlreadySignalledEventDoesNotHold) {
  Stream stream = MakeStream();
  Event event = MakeEvent(UDAL_EVENT_FLAG_HOST_SIGNAL);
  ASSERT_TRUE(stream && event);
  ASSERT_OK(udal_event_signal(event.get()));
  ASSERT_OK(udal_stream_wait_event(stream.get(), event.get()));
  EXPECT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
}

TEST_P(HostSignalTest, SignalFromAnotherThreadReleasesHostWaiters) {
  Event event = MakeEvent(UDAL_EVENT_FLAG_HOST_SIGNAL);
  ASSERT_TRUE(event);
  constexpr int kWaiters = 4;
  std::atomic<bool> signalled{false};
  std::vector<std::string> errors(kWaiters);
  std::vector<std::thread> waiters;
  for (int t = 0; t < kWaiters; ++t) {
    waiters.emplace_back([&, t] {
      errors[t] = CheckResult("udal_event_wait", UDAL_SUCCESS, udal_event_wait(event.get(), kWaitNs));
      if (errors[t].empty() && !signalled) errors[t] = "udal_event_wait returned before the event was signalled";
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::string signal_error;
  std::thread signaller([&] {
    signalled = true;
    signal_error = CheckResult("udal_event_signal", UDAL_SUCCESS, udal_event_signal(event.get()));
  });
  signaller.join();
  for (std::thread& waiter : waiters) waiter.join();
  EXPECT_EQ("", signal_error);
  for (int t = 0; t < kWaiters; ++t) EXPECT_EQ("", errors[t]) << "waiter " << t;
}

}  // namespace

CTS_INSTANTIATE(HostSignalTest);

}  // namespace cts
