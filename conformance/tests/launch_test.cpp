// Launch: 1D/2D/3D grids, group sizes up to the device's limit, grids that are not a
// multiple of anything convenient, local memory, argument kinds and order, many arguments,
// large grids, argument capture at enqueue, one kernel from several threads, bad launches.
#include "cts.h"

#include <fmt/format.h>

#include <thread>

namespace cts {
namespace {

class LaunchTest : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped()) return;
    stream_ = MakeStream();
    ASSERT_TRUE(stream_);
  }

  // Runs global_ids over the grid and checks every item's ids; the words past the grid
  // must stay untouched.
  void CheckGlobalIds(std::array<uint32_t, 3> count, std::array<uint32_t, 3> size) {
    SCOPED_TRACE(fmt::format("group_count {}x{}x{}, group_size {}x{}x{}", count[0], count[1],
                             count[2], size[0], size[1], size[2]));
    Module module;
    Kernel kernel = MakeKernel("global_ids", &module);
    ASSERT_TRUE(kernel);
    const uint64_t gx = uint64_t{count[0]} * size[0], gy = uint64_t{count[1]} * size[1],
                   gz = uint64_t{count[2]} * size[2];
    const uint32_t items = static_cast<uint32_t>(gx * gy * gz);
    constexpr uint32_t kGuardWords = 16;
    Buffer out = MakeBuffer((uint64_t{items} * 4 + kGuardWords) * 4);
    ASSERT_TRUE(out);
    const uint32_t poison = 0xdeadbeef;
    ASSERT_OK(udal_stream_fill_buffer(stream_.get(), out.get(), 0, (uint64_t{items} * 4 + kGuardWords) * 4, &poison, 4));
    ASSERT_OK(Launch(stream_.get(), kernel.get(), count, size,
                     {udal_arg_buffer(out.get(), 0), udal_arg_value(&items, 4)}));
    std::vector<uint32_t> words = ReadBackAs<uint32_t>(stream_.get(), out.get(), uint64_t{items} * 4 + kGuardWords);
    int reported = 0;
    for (uint64_t z = 0; z < gz; ++z) {
      for (uint64_t y = 0; y < gy; ++y) {
        for (uint64_t x = 0; x < gx; ++x) {
          uint64_t l = x + y * gx + z * gx * gy;
          uint32_t local = static_cast<uint32_t>((x % size[0]) | ((y % size[1]) << 10) | ((z % size[2]) << 20));
          const uint32_t* got = &words[4 * l];
          if (got[0] != x || got[1] != y || got[2] != z || got[3] != local) {
            ADD_FAILURE() << fmt::format(
                "item ({}, {}, {}) of group ({}, {}, {}) saw global id ({:#x}, {:#x}, {:#x}) "
                "local {:#x} (want local {:#x})",
                x, y, z, x / size[0], y / size[1], z / size[2], got[0], got[1], got[2], got[3], local);
            if (++reported == 5) return;
          }
        }
      }
    }
    for (uint32_t k = 0; k < kGuardWords; ++k) {
      ASSERT_EQ(poison, words[uint64_t{items} * 4 + k]) << "a word past the grid was written";
    }
  }

  // Launches fill_index over |n| items in groups of |group| and checks all of them, and that
  // the words past |n| are untouched.
  void CheckFillIndex(uint32_t n, uint32_t group, uint32_t base = 0x1000) {
    SCOPED_TRACE(fmt::format("n {}, group size {}", n, group));
    Module module;
    Kernel kernel = MakeKernel("fill_index", &module);
    Buffer out = MakeBuffer((uint64_t{n} + 8) * 4);
    ASSERT_TRUE(kernel && out);
    const uint32_t poison = 0xdeadbeef;
    ASSERT_OK(udal_stream_fill_buffer(stream_.get(), out.get(), 0, (uint64_t{n} + 8) * 4, &poison, 4));
    ASSERT_OK(Launch(stream_.get(), kernel.get(), {(n + group - 1) / group, 1, 1}, {group, 1, 1},
                     {udal_arg_buffer(out.get(), 0), udal_arg_value(&n, 4), udal_arg_value(&base, 4)}));
    std::vector<uint32_t> values = ReadBackAs<uint32_t>(stream_.get(), out.get(), uint64_t{n} + 8);
    for (uint32_t i = 0; i < n; ++i) {
      ASSERT_EQ(base + i, values[i]) << "item " << i << " of group " << i / group;
    }
    for (uint32_t i = n; i < n + 8; ++i) ASSERT_EQ(poison, values[i]) << "word " << i << " past n";
  }

  Stream stream_;
};

