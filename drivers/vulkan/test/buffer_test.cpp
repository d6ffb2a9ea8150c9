// Buffers of every kind, map rules, exhaustion.
#include "fixture.h"

namespace udal::vulkan::test {
namespace {

using BufferTest = VulkanDriverTest;

TEST_F(BufferTest, EveryKindIsCreatedAndReportsItsInfo) {
  for (udal_buffer_kind_t kind :
       {UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_KIND_HOST, UDAL_BUFFER_KIND_SHARED}) {
    for (uint64_t size : {1ull, 13ull, 4096ull, (64ull << 20) + 3}) {
      Buffer buffer = make_buffer(size, kind);
      ASSERT_TRUE(buffer) << "kind " << kind << " size " << size;
      udal_buffer_info_t info{sizeof(udal_buffer_info_t), nullptr, nullptr,
                              UDAL_BUFFER_KIND_DEVICE, 0, 0};
      UDAL_ASSERT_OK(udal_buffer_get_info(buffer.get(), &info));
      EXPECT_EQ(device_, info.device);
      EXPECT_EQ(kind, info.kind);
      EXPECT_EQ(size, info.size);
      EXPECT_GE(info.alignment, info_.min_buffer_alignment);
    }
  }
}

TEST_F(BufferTest, HostAndSharedBuffersMapAndDeviceWorkSeesTheirBytes) {
  for (udal_buffer_kind_t kind : {UDAL_BUFFER_KIND_HOST, UDAL_BUFFER_KIND_SHARED}) {
    Buffer a = make_buffer(1000, kind);
    Buffer b = make_buffer(1000, UDAL_BUFFER_KIND_DEVICE);
    ASSERT_TRUE(a && b);
    void* p = nullptr;
    UDAL_ASSERT_OK(udal_buffer_map(a.get(), 100, 900, &p));
    EXPECT_EQ(0u, (reinterpret_cast<uintptr_t>(p) - 100) % info_.min_buffer_alignment);
    std::memset(p, 0x5a, 900);
    UDAL_ASSERT_OK(udal_buffer_unmap(a.get()));
    UDAL_ASSERT_OK(udal_stream_copy_buffer(io_stream_.get(), a.get(), 100, b.get(), 0, 900));
    std::vector<uint8_t> back = read(b.get(), 0, 900);
    for (uint8_t byte : back) ASSERT_EQ(0x5a, byte);
  }
}

TEST_F(BufferTest, MapRulesAreEnforcedWithMessages) {
  Buffer device = make_buffer(64, UDAL_BUFFER_KIND_DEVICE);
  Buffer host = make_buffer(64, UDAL_BUFFER_KIND_HOST);
  ASSERT_TRUE(device && host);
  void* p = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_map(device.get(), 0, 64, &p),
                    "DEVICE");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE, udal_buffer_map(host.get(), 60, 5, &p), "past the end");
  UDAL_ASSERT_OK(udal_buffer_map(host.get(), 0, 64, &p));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_buffer_map(host.get(), 0, 64, &p), "already mapped");
  UDAL_ASSERT_OK(udal_buffer_unmap(host.get()));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_buffer_unmap(host.get()), "not mapped");
}

TEST_F(BufferTest, TooLargeIsOutOfDeviceMemoryAndTheDeviceGoesOn) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  udal_buffer_t buffer = nullptr;
  desc.size = info_.max_allocation_bytes + 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, udal_buffer_create(device_, &desc, &buffer),
                    "largest allocation");
  EXPECT_EQ(nullptr, buffer);
  desc.size = UINT64_MAX;
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, udal_buffer_create(device_, &desc, &buffer));
  Buffer small = make_buffer(16);
  ASSERT_TRUE(small);
  const uint32_t word = 0xabcdef01;
  write(small.get(), 4, &word, 4);
  std::vector<uint8_t> back = read(small.get(), 4, 4);
  EXPECT_EQ(0, std::memcmp(back.data(), &word, 4));
}

TEST_F(BufferTest, ManySmallBuffersShareMemoryBlocks) {
  // Far more than maxMemoryAllocationCount allows on many GPUs (4096) if each had its own.
  std::vector<Buffer> buffers;
  for (int i = 0; i < 5000; ++i) {
    buffers.push_back(make_buffer(256 + static_cast<uint64_t>(i % 7)));
    ASSERT_TRUE(buffers.back()) << "buffer " << i;
  }
  // Freed out of order, then reused: the block allocator coalesces.
  for (size_t i = 0; i < buffers.size(); i += 2) buffers[i].reset();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(make_buffer(1000));
}

}  // namespace
}  // namespace udal::vulkan::test
