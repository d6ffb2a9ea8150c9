// Streams: in-order execution over long chains of dependent operations, several streams at
// once, synchronize with timeouts, and destruction with work in flight.
#include "cts.h"

#include <fmt/format.h>

#include <chrono>

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
  Delayer delay(this);
  Stream stream = MakeStream();
  ASSERT_TRUE(delay.ok() && stream);
  ASSERT_OK(delay.Enqueue(stream.get(), 400'000));
  EXPECT_UDAL(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 0)) << "a zero timeout polls";
  Clock::time_point start = Clock::now();
  EXPECT_UDAL(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 20'000'000));
  double waited_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_GE(waited_ms, 15.0) << "returned before its timeout";
  EXPECT_LT(waited_ms, 350.0) << "waited for the work instead of the 20 ms timeout";
  EXPECT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(1u, delay.Count(stream.get()));
}

TEST_P(StreamTest, DestroyWaitsForWorkInFlight) {
  Delayer delay(this);
  Stream other = MakeStream();
  Buffer buffer = MakeBuffer(64);
  ASSERT_TRUE(delay.ok() && other && buffer);
  std::vector<uint32_t> host(16, 0x600d);
  {
    Stream stream = MakeStream();
    ASSERT_TRUE(stream);
    ASSERT_OK(delay.Enqueue(stream.get(), 100'000));
    ASSERT_OK(udal_stream_write_buffer(stream.get(), buffer.get(), 0, host.data(), 64));
    ASSERT_OK(udal_stream_destroy(stream.release()));
  }
  // udal_stream_destroy returned: the work is done, even seen from another stream.
  std::vector<uint32_t> back = ReadBackAs<uint32_t>(other.get(), buffer.get(), 16);
  EXPECT_EQ(host, back);
  EXPECT_EQ(1u, delay.Count(other.get()));
}

TEST_P(StreamTest, TransfersEnqueuedBehindSlowWorkWaitForIt) {
  Delayer delay(this);
  Stream stream = MakeStream();
  Buffer buffer = MakeBuffer(16);
  ASSERT_TRUE(delay.ok() && stream && buffer);
  const uint32_t before = 1, after = 2;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 16, &before, 4));
  ASSERT_OK(delay.Enqueue(stream.get(), 50'000));
  uint32_t seen_before = 0, seen_after = 0;
  ASSERT_OK(udal_stream_read_buffer(stream.get(), buffer.get(), 0, &seen_before, 4));
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 16, &after, 4));
  ASSERT_OK(udal_stream_read_buffer(stream.get(), buffer.get(), 0, &seen_after, 4));
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(before, seen_before);
  EXPECT_EQ(after, seen_after);
}

}  // namespace

CTS_INSTANTIATE(StreamTest);

}  // namespace cts