TEST_P(LaunchTest, OneDimensionalGridCoversEveryItemOfEveryGroup) {
  CheckFillIndex(37 * 13, 13);
  CheckFillIndex(1, 1);
  CheckFillIndex(64, 64);
}

TEST_P(LaunchTest, GridThatIsNotAMultipleOfTheGroupSize) {
  CheckFillIndex(1000, 64);
  CheckFillIndex(4099, 7);
  CheckFillIndex(10007, 100);
}

TEST_P(LaunchTest, TwoDimensionalGridHasDistinctAxes) {
  CheckGlobalIds({5, 3, 1}, {4, 7, 1});
  CheckGlobalIds({1, 9, 1}, {2, 1, 1});
}

TEST_P(LaunchTest, ThreeDimensionalGridHasDistinctAxes) {
  CheckGlobalIds({3, 5, 2}, {4, 3, 2});
  CheckGlobalIds({2, 1, 7}, {1, 3, 5});
  CheckGlobalIds({1, 1, 1}, {2, 3, 4});
}

TEST_P(LaunchTest, GroupSizesUpToTheDeviceLimitOnEachAxis) {
  const udal_device_info_t& i = info();
  uint32_t budget = i.max_group_invocations;
  // The largest group on each axis alone, within what one test may allocate.
  for (int axis = 0; axis < 3; ++axis) {
    std::array<uint32_t, 3> size = {1, 1, 1};
    size[axis] = std::min({i.max_group_size[axis], budget, 1024u});
    std::array<uint32_t, 3> count = {1, 1, 1};
    count[axis] = 3;
    CheckGlobalIds(count, size);
  }
  // A group of max_group_invocations items (spread over the axes).
  std::array<uint32_t, 3> size = {1, 1, 1};
  uint32_t left = std::min(budget, 4096u);
  for (int axis = 0; axis < 3 && left > 1; ++axis) {
    size[axis] = std::min(i.max_group_size[axis], left);
    left /= size[axis];
  }
  CheckGlobalIds({2, 1, 1}, size);
}

TEST_P(LaunchTest, LargeGrid) {
  CheckFillIndex(1u << 20, 256, 3);
  CheckGlobalIds({64, 32, 4}, {8, 4, 2});
}

TEST_P(LaunchTest, LocalMemoryIsPrivateToEachGroup) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_LOCAL_MEMORY)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_LOCAL_MEMORY";
  Module module;
  Kernel kernel = MakeKernel("local_reverse", &module);
  ASSERT_TRUE(kernel);
  for (uint32_t group : {1u, 16u, 61u, std::min(256u, info().max_group_size[0])}) {
    if (uint64_t{group} * 4 > info().max_local_memory_bytes) continue;
    constexpr uint32_t kGroups = 23;
    uint32_t n = kGroups * group;
    Buffer data = MakeBuffer(uint64_t{n} * 4);
    ASSERT_TRUE(data);
    std::vector<uint32_t> values(n);
    for (uint32_t k = 0; k < n; ++k) values[k] = k * 3 + 1;
    ASSERT_OK(udal_stream_write_buffer(stream_.get(), data.get(), 0, values.data(), uint64_t{n} * 4));
    ASSERT_OK(Launch(stream_.get(), kernel.get(), {kGroups, 1, 1}, {group, 1, 1},
                     {udal_arg_buffer(data.get(), 0)}, uint64_t{group} * 4));
    std::vector<uint32_t> back = ReadBackAs<uint32_t>(stream_.get(), data.get(), n);
    for (uint32_t g = 0; g < kGroups; ++g) {
      for (uint32_t l = 0; l < group; ++l) {
        ASSERT_EQ(values[g * group + group - 1 - l], back[g * group + l])
            << "group size " << group << ", group " << g << ", item " << l;
      }
    }
  }
}

