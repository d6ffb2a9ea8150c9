// Copy, fill, write and read: odd offsets and sizes, every pattern size, whole buffers and
// sub-ranges. Every byte of the buffer is checked afterwards, including those just outside
// the range, which must be unchanged; rejected operations must change nothing.
#include "cts.h"

#include <fmt/format.h>

#include <array>

namespace cts {
namespace {

constexpr uint64_t kTransferSize = 4096 + 13;  // not a multiple of anything convenient

class TransferTest : public DeviceTest {
 protected:
  static constexpr uint64_t kSize = kTransferSize;

  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped()) return;
    stream_ = MakeStream();
    ASSERT_TRUE(stream_);
  }

  // A buffer holding Pattern(size, seed), and that pattern as the host's model of it.
  Buffer Filled(uint64_t size, uint32_t seed, std::vector<uint8_t>* model,
                udal_buffer_kind_t kind = UDAL_BUFFER_KIND_DEVICE) {
    Buffer buffer = MakeBuffer(size, kind);
    *model = Pattern(size, seed);
    if (buffer) Upload(stream_.get(), buffer.get(), 0, *model);
    return buffer;
  }

  void ExpectContents(udal_buffer_t buffer, const std::vector<uint8_t>& model,
                      const std::string& what) {
    std::vector<uint8_t> actual = ReadBack(stream_.get(), buffer, 0, model.size());
    std::string difference = FirstDifference(model, actual);
    EXPECT_EQ("", difference) << what;
  }

  Stream stream_;
};

// (offset, size) pairs: starts and ends at odd places, one byte, whole buffer, the last byte.
const std::vector<std::pair<uint64_t, uint64_t>>& Ranges() {
  static const std::vector<std::pair<uint64_t, uint64_t>> ranges = {
      {0, 1},    {1, 1},      {3, 5},       {7, 1000}, {0, kTransferSize},
      {kTransferSize - 1, 1},         {13, kTransferSize - 13},
      {4095, 14}, {511, 2049}, {1, kTransferSize - 2}};
  return ranges;
}

TEST_P(TransferTest, WriteAtOddOffsetsChangesOnlyTheRange) {
  std::vector<uint8_t> model;
  Buffer buffer = Filled(kSize, 1, &model);
  ASSERT_TRUE(buffer);
  uint32_t seed = 100;
  for (auto [offset, size] : Ranges()) {
    std::vector<uint8_t> data = Pattern(size, ++seed);
    ASSERT_OK(udal_stream_write_buffer(stream_.get(), buffer.get(), offset, data.data(), size));
    ASSERT_OK(udal_stream_synchronize(stream_.get(), kWaitNs));
    std::copy(data.begin(), data.end(), model.begin() + static_cast<ptrdiff_t>(offset));
    ExpectContents(buffer.get(), model, fmt::format("after a write of {} bytes at {}", size, offset));
  }
}

TEST_P(TransferTest, ReadAtOddOffsetsWritesOnlyTheHostRange) {
  std::vector<uint8_t> model;
  Buffer buffer = Filled(kSize, 2, &model);
  ASSERT_TRUE(buffer);
  constexpr size_t kGuard = 64;
  for (auto [offset, size] : Ranges()) {
    std::vector<uint8_t> host(size + 2 * kGuard, 0xee);
    ASSERT_OK(udal_stream_read_buffer(stream_.get(), buffer.get(), offset, host.data() + kGuard, size));
    ASSERT_OK(udal_stream_synchronize(stream_.get(), kWaitNs));
    std::vector<uint8_t> expected(size + 2 * kGuard, 0xee);
    std::copy_n(model.begin() + static_cast<ptrdiff_t>(offset), size, expected.begin() + kGuard);
    EXPECT_EQ("", FirstDifference(expected, host))
        << "read of " << size << " bytes at " << offset << " (host guard bytes of " << kGuard
        << " on each side must stay 0xee)";
  }
}

