// Buffers: creation, kinds, alignment, limits, map/unmap.
#include <cstdint>
#include <cstring>
#include <vector>

#include "fixture.h"

namespace udal::cpu::test {
namespace {

TEST_F(CpuDriverTest, CreatesEveryKindWithTheDeviceAlignment) {
  for (udal_buffer_kind_t kind :
       {UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_KIND_HOST, UDAL_BUFFER_KIND_SHARED}) {
    Buffer buffer = make_buffer(1000, kind);
    ASSERT_TRUE(buffer);
    udal_buffer_info_t info = UDAL_BUFFER_INFO_INIT;
    UDAL_ASSERT_OK(udal_buffer_get_info(buffer.get(), &info));
    EXPECT_EQ(info.device, device_);
    EXPECT_EQ(info.kind, kind);
    EXPECT_EQ(info.flags, 0u);
    EXPECT_EQ(info.reserved0, 0u);
    EXPECT_EQ(info.size, 1000u);
    EXPECT_GE(info.alignment, info_.min_buffer_alignment);
  }
}

TEST_F(CpuDriverTest, HonoursLargeAlignments) {
  for (uint64_t alignment : {uint64_t{64}, uint64_t{4096}, uint64_t{1} << 16, uint64_t{1} << 21}) {
    Buffer buffer = make_buffer(100, UDAL_BUFFER_KIND_HOST, 0, alignment);
    ASSERT_TRUE(buffer);
    void* ptr = nullptr;
    UDAL_ASSERT_OK(udal_buffer_map(buffer.get(), 0, 100, &ptr));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(ptr) % alignment, 0u) << "alignment " << alignment;
    UDAL_ASSERT_OK(udal_buffer_unmap(buffer.get()));
  }
}

TEST_F(CpuDriverTest, BadBufferDescriptionsAreRejected) {
  udal_buffer_t buffer = nullptr;
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 0;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device_, &desc, &buffer), "size");
  EXPECT_EQ(buffer, nullptr);
  desc.size = 64;
  desc.alignment = 96;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device_, &desc, &buffer), "96");
  desc.alignment = 0;
  desc.kind = static_cast<udal_buffer_kind_t>(7);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device_, &desc, &buffer));
  desc.kind = UDAL_BUFFER_KIND_DEVICE;
  desc.flags = 4;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device_, &desc, &buffer));
  desc.flags = 0;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device_, nullptr, &buffer));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device_, &desc, nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_buffer_create(nullptr, &desc, &buffer));
}

TEST_F(CpuDriverTest, OverMaxAllocationIsOutOfDeviceMemoryAndTheDeviceKeepsWorking) {
  udal_buffer_t buffer = nullptr;
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = info_.max_allocation_bytes + 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, udal_buffer_create(device_, &desc, &buffer),
                    "max_allocation_bytes");
  desc.size = UINT64_MAX;
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, udal_buffer_create(device_, &desc, &buffer));
  EXPECT_EQ(buffer, nullptr);
  Buffer ok = make_buffer(4096);
  ASSERT_TRUE(ok);
  const uint32_t value = 0x12345678;
  write(ok.get(), 100, &value, sizeof(value));
  EXPECT_EQ(read_value<uint32_t>(ok.get(), 100), value);
}

TEST_F(CpuDriverTest, MapGivesHostAccessThatStreamsSee) {
  Buffer buffer = make_buffer(4096, UDAL_BUFFER_KIND_SHARED);
  void* ptr = nullptr;
  UDAL_ASSERT_OK(udal_buffer_map(buffer.get(), 1024, 16, &ptr));
  std::memset(ptr, 0x5a, 16);
  UDAL_ASSERT_OK(udal_buffer_unmap(buffer.get()));
  auto bytes = read(buffer.get(), 1024, 16);
  for (uint8_t b : bytes) EXPECT_EQ(b, 0x5a);
}

