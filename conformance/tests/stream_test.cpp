// Streams: in-order execution over long chains of dependent operations, several streams at
// once, synchronize with timeouts, and destruction with work in flight.
#include "cts.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace cts {
namespace {

using StreamTest = DeviceTest;
using Clock = std::chrono::steady_clock;

TEST_P(StreamTest, CreateRejectsBadArguments) {
  udal_stream_t stream = Poison<udal_stream_t>();
  udal_stream_desc_t desc = UDAL_STREAM_DESC_INIT;
  desc.flags = 1;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_create(device(), &desc, &stream));
  EXPECT_EQ(nullptr, stream);
  desc = UDAL_STREAM_DESC_INIT;
  desc.struct_size = 1;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_create(device(), &desc, &stream));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_create(device(), nullptr, nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_create(nullptr, nullptr, &stream));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_destroy(nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_synchronize(nullptr, 0));
  Stream ok;
  udal_stream_desc_t good = UDAL_STREAM_DESC_INIT;
  EXPECT_OK(udal_stream_create(device(), &good, ok.out()));
  EXPECT_OK(udal_stream_synchronize(ok.get(), 0)) << "an empty stream is idle";
}

// fill k → copy → read into snapshot k, many times over: any reordering shows in a snapshot.
TEST_P(StreamTest, LongChainOfDependentTransfersKeepsOrder) {
  constexpr uint32_t kSteps = 300;
  constexpr uint64_t kBytes = 256;
  Stream stream = MakeStream();
  Buffer a = MakeBuffer(kBytes), b = MakeBuffer(kBytes);
  ASSERT_TRUE(stream && a && b);
  std::vector<std::vector<uint32_t>> snapshots(kSteps, std::vector<uint32_t>(kBytes / 4, 0xffffffff));
  std::vector<std::vector<uint32_t>> sources(kSteps, std::vector<uint32_t>(kBytes / 4));
  for (uint32_t k = 0; k < kSteps; ++k) {
    // Alternate between a device fill and a host write, so both kinds of operation take turns.
    if (k % 2 == 0) {
      ASSERT_OK(udal_stream_fill_buffer(stream.get(), a.get(), 0, kBytes, &k, 4));
    } else {
      std::fill(sources[k].begin(), sources[k].end(), k);
      ASSERT_OK(udal_stream_write_buffer(stream.get(), a.get(), 0, sources[k].data(), kBytes));
    }
    ASSERT_OK(udal_stream_copy_buffer(stream.get(), a.get(), 0, b.get(), 0, kBytes));
    ASSERT_OK(udal_stream_read_buffer(stream.get(), b.get(), 0, snapshots[k].data(), kBytes));
  }
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  for (uint32_t k = 0; k < kSteps; ++k) {
    for (uint32_t word : snapshots[k]) {
      ASSERT_EQ(k, word) << "snapshot " << k << " saw another step's value";
    }
  }
}

// copy → add 1 (kernel) → copy back, with reads in between: launches are ordered with
// transfers too.
TEST_P(StreamTest, LongChainOfKernelsAndCopiesKeepsOrder) {
  constexpr uint32_t kSteps = 150;
  constexpr uint32_t kWords = 97;
  Module module;
  Kernel add = MakeKernel("add_u32", &module);
  Stream stream = MakeStream();
  Buffer x = MakeBuffer(kWords * 4), y = MakeBuffer(kWords * 4);
  ASSERT_TRUE(add && stream && x && y);
  const uint32_t zero = 0, one = 1, n = kWords;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), x.get(), 0, kWords * 4, &zero, 4));
  std::vector<uint32_t> snapshots(kSteps, 0xffffffff);
  for (uint32_t k = 0; k < kSteps; ++k) {
    ASSERT_OK(udal_stream_copy_buffer(stream.get(), x.get(), 0, y.get(), 0, kWords * 4));
    ASSERT_OK(Launch(stream.get(), add.get(), {(kWords + 31) / 32, 1, 1}, {32, 1, 1},
                     {udal_arg_buffer(y.get(), 0), udal_arg_value(&one, 4), udal_arg_value(&n, 4)}));
    ASSERT_OK(udal_stream_copy_buffer(stream.get(), y.get(), 0, x.get(), 0, kWords * 4));
    ASSERT_OK(udal_stream_read_buffer(stream.get(), x.get(), 4 * (k % kWords), &snapshots[k], 4));
  }
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  for (uint32_t k = 0; k < kSteps; ++k) EXPECT_EQ(k + 1, snapshots[k]) << "after step " << k;
  std::vector<uint32_t> final = ReadBackAs<uint32_t>(stream.get(), x.get(), kWords);
  for (uint32_t i = 0; i < kWords; ++i) ASSERT_EQ(kSteps, final[i]) << "word " << i;
}

