// Buffers: every kind from one byte to large, the creation rules, allocation past the
// device's memory (the device must keep working), alignment, and map/unmap.
#include "cts.h"

#include <fmt/format.h>

namespace cts {
namespace {

class BufferTest : public DeviceTest {
 protected:
  // Skips (naming the feature) when the device lacks |kind|.
  bool RequireKind(udal_buffer_kind_t kind) {
    if (kind == UDAL_BUFFER_KIND_HOST && !HasFeature(UDAL_DEVICE_FEATURE_HOST_BUFFERS)) return false;
    if (kind == UDAL_BUFFER_KIND_SHARED && !HasFeature(UDAL_DEVICE_FEATURE_SHARED_BUFFERS)) return false;
    return true;
  }
  void CreatesEverySize(udal_buffer_kind_t kind) {
    Stream stream = MakeStream();
    ASSERT_TRUE(stream);
    for (uint64_t size : {1ull, 3ull, 64ull, 4097ull, (1ull << 20) + 7, 64ull << 20}) {
      if (size > info().max_allocation_bytes) continue;
      SCOPED_TRACE(fmt::format("kind {}, size {}", static_cast<int>(kind), size));
      Buffer buffer = MakeBuffer(size, kind);
      ASSERT_TRUE(buffer);
      udal_buffer_info_t buffer_info = UDAL_BUFFER_INFO_INIT;
      buffer_info.kind = UDAL_BUFFER_KIND_FORCE_32BIT;
      ASSERT_OK(udal_buffer_get_info(buffer.get(), &buffer_info));
      EXPECT_EQ(device(), buffer_info.device);
      EXPECT_EQ(kind, buffer_info.kind);
      EXPECT_EQ(size, buffer_info.size);
      EXPECT_GE(buffer_info.alignment, info().min_buffer_alignment);
      EXPECT_EQ(0u, buffer_info.alignment & (buffer_info.alignment - 1)) << "a power of two";
      EXPECT_EQ(0u, buffer_info.flags);
      EXPECT_EQ(0u, buffer_info.reserved0);
      // Its first and last bytes are usable.
      const uint8_t first = 0x11, last = 0x99;
      ASSERT_OK(udal_stream_write_buffer(stream.get(), buffer.get(), 0, &first, 1));
      ASSERT_OK(udal_stream_write_buffer(stream.get(), buffer.get(), size - 1, &last, 1));
      std::vector<uint8_t> back = ReadBack(stream.get(), buffer.get(), size - 1, 1);
      EXPECT_EQ(last, back.at(0));
    }
  }
};

TEST_P(BufferTest, CreateDeviceBuffersFromOneByteToLarge) {
  CreatesEverySize(UDAL_BUFFER_KIND_DEVICE);
}

TEST_P(BufferTest, CreateHostBuffersFromOneByteToLarge) {
  if (!RequireKind(UDAL_BUFFER_KIND_HOST)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_HOST_BUFFERS";
  CreatesEverySize(UDAL_BUFFER_KIND_HOST);
}

TEST_P(BufferTest, CreateSharedBuffersFromOneByteToLarge) {
  if (!RequireKind(UDAL_BUFFER_KIND_SHARED)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_SHARED_BUFFERS";
  CreatesEverySize(UDAL_BUFFER_KIND_SHARED);
}

TEST_P(BufferTest, KindTheDeviceLacksIsUnsupported) {
  std::vector<udal_buffer_kind_t> missing;
  if (!HasFeature(UDAL_DEVICE_FEATURE_HOST_BUFFERS)) missing.push_back(UDAL_BUFFER_KIND_HOST);
  if (!HasFeature(UDAL_DEVICE_FEATURE_SHARED_BUFFERS)) missing.push_back(UDAL_BUFFER_KIND_SHARED);
  if (missing.empty()) GTEST_SKIP() << "the device has UDAL_DEVICE_FEATURE_HOST_BUFFERS and UDAL_DEVICE_FEATURE_SHARED_BUFFERS";
  for (udal_buffer_kind_t kind : missing) {
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.kind = kind;
    desc.size = 64;
    udal_buffer_t buffer = Poison<udal_buffer_t>();
    EXPECT_UDAL(UDAL_ERROR_UNSUPPORTED, udal_buffer_create(device(), &desc, &buffer));
    EXPECT_EQ(nullptr, buffer);
  }
}

TEST_P(BufferTest, BadDescriptorsAreInvalidArgument) {
  auto expect_invalid = [&](udal_buffer_desc_t desc, const char* what) {
    udal_buffer_t buffer = Poison<udal_buffer_t>();
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device(), &desc, &buffer)) << what;
    EXPECT_EQ(nullptr, buffer) << what << ": the out-parameter must be cleared";
    if (buffer != nullptr && buffer != Poison<udal_buffer_t>()) udal_buffer_destroy(buffer);
  };
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 64;
  udal_buffer_desc_t bad = desc;
  bad.size = 0;
  expect_invalid(bad, "size 0");
  bad = desc;
  bad.kind = static_cast<udal_buffer_kind_t>(77);
  expect_invalid(bad, "unknown kind");
  bad = desc;
  bad.alignment = 24;
  expect_invalid(bad, "alignment 24");
  bad = desc;
  bad.flags = uint64_t{1} << 40;
  expect_invalid(bad, "unknown flag");
  bad = desc;
  bad.struct_size = 0;
  expect_invalid(bad, "struct_size 0");
  bad = desc;
  bad.type = UDAL_STRUCTURE_TYPE_EVENT_DESC;
  expect_invalid(bad, "type EVENT_DESC");
  bad = desc;
  bad.reserved0 = 3;
  expect_invalid(bad, "reserved0 not zero");
  udal_buffer_t buffer = Poison<udal_buffer_t>();
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device(), nullptr, &buffer));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device(), &desc, nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_buffer_create(nullptr, &desc, &buffer));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_buffer_destroy(nullptr));
}

