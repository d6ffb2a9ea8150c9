// Buffers: kinds, mapping, alignment, device addresses, destroy with work in flight.
#include <numeric>

#include "fixture.h"

namespace udal::opencl::test {
namespace {

using BufferTest = OpenclDriverTest;

TEST_F(BufferTest, EveryKindHoldsWhatIsWrittenAtOddOffsets) {
  for (udal_buffer_kind_t kind :
       {UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_KIND_HOST, UDAL_BUFFER_KIND_SHARED}) {
    Buffer buffer = make_buffer(1001, kind);
    ASSERT_TRUE(buffer);
    std::vector<uint8_t> bytes(997);
    std::iota(bytes.begin(), bytes.end(), static_cast<uint8_t>(kind * 7 + 1));
    write(buffer.get(), 3, bytes.data(), bytes.size());
    EXPECT_EQ(read(buffer.get(), 3, bytes.size()), bytes) << "kind " << kind;
    udal_buffer_info_t info = UDAL_BUFFER_INFO_INIT;
    UDAL_ASSERT_OK(udal_buffer_get_info(buffer.get(), &info));
    EXPECT_EQ(info.size, 1001u);
    EXPECT_EQ(info.kind, kind);
    EXPECT_EQ(info.device, device_);
    EXPECT_GE(info.alignment, info_.min_buffer_alignment);
  }
}

TEST_F(BufferTest, MappedHostBufferSeesDeviceWorkAndTheDeviceSeesHostWrites) {
  for (udal_buffer_kind_t kind : {UDAL_BUFFER_KIND_HOST, UDAL_BUFFER_KIND_SHARED}) {
    Buffer buffer = make_buffer(64 * sizeof(uint32_t), kind);
    void* pointer = nullptr;
    UDAL_ASSERT_OK(udal_buffer_map(buffer.get(), 0, 64 * sizeof(uint32_t), &pointer));
    auto* words = static_cast<uint32_t*>(pointer);
    for (uint32_t i = 0; i < 64; ++i)
      words[i] = i;
    // The device may use a mapped buffer (fine-grained SVM on PoCL).
    Kernel add = make_kernel("add_u32");
    const uint32_t value = 100;
    const uint32_t n = 64;
    UDAL_ASSERT_OK(
        launch(io_stream_.get(), add.get(),
               {udal_arg_buffer(buffer.get(), 0), udal_arg_value(&value, 4), udal_arg_value(&n, 4)},
               8, 8));
    UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), kWaitNs));
    for (uint32_t i = 0; i < 64; ++i)
      ASSERT_EQ(words[i], i + 100) << "kind " << kind;
    UDAL_ASSERT_OK(udal_buffer_unmap(buffer.get()));
  }
}

TEST_F(BufferTest, RequestedAlignmentIsTheMappedAddresssAlignment) {
  for (uint64_t alignment : {0ull, 256ull, 4096ull, 65536ull}) {
    Buffer buffer = make_buffer(300, UDAL_BUFFER_KIND_HOST, 0, alignment);
    void* pointer = nullptr;
    UDAL_ASSERT_OK(udal_buffer_map(buffer.get(), 0, 300, &pointer));
    const uint64_t want = std::max<uint64_t>(alignment, info_.min_buffer_alignment);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(pointer) % want, 0u) << "alignment " << want;
    UDAL_ASSERT_OK(udal_buffer_unmap(buffer.get()));
    udal_buffer_info_t info = UDAL_BUFFER_INFO_INIT;
    UDAL_ASSERT_OK(udal_buffer_get_info(buffer.get(), &info));
    EXPECT_GE(info.alignment, want);
  }
}

TEST_F(BufferTest, MapRulesAreEnforced) {
  Buffer device_buffer = make_buffer(64);
  void* pointer = reinterpret_cast<void*>(1);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_buffer_map(device_buffer.get(), 0, 64, &pointer), "DEVICE");
  EXPECT_EQ(pointer, nullptr);
  Buffer host = make_buffer(64, UDAL_BUFFER_KIND_HOST);
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE, udal_buffer_map(host.get(), 60, 8, &pointer), "64");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_buffer_unmap(host.get()), "not mapped");
  UDAL_ASSERT_OK(udal_buffer_map(host.get(), 8, 8, &pointer));
  void* again = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_buffer_map(host.get(), 0, 8, &again),
                    "already mapped");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_STATE, udal_buffer_destroy(host.get()), "mapped");
  UDAL_ASSERT_OK(udal_buffer_unmap(host.get()));
}