TEST_P(StreamTest, SeveralStreamsEachKeepTheirOwnOrder) {
  constexpr int kStreams = 4;
  constexpr uint32_t kSteps = 100;
  std::vector<Stream> streams;
  std::vector<Buffer> buffers;
  std::vector<std::vector<uint32_t>> snapshots(kStreams, std::vector<uint32_t>(kSteps, 0xffffffff));
  for (int s = 0; s < kStreams; ++s) {
    streams.push_back(MakeStream());
    buffers.push_back(MakeBuffer(64));
    ASSERT_TRUE(streams.back() && buffers.back());
  }
  // Interleave the enqueues so the streams really overlap.
  for (uint32_t k = 0; k < kSteps; ++k) {
    for (int s = 0; s < kStreams; ++s) {
      uint32_t value = k * 16 + static_cast<uint32_t>(s);
      ASSERT_OK(udal_stream_fill_buffer(streams[s].get(), buffers[s].get(), 0, 64, &value, 4));
      ASSERT_OK(udal_stream_read_buffer(streams[s].get(), buffers[s].get(), 60, &snapshots[s][k], 4));
    }
  }
  for (int s = 0; s < kStreams; ++s) ASSERT_OK(udal_stream_synchronize(streams[s].get(), kWaitNs));
  for (int s = 0; s < kStreams; ++s) {
    for (uint32_t k = 0; k < kSteps; ++k) {
      ASSERT_EQ(k * 16 + static_cast<uint32_t>(s), snapshots[s][k]) << "stream " << s << " step " << k;
    }
  }
}

TEST_P(StreamTest, SynchronizeHonoursItsTimeout) {
  Stream stream = MakeStream();
  Buffer buffer = MakeBuffer(64);
  ASSERT_TRUE(stream && buffer);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  ASSERT_OK(gate.Hold(stream.get()));
  const uint32_t value = 0x1234;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 64, &value, 4));
  EXPECT_UDAL(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 0)) << "a zero timeout polls";
  // A synchronize that ignored its timeout would wait for the gate: the valve opens it after
  // 3 s, so such a driver returns UDAL_SUCCESS and fails here instead of hanging.
  gate.OpenAfter(std::chrono::seconds(3));
  Clock::time_point start = Clock::now();
  EXPECT_UDAL(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 20'000'000));
  double waited_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_GE(waited_ms, 19.0) << "returned before its timeout";
  ASSERT_OK(gate.Open());
  EXPECT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(std::vector<uint32_t>(16, value), ReadBackAs<uint32_t>(stream.get(), buffer.get(), 16));
}

TEST_P(StreamTest, DestroyWaitsForWorkInFlight) {
  Stream other = MakeStream();
  Buffer buffer = MakeBuffer(64);
  ASSERT_TRUE(other && buffer);
  std::vector<uint32_t> host(16, 0x600d);
  std::atomic<bool> destroyed{false};
  std::string destroy_problem;
  {
    Stream stream = MakeStream();
    ASSERT_TRUE(stream);
    Gate gate(device());
    ASSERT_TRUE(gate.ok());
    ASSERT_OK(gate.Hold(stream.get()));
    ASSERT_OK(udal_stream_write_buffer(stream.get(), buffer.get(), 0, host.data(), 64));
    ASSERT_TRUE(StillPending(stream.get()));
    udal_stream_t doomed = stream.release();
    std::thread destroyer([&] {
      destroy_problem = CheckResult("udal_stream_destroy", UDAL_SUCCESS, udal_stream_destroy(doomed));
      destroyed = true;
    });
    // The write is held: destroy must not return before the gate opens. (A correct driver
    // can never fail this; a destroy that does not wait returns within the pause.)
    for (int poll = 0; poll < 60 && !destroyed; ++poll) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_FALSE(destroyed.load()) << "udal_stream_destroy returned while its work was still held";
    ASSERT_OK(gate.Open());
    destroyer.join();
    EXPECT_EQ("", destroy_problem);
  }
  // udal_stream_destroy returned: the work is done, even seen from another stream.
  std::vector<uint32_t> back = ReadBackAs<uint32_t>(other.get(), buffer.get(), 16);
  EXPECT_EQ(host, back);
}