TEST_P(BufferTest, RequestedAlignmentIsHonoured) {
  for (uint64_t alignment : {1ull, 64ull, 4096ull, 65536ull}) {
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.size = 100;
    desc.alignment = alignment;
    Buffer buffer;
    ASSERT_OK(udal_buffer_create(device(), &desc, buffer.out())) << "alignment " << alignment;
    udal_buffer_info_t buffer_info = UDAL_BUFFER_INFO_INIT;
    ASSERT_OK(udal_buffer_get_info(buffer.get(), &buffer_info));
    EXPECT_GE(buffer_info.alignment, alignment);
    EXPECT_GE(buffer_info.alignment, info().min_buffer_alignment);
  }
}

TEST_P(BufferTest, MappedAddressesHonourAlignment) {
  udal_buffer_kind_t kind = HasFeature(UDAL_DEVICE_FEATURE_HOST_BUFFERS) ? UDAL_BUFFER_KIND_HOST
                            : HasFeature(UDAL_DEVICE_FEATURE_SHARED_BUFFERS)
                                ? UDAL_BUFFER_KIND_SHARED
                                : UDAL_BUFFER_KIND_FORCE_32BIT;
  if (kind == UDAL_BUFFER_KIND_FORCE_32BIT)
    GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_HOST_BUFFERS or UDAL_DEVICE_FEATURE_SHARED_BUFFERS";
  for (uint64_t alignment : {0ull, 256ull, 4096ull}) {
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.kind = kind;
    desc.size = 300;
    desc.alignment = alignment;
    Buffer buffer;
    ASSERT_OK(udal_buffer_create(device(), &desc, buffer.out()));
    void* ptr = nullptr;
    ASSERT_OK(udal_buffer_map(buffer.get(), 0, 300, &ptr));
    uint64_t want = std::max<uint64_t>(alignment, info().min_buffer_alignment);
    EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(ptr) % want) << "alignment " << want;
    ASSERT_OK(udal_buffer_unmap(buffer.get()));
  }
}

TEST_P(BufferTest, SizeOverMaxAllocationIsOutOfDeviceMemory) {
  if (info().max_allocation_bytes == UINT64_MAX) GTEST_SKIP() << "max_allocation_bytes is 2^64-1";
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = info().max_allocation_bytes + 1;
  udal_buffer_t buffer = Poison<udal_buffer_t>();
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, udal_buffer_create(device(), &desc, &buffer));
  EXPECT_EQ(nullptr, buffer);
}