TEST_P(LaunchTest, ArgumentsOfBothKindsKeepTheirOrder) {
  Module module;
  Kernel kernel = MakeKernel("arg_order", &module);
  Buffer out = MakeBuffer(64), in1 = MakeBuffer(64), in2 = MakeBuffer(64);
  ASSERT_TRUE(kernel && out && in1 && in2);
  const uint32_t in1_value = 0x11111111, in2_value = 0x22222222;
  ASSERT_OK(udal_stream_fill_buffer(stream_.get(), in1.get(), 0, 64, &in1_value, 4));
  ASSERT_OK(udal_stream_fill_buffer(stream_.get(), in2.get(), 0, 64, &in2_value, 4));
  const uint32_t a = 0xa0a0a0a0, b = 0xb1, c = 0xc2c2, d = 0xd3d3d3;
  const int32_t e = -5;
  const float f = 1.5f;
  const uint32_t g = 0x99999999;
  ASSERT_OK(Launch(stream_.get(), kernel.get(), {1, 1, 1}, {1, 1, 1},
                   {udal_arg_buffer(out.get(), 0), udal_arg_value(&a, 4), udal_arg_value(&b, 4),
                    udal_arg_value(&c, 4), udal_arg_value(&d, 4), udal_arg_buffer(in1.get(), 0),
                    udal_arg_value(&e, 4), udal_arg_value(&f, 4), udal_arg_buffer(in2.get(), 0),
                    udal_arg_value(&g, 4)}));
  std::vector<uint32_t> got = ReadBackAs<uint32_t>(stream_.get(), out.get(), 9);
  uint32_t f_bits;
  std::memcpy(&f_bits, &f, 4);
  std::vector<uint32_t> want = {a, b, c, d, in1_value, static_cast<uint32_t>(e), f_bits, in2_value, g};
  EXPECT_EQ(want, got);
}

TEST_P(LaunchTest, ThirtyTwoArguments) {
  if (info().max_kernel_arguments < 32) GTEST_SKIP() << "max_kernel_arguments < 32";
  if (info().max_value_argument_bytes < 31 * 4) GTEST_SKIP() << "max_value_argument_bytes < 124";
  Module module;
  Kernel kernel = MakeKernel("many_args", &module);
  Buffer out = MakeBuffer(31 * 4);
  ASSERT_TRUE(kernel && out);
  std::vector<uint32_t> values(31);
  std::vector<udal_kernel_arg_t> args = {udal_arg_buffer(out.get(), 0)};
  for (uint32_t k = 0; k < 31; ++k) {
    values[k] = 0x1000 * (k + 1) + k;
    args.push_back(udal_arg_value(&values[k], 4));
  }
  ASSERT_OK(Launch(stream_.get(), kernel.get(), {1, 1, 1}, {1, 1, 1}, args));
  EXPECT_EQ(values, ReadBackAs<uint32_t>(stream_.get(), out.get(), 31));
}

TEST_P(LaunchTest, BufferArgumentOffsetIsApplied) {
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  const uint64_t offset = ArgOffset(100);  // 100 where any offset is fine
  Buffer out = MakeBuffer(offset + 1024);
  ASSERT_TRUE(kernel && out);
  const uint32_t poison = 0xdeadbeef, n = 10, base = 50;
  const uint32_t first = static_cast<uint32_t>(offset / 4);
  ASSERT_OK(udal_stream_fill_buffer(stream_.get(), out.get(), 0, offset + 1024, &poison, 4));
  ASSERT_OK(Launch(stream_.get(), kernel.get(), {1, 1, 1}, {16, 1, 1},
                   {udal_arg_buffer(out.get(), offset), udal_arg_value(&n, 4), udal_arg_value(&base, 4)}));
  std::vector<uint32_t> words = ReadBackAs<uint32_t>(stream_.get(), out.get(), first + 64);
  for (uint32_t k = 0; k < first + 64; ++k) {
    uint32_t want = (k >= first && k < first + n) ? base + (k - first) : poison;
    ASSERT_EQ(want, words[k]) << "word " << k << " (the argument starts at byte " << offset << ")";
  }
}