TEST_F(BufferTest, SizeOverTheMaximumIsOutOfDeviceMemory) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = info_.max_allocation_bytes + 1;
  udal_buffer_t buffer = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, udal_buffer_create(device_, &desc, &buffer),
                    "max_allocation_bytes");
  EXPECT_EQ(buffer, nullptr);
}

TEST_F(BufferTest, DeviceAddressReachesTheBufferFromAKernel) {
  if ((info_.features & UDAL_DEVICE_FEATURE_DEVICE_ADDRESS) == 0) {
    GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_DEVICE_ADDRESS";
  }
  for (udal_module_format_t format :
       {UDAL_MODULE_FORMAT_OPENCL_C, UDAL_MODULE_FORMAT_SPIRV_KERNEL}) {
    for (udal_buffer_kind_t kind : {UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_KIND_HOST}) {
      Buffer target = make_buffer(64 * 4, kind, UDAL_BUFFER_FLAG_DEVICE_ADDRESS, 4096);
      uint64_t address = 0;
      UDAL_ASSERT_OK(udal_buffer_get_device_address(target.get(), &address));
      EXPECT_NE(address, 0u);
      EXPECT_EQ(address % 4096, 0u);
      uint64_t again = 0;
      UDAL_ASSERT_OK(udal_buffer_get_device_address(target.get(), &again));
      EXPECT_EQ(again, address);
      Kernel store = make_kernel("store_through_address", format);
      const uint64_t at = address + 16 * 4; // an address inside the buffer works too
      const uint32_t value = 7;
      const uint32_t n = 48;
      UDAL_ASSERT_OK(
          launch(io_stream_.get(), store.get(),
                 {udal_arg_value(&at, 8), udal_arg_value(&value, 4), udal_arg_value(&n, 4)}, 6, 8));
      std::vector<uint32_t> words = read_as<uint32_t>(target.get(), 64);
      for (uint32_t i = 16; i < 64; ++i) {
        ASSERT_EQ(words[i], 7 + (i - 16)) << "format " << format << " kind " << kind;
      }
    }
  }
}

TEST_F(BufferTest, DeviceAddressRules) {
  Buffer plain = make_buffer(64);
  uint64_t address = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_buffer_get_device_address(plain.get(), &address),
                    "UDAL_BUFFER_FLAG_DEVICE_ADDRESS");
  EXPECT_EQ(address, 0u);
}

// The handle dies at once; the memory stays until the work enqueued before it completed. A
// HOST buffer's memory is the driver's own (SVM): freed too early, the copy below would read
// freed memory (AddressSanitizer reports it) or the wrong bytes.
TEST_F(BufferTest, DestroyWithWorkInFlightKeepsTheMemoryForThatWork) {
  Kernel spin = make_kernel("spin");
  Buffer scratch = make_buffer(4 * 256);
  Buffer result = make_buffer(4096);
  for (udal_buffer_kind_t kind : {UDAL_BUFFER_KIND_HOST, UDAL_BUFFER_KIND_DEVICE}) {
    Stream stream = make_stream();
    udal_buffer_t doomed = nullptr;
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.size = 4096;
    desc.kind = kind;
    UDAL_ASSERT_OK(udal_buffer_create(device_, &desc, &doomed));
    const uint32_t rounds = 2'000'000;
    UDAL_ASSERT_OK(launch(stream.get(), spin.get(),
                          {udal_arg_buffer(scratch.get(), 0), udal_arg_value(&rounds, 4)}, 4, 64));
    const uint32_t pattern = 0x5eed0000u + kind;
    UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), doomed, 0, 4096, &pattern, 4));
    UDAL_ASSERT_OK(udal_stream_copy_buffer(stream.get(), doomed, 0, result.get(), 0, 4096));
    UDAL_ASSERT_OK(udal_buffer_destroy(doomed));
    // New allocations may reuse freed memory: one now must not disturb the copy.
    Buffer other = make_buffer(4096, kind);
    UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
    EXPECT_EQ(read_as<uint32_t>(result.get(), 1024), std::vector<uint32_t>(1024, pattern));
  }
}

} // namespace
} // namespace udal::opencl::test