TEST_P(BufferTest, AllocationPastDeviceMemoryFailsAndTheDeviceStillWorks) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  // More than the device has, whatever its allocation limit says.
  desc.size = info().device_memory_bytes > UINT64_MAX / 2 ? UINT64_MAX : info().device_memory_bytes * 2;
  udal_buffer_t buffer = Poison<udal_buffer_t>();
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, udal_buffer_create(device(), &desc, &buffer));
  EXPECT_EQ(nullptr, buffer);
  desc.size = UINT64_MAX;
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, udal_buffer_create(device(), &desc, &buffer));
  // The device goes on: allocate, fill, read.
  Stream stream = MakeStream();
  Buffer small = MakeBuffer(4096);
  ASSERT_TRUE(stream && small);
  const uint32_t pattern = 0x01020304;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), small.get(), 0, 4096, &pattern, 4));
  std::vector<uint8_t> back = ReadBack(stream.get(), small.get(), 0, 4096);
  for (size_t i = 0; i < back.size(); ++i) {
    ASSERT_EQ(reinterpret_cast<const uint8_t*>(&pattern)[i % 4], back[i]) << "byte " << i;
  }
}

// ---------------------------------------------------------------------------------------
// Map and unmap
// ---------------------------------------------------------------------------------------

class MapTest : public BufferTest {
 protected:
  void SetUp() override {
    BufferTest::SetUp();
    if (IsSkipped()) return;
    if (HasFeature(UDAL_DEVICE_FEATURE_HOST_BUFFERS)) kinds_.push_back(UDAL_BUFFER_KIND_HOST);
    if (HasFeature(UDAL_DEVICE_FEATURE_SHARED_BUFFERS)) kinds_.push_back(UDAL_BUFFER_KIND_SHARED);
    if (kinds_.empty())
      GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_HOST_BUFFERS or UDAL_DEVICE_FEATURE_SHARED_BUFFERS";
    stream_ = MakeStream();
    ASSERT_TRUE(stream_);
  }
  std::vector<udal_buffer_kind_t> kinds_;
  Stream stream_;
};

TEST_P(MapTest, MapSeesWhatCompletedDeviceWorkWrote) {
  for (udal_buffer_kind_t kind : kinds_) {
    Buffer buffer = MakeBuffer(4096, kind);
    ASSERT_TRUE(buffer);
    for (uint32_t round = 0; round < 3; ++round) {
      // A map after each completed write must show that write, not an earlier view.
      std::vector<uint8_t> data = Pattern(4096, 500 + round + 10 * kind);
      Upload(stream_.get(), buffer.get(), 0, data);
      const uint16_t pattern = static_cast<uint16_t>(0xbeef + round);
      ASSERT_OK(udal_stream_fill_buffer(stream_.get(), buffer.get(), 1000, 999, &pattern, 2));
      ASSERT_OK(udal_stream_synchronize(stream_.get(), kWaitNs));
      for (uint64_t i = 0; i < 999; ++i) data[1000 + i] = reinterpret_cast<const uint8_t*>(&pattern)[i % 2];
      void* ptr = nullptr;
      ASSERT_OK(udal_buffer_map(buffer.get(), 0, 4096, &ptr));
      std::vector<uint8_t> seen(static_cast<uint8_t*>(ptr), static_cast<uint8_t*>(ptr) + 4096);
      ASSERT_OK(udal_buffer_unmap(buffer.get()));
      EXPECT_EQ("", FirstDifference(data, seen)) << "kind " << kind << ", round " << round;
    }
  }
}

TEST_P(MapTest, HostWritesThroughMapAreSeenByLaterWork) {
  for (udal_buffer_kind_t kind : kinds_) {
    Buffer buffer = MakeBuffer(4096, kind);
    Buffer copy = MakeBuffer(4096);
    ASSERT_TRUE(buffer && copy);
    std::vector<uint8_t> data = Pattern(4096, 600 + kind);
    void* ptr = nullptr;
    ASSERT_OK(udal_buffer_map(buffer.get(), 0, 4096, &ptr));
    std::memcpy(ptr, data.data(), data.size());
    ASSERT_OK(udal_buffer_unmap(buffer.get()));
    ASSERT_OK(udal_stream_copy_buffer(stream_.get(), buffer.get(), 0, copy.get(), 0, 4096));
    EXPECT_EQ("", FirstDifference(data, ReadBack(stream_.get(), copy.get(), 0, 4096)));
  }
}