TEST_F(CpuDriverTest, MapMisuseIsRejected) {
  Buffer device_buffer = make_buffer(256, UDAL_BUFFER_KIND_DEVICE);
  Buffer host_buffer = make_buffer(256, UDAL_BUFFER_KIND_HOST);
  void* ptr = reinterpret_cast<void*>(1);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_map(device_buffer.get(), 0, 16, &ptr),
                    "DEVICE");
  EXPECT_EQ(ptr, nullptr);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_map(host_buffer.get(), 0, 0, &ptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_map(host_buffer.get(), 0, 16, nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE, udal_buffer_map(host_buffer.get(), 250, 16, &ptr),
                    "250", "256");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE,
                    udal_buffer_map(host_buffer.get(), UINT64_MAX, 2, &ptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_buffer_unmap(host_buffer.get()), "not mapped");
  UDAL_ASSERT_OK(udal_buffer_map(host_buffer.get(), 0, 256, &ptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_buffer_map(host_buffer.get(), 0, 16, &ptr),
                    "already mapped");
  UDAL_ASSERT_OK(udal_buffer_unmap(host_buffer.get()));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_buffer_map(nullptr, 0, 16, &ptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_buffer_unmap(nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_buffer_destroy(nullptr));
  udal_buffer_info_t info = UDAL_BUFFER_INFO_INIT;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_buffer_get_info(nullptr, &info));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_get_info(host_buffer.get(), nullptr));
}

TEST_F(CpuDriverTest, DestroyingAMappedBufferIsInvalidStateUntilUnmapped) {
  Buffer buffer = make_buffer(256, UDAL_BUFFER_KIND_HOST);
  void* ptr = nullptr;
  UDAL_ASSERT_OK(udal_buffer_map(buffer.get(), 0, 256, &ptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_buffer_destroy(buffer.get()), "mapped");
  // The refused destroy left the buffer whole: the mapping still works.
  std::memset(ptr, 0x3c, 256);
  UDAL_ASSERT_OK(udal_buffer_unmap(buffer.get()));
  EXPECT_EQ(read_value<uint8_t>(buffer.get(), 255), 0x3c);
  UDAL_ASSERT_OK(udal_buffer_destroy(buffer.release()));
}

TEST_F(CpuDriverTest, ADeviceAddressIsThePointerKernelsWriteThrough) {
  Buffer buffer = make_buffer(256, UDAL_BUFFER_KIND_SHARED, UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
  ASSERT_TRUE(buffer);
  udal_buffer_info_t info = UDAL_BUFFER_INFO_INIT;
  UDAL_ASSERT_OK(udal_buffer_get_info(buffer.get(), &info));
  EXPECT_EQ(info.flags, UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
  uint64_t address = 0;
  UDAL_ASSERT_OK(udal_buffer_get_device_address(buffer.get(), &address));
  EXPECT_NE(address, 0u);
  EXPECT_EQ(address % info_.min_buffer_alignment, 0u);
  uint64_t again = 0;
  UDAL_ASSERT_OK(udal_buffer_get_device_address(buffer.get(), &again));
  EXPECT_EQ(again, address) << "the address stays the same for the buffer's life";
  // The host pointer of a mapping is the same memory.
  void* ptr = nullptr;
  UDAL_ASSERT_OK(udal_buffer_map(buffer.get(), 0, 256, &ptr));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ptr), address);
  UDAL_ASSERT_OK(udal_buffer_unmap(buffer.get()));

  // A kernel takes it as a 64-bit value and offsets it.
  Kernel store = make_kernel("store_at_address");
  Stream stream = make_stream();
  const uint64_t shifted = address + 16;  // pointer arithmetic on the device side
  const uint32_t index = 2;
  const uint32_t value = 0xc0ffee;
  UDAL_ASSERT_OK(launch(stream.get(), store.get(),
                        {udal_arg_value(&shifted, 8), udal_arg_value(&index, 4), udal_arg_value(&value, 4)}));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(read_value<uint32_t>(buffer.get(), 16 + 2 * 4), value);

  // An address stored in memory and followed by a kernel.
  Buffer table = make_buffer(64);
  Buffer out = make_buffer(64);
  write(table.get(), 0, &address, sizeof(address));
  const uint32_t second = 0x5eed;
  write(buffer.get(), 4, &second, 4);
  Kernel follow = make_kernel("follow_address");
  UDAL_ASSERT_OK(launch(stream.get(), follow.get(),
                        {udal_arg_buffer_access(table.get(), 0, UDAL_ARG_ACCESS_READ),
                         udal_arg_buffer_access(out.get(), 0, UDAL_ARG_ACCESS_WRITE)}));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(read_value<uint32_t>(out.get()), second);
}

TEST_F(CpuDriverTest, DeviceAddressMisuseIsRefused) {
  Buffer plain = make_buffer(64);
  uint64_t address = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_get_device_address(plain.get(), &address),
                    "UDAL_BUFFER_FLAG_DEVICE_ADDRESS");
  EXPECT_EQ(address, 0u);
  Buffer flagged = make_buffer(64, UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_get_device_address(flagged.get(), nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_buffer_get_device_address(nullptr, &address));
}

}  // namespace
}  // namespace udal::cpu::test