TEST_P(TransferTest, CopyAtOddOffsetsChangesOnlyTheDestinationRange) {
  std::vector<uint8_t> src_model, dst_model;
  Buffer src = Filled(kSize, 3, &src_model);
  Buffer dst = Filled(kSize, 4, &dst_model);
  ASSERT_TRUE(src && dst);
  // Source and destination offsets differ, so a copy that confuses or drops one shows.
  for (auto [offset, size] : Ranges()) {
    uint64_t src_offset = (kSize - size) - offset;  // mirrored: differs from offset mostly
    if (src_offset == offset && size < kSize) src_offset = offset == 0 ? 1 : offset - 1;
    ASSERT_OK(udal_stream_copy_buffer(stream_.get(), src.get(), src_offset, dst.get(), offset, size));
    ASSERT_OK(udal_stream_synchronize(stream_.get(), kWaitNs));
    std::copy_n(src_model.begin() + static_cast<ptrdiff_t>(src_offset), size,
                dst_model.begin() + static_cast<ptrdiff_t>(offset));
    ExpectContents(dst.get(), dst_model,
                   fmt::format("after a copy of {} bytes from {} to {}", size, src_offset, offset));
    ExpectContents(src.get(), src_model, "the source must not change");
  }
}

TEST_P(TransferTest, CopyWithinOneBufferBetweenDisjointRanges) {
  std::vector<uint8_t> model;
  Buffer buffer = Filled(kSize, 5, &model);
  ASSERT_TRUE(buffer);
  const std::array<std::array<uint64_t, 3>, 4> cases = {{{0, 2048, 2048}, {2049, 1, 1000},
                                                         {3, 4000, 17}, {4001, 5, 99}}};
  for (auto [src_offset, dst_offset, size] : cases) {
    ASSERT_OK(udal_stream_copy_buffer(stream_.get(), buffer.get(), src_offset, buffer.get(),
                                      dst_offset, size));
    ASSERT_OK(udal_stream_synchronize(stream_.get(), kWaitNs));
    std::vector<uint8_t> piece(model.begin() + static_cast<ptrdiff_t>(src_offset),
                               model.begin() + static_cast<ptrdiff_t>(src_offset + size));
    std::copy(piece.begin(), piece.end(), model.begin() + static_cast<ptrdiff_t>(dst_offset));
    ExpectContents(buffer.get(), model,
                   fmt::format("copy of {} bytes from {} to {} in one buffer", size, src_offset, dst_offset));
  }
}

TEST_P(TransferTest, FillEveryPatternSizeAtOddOffsetsAndSizes) {
  std::vector<uint8_t> model;
  Buffer buffer = Filled(kSize, 6, &model);
  ASSERT_TRUE(buffer);
  uint32_t seed = 200;
  for (uint32_t pattern_size : {1u, 2u, 4u, 8u, 16u}) {
    for (auto [offset, size] : Ranges()) {
      std::vector<uint8_t> pattern = Pattern(pattern_size, ++seed);
      ASSERT_OK(udal_stream_fill_buffer(stream_.get(), buffer.get(), offset, size,
                                        pattern.data(), pattern_size));
      ASSERT_OK(udal_stream_synchronize(stream_.get(), kWaitNs));
      // The pattern repeats from |offset|; a last partial repetition is truncated.
      for (uint64_t i = 0; i < size; ++i) model[offset + i] = pattern[i % pattern_size];
      ExpectContents(buffer.get(), model,
                     fmt::format("fill of {} bytes at {} with a {}-byte pattern", size, offset,
                                 pattern_size));
    }
  }
}