TEST_P(MapTest, MapOfSubRangePointsAtItsOffset) {
  for (udal_buffer_kind_t kind : kinds_) {
    Buffer buffer = MakeBuffer(1000, kind);
    ASSERT_TRUE(buffer);
    std::vector<uint8_t> data = Pattern(1000, 700);
    Upload(stream_.get(), buffer.get(), 0, data);
    for (auto [offset, size] : {std::pair<uint64_t, uint64_t>{0, 1}, {1, 999}, {333, 17}, {999, 1}}) {
      void* ptr = nullptr;
      ASSERT_OK(udal_buffer_map(buffer.get(), offset, size, &ptr));
      std::vector<uint8_t> seen(static_cast<uint8_t*>(ptr), static_cast<uint8_t*>(ptr) + size);
      ASSERT_OK(udal_buffer_unmap(buffer.get()));
      std::vector<uint8_t> want(data.begin() + static_cast<ptrdiff_t>(offset),
                                data.begin() + static_cast<ptrdiff_t>(offset + size));
      EXPECT_EQ("", FirstDifference(want, seen)) << "map of " << size << " bytes at " << offset;
    }
  }
}

TEST_P(MapTest, MapRulesAreEnforced) {
  for (udal_buffer_kind_t kind : kinds_) {
    Buffer buffer = MakeBuffer(256, kind);
    ASSERT_TRUE(buffer);
    void* ptr = Poison<void*>();
    EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_buffer_map(buffer.get(), 0, 257, &ptr));
    EXPECT_EQ(nullptr, ptr);
    EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_buffer_map(buffer.get(), 256, 1, &ptr));
    EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, udal_buffer_map(buffer.get(), UINT64_MAX, 2, &ptr));
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_map(buffer.get(), 0, 0, &ptr));
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_map(buffer.get(), 0, 16, nullptr));
    EXPECT_UDAL(UDAL_ERROR_INVALID_STATE, udal_buffer_unmap(buffer.get())) << "not mapped";
    ASSERT_OK(udal_buffer_map(buffer.get(), 0, 256, &ptr));
    void* again = Poison<void*>();
    EXPECT_UDAL(UDAL_ERROR_INVALID_STATE, udal_buffer_map(buffer.get(), 0, 16, &again)) << "already mapped";
    EXPECT_EQ(nullptr, again);
    ASSERT_OK(udal_buffer_unmap(buffer.get()));
    EXPECT_UDAL(UDAL_ERROR_INVALID_STATE, udal_buffer_unmap(buffer.get())) << "unmapped twice";
    // A mapping can be made again after unmap.
    ASSERT_OK(udal_buffer_map(buffer.get(), 10, 20, &ptr));
    ASSERT_OK(udal_buffer_unmap(buffer.get()));
  }
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_buffer_unmap(nullptr));
}

TEST_P(BufferTest, GetInfoRejectsBadArguments) {
  Buffer buffer = MakeBuffer(64);
  ASSERT_TRUE(buffer);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_get_info(buffer.get(), nullptr));
  udal_buffer_info_t bad = UDAL_BUFFER_INFO_INIT;
  bad.type = UDAL_STRUCTURE_TYPE_BUFFER_DESC;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_get_info(buffer.get(), &bad)) << "wrong struct type";
  udal_buffer_info_t good = UDAL_BUFFER_INFO_INIT;
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_buffer_get_info(nullptr, &good));
}

