// Launches: a real compute shader with buffer and value arguments, dynamic local memory,
// unaligned buffer offsets, and every rejected launch.
#include "fixture.h"

namespace udal::vulkan::test {
namespace {

using LaunchTest = VulkanDriverTest;

TEST_F(LaunchTest, VectorAddWithBufferAndValueArguments) {
  Kernel kernel = make_kernel("vector_add");
  ASSERT_TRUE(kernel);
  const uint32_t n = 10007;
  std::vector<float> a(n), b(n);
  for (uint32_t i = 0; i < n; ++i) {
    a[i] = static_cast<float>(i);
    b[i] = static_cast<float>(2 * i + 1);
  }
  Buffer da = make_buffer(n * 4), db = make_buffer(n * 4, UDAL_BUFFER_KIND_HOST),
         dc = make_buffer(n * 4, UDAL_BUFFER_KIND_SHARED);
  ASSERT_TRUE(da && db && dc);
  write(da.get(), 0, a.data(), n * 4);
  write(db.get(), 0, b.data(), n * 4);
  const float scale = 0.5f;
  UDAL_ASSERT_OK(launch(io_stream_.get(), kernel.get(),
                        {udal_arg_buffer(da.get(), 0), udal_arg_buffer(db.get(), 0),
                         udal_arg_buffer(dc.get(), 0), udal_arg_value(&n, 4),
                         udal_arg_value(&scale, 4)},
                        (n + 63) / 64, 64));
  std::vector<uint8_t> back = read(dc.get(), 0, n * 4);
  std::vector<float> c(n);
  std::memcpy(c.data(), back.data(), n * 4);
  for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(a[i] + scale * b[i], c[i]) << "item " << i;
}

TEST_F(LaunchTest, BufferOffsetsAlignedAndNotAreApplied) {
  Kernel kernel = make_kernel("store_u32");
  ASSERT_TRUE(kernel);
  Buffer out = make_buffer(1024);
  ASSERT_TRUE(out);
  for (uint64_t offset : {0ull, 64ull, 100ull, 4ull, 1000ull}) {
    const uint32_t poison = 0xdeadbeef, value = 50, n = 6;
    UDAL_ASSERT_OK(udal_stream_fill_buffer(io_stream_.get(), out.get(), 0, 1024, &poison, 4));
    UDAL_ASSERT_OK(launch(io_stream_.get(), kernel.get(),
                          {udal_arg_buffer(out.get(), offset), udal_arg_value(&value, 4),
                           udal_arg_value(&n, 4)},
                          1, 8));
    std::vector<uint8_t> back = read(out.get(), 0, 1024);
    for (uint64_t w = 0; w < 256; ++w) {
      uint32_t word;
      std::memcpy(&word, back.data() + w * 4, 4);
      const uint64_t first = offset / 4;
      const uint32_t want = (w >= first && w < first + n) ? value + static_cast<uint32_t>(w - first) : poison;
      ASSERT_EQ(want, word) << "offset " << offset << " word " << w;
    }
  }
}

TEST_F(LaunchTest, DynamicLocalMemoryThroughSpecializationConstant3) {
  Kernel kernel = make_kernel("local_reverse");
  ASSERT_TRUE(kernel);
  for (uint32_t group : {1u, 16u, 61u, 256u}) {
    const uint32_t groups = 7, n = groups * group;
    Buffer data = make_buffer(uint64_t{n} * 4);
    std::vector<uint32_t> values(n);
    for (uint32_t k = 0; k < n; ++k) values[k] = 3 * k + 1;
    write(data.get(), 0, values.data(), uint64_t{n} * 4);
    UDAL_ASSERT_OK(launch(io_stream_.get(), kernel.get(), {udal_arg_buffer(data.get(), 0)}, groups,
                          group, uint64_t{group} * 4));
    std::vector<uint8_t> back = read(data.get(), 0, uint64_t{n} * 4);
    std::vector<uint32_t> got(n);
    std::memcpy(got.data(), back.data(), back.size());
    for (uint32_t g = 0; g < groups; ++g) {
      for (uint32_t l = 0; l < group; ++l) {
        ASSERT_EQ(values[g * group + group - 1 - l], got[g * group + l]) << "group size " << group;
      }
    }
  }
}

TEST_F(LaunchTest, BadLaunchesAreRejectedWithMessages) {
  Kernel kernel = make_kernel("store_u32");
  Buffer out = make_buffer(256);
  ASSERT_TRUE(kernel && out);
  const uint32_t value = 1, n = 4;
  const uint64_t big = 7;
  udal_stream_t s = io_stream_.get();
  udal_kernel_t k = kernel.get();
  const udal_kernel_arg_t buffer_arg = udal_arg_buffer(out.get(), 0);
  const udal_kernel_arg_t v = udal_arg_value(&value, 4), count = udal_arg_value(&n, 4);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, launch(s, k, {buffer_arg, v}), "value arguments");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, launch(s, k, {buffer_arg, v, count, v}),
                    "value arguments");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, launch(s, k, {v, count}), "buffer arguments");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(s, k, {buffer_arg, udal_arg_value(&big, 8)}), "value arguments");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(s, k, {buffer_arg, v, count}, 1, info_.max_group_size[0] + 1),
                    "max_group_size");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(s, k, {buffer_arg, v, count}, 1, 1, info_.max_local_memory_bytes + 1),
                    "max_local_memory_bytes");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE,
                    launch(s, k, {udal_arg_buffer(out.get(), 256), v, count}), "not inside");
  UDAL_ASSERT_OK(udal_stream_synchronize(s, kWaitNs));
}

TEST_F(LaunchTest, UnalignedOffsetOfABufferPassedTwiceIsInvalidArgument) {
  Kernel kernel = make_kernel("vector_add");
  Buffer buffer = make_buffer(4096);
  ASSERT_TRUE(kernel && buffer);
  const uint32_t n = 4;
  const float scale = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(io_stream_.get(), kernel.get(),
                           {udal_arg_buffer(buffer.get(), 4), udal_arg_buffer(buffer.get(), 1024),
                            udal_arg_buffer(buffer.get(), 2048), udal_arg_value(&n, 4),
                            udal_arg_value(&scale, 4)}),
                    "minStorageBufferOffsetAlignment");
}

}  // namespace
}  // namespace udal::vulkan::test

namespace udal::vulkan::test {
namespace {

TEST_F(LaunchTest, ShaderWithAFixedGroupSizeRunsOnlyAtThatSize) {
  Kernel kernel = make_kernel("fixed_size");
  Buffer out = make_buffer(64);
  ASSERT_TRUE(kernel && out);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(io_stream_.get(), kernel.get(), {udal_arg_buffer(out.get(), 0)}, 2, 4),
                    "8x1x1", "4x1x1");
  UDAL_ASSERT_OK(launch(io_stream_.get(), kernel.get(), {udal_arg_buffer(out.get(), 0)}, 2, 8));
  std::vector<uint8_t> back = read(out.get(), 0, 64);
  for (uint32_t i = 0; i < 16; ++i) {
    uint32_t word;
    std::memcpy(&word, back.data() + i * 4, 4);
    ASSERT_EQ(i % 8, word) << "item " << i;
  }
}

}  // namespace
}  // namespace udal::vulkan::test
