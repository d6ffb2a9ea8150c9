// Memory usage (udal_device_get_memory_usage), allocation past the device's memory, and
// buffer memory released only when the work in flight that uses it has completed.
#include <cstdint>
#include <vector>

#include "fixture.h"

namespace udal::cpu::test {
namespace {

udal_memory_usage_t usage_of(udal_device_t device) {
  udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
  EXPECT_EQ(udal_device_get_memory_usage(device, &usage), UDAL_SUCCESS) << udal_last_error_message();
  return usage;
}

TEST_F(CpuDriverTest, MemoryUsageCountsEveryKindUntilDestroyed) {
  const udal_memory_usage_t before = usage_of(device_);
  EXPECT_EQ(before.device_budget_bytes, info_.device_memory_bytes);
  EXPECT_EQ(before.host_visible_budget_bytes, info_.host_visible_memory_bytes);
  Buffer device_buffer = make_buffer(1 << 20);
  Buffer host_buffer = make_buffer(3000, UDAL_BUFFER_KIND_HOST);
  Buffer shared_buffer = make_buffer(5000, UDAL_BUFFER_KIND_SHARED);
  const udal_memory_usage_t during = usage_of(device_);
  EXPECT_EQ(during.device_allocated_bytes - before.device_allocated_bytes, uint64_t{1} << 20);
  EXPECT_EQ(during.host_visible_allocated_bytes - before.host_visible_allocated_bytes, 8000u);
  device_buffer.reset();
  host_buffer.reset();
  shared_buffer.reset();
  const udal_memory_usage_t after = usage_of(device_);
  EXPECT_EQ(after.device_allocated_bytes, before.device_allocated_bytes);
  EXPECT_EQ(after.host_visible_allocated_bytes, before.host_visible_allocated_bytes);
}

TEST_F(CpuDriverTest, MemoryUsageMisuseIsRefused) {
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_memory_usage(device_, nullptr));
  udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_device_get_memory_usage(nullptr, &usage));
  usage.type = UDAL_STRUCTURE_TYPE_DEVICE_INFO;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_memory_usage(device_, &usage),
                    "UDAL_STRUCTURE_TYPE_MEMORY_USAGE");
}

TEST_F(CpuDriverTest, AllocationsPastTheDevicesMemoryAreOutOfDeviceMemory) {
  // The largest buffers, until the device's memory is used up: pages are never touched, so
  // this costs address space only. Before the freeze the driver handed out 27.6 GiB against
  // a reported 9.2 GiB here.
  std::vector<Buffer> held;
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = info_.max_allocation_bytes;
  udal_result_t r = UDAL_SUCCESS;
  uint64_t total = 0;
  for (int i = 0; i < 8 && r == UDAL_SUCCESS; ++i) {
    desc.kind = i % 2 ? UDAL_BUFFER_KIND_HOST : UDAL_BUFFER_KIND_DEVICE;
    udal_buffer_t buffer = nullptr;
    r = udal_buffer_create(device_, &desc, &buffer);
    if (r == UDAL_SUCCESS) {
      held.emplace_back(buffer);
      total += desc.size;
    } else {
      EXPECT_EQ(buffer, nullptr);
    }
  }
  EXPECT_EQ(r, UDAL_ERROR_OUT_OF_DEVICE_MEMORY) << udal_last_error_message();
  EXPECT_NE(std::string(udal_last_error_message()).find("do not fit"), std::string::npos)
      << udal_last_error_message();
  EXPECT_LE(total, info_.device_memory_bytes);
  EXPECT_GE(held.size(), 1u);
  const udal_memory_usage_t full = usage_of(device_);
  EXPECT_EQ(full.device_allocated_bytes + full.host_visible_allocated_bytes, total);
  EXPECT_LE(full.device_allocated_bytes + full.host_visible_allocated_bytes, full.device_budget_bytes);
  // The device keeps working, and the memory comes back.
  held.pop_back();
  Buffer ok = make_buffer(4096);
  ASSERT_TRUE(ok);
  const uint32_t value = 0x600d;
  write(ok.get(), 0, &value, 4);
  EXPECT_EQ(read_value<uint32_t>(ok.get()), value);
  held.clear();
  udal_buffer_t again = nullptr;
  UDAL_ASSERT_OK(udal_buffer_create(device_, &desc, &again));
  Buffer owned(again);
}

TEST_F(CpuDriverTest, ADestroyedBuffersMemoryIsReleasedWhenItsWorkCompletes) {
  Event gate = make_gate();
  Stream stream = make_stream();
  const uint64_t size = uint64_t{1} << 22;
  const uint64_t before = usage_of(device_).device_allocated_bytes;
  Buffer source = make_buffer(size);
  Buffer target = make_buffer(size);
  const uint32_t pattern = 0x01020304;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(io_stream_.get(), source.get(), 0, size, &pattern, 4));
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), UDAL_TIMEOUT_INFINITE));
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_copy_buffer(stream.get(), source.get(), 0, target.get(), 0, size));
  // The handle dies at once; the copy held by the gate still owns the memory.
  source.reset();
  EXPECT_EQ(usage_of(device_).device_allocated_bytes - before, 2 * size);
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(usage_of(device_).device_allocated_bytes - before, size);
  auto bytes = read(target.get(), size - 4, 4);
  uint32_t last;
  std::memcpy(&last, bytes.data(), 4);
  EXPECT_EQ(last, pattern);
}

}  // namespace
}  // namespace udal::cpu::test