// udal_buffer_destroy with work in flight: the handle dies at once, the memory lives until
// the work enqueued before the destroy has completed (udal.h).
TEST_P(BufferTest, DestroyWithWorkInFlightKeepsTheMemoryUntilTheWorkCompletes) {
  Stream stream = MakeStream(), other = MakeStream();
  Buffer keep = MakeBuffer(4096);
  ASSERT_TRUE(stream && other && keep);
  std::vector<uint8_t> data = Pattern(4096, 31);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  {
    Buffer doomed = MakeBuffer(4096);
    ASSERT_TRUE(doomed);
    Upload(other.get(), doomed.get(), 0, data);
    ASSERT_OK(gate.Hold(stream.get()));
    // Read from, then written to: both uses must see the buffer's memory.
    ASSERT_OK(udal_stream_copy_buffer(stream.get(), doomed.get(), 0, keep.get(), 0, 4096));
    const uint32_t pattern = 0x0badf00d;
    ASSERT_OK(udal_stream_fill_buffer(stream.get(), doomed.get(), 0, 4096, &pattern, 4));
    ASSERT_OK(udal_stream_copy_buffer(stream.get(), doomed.get(), 0, keep.get(), 2048, 16));
    ASSERT_TRUE(StillPending(stream.get()));
    ASSERT_OK(udal_buffer_destroy(doomed.release()));
    // Other allocations of the same size meanwhile must not get the same memory.
    std::vector<Buffer> others;
    for (int k = 0; k < 4; ++k) {
      others.push_back(MakeBuffer(4096));
      const uint32_t junk = 0xdeaddead;
      ASSERT_OK(udal_stream_fill_buffer(other.get(), others.back().get(), 0, 4096, &junk, 4));
    }
    ASSERT_OK(udal_stream_synchronize(other.get(), kWaitNs));
    ASSERT_TRUE(StillPending(stream.get()));
  }
  ASSERT_OK(gate.Open());
  ASSERT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
  std::vector<uint8_t> seen = ReadBack(other.get(), keep.get(), 0, 4096);
  std::vector<uint8_t> first(seen.begin(), seen.begin() + 2048), want_first(data.begin(), data.begin() + 2048);
  EXPECT_EQ("", FirstDifference(want_first, first)) << "the copy out of the destroyed buffer";
  std::vector<uint32_t> filled(4);
  std::memcpy(filled.data(), seen.data() + 2048, 16);
  for (uint32_t word : filled) EXPECT_EQ(0x0badf00du, word) << "the fill of the destroyed buffer, then a copy out of it";
}

TEST_P(BufferTest, DestroyOfAMappedBufferIsInvalidState) {
  udal_buffer_kind_t kind = HasFeature(UDAL_DEVICE_FEATURE_HOST_BUFFERS) ? UDAL_BUFFER_KIND_HOST
                            : HasFeature(UDAL_DEVICE_FEATURE_SHARED_BUFFERS)
                                ? UDAL_BUFFER_KIND_SHARED
                                : UDAL_BUFFER_KIND_FORCE_32BIT;
  if (kind == UDAL_BUFFER_KIND_FORCE_32BIT)
    GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_HOST_BUFFERS or UDAL_DEVICE_FEATURE_SHARED_BUFFERS";
  Buffer buffer = MakeBuffer(256, kind);
  ASSERT_TRUE(buffer);
  void* ptr = nullptr;
  ASSERT_OK(udal_buffer_map(buffer.get(), 0, 256, &ptr));
  udal_result_t destroyed = udal_buffer_destroy(buffer.get());
  EXPECT_UDAL(UDAL_ERROR_INVALID_STATE, destroyed);
  if (destroyed == UDAL_SUCCESS) {
    buffer.release();  // destroyed after all: neither the handle nor the pointer is valid
    return;
  }
  static_cast<uint8_t*>(ptr)[255] = 7;  // still mapped: the pointer is valid
  ASSERT_OK(udal_buffer_unmap(buffer.get()));
  EXPECT_OK(udal_buffer_destroy(buffer.release()));
}

TEST_P(BufferTest, MapOfDeviceBufferIsInvalidArgument) {
  Buffer buffer = MakeBuffer(256);
  ASSERT_TRUE(buffer);
  void* ptr = Poison<void*>();
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_map(buffer.get(), 0, 256, &ptr));
  EXPECT_EQ(nullptr, ptr);
}

