// Copies, fills (every pattern size at every phase), host writes and reads, and their range
// checks.
#include <numeric>

#include "fixture.h"

namespace udal::opencl::test {
namespace {

using TransferTest = OpenclDriverTest;

TEST_F(TransferTest, FillMatchesTheReferenceAtEveryOffsetAndSizeForEveryPatternSize) {
  constexpr uint64_t kSize = 160;
  Buffer buffer = make_buffer(kSize);
  const uint8_t pattern[16] = {0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87,
                               0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f};
  const std::vector<uint8_t> zeros(kSize, 0);
  for (uint32_t pattern_size : {1u, 2u, 4u, 8u, 16u}) {
    for (uint64_t offset : {0ull, 1ull, 3ull, 7ull, 8ull, 13ull, 16ull, 17ull}) {
      for (uint64_t size : {1ull, 2ull, 5ull, 15ull, 16ull, 17ull, 33ull, 100ull}) {
        write(buffer.get(), 0, zeros.data(), kSize);
        UDAL_ASSERT_OK(udal_stream_fill_buffer(io_stream_.get(), buffer.get(), offset, size,
                                               pattern, pattern_size));
        std::vector<uint8_t> expected = zeros;
        for (uint64_t i = 0; i < size; ++i)
          expected[offset + i] = pattern[i % pattern_size];
        ASSERT_EQ(read(buffer.get(), 0, kSize), expected)
            << "pattern " << pattern_size << " offset " << offset << " size " << size;
      }
    }
  }
}

TEST_F(TransferTest, CopyBetweenAndWithinBuffers) {
  Buffer a = make_buffer(4096);
  Buffer b = make_buffer(4096, UDAL_BUFFER_KIND_HOST);
  std::vector<uint8_t> bytes(4096);
  std::iota(bytes.begin(), bytes.end(), 0);
  write(a.get(), 0, bytes.data(), bytes.size());
  UDAL_ASSERT_OK(udal_stream_copy_buffer(io_stream_.get(), a.get(), 5, b.get(), 1000, 999));
  UDAL_ASSERT_OK(udal_stream_copy_buffer(io_stream_.get(), a.get(), 0, a.get(), 2048, 1024));
  std::vector<uint8_t> in_b = read(b.get(), 1000, 999);
  EXPECT_EQ(in_b, std::vector<uint8_t>(bytes.begin() + 5, bytes.begin() + 1004));
  std::vector<uint8_t> in_a = read(a.get(), 2048, 1024);
  EXPECT_EQ(in_a, std::vector<uint8_t>(bytes.begin(), bytes.begin() + 1024));
}

TEST_F(TransferTest, RangesPastTheEndAreOutOfRange) {
  Buffer a = make_buffer(100);
  Buffer b = make_buffer(50);
  uint8_t host[200] = {};
  const uint32_t pattern = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE,
                    udal_stream_copy_buffer(io_stream_.get(), a.get(), 0, b.get(), 1, 50), "50");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE,
                    udal_stream_copy_buffer(io_stream_.get(), a.get(), 90, b.get(), 0, 20), "100");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE,
                    udal_stream_fill_buffer(io_stream_.get(), b.get(), 48, 4, &pattern, 4), "50");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE,
                    udal_stream_write_buffer(io_stream_.get(), a.get(), 1, host, 100), "100");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE,
                    udal_stream_read_buffer(io_stream_.get(), b.get(), 0, host, 51), "50");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE,
                    udal_stream_read_buffer(io_stream_.get(), b.get(), UINT64_MAX, host, 1));
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), kWaitNs)); // the stream still works
}

TEST_F(TransferTest, BadArgumentsAreRefused) {
  Buffer a = make_buffer(100);
  uint8_t host[8] = {};
  const uint32_t pattern = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_copy_buffer(io_stream_.get(), a.get(), 0, a.get(), 10, 20));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_fill_buffer(io_stream_.get(), a.get(), 0, 8, &pattern, 3));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_fill_buffer(io_stream_.get(), a.get(), 0, 8, nullptr, 4));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_fill_buffer(io_stream_.get(), a.get(), 0, 0, &pattern, 4));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_write_buffer(io_stream_.get(), a.get(), 0, nullptr, 8));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_read_buffer(io_stream_.get(), a.get(), 0, nullptr, 8));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_read_buffer(io_stream_.get(), a.get(), 0, host, 0));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE,
                    udal_stream_read_buffer(io_stream_.get(), nullptr, 0, host, 8));
}

TEST_F(TransferTest, EnqueuesReturnBeforeTheWorkRuns) {
  // A host write queued behind long work reads the host memory only when it runs: changing
  // the bytes right after the enqueue (before the work could have reached it) shows in the
  // buffer. Without timing: the stream is held by a host-signalled event until the bytes
  // are changed.
  Event gate = make_event(UDAL_EVENT_FLAG_HOST_SIGNAL);
  Stream stream = make_stream();
  Buffer buffer = make_buffer(16);
  uint32_t words[4] = {1, 2, 3, 4};
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_write_buffer(stream.get(), buffer.get(), 0, words, sizeof(words)));
  words[2] = 30;
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(read_as<uint32_t>(buffer.get(), 4), (std::vector<uint32_t>{1, 2, 30, 4}));
}

} // namespace
} // namespace udal::opencl::test