TEST_P(TransferTest, FillSizesThatAreNotAMultipleOfThePattern) {
  // Every remainder for every pattern size, from an aligned and an unaligned start.
  std::vector<uint8_t> model;
  Buffer buffer = Filled(256, 7, &model);
  ASSERT_TRUE(buffer);
  uint32_t seed = 300;
  for (uint32_t pattern_size : {2u, 4u, 8u, 16u}) {
    for (uint64_t offset : {0u, 16u, 5u}) {
      for (uint64_t size = 1; size < 3 * pattern_size; ++size) {
        std::vector<uint8_t> pattern = Pattern(pattern_size, ++seed);
        ASSERT_OK(udal_stream_fill_buffer(stream_.get(), buffer.get(), offset, size,
                                          pattern.data(), pattern_size));
        for (uint64_t i = 0; i < size; ++i) model[offset + i] = pattern[i % pattern_size];
      }
      ASSERT_OK(udal_stream_synchronize(stream_.get(), kWaitNs));
      ExpectContents(buffer.get(), model,
                     fmt::format("fills with a {}-byte pattern at {}", pattern_size, offset));
    }
  }
}

TEST_P(TransferTest, LargeTransfersRoundTrip) {
  constexpr uint64_t kLarge = (16ull << 20) + 3;
  std::vector<uint8_t> model;
  Buffer a = Filled(kLarge, 8, &model);
  Buffer b = MakeBuffer(kLarge);
  ASSERT_TRUE(a && b);
  ASSERT_OK(udal_stream_copy_buffer(stream_.get(), a.get(), 0, b.get(), 0, kLarge));
  ExpectContents(b.get(), model, "16 MiB + 3 copy");
  const uint32_t pattern = 0xa5b6c7d8;
  ASSERT_OK(udal_stream_fill_buffer(stream_.get(), b.get(), 1, kLarge - 2, &pattern, 4));
  for (uint64_t i = 0; i < kLarge - 2; ++i) {
    model[1 + i] = reinterpret_cast<const uint8_t*>(&pattern)[i % 4];
  }
  ExpectContents(b.get(), model, "16 MiB fill");
}

TEST_P(TransferTest, CopiesBetweenEveryBufferKind) {
  std::vector<udal_buffer_kind_t> kinds = {UDAL_BUFFER_KIND_DEVICE};
  if (HasFeature(UDAL_DEVICE_FEATURE_HOST_BUFFERS)) kinds.push_back(UDAL_BUFFER_KIND_HOST);
  if (HasFeature(UDAL_DEVICE_FEATURE_SHARED_BUFFERS)) kinds.push_back(UDAL_BUFFER_KIND_SHARED);
  uint32_t seed = 400;
  for (udal_buffer_kind_t from : kinds) {
    for (udal_buffer_kind_t to : kinds) {
      std::vector<uint8_t> src_model, dst_model;
      Buffer src = Filled(1000, ++seed, &src_model, from);
      Buffer dst = Filled(1000, ++seed, &dst_model, to);
      ASSERT_TRUE(src && dst);
      ASSERT_OK(udal_stream_copy_buffer(stream_.get(), src.get(), 11, dst.get(), 17, 900));
      std::copy_n(src_model.begin() + 11, 900, dst_model.begin() + 17);
      ExpectContents(dst.get(), dst_model, fmt::format("copy from kind {} to kind {}",
                                                       static_cast<int>(from), static_cast<int>(to)));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Rejected operations: the exact code, a message, and no effect.
// ---------------------------------------------------------------------------------------

TEST_P(TransferTest, CopyPastEndOfBufferIsRejected) {
  std::vector<uint8_t> src_model, dst_model;
  Buffer src = Filled(1024, 9, &src_model);
  Buffer dst = Filled(512, 10, &dst_model);
  ASSERT_TRUE(src && dst);
  udal_stream_t s = stream_.get();
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_copy_buffer(s, src.get(), 0, dst.get(), 0, 513));
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_copy_buffer(s, src.get(), 0, dst.get(), 1, 512));
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_copy_buffer(s, src.get(), 1000, dst.get(), 0, 25));
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_copy_buffer(s, src.get(), 1024, dst.get(), 0, 1));
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_copy_buffer(s, src.get(), 0, dst.get(), 512, 1));
  // offset + size wraps around 2^64: still out of range, not a small copy.
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE,
              udal_stream_copy_buffer(s, src.get(), UINT64_MAX - 2, dst.get(), 0, 8));
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE,
              udal_stream_copy_buffer(s, src.get(), 0, dst.get(), UINT64_MAX - 2, 8));
  ASSERT_OK(udal_stream_synchronize(s, kWaitNs));
  ExpectContents(dst.get(), dst_model, "rejected copies must not write");
  ExpectContents(src.get(), src_model, "rejected copies must not write");
}