TEST_P(MapTest, DeviceMayUseAMappedBuffer) {
  for (udal_buffer_kind_t kind : kinds_) {
    Buffer buffer = MakeBuffer(512, kind);
    ASSERT_TRUE(buffer);
    void* ptr = nullptr;
    ASSERT_OK(udal_buffer_map(buffer.get(), 0, 512, &ptr));
    const uint32_t pattern = 0xcafef00d;
    ASSERT_OK(udal_stream_fill_buffer(stream_.get(), buffer.get(), 0, 512, &pattern, 4));
    ASSERT_OK(udal_stream_synchronize(stream_.get(), kWaitNs));
    for (size_t i = 0; i < 512; ++i) {
      ASSERT_EQ(reinterpret_cast<const uint8_t*>(&pattern)[i % 4], static_cast<uint8_t*>(ptr)[i]) << i;
    }
    ASSERT_OK(udal_buffer_unmap(buffer.get()));
  }
}

// The host writes through a mapping of the first half while device work that was held
// back, then released, writes the second half: neither may disturb the other (udal.h: the
// buffer may be used by the device while mapped, on ranges the host does not touch).
TEST_P(MapTest, HostWritesToAMappedRangeWhileDeviceWorkRunsOnOtherRanges) {
  constexpr uint64_t kSize = 1 << 20, kHalf = kSize / 2;
  Module module;
  Kernel add = MakeKernel("add_u32", &module);
  ASSERT_TRUE(add);
  for (udal_buffer_kind_t kind : kinds_) {
    SCOPED_TRACE(fmt::format("kind {}", static_cast<int>(kind)));
    Buffer buffer = MakeBuffer(kSize, kind);
    ASSERT_TRUE(buffer);
    const uint32_t zero = 0;
    ASSERT_OK(udal_stream_fill_buffer(stream_.get(), buffer.get(), 0, kSize, &zero, 4));
    ASSERT_OK(udal_stream_synchronize(stream_.get(), kWaitNs));
    void* ptr = nullptr;
    ASSERT_OK(udal_buffer_map(buffer.get(), 0, kHalf, &ptr));
    auto* host = static_cast<uint32_t*>(ptr);
    Gate gate(device());
    ASSERT_TRUE(gate.ok());
    ASSERT_OK(gate.Hold(stream_.get()));
    // The device's work on the second half: a fill, then kernels that add to it.
    const uint32_t seven = 7, one = 1, words = static_cast<uint32_t>(kHalf / 4);
    ASSERT_OK(udal_stream_fill_buffer(stream_.get(), buffer.get(), kHalf, kHalf, &seven, 4));
    uint64_t offset = ArgOffset(kHalf);
    ASSERT_EQ(kHalf, offset) << "half of 1 MiB is a multiple of any offset alignment";
    for (int round = 0; round < 8; ++round) {
      ASSERT_OK(Launch(stream_.get(), add.get(), {words / 64, 1, 1}, {64, 1, 1},
                       {udal_arg_buffer(buffer.get(), offset), Value(one), Value(words)}));
    }
    ASSERT_TRUE(StillPending(stream_.get()));
    for (uint32_t i = 0; i < words; ++i) host[i] = i;  // while the device work is held
    ASSERT_OK(gate.Open());
    for (int pass = 0; pass < 4; ++pass) {  // and while it runs
      for (uint32_t i = 0; i < words; ++i) host[i] = i * 3 + static_cast<uint32_t>(pass);
    }
    ASSERT_OK(udal_stream_synchronize(stream_.get(), kWaitNs));
    for (uint32_t i = 0; i < words; ++i) {
      ASSERT_EQ(i * 3 + 3, host[i]) << "mapped word " << i << ": device work wrote the host's range";
    }
    ASSERT_OK(udal_buffer_unmap(buffer.get()));
    std::vector<uint32_t> second = ReadBackAs<uint32_t>(stream_.get(), buffer.get(), words, kHalf);
    for (uint32_t i = 0; i < words; ++i) ASSERT_EQ(15u, second[i]) << "device word " << i;
    std::vector<uint32_t> first = ReadBackAs<uint32_t>(stream_.get(), buffer.get(), words);
    for (uint32_t i = 0; i < words; ++i) ASSERT_EQ(i * 3 + 3, first[i]) << "host word " << i << " after unmap";
  }
}

}  // namespace

CTS_INSTANTIATE(BufferTest);
CTS_INSTANTIATE(MapTest);

}  // namespace cts
