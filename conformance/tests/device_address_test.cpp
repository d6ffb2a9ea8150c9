// Device addresses (UDAL_BUFFER_FLAG_DEVICE_ADDRESS, udal_buffer_get_device_address): a
// kernel takes an address as a 64-bit value, loads further addresses from memory and does
// pointer arithmetic on them. Optional: UDAL_DEVICE_FEATURE_DEVICE_ADDRESS.
#include "cts.h"

#include <fmt/format.h>

#include <set>

namespace cts {
namespace {

class DeviceAddressTest : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped()) return;
    if (!HasFeature(UDAL_DEVICE_FEATURE_DEVICE_ADDRESS))
      GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_DEVICE_ADDRESS";
  }

  uint64_t AddressOf(udal_buffer_t buffer) {
    uint64_t address = 0;
    EXPECT_OK(udal_buffer_get_device_address(buffer, &address));
    return address;
  }
};

TEST_P(DeviceAddressTest, EveryBufferHasItsOwnStableNonZeroAddress) {
  std::vector<Buffer> buffers;
  std::set<uint64_t> seen;
  for (uint64_t size : {4ull, 100ull, 4096ull, 1ull << 20}) {
    buffers.push_back(MakeBuffer(size, UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_FLAG_DEVICE_ADDRESS));
    ASSERT_TRUE(buffers.back());
    uint64_t address = AddressOf(buffers.back().get());
    EXPECT_NE(0u, address);
    EXPECT_TRUE(seen.insert(address).second) << "two live buffers share address " << address;
    EXPECT_EQ(address, AddressOf(buffers.back().get())) << "the address changed between calls";
    udal_buffer_info_t buffer_info = UDAL_BUFFER_INFO_INIT;
    ASSERT_OK(udal_buffer_get_info(buffers.back().get(), &buffer_info));
    EXPECT_EQ(UDAL_BUFFER_FLAG_DEVICE_ADDRESS, buffer_info.flags);
    EXPECT_EQ(0u, address % buffer_info.alignment) << "the address honours the buffer's alignment";
  }
}

TEST_P(DeviceAddressTest, BufferWithoutTheFlagIsInvalidArgument) {
  Buffer buffer = MakeBuffer(64);
  ASSERT_TRUE(buffer);
  uint64_t address = 77;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_get_device_address(buffer.get(), &address));
  EXPECT_EQ(0u, address) << "the out-parameter must be cleared on failure";
  Buffer with = MakeBuffer(64, UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
  ASSERT_TRUE(with);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_get_device_address(with.get(), nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_buffer_get_device_address(nullptr, &address));
}

// The kernel reads a table of two addresses from memory and writes dst[i] = src[i] + i, with
// src 16 bytes into its buffer (pointer arithmetic on the host) and dst reached by pointer
// arithmetic in the kernel. No buffer is a launch argument.
TEST_P(DeviceAddressTest, KernelFollowsAddressesStoredInMemory) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_INT64)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_INT64 (the kernel adds 64-bit addresses)";
  Module module;
  Kernel kernel = MakeKernel("device_address", &module);
  ASSERT_TRUE(kernel);
  constexpr uint32_t n = 1000;
  Stream stream = MakeStream();
  // Slack after each buffer: a driver whose addresses are off by a little fails the checks
  // below instead of reading or writing outside the buffers.
  Buffer table = MakeBuffer(64, UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
  Buffer src = MakeBuffer(16 + n * 4 + 64, UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
  Buffer dst = MakeBuffer(n * 4 + 64, UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
  ASSERT_TRUE(stream && table && src && dst);
  std::vector<uint32_t> input(n + 20);
  for (uint32_t i = 0; i < n + 20; ++i) input[i] = 0x10000u * i + 7;
  ASSERT_OK(udal_stream_write_buffer(stream.get(), src.get(), 0, input.data(), input.size() * 4));
  const uint32_t poison = 0xdeadbeef;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), dst.get(), 0, n * 4 + 64, &poison, 4));
  // The pair is repeated over the table's 64 bytes, again so that an address that is off
  // stays inside the buffers.
  const uint64_t src_address = AddressOf(src.get()) + 16, dst_address = AddressOf(dst.get());
  const uint64_t addresses[8] = {src_address, dst_address, src_address, dst_address,
                                 src_address, dst_address, src_address, dst_address};
  ASSERT_OK(udal_stream_write_buffer(stream.get(), table.get(), 0, addresses, sizeof addresses));
  const uint64_t table_address = AddressOf(table.get());
  ASSERT_OK(Launch(stream.get(), kernel.get(), {(n + 63) / 64, 1, 1}, {64, 1, 1},
                   {Value(table_address), Value(n)}));
  std::vector<uint32_t> out = ReadBackAs<uint32_t>(stream.get(), dst.get(), n + 16);
  for (uint32_t i = 0; i < n; ++i) {
    ASSERT_EQ(input[i + 4] + i, out[i]) << "item " << i;
  }
  for (uint32_t i = n; i < n + 16; ++i) ASSERT_EQ(poison, out[i]) << "word " << i << " past the items";
}

