// Host functions (udal_stream_enqueue_host_function): run on a driver thread after all
// earlier work of the stream completed and before any later work starts; they may call
// udal_* functions. Required of every driver.
#include "cts.h"

#include <fmt/format.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace cts {
namespace {

using HostFunctionTest = DeviceTest;

struct Calls {
  std::mutex mutex;
  std::vector<int> order;
  std::vector<std::thread::id> threads;
};

struct Call {
  Calls* calls;
  int id;
};

void Record(void* user_data) {
  auto* call = static_cast<Call*>(user_data);
  std::lock_guard lock(call->calls->mutex);
  call->calls->order.push_back(call->id);
  call->calls->threads.push_back(std::this_thread::get_id());
}

TEST_P(HostFunctionTest, RunsOnceOnADriverThreadAfterTheGateOpens) {
  Stream stream = MakeStream();
  ASSERT_TRUE(stream);
  Calls calls;
  Call call{&calls, 1};
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  ASSERT_OK(gate.Hold(stream.get()));
  ASSERT_OK(udal_stream_enqueue_host_function(stream.get(), Record, &call));
  ASSERT_TRUE(StillPending(stream.get()));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  {
    std::lock_guard lock(calls.mutex);
    EXPECT_TRUE(calls.order.empty()) << "the host function ran before the work before it completed";
  }
  ASSERT_OK(gate.Open());
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  std::lock_guard lock(calls.mutex);
  ASSERT_EQ(std::vector<int>{1}, calls.order) << "the host function must run exactly once";
  EXPECT_NE(std::this_thread::get_id(), calls.threads[0]) << "it must run on a driver thread";
}

// Earlier work has completed when the function runs (it sees what a read wrote into host
// memory), and later work has not started (a write reads host memory the function fills).
TEST_P(HostFunctionTest, OrderedAfterEarlierWorkAndBeforeLaterWork) {
  Stream stream = MakeStream();
  Buffer buffer = MakeBuffer(64);
  ASSERT_TRUE(stream && buffer);
  struct State {
    uint32_t read_by_device = 0;   // written by the read before the function
    uint32_t seen_by_function = 0;
    uint32_t for_device = 0;       // read by the write after the function
  } state;
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  const uint32_t value = 0x5150;
  ASSERT_OK(gate.Hold(stream.get()));
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 64, &value, 4));
  ASSERT_OK(udal_stream_read_buffer(stream.get(), buffer.get(), 0, &state.read_by_device, 4));
  ASSERT_OK(udal_stream_enqueue_host_function(
      stream.get(),
      [](void* user_data) {
        auto* s = static_cast<State*>(user_data);
        s->seen_by_function = s->read_by_device;
        s->for_device = s->read_by_device + 1;
      },
      &state));
  ASSERT_OK(udal_stream_write_buffer(stream.get(), buffer.get(), 32, &state.for_device, 4));
  ASSERT_TRUE(StillPending(stream.get()));
  ASSERT_OK(gate.Open());
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(value, state.seen_by_function) << "the function ran before the read before it completed";
  std::vector<uint32_t> words = ReadBackAs<uint32_t>(stream.get(), buffer.get(), 16);
  EXPECT_EQ(value + 1, words[8]) << "the write after the function read host memory before the function ran";
}

TEST_P(HostFunctionTest, ManyFunctionsRunInStreamOrder) {
  constexpr int kCalls = 200;
  Stream stream = MakeStream();
  Buffer buffer = MakeBuffer(64);
  ASSERT_TRUE(stream && buffer);
  Calls calls;
  std::vector<Call> call(kCalls);
  for (int k = 0; k < kCalls; ++k) {
    call[k] = {&calls, k};
    ASSERT_OK(udal_stream_enqueue_host_function(stream.get(), Record, &call[k]));
    if (k % 10 == 0) {
      const uint32_t value = static_cast<uint32_t>(k);
      ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 64, &value, 4));
    }
  }
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  std::vector<int> want(kCalls);
  for (int k = 0; k < kCalls; ++k) want[k] = k;
  std::lock_guard lock(calls.mutex);
  EXPECT_EQ(want, calls.order);
}