// A buffer argument's offset must be a multiple of buffer_argument_offset_alignment: any
// other is INVALID_ARGUMENT with the alignment in the message, and nothing runs.
TEST_P(LaunchTest, MisalignedBufferArgumentOffsetIsInvalidArgument) {
  uint64_t alignment = info().buffer_argument_offset_alignment;
  if (alignment <= 1) GTEST_SKIP() << "buffer_argument_offset_alignment is 1: every offset is aligned";
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  Buffer out = MakeBuffer(alignment * 4 + 256);
  ASSERT_TRUE(kernel && out);
  const uint32_t poison = 0xdeadbeef, n = 4, base = 1;
  ASSERT_OK(udal_stream_fill_buffer(stream_.get(), out.get(), 0, alignment * 4 + 256, &poison, 4));
  // Each offset is misaligned for every power-of-two alignment from 2 up (alignment + 4 was
  // aligned when the alignment is 2 or 4, which failed correct drivers).
  for (uint64_t offset : {alignment / 2, alignment + alignment / 2, 3 * alignment - 1}) {
    udal_result_t result = Launch(stream_.get(), kernel.get(), {1, 1, 1}, {4, 1, 1},
                                  {udal_arg_buffer(out.get(), offset), Value(n), Value(base)});
    std::string message = result == UDAL_SUCCESS ? "" : udal_last_error_message();
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, result) << "offset " << offset;
    EXPECT_NE(std::string::npos, message.find(std::to_string(alignment)))
        << "the message should name the alignment " << alignment << ": " << message;
  }
  std::vector<uint32_t> words = ReadBackAs<uint32_t>(stream_.get(), out.get(), alignment + 64);
  for (uint32_t w : words) ASSERT_EQ(poison, w) << "a refused launch ran";
  ASSERT_OK(Launch(stream_.get(), kernel.get(), {1, 1, 1}, {4, 1, 1},
                   {udal_arg_buffer(out.get(), alignment), Value(n), Value(base)}));
  EXPECT_EQ(base, ReadBackAs<uint32_t>(stream_.get(), out.get(), 1, alignment)[0]);
}

TEST_P(LaunchTest, ArgumentValuesAreCapturedAtEnqueue) {
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  const uint64_t stride = ArgOffset(256);
  Buffer out = MakeBuffer(3 * stride);
  ASSERT_TRUE(kernel && out);
  // The launches are held while the host rewrites the values and the arrays.
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  ASSERT_OK(gate.Hold(stream_.get()));
  uint32_t n = 64, base = 0;
  std::vector<udal_kernel_arg_t> args = {udal_arg_buffer(out.get(), 0), udal_arg_value(&n, 4),
                                         udal_arg_value(&base, 4)};
  udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
  desc.group_count[0] = 4;
  desc.group_size[0] = 16;
  desc.args = args.data();
  desc.arg_count = 3;
  for (uint32_t k = 0; k < 3; ++k) {
    base = 1000 * (k + 1);
    args[0] = udal_arg_buffer(out.get(), uint64_t{k} * stride);
    ASSERT_OK(udal_stream_launch(stream_.get(), kernel.get(), &desc));
  }
  ASSERT_TRUE(StillPending(stream_.get()));
  base = 0xbad;
  n = 1;
  args[0] = udal_arg_buffer(nullptr, 0);
  desc.group_count[0] = 1;
  desc.arg_count = 0;
  ASSERT_OK(gate.Open());
  for (uint32_t k = 0; k < 3; ++k) {
    std::vector<uint32_t> words = ReadBackAs<uint32_t>(stream_.get(), out.get(), 64, k * stride);
    for (uint32_t i = 0; i < 64; ++i) {
      ASSERT_EQ(1000 * (k + 1) + i, words[i]) << "launch " << k << ", item " << i;
    }
  }
}

