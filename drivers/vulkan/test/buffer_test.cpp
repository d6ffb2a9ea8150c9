// Buffers of every kind, map rules, exhaustion.
#include <algorithm>

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
      udal_buffer_info_t info = UDAL_BUFFER_INFO_INIT;
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

// Today the pool handed out memory past the heap (lavapipe's allocations are malloc): now
// the heap (or its budget) is the limit, the allocation past it is OUT_OF_DEVICE_MEMORY, and
// the device goes on working.
TEST_F(BufferTest, AllocationsPastTheHeapAreOutOfDeviceMemory) {
  udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
  UDAL_ASSERT_OK(udal_device_get_memory_usage(device_, &usage));
  const uint64_t chunk = std::min<uint64_t>(info_.max_allocation_bytes, usage.device_budget_bytes / 4);
  std::vector<Buffer> held;
  udal_result_t last = UDAL_SUCCESS;
  for (uint64_t i = 0; i < usage.device_budget_bytes / chunk + 2 && last == UDAL_SUCCESS; ++i) {
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.size = chunk;
    udal_buffer_t buffer = nullptr;
    last = udal_buffer_create(device_, &desc, &buffer);
    if (last == UDAL_SUCCESS) held.emplace_back(buffer);
  }
  EXPECT_EQ(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, last) << udal_last_error_message();
  EXPECT_NE(std::string(udal_last_error_message()).find("cannot allocate"), std::string::npos)
      << udal_last_error_message();
  EXPECT_LE(held.size() * chunk, usage.device_budget_bytes);
  held.clear();
  Buffer small = make_buffer(64);
  ASSERT_TRUE(small);
  const uint32_t word = 0x600d600d;
  write(small.get(), 0, &word, 4);
  std::vector<uint8_t> back = read(small.get(), 0, 4);
  EXPECT_EQ(0, std::memcmp(back.data(), &word, 4));
}

TEST_F(BufferTest, DeviceAddressNeedsTheFlag) {
  Buffer plain = make_buffer(64);
  Buffer addressed = make_buffer(64, UDAL_BUFFER_KIND_HOST, UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
  ASSERT_TRUE(plain && addressed);
  uint64_t address = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_buffer_get_device_address(plain.get(), &address),
                    "UDAL_BUFFER_FLAG_DEVICE_ADDRESS");
  EXPECT_EQ(0u, address);
  UDAL_ASSERT_OK(udal_buffer_get_device_address(addressed.get(), &address));
  EXPECT_NE(0u, address);
  uint64_t again = 0;
  UDAL_ASSERT_OK(udal_buffer_get_device_address(addressed.get(), &again));
  EXPECT_EQ(address, again);
  udal_buffer_info_t info = UDAL_BUFFER_INFO_INIT;
  UDAL_ASSERT_OK(udal_buffer_get_info(addressed.get(), &info));
  EXPECT_EQ(UDAL_BUFFER_FLAG_DEVICE_ADDRESS, info.flags);
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 64;
  desc.flags = udal_buffer_flags_t{1} << 40;
  udal_buffer_t buffer = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device_, &desc, &buffer));
}

TEST_F(BufferTest, AlignmentIsHonouredUpToTheLimitAndRefusedPastIt) {
  for (uint64_t alignment : {uint64_t{4096}, uint64_t{1} << 16, uint64_t{1} << 21}) {
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.size = 1000;
    desc.kind = UDAL_BUFFER_KIND_HOST;
    desc.alignment = alignment;
    udal_buffer_t raw = nullptr;
    UDAL_ASSERT_OK(udal_buffer_create(device_, &desc, &raw));
    Buffer buffer(raw);
    void* p = nullptr;
    UDAL_ASSERT_OK(udal_buffer_map(raw, 0, 1000, &p));
    EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(p) % alignment) << alignment;
    UDAL_ASSERT_OK(udal_buffer_unmap(raw));
  }
  for (uint64_t alignment : {uint64_t{1} << 30, uint64_t{1} << 63}) {
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.size = 64;
    desc.alignment = alignment;
    udal_buffer_t raw = nullptr;
    UDAL_EXPECT_FAILS(UDAL_ERROR_UNSUPPORTED, udal_buffer_create(device_, &desc, &raw), "alignment");
    EXPECT_EQ(nullptr, raw);
  }
}

TEST_F(BufferTest, DestroyingAMappedBufferIsInvalidState) {
  Buffer host = make_buffer(64, UDAL_BUFFER_KIND_HOST);
  ASSERT_TRUE(host);
  void* p = nullptr;
  UDAL_ASSERT_OK(udal_buffer_map(host.get(), 0, 64, &p));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_buffer_destroy(host.get()), "mapped");
  UDAL_ASSERT_OK(udal_buffer_unmap(host.get()));
}

// The handle dies at once; the memory lives until the work enqueued before the destroy that
// uses it has completed. The work is held back by a host-signalled event meanwhile.
TEST_F(BufferTest, DestroyWithWorkInFlightKeepsTheMemoryForThatWork) {
  Stream stream = make_stream();
  Event gate = make_event(UDAL_EVENT_FLAG_HOST_SIGNAL), done = make_event();
  Buffer dst = make_buffer(4096);
  ASSERT_TRUE(stream && gate && done && dst);
  std::vector<uint8_t> pattern(4096);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 7 + 1);
  udal_buffer_t src = nullptr;
  {
    Buffer owner = make_buffer(4096);
    ASSERT_TRUE(owner);
    write(owner.get(), 0, pattern.data(), pattern.size());
    src = owner.release();
  }
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_copy_buffer(stream.get(), src, 0, dst.get(), 0, 4096));
  UDAL_ASSERT_OK(udal_stream_record_event(stream.get(), done.get()));
  UDAL_ASSERT_OK(udal_buffer_destroy(src));
  // Other allocations may take freed memory now; none may take src's.
  std::vector<Buffer> others;
  for (int i = 0; i < 8; ++i) {
    others.push_back(make_buffer(4096));
    const uint32_t junk = 0xeeeeeeee;
    UDAL_ASSERT_OK(udal_stream_fill_buffer(io_stream_.get(), others.back().get(), 0, 4096, &junk, 4));
  }
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), kWaitNs));
  EXPECT_EQ(UDAL_NOT_READY, udal_event_query(done.get())) << "the copy ran before the gate opened";
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  EXPECT_EQ(pattern, read(dst.get(), 0, 4096));
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