TEST_P(DeviceAddressTest, AddressStaysValidAcrossLaunchesAndOtherAllocations) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_INT64)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_INT64 (the kernel adds 64-bit addresses)";
  Module module;
  Kernel kernel = MakeKernel("device_address", &module);
  constexpr uint32_t n = 64;
  Stream stream = MakeStream();
  Buffer table = MakeBuffer(64, UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
  Buffer data = MakeBuffer(2 * n * 4 + 64, UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
  ASSERT_TRUE(kernel && stream && table && data);
  const uint64_t base = AddressOf(data.get());
  const uint32_t zero = 0;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), data.get(), 0, 2 * n * 4 + 64, &zero, 4));
  // src = the first half, dst = the second half; run three times: dst = src + i each time,
  // then copy dst back over src.
  const uint64_t addresses[8] = {base, base + n * 4, base, base + n * 4,
                                 base, base + n * 4, base, base + n * 4};
  ASSERT_OK(udal_stream_write_buffer(stream.get(), table.get(), 0, addresses, sizeof addresses));
  const uint64_t table_address = AddressOf(table.get());
  for (int round = 0; round < 3; ++round) {
    std::vector<Buffer> churn;
    for (int k = 0; k < 4; ++k) churn.push_back(MakeBuffer(4096, UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_FLAG_DEVICE_ADDRESS));
    ASSERT_OK(Launch(stream.get(), kernel.get(), {1, 1, 1}, {64, 1, 1}, {Value(table_address), Value(n)}));
    ASSERT_OK(udal_stream_copy_buffer(stream.get(), data.get(), n * 4, data.get(), 0, n * 4));
    ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
    EXPECT_EQ(base, AddressOf(data.get()));
  }
  std::vector<uint32_t> words = ReadBackAs<uint32_t>(stream.get(), data.get(), n);
  for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(3 * i, words[i]) << "word " << i;
}

TEST_P(DeviceAddressTest, HostVisibleBuffersHaveAddressesToo) {
  udal_buffer_kind_t kind = HasFeature(UDAL_DEVICE_FEATURE_HOST_BUFFERS) ? UDAL_BUFFER_KIND_HOST
                            : HasFeature(UDAL_DEVICE_FEATURE_SHARED_BUFFERS)
                                ? UDAL_BUFFER_KIND_SHARED
                                : UDAL_BUFFER_KIND_FORCE_32BIT;
  if (kind == UDAL_BUFFER_KIND_FORCE_32BIT)
    GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_HOST_BUFFERS or UDAL_DEVICE_FEATURE_SHARED_BUFFERS";
  Buffer buffer = MakeBuffer(256, kind, UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
  ASSERT_TRUE(buffer);
  EXPECT_NE(0u, AddressOf(buffer.get()));
}

// Without the feature, asking for an address at creation is refused.
using DeviceAddressAbsentTest = DeviceTest;

TEST_P(DeviceAddressAbsentTest, FlagWithoutTheFeatureIsUnsupported) {
  if (HasFeature(UDAL_DEVICE_FEATURE_DEVICE_ADDRESS))
    GTEST_SKIP() << "the device has UDAL_DEVICE_FEATURE_DEVICE_ADDRESS";
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 64;
  desc.flags = UDAL_BUFFER_FLAG_DEVICE_ADDRESS;
  udal_buffer_t buffer = Poison<udal_buffer_t>();
  EXPECT_UDAL(UDAL_ERROR_UNSUPPORTED, udal_buffer_create(device(), &desc, &buffer));
  EXPECT_EQ(nullptr, buffer);
}

}  // namespace

CTS_INSTANTIATE(DeviceAddressTest);
CTS_INSTANTIATE(DeviceAddressAbsentTest);

}  // namespace cts