TEST_P(TransferTest, ZeroSizedOrOverlappingCopyIsInvalidArgument) {
  std::vector<uint8_t> model;
  Buffer buffer = Filled(1024, 11, &model);
  ASSERT_TRUE(buffer);
  udal_stream_t s = stream_.get();
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_copy_buffer(s, buffer.get(), 0, buffer.get(), 512, 0));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_copy_buffer(s, buffer.get(), 0, buffer.get(), 100, 101));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_copy_buffer(s, buffer.get(), 100, buffer.get(), 0, 101));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_copy_buffer(s, buffer.get(), 7, buffer.get(), 7, 1));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_copy_buffer(s, nullptr, 0, buffer.get(), 0, 1));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_copy_buffer(s, buffer.get(), 0, nullptr, 0, 1));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_copy_buffer(nullptr, buffer.get(), 0, buffer.get(), 512, 1));
  ASSERT_OK(udal_stream_synchronize(s, kWaitNs));
  ExpectContents(buffer.get(), model, "rejected copies must not write");
}

TEST_P(TransferTest, FillPastEndOrWithBadPatternIsRejected) {
  std::vector<uint8_t> model;
  Buffer buffer = Filled(1000, 12, &model);
  ASSERT_TRUE(buffer);
  udal_stream_t s = stream_.get();
  const uint8_t pattern[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_fill_buffer(s, buffer.get(), 0, 1001, pattern, 1));
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_fill_buffer(s, buffer.get(), 999, 2, pattern, 2));
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_fill_buffer(s, buffer.get(), 1000, 1, pattern, 1));
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_fill_buffer(s, buffer.get(), UINT64_MAX, 2, pattern, 1));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_fill_buffer(s, buffer.get(), 0, 0, pattern, 1));
  for (uint32_t bad_size : {0u, 3u, 5u, 12u, 32u}) {
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
                udal_stream_fill_buffer(s, buffer.get(), 0, 64, pattern, bad_size))
        << "pattern size " << bad_size;
  }
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_fill_buffer(s, buffer.get(), 0, 64, nullptr, 4));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_stream_fill_buffer(s, nullptr, 0, 64, pattern, 4));
  ASSERT_OK(udal_stream_synchronize(s, kWaitNs));
  ExpectContents(buffer.get(), model, "rejected fills must not write");
}

TEST_P(TransferTest, WriteAndReadPastEndAreRejected) {
  std::vector<uint8_t> model;
  Buffer buffer = Filled(100, 13, &model);
  ASSERT_TRUE(buffer);
  udal_stream_t s = stream_.get();
  std::vector<uint8_t> host(256, 0x77);
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_write_buffer(s, buffer.get(), 0, host.data(), 101));
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_write_buffer(s, buffer.get(), 99, host.data(), 2));
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_write_buffer(s, buffer.get(), UINT64_MAX, host.data(), 2));
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_read_buffer(s, buffer.get(), 0, host.data(), 101));
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_read_buffer(s, buffer.get(), 100, host.data(), 1));
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_stream_read_buffer(s, buffer.get(), UINT64_MAX - 1, host.data(), 4));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_write_buffer(s, buffer.get(), 0, nullptr, 4));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_write_buffer(s, buffer.get(), 0, host.data(), 0));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_read_buffer(s, buffer.get(), 0, nullptr, 4));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_read_buffer(s, buffer.get(), 0, host.data(), 0));
  ASSERT_OK(udal_stream_synchronize(s, kWaitNs));
  EXPECT_EQ(std::vector<uint8_t>(256, 0x77), host) << "rejected reads must not write host memory";
  ExpectContents(buffer.get(), model, "rejected writes must not change the buffer");
}

}  // namespace

CTS_INSTANTIATE(TransferTest);

}  // namespace cts