TEST_P(LaunchTest, OneKernelLaunchedFromSeveralThreadsAtOnce) {
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  ASSERT_TRUE(kernel);
  constexpr int kThreads = 4, kLaunches = 40;
  constexpr uint32_t n = 300;
  const uint64_t stride = ArgOffset(n * 4);
  std::vector<Buffer> outs;
  for (int t = 0; t < kThreads; ++t) outs.push_back(MakeBuffer(kLaunches * stride));
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      udal_stream_t stream = nullptr;
      if (udal_stream_create(device(), nullptr, &stream) != UDAL_SUCCESS) {
        errors[t] = "stream_create failed";
        return;
      }
      for (uint32_t k = 0; k < kLaunches; ++k) {
        uint32_t base = static_cast<uint32_t>(t) * 1'000'000 + k * 1000;
        udal_result_t r = Launch(stream, kernel.get(), {(n + 31) / 32, 1, 1}, {32, 1, 1},
                                 {udal_arg_buffer(outs[t].get(), uint64_t{k} * stride),
                                  udal_arg_value(&n, 4), udal_arg_value(&base, 4)});
        if (r != UDAL_SUCCESS) errors[t] = CheckResult(fmt::format("launch {}", k).c_str(), UDAL_SUCCESS, r);
      }
      if (udal_stream_synchronize(stream, kWaitNs) != UDAL_SUCCESS) errors[t] = "synchronize failed";
      udal_stream_destroy(stream);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ("", errors[t]) << "thread " << t;
    std::vector<uint32_t> words = ReadBackAs<uint32_t>(stream_.get(), outs[t].get(), kLaunches * stride / 4);
    for (uint32_t k = 0; k < kLaunches; ++k) {
      for (uint32_t i = 0; i < n; ++i) {
        ASSERT_EQ(static_cast<uint32_t>(t) * 1'000'000 + k * 1000 + i, words[k * stride / 4 + i])
            << "thread " << t << ", launch " << k << ", item " << i;
      }
    }
  }
}

TEST_P(LaunchTest, SaxpyComputesFloats) {
  Module module;
  Kernel kernel = MakeKernel("saxpy", &module);
  constexpr uint32_t n = 777;
  Buffer x = MakeBuffer(n * 4), y = MakeBuffer(n * 4);
  ASSERT_TRUE(kernel && x && y);
  std::vector<float> xs(n), ys(n);
  for (uint32_t i = 0; i < n; ++i) {
    xs[i] = static_cast<float>(i) * 0.5f;
    ys[i] = static_cast<float>(n - i);
  }
  ASSERT_OK(udal_stream_write_buffer(stream_.get(), x.get(), 0, xs.data(), n * 4));
  ASSERT_OK(udal_stream_write_buffer(stream_.get(), y.get(), 0, ys.data(), n * 4));
  const float a = 2.0f;
  ASSERT_OK(Launch(stream_.get(), kernel.get(), {(n + 63) / 64, 1, 1}, {64, 1, 1},
                   {udal_arg_buffer(y.get(), 0), udal_arg_buffer(x.get(), 0),
                    udal_arg_value(&a, 4), udal_arg_value(&n, 4)}));
  std::vector<float> got = ReadBackAs<float>(stream_.get(), y.get(), n);
  for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(a * xs[i] + ys[i], got[i]) << "item " << i;
}

// ---------------------------------------------------------------------------------------
// Rejected launches
// ---------------------------------------------------------------------------------------

