// Copy, fill, write and read at odd offsets and sizes, through mapped memory and (with
// UDAL_VULKAN_FORCE_STAGING) through staging buffers. Every byte is checked.
#include "fixture.h"

namespace udal::vulkan::test {
namespace {

constexpr uint64_t kSize = 4096 + 13;

std::vector<uint8_t> pattern(uint64_t size, uint32_t seed) {
  std::vector<uint8_t> bytes(size);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : bytes) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(x >> 24);
  }
  return bytes;
}

class TransferTest : public VulkanDriverTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    force_staging_ = GetParam();
    VulkanDriverTest::SetUp();
  }
  const std::vector<std::pair<uint64_t, uint64_t>> ranges_ = {
      {0, 1}, {1, 1}, {3, 5}, {7, 1000}, {0, kSize}, {kSize - 1, 1}, {13, kSize - 13},
      {4095, 14}, {511, 2049}, {1, kSize - 2}, {4, 8}, {2, 6}};
};

TEST_P(TransferTest, WriteAndReadAtOddOffsets) {
  for (udal_buffer_kind_t kind :
       {UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_KIND_HOST, UDAL_BUFFER_KIND_SHARED}) {
    Buffer buffer = make_buffer(kSize, kind);
    ASSERT_TRUE(buffer);
    std::vector<uint8_t> model = pattern(kSize, 1);
    write(buffer.get(), 0, model.data(), kSize);
    uint32_t seed = 10;
    for (auto [offset, size] : ranges_) {
      std::vector<uint8_t> data = pattern(size, ++seed);
      write(buffer.get(), offset, data.data(), size);
      std::copy(data.begin(), data.end(), model.begin() + static_cast<ptrdiff_t>(offset));
      ASSERT_EQ(model, read(buffer.get(), 0, kSize)) << "kind " << kind << " write at " << offset;
      std::vector<uint8_t> part = read(buffer.get(), offset, size);
      ASSERT_TRUE(std::equal(part.begin(), part.end(), model.begin() + static_cast<ptrdiff_t>(offset)))
          << "read at " << offset;
    }
  }
}

TEST_P(TransferTest, CopyAtOddOffsetsBetweenKinds) {
  Buffer src = make_buffer(kSize, UDAL_BUFFER_KIND_HOST);
  Buffer dst = make_buffer(kSize, UDAL_BUFFER_KIND_DEVICE);
  ASSERT_TRUE(src && dst);
  std::vector<uint8_t> from = pattern(kSize, 2), model = pattern(kSize, 3);
  write(src.get(), 0, from.data(), kSize);
  write(dst.get(), 0, model.data(), kSize);
  for (auto [offset, size] : ranges_) {
    const uint64_t src_offset = (offset * 7) % (kSize - size + 1);
    UDAL_ASSERT_OK(udal_stream_copy_buffer(io_stream_.get(), src.get(), src_offset, dst.get(),
                                           offset, size));
    std::copy_n(from.begin() + static_cast<ptrdiff_t>(src_offset), size,
                model.begin() + static_cast<ptrdiff_t>(offset));
  }
  EXPECT_EQ(model, read(dst.get(), 0, kSize));
}

TEST_P(TransferTest, FillEveryPatternSizeAtOddOffsetsAndSizes) {
  Buffer buffer = make_buffer(kSize);
  ASSERT_TRUE(buffer);
  std::vector<uint8_t> model = pattern(kSize, 4);
  write(buffer.get(), 0, model.data(), kSize);
  const std::vector<uint8_t> bytes = pattern(16, 5);
  for (uint32_t pattern_size : {1u, 2u, 4u, 8u, 16u}) {
    for (auto [offset, size] : ranges_) {
      UDAL_ASSERT_OK(udal_stream_fill_buffer(io_stream_.get(), buffer.get(), offset, size,
                                             bytes.data(), pattern_size));
      for (uint64_t k = 0; k < size; ++k) model[offset + k] = bytes[k % pattern_size];
      ASSERT_EQ(model, read(buffer.get(), 0, kSize))
          << "pattern " << pattern_size << " at " << offset << " size " << size;
    }
  }
}

TEST_P(TransferTest, LargeFillAndRoundTrip) {
  const uint64_t size = (24ull << 20) + 5;
  Buffer buffer = make_buffer(size);
  ASSERT_TRUE(buffer);
  const uint64_t sixteen[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
  UDAL_ASSERT_OK(udal_stream_fill_buffer(io_stream_.get(), buffer.get(), 1, size - 1, sixteen, 16));
  std::vector<uint8_t> back = read(buffer.get(), 1, size - 1);
  for (uint64_t k = 0; k < back.size(); ++k) ASSERT_EQ(k % 16, back[k]) << "byte " << k;
}

TEST_P(TransferTest, OutOfRangeTransfersAreRejected) {
  Buffer buffer = make_buffer(100);
  ASSERT_TRUE(buffer);
  std::vector<uint8_t> bytes(200);
  const uint32_t word = 1;
  udal_stream_t s = io_stream_.get();
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE, udal_stream_write_buffer(s, buffer.get(), 99, bytes.data(), 2), "past the end");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE, udal_stream_read_buffer(s, buffer.get(), 0, bytes.data(), 101), "past the end");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE, udal_stream_fill_buffer(s, buffer.get(), 98, 4, &word, 4), "past the end");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE, udal_stream_copy_buffer(s, buffer.get(), 0, buffer.get(), 60, 50), "past the end");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_copy_buffer(s, buffer.get(), 0, buffer.get(), 10, 20), "overlap");
  UDAL_ASSERT_OK(udal_stream_synchronize(s, kWaitNs));
}

INSTANTIATE_TEST_SUITE_P(MappedOrStaged, TransferTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? std::string("Staging") : std::string("Mapped");
                         });

}  // namespace
}  // namespace udal::vulkan::test