// A host function may call udal_*: here it signals a gate that another stream waits on,
// which is how a framework chains host-side completion into device work.
TEST_P(HostFunctionTest, MaySignalAnEventThatAnotherStreamWaitsOn) {
  Stream first = MakeStream(), second = MakeStream();
  Buffer buffer = MakeBuffer(64);
  ASSERT_TRUE(first && second && buffer);
  Gate start(device()), relay(device());
  ASSERT_TRUE(start.ok() && relay.ok());
  struct Relay {
    udal_event_t event;
    udal_result_t result = UDAL_ERROR_INTERNAL;
  } state{relay.event()};
  ASSERT_OK(relay.Hold(second.get()));
  const uint32_t value = 0xabc;
  ASSERT_OK(udal_stream_fill_buffer(second.get(), buffer.get(), 0, 64, &value, 4));
  ASSERT_OK(start.Hold(first.get()));
  ASSERT_OK(udal_stream_enqueue_host_function(
      first.get(),
      [](void* user_data) {
        auto* s = static_cast<Relay*>(user_data);
        s->result = udal_event_signal(s->event);
      },
      &state));
  ASSERT_TRUE(StillPending(first.get()));
  ASSERT_TRUE(StillPending(second.get()));
  ASSERT_OK(start.Open());
  ASSERT_OK(udal_stream_synchronize(first.get(), kWaitNs));
  EXPECT_EQ(UDAL_SUCCESS, state.result) << "udal_event_signal from the host function";
  ASSERT_OK(udal_stream_synchronize(second.get(), kWaitNs));
  EXPECT_EQ(std::vector<uint32_t>(16, value), ReadBackAs<uint32_t>(second.get(), buffer.get(), 16));
}

TEST_P(HostFunctionTest, FunctionsOfSeveralStreamsRunIndependently) {
  Stream held = MakeStream(), running = MakeStream();
  ASSERT_TRUE(held && running);
  Calls calls;
  Call held_call{&calls, 1}, running_call{&calls, 2};
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  ASSERT_OK(gate.Hold(held.get()));
  ASSERT_OK(udal_stream_enqueue_host_function(held.get(), Record, &held_call));
  ASSERT_OK(udal_stream_enqueue_host_function(running.get(), Record, &running_call));
  ASSERT_OK(udal_stream_synchronize(running.get(), kWaitNs));
  ASSERT_TRUE(StillPending(held.get()));
  {
    std::lock_guard lock(calls.mutex);
    EXPECT_EQ(std::vector<int>{2}, calls.order);
  }
  ASSERT_OK(gate.Open());
  ASSERT_OK(udal_stream_synchronize(held.get(), kWaitNs));
  std::lock_guard lock(calls.mutex);
  EXPECT_EQ((std::vector<int>{2, 1}), calls.order);
}

TEST_P(HostFunctionTest, BadArgumentsAreRejected) {
  Stream stream = MakeStream();
  ASSERT_TRUE(stream);
  Calls calls;
  Call call{&calls, 1};
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_enqueue_host_function(stream.get(), nullptr, &call));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_enqueue_host_function(nullptr, Record, &call));
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  std::lock_guard lock(calls.mutex);
  EXPECT_TRUE(calls.order.empty());
}

// A host function enqueued with NULL user data gets NULL.
TEST_P(HostFunctionTest, UserDataIsPassedThrough) {
  Stream stream = MakeStream();
  ASSERT_TRUE(stream);
  static std::atomic<int> null_calls{0};
  null_calls = 0;
  ASSERT_OK(udal_stream_enqueue_host_function(
      stream.get(), [](void* user_data) { if (user_data == nullptr) ++null_calls; }, nullptr));
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(1, null_calls.load());
}

}  // namespace

CTS_INSTANTIATE(HostFunctionTest);

}  // namespace cts