TEST_P(LaunchTest, BadLaunchesAreRejected) {
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  Buffer out = MakeBuffer(256);
  ASSERT_TRUE(kernel && out);
  const uint32_t n = 4, base = 0;
  std::vector<udal_kernel_arg_t> args = {udal_arg_buffer(out.get(), 0), udal_arg_value(&n, 4),
                                         udal_arg_value(&base, 4)};
  udal_stream_t s = stream_.get();
  udal_kernel_t k = kernel.get();
  const udal_device_info_t& i = info();
  const uint32_t poison = 0x5eed5eed;
  ASSERT_OK(udal_stream_fill_buffer(s, out.get(), 0, 256, &poison, 4));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {0, 1, 1}, {1, 1, 1}, args)) << "zero groups";
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 0}, {1, 1, 1}, args)) << "zero groups on z";
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 0, 1}, args)) << "zero group size";
  if (i.max_group_size[0] < UINT32_MAX) {
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {i.max_group_size[0] + 1, 1, 1}, args))
        << "group size over max_group_size[0]";
  }
  if (i.max_group_size[2] < UINT32_MAX) {
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, i.max_group_size[2] + 1}, args))
        << "group size over max_group_size[2]";
  }
  uint64_t product = uint64_t{i.max_group_size[0]} * i.max_group_size[1];
  if (product > i.max_group_invocations) {
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
                Launch(s, k, {1, 1, 1}, {i.max_group_size[0], i.max_group_size[1], 1}, args))
        << "group over max_group_invocations";
  }
  if (i.max_local_memory_bytes < UINT64_MAX) {
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
                Launch(s, k, {1, 1, 1}, {1, 1, 1}, args, i.max_local_memory_bytes + 1))
        << "local memory over the limit";
  }
  udal_kernel_info_t kernel_info = UDAL_KERNEL_INFO_INIT;
  ASSERT_OK(udal_kernel_get_info(k, &kernel_info));
  if (kernel_info.argument_count != UDAL_ARGUMENT_COUNT_UNKNOWN) {
    std::vector<udal_kernel_arg_t> fewer(args.begin(), args.begin() + 2);
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, fewer)) << "too few arguments";
    std::vector<udal_kernel_arg_t> more = args;
    more.push_back(udal_arg_value(&n, 4));
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, more)) << "too many arguments";
  }
  std::vector<udal_kernel_arg_t> past = args;
  past[0] = udal_arg_buffer(out.get(), 256);
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, Launch(s, k, {1, 1, 1}, {1, 1, 1}, past)) << "offset at the end";
  past[0] = udal_arg_buffer(out.get(), UINT64_MAX);
  EXPECT_UDAL(UDAL_ERROR_OUT_OF_RANGE, Launch(s, k, {1, 1, 1}, {1, 1, 1}, past)) << "offset far past the end";
  std::vector<udal_kernel_arg_t> null_buffer = args;
  null_buffer[0] = udal_arg_buffer(nullptr, 0);
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, Launch(s, k, {1, 1, 1}, {1, 1, 1}, null_buffer));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, Launch(s, nullptr, {1, 1, 1}, {1, 1, 1}, args));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_launch(s, k, nullptr));
  std::vector<udal_kernel_arg_t> empty_value = args;
  empty_value[1] = udal_arg_value(nullptr, 4);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, empty_value)) << "NULL value";
  empty_value[1] = udal_arg_value(&n, 0);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, empty_value)) << "value size 0";
  std::vector<udal_kernel_arg_t> bad_kind = args;
  bad_kind[1].kind = static_cast<udal_arg_kind_t>(9);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, bad_kind)) << "unknown kind";
  std::vector<udal_kernel_arg_t> bad = args;
  bad[0].access = UDAL_ARG_ACCESS_NONE;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, bad)) << "buffer with access NONE";
  bad = args;
  bad[0].access = static_cast<udal_arg_access_t>(4);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, bad)) << "buffer with access 4";
  bad = args;
  bad[0].value = &n;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, bad)) << "buffer with a value pointer";
  bad = args;
  bad[0].value_size = 4;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, bad)) << "buffer with a value size";
  bad = args;
  bad[1].access = UDAL_ARG_ACCESS_READ;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, bad)) << "value with access READ";
  bad = args;
  bad[1].buffer = out.get();
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, bad)) << "value with a buffer";
  bad = args;
  bad[1].offset = 4;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, bad)) << "value with an offset";
  bad = args;
  bad[1].kind = UDAL_ARG_KIND_UNKNOWN;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, bad)) << "kind UNKNOWN";
  bad = args;
  bad[0].reserved0 = 1;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, bad)) << "reserved0 not zero";
  bad = args;
  bad[2].reserved1[2] = 1;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(s, k, {1, 1, 1}, {1, 1, 1}, bad)) << "reserved1[2] not zero";
  {
    udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
    desc.args = args.data();
    desc.arg_count = static_cast<uint32_t>(args.size());
    desc.reserved0 = 1;
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_launch(s, k, &desc)) << "launch desc reserved0";
    desc = UDAL_LAUNCH_DESC_INIT;
    desc.args = nullptr;
    desc.arg_count = 3;
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_launch(s, k, &desc)) << "NULL args with arg_count 3";
    desc = UDAL_LAUNCH_DESC_INIT;
    desc.type = UDAL_STRUCTURE_TYPE_STREAM_DESC;
    desc.args = args.data();
    desc.arg_count = 3;
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_launch(s, k, &desc)) << "wrong struct type";
  }
  ASSERT_OK(udal_stream_synchronize(s, kWaitNs));
  // None of them ran: the buffer was never written by a launch.
  std::vector<uint32_t> words = ReadBackAs<uint32_t>(s, out.get(), 64);
  for (uint32_t w : words) ASSERT_EQ(poison, w);
}

}  // namespace

CTS_INSTANTIATE(LaunchTest);

}  // namespace cts