TEST_P(StreamTest, TransfersEnqueuedBehindHeldWorkWaitForIt) {
  Stream stream = MakeStream();
  Buffer buffer = MakeBuffer(16);
  ASSERT_TRUE(stream && buffer);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  const uint32_t before = 1, after = 2;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 16, &before, 4));
  ASSERT_OK(gate.Hold(stream.get()));
  uint32_t seen_before = 0, seen_after = 0;
  ASSERT_OK(udal_stream_read_buffer(stream.get(), buffer.get(), 0, &seen_before, 4));
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 16, &after, 4));
  ASSERT_OK(udal_stream_read_buffer(stream.get(), buffer.get(), 0, &seen_after, 4));
  ASSERT_TRUE(StillPending(stream.get()));
  EXPECT_EQ(0u, seen_before) << "a read behind the gate ran before the gate opened";
  ASSERT_OK(gate.Open());
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(before, seen_before);
  EXPECT_EQ(after, seen_after);
}

// Streams are independent: stream B's transfers and launches complete while stream A is
// held, also on a driver with one hardware queue (which holds A's work on the host).
TEST_P(StreamTest, StreamBCompletesWhileStreamAIsHeld) {
  Module module;
  Kernel add = MakeKernel("add_u32", &module);
  Stream a = MakeStream(), b = MakeStream();
  Buffer held = MakeBuffer(256), free_running = MakeBuffer(256);
  ASSERT_TRUE(add && a && b && held && free_running);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  const uint32_t zero = 0, one = 1, n = 64;
  ASSERT_OK(gate.Hold(a.get()));
  ASSERT_OK(udal_stream_fill_buffer(a.get(), held.get(), 0, 256, &one, 4));
  ASSERT_OK(Launch(a.get(), add.get(), {1, 1, 1}, {64, 1, 1},
                   {udal_arg_buffer(held.get(), 0), Value(one), Value(n)}));
  ASSERT_TRUE(StillPending(a.get()));
  for (int round = 0; round < 3; ++round) {
    ASSERT_OK(udal_stream_fill_buffer(b.get(), free_running.get(), 0, 256, &zero, 4));
    ASSERT_OK(Launch(b.get(), add.get(), {1, 1, 1}, {64, 1, 1},
                     {udal_arg_buffer(free_running.get(), 0), Value(one), Value(n)}));
    std::vector<uint32_t> seen = ReadBackAs<uint32_t>(b.get(), free_running.get(), 64);
    for (uint32_t i = 0; i < 64; ++i) ASSERT_EQ(1u, seen[i]) << "round " << round << ", word " << i;
    ASSERT_TRUE(StillPending(a.get())) << "round " << round;
  }
  ASSERT_OK(gate.Open());
  ASSERT_OK(udal_stream_synchronize(a.get(), kWaitNs));
  std::vector<uint32_t> seen = ReadBackAs<uint32_t>(b.get(), held.get(), 64);
  for (uint32_t i = 0; i < 64; ++i) ASSERT_EQ(2u, seen[i]) << "word " << i;
}

// Several threads enqueue on one stream at once: each thread's operations keep their order
// (the stream's order is the order of the enqueue calls), and none is lost.
TEST_P(StreamTest, SeveralThreadsEnqueueOnOneStream) {
  constexpr int kThreads = 4;
  constexpr uint32_t kSteps = 200;
  Stream stream = MakeStream();
  Buffer buffer = MakeBuffer(kThreads * 64);
  ASSERT_TRUE(stream && buffer);
  std::vector<std::vector<uint32_t>> snapshots(kThreads, std::vector<uint32_t>(kSteps, 0xffffffff));
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t offset = static_cast<uint64_t>(t) * 64;
      for (uint32_t k = 0; k < kSteps && errors[t].empty(); ++k) {
        uint32_t value = static_cast<uint32_t>(t) << 24 | k;
        errors[t] = CheckResult("fill", UDAL_SUCCESS,
                                udal_stream_fill_buffer(stream.get(), buffer.get(), offset, 64, &value, 4));
        if (errors[t].empty())
          errors[t] = CheckResult("read", UDAL_SUCCESS,
                                  udal_stream_read_buffer(stream.get(), buffer.get(), offset + 60,
                                                          &snapshots[t][k], 4));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ("", errors[t]) << "thread " << t;
    for (uint32_t k = 0; k < kSteps; ++k) {
      ASSERT_EQ(static_cast<uint32_t>(t) << 24 | k, snapshots[t][k]) << "thread " << t << ", step " << k;
    }
  }
}

}  // namespace

CTS_INSTANTIATE(StreamTest);

}  // namespace cts
