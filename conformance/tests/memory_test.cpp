// Memory usage (udal_device_get_memory_usage) and allocation past the device's memory: the
// allocations through UDAL are counted per kind, and buffers that together exceed the
// device's memory are refused with UDAL_ERROR_OUT_OF_DEVICE_MEMORY, each one within
// max_allocation_bytes. The device keeps working afterwards.
#include "cts.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

namespace cts {
namespace {

using MemoryTest = DeviceTest;

udal_memory_usage_t Usage(udal_device_t device) {
  udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
  EXPECT_OK(udal_device_get_memory_usage(device, &usage));
  return usage;
}

// The usage once |settled| holds of it, or after 5 s: a driver may give memory back on its
// own thread a moment after the buffer (or the last work that used it) is gone.
template <typename Settled> udal_memory_usage_t UsageOnce(udal_device_t device, Settled settled) {
  udal_memory_usage_t usage = Usage(device);
  for (int poll = 0; poll < 500 && !settled(usage); ++poll) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    usage = Usage(device);
  }
  return usage;
}

TEST_P(MemoryTest, UsageCountsEachKindAndIsGivenBackAtDestroy) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_MEMORY_USAGE)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_MEMORY_USAGE";
  constexpr uint64_t kSize = 8ull << 20;
  udal_memory_usage_t before = Usage(device());
  EXPECT_EQ(UDAL_STRUCTURE_TYPE_MEMORY_USAGE, before.type);
  EXPECT_GT(before.device_budget_bytes, 0u);
  EXPECT_LE(before.device_allocated_bytes, before.device_budget_bytes + info().device_memory_bytes);
  {
    Buffer buffer = MakeBuffer(kSize);
    ASSERT_TRUE(buffer);
    udal_memory_usage_t during = Usage(device());
    EXPECT_GE(during.device_allocated_bytes, before.device_allocated_bytes + kSize)
        << "an 8 MiB DEVICE buffer is not counted";
    EXPECT_LT(during.device_allocated_bytes, before.device_allocated_bytes + 2 * kSize)
        << "an 8 MiB DEVICE buffer counted more than twice";
    EXPECT_EQ(before.host_visible_allocated_bytes, during.host_visible_allocated_bytes)
        << "a DEVICE buffer counted as host visible";
  }
  udal_memory_usage_t after = UsageOnce(device(), [&](const udal_memory_usage_t& u) {
    return u.device_allocated_bytes == before.device_allocated_bytes;
  });
  EXPECT_EQ(before.device_allocated_bytes, after.device_allocated_bytes)
      << "a destroyed buffer with no work in flight is still counted";
  for (udal_buffer_kind_t kind : {UDAL_BUFFER_KIND_HOST, UDAL_BUFFER_KIND_SHARED}) {
    if (kind == UDAL_BUFFER_KIND_HOST && !HasFeature(UDAL_DEVICE_FEATURE_HOST_BUFFERS)) continue;
    if (kind == UDAL_BUFFER_KIND_SHARED && !HasFeature(UDAL_DEVICE_FEATURE_SHARED_BUFFERS)) continue;
    SCOPED_TRACE(fmt::format("kind {}", static_cast<int>(kind)));
    Buffer buffer = MakeBuffer(kSize, kind);
    ASSERT_TRUE(buffer);
    udal_memory_usage_t during = Usage(device());
    EXPECT_GE(during.host_visible_allocated_bytes, after.host_visible_allocated_bytes + kSize);
    EXPECT_GT(during.host_visible_budget_bytes, 0u);
    buffer.reset();
    EXPECT_EQ(after.host_visible_allocated_bytes,
              UsageOnce(device(), [&](const udal_memory_usage_t& u) {
                return u.host_visible_allocated_bytes == after.host_visible_allocated_bytes;
              }).host_visible_allocated_bytes);
  }
}

TEST_P(MemoryTest, MemoryOfABufferDestroyedWithWorkInFlightIsCountedUntilTheWorkCompletes) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_MEMORY_USAGE)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_MEMORY_USAGE";
  constexpr uint64_t kSize = 4ull << 20;
  Stream stream = MakeStream();
  Buffer target = MakeBuffer(64);
  ASSERT_TRUE(stream && target);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  udal_memory_usage_t before = Usage(device());
  Buffer buffer = MakeBuffer(kSize);
  ASSERT_TRUE(buffer);
  ASSERT_OK(gate.Hold(stream.get()));
  ASSERT_OK(udal_stream_copy_buffer(stream.get(), buffer.get(), 0, target.get(), 0, 64));
  ASSERT_TRUE(StillPending(stream.get()));
  ASSERT_OK(udal_buffer_destroy(buffer.release()));
  EXPECT_GE(Usage(device()).device_allocated_bytes, before.device_allocated_bytes + kSize)
      << "the memory was given back while work that uses it was still pending";
  ASSERT_OK(gate.Open());
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  // A driver may give the memory back on its own thread just after the work completed:
  // it has a few seconds to do so.
  uint64_t allocated = UsageOnce(device(), [&](const udal_memory_usage_t& u) {
                         return u.device_allocated_bytes == before.device_allocated_bytes;
                       }).device_allocated_bytes;
  EXPECT_EQ(before.device_allocated_bytes, allocated)
      << "the memory was not given back within 5 s of the work's completion";
}

TEST_P(MemoryTest, BadArgumentsAreRejected) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_MEMORY_USAGE)) {
    udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
    EXPECT_UDAL(UDAL_ERROR_UNSUPPORTED, udal_device_get_memory_usage(device(), &usage))
        << "a device without UDAL_DEVICE_FEATURE_MEMORY_USAGE";
    return;
  }
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_memory_usage(device(), nullptr));
  udal_memory_usage_t bad = UDAL_MEMORY_USAGE_INIT;
  bad.type = UDAL_STRUCTURE_TYPE_DEVICE_INFO;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_memory_usage(device(), &bad)) << "wrong struct type";
  bad = UDAL_MEMORY_USAGE_INIT;
  bad.struct_size = 8;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_memory_usage(device(), &bad)) << "struct_size 8";
  udal_memory_usage_t good = UDAL_MEMORY_USAGE_INIT;
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_device_get_memory_usage(nullptr, &good));
}

// Buffers of at most max_allocation_bytes each, until the device says no: the sum of those it
// granted stays within its memory, the refusal is OUT_OF_DEVICE_MEMORY, and the device
// still works. (Nothing is written to them, so an honest driver commits no memory.)
TEST_P(MemoryTest, AllocationsPastTheDeviceMemoryAreOutOfDeviceMemory) {
  const udal_device_info_t& i = info();
  uint64_t chunk = std::min(i.max_allocation_bytes, std::max<uint64_t>(i.device_memory_bytes / 4, 1));
  uint64_t limit = i.device_memory_bytes;
  if (HasFeature(UDAL_DEVICE_FEATURE_MEMORY_USAGE)) {
    udal_memory_usage_t usage = Usage(device());
    limit = std::max(limit, usage.device_budget_bytes);
  }
  uint64_t attempts = limit / chunk + 3;
  ASSERT_LE(attempts, 100000u) << "device_memory_bytes / max_allocation_bytes is too large to try";
  std::vector<Buffer> granted;
  uint64_t granted_bytes = 0;
  udal_result_t last = UDAL_SUCCESS;
  for (uint64_t k = 0; k < attempts; ++k) {
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.size = chunk;
    Buffer buffer;
    last = udal_buffer_create(device(), &desc, buffer.out());
    if (last != UDAL_SUCCESS) {
      EXPECT_UDAL(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, last)
          << "allocation " << k << " of " << chunk << " bytes, " << granted_bytes << " granted before";
      break;
    }
    granted_bytes += chunk;
    granted.push_back(std::move(buffer));
  }
  EXPECT_NE(UDAL_SUCCESS, last) << granted.size() << " buffers of " << chunk << " bytes ("
                                << granted_bytes << " bytes) were all granted; the device has "
                                << i.device_memory_bytes << " bytes";
  EXPECT_LE(granted_bytes, limit) << "more was granted than the device has";
  granted.clear();
  // The device goes on, with the memory given back.
  Stream stream = MakeStream();
  Buffer again = MakeBuffer(chunk);
  Buffer small = MakeBuffer(4096);
  ASSERT_TRUE(stream && again && small);
  const uint32_t pattern = 0x01020304;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), small.get(), 0, 4096, &pattern, 4));
  std::vector<uint32_t> back = ReadBackAs<uint32_t>(stream.get(), small.get(), 1024);
  EXPECT_EQ(std::vector<uint32_t>(1024, pattern), back);
}

}  // namespace

CTS_INSTANTIATE(MemoryTest);

}  // namespace cts
