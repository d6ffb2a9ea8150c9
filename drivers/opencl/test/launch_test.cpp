// Launches: kernel reflection (OpenCL C through clGetKernelArgInfo, SPIR-V from its entry
// point), the launch checks it drives, local memory, fixed group sizes, buffer offsets, and
// one kernel launched from several threads.
#include <thread>

#include "fixture.h"

namespace udal::opencl::test {
namespace {

class LaunchTest : public OpenclDriverTest,
                   public ::testing::WithParamInterface<udal_module_format_t> {
protected:
  void SetUp() override {
    OpenclDriverTest::SetUp();
    if (IsSkipped())
      return;
    bool accepted = false;
    for (uint32_t i = 0; i < info_.module_format_count; ++i) {
      accepted = accepted || info_.module_formats[i] == GetParam();
    }
    if (!accepted)
      GTEST_SKIP() << "the device does not take format " << GetParam();
  }
  Kernel kernel(const char* name) { return make_kernel(name, GetParam()); }
};

TEST_P(LaunchTest, ArgumentInfoDescribesEachParameter) {
  Kernel add = kernel("vector_add");
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_info(add.get(), &info));
  EXPECT_EQ(info.flags, UDAL_KERNEL_FLAG_ARGUMENT_INFO);
  ASSERT_EQ(info.argument_count, 4u);
  EXPECT_GE(info.max_group_invocations, 1u);
  EXPECT_LE(info.max_group_invocations, info_.max_group_invocations);
  const udal_arg_access_t access[3] = {UDAL_ARG_ACCESS_READ, UDAL_ARG_ACCESS_READ,
                                       UDAL_ARG_ACCESS_READ_WRITE};
  for (uint32_t i = 0; i < 3; ++i) {
    udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
    UDAL_ASSERT_OK(udal_kernel_get_argument_info(add.get(), i, &arg));
    EXPECT_EQ(arg.kind, UDAL_ARG_KIND_BUFFER) << i;
    EXPECT_EQ(arg.access, access[i]) << i;
    EXPECT_EQ(arg.value_size, 0u);
  }
  udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_argument_info(add.get(), 3, &arg));
  EXPECT_EQ(arg.kind, UDAL_ARG_KIND_VALUE);
  EXPECT_EQ(arg.value_size, 4u);
  EXPECT_EQ(arg.access, UDAL_ARG_ACCESS_NONE);
  UDAL_EXPECT_FAILS(UDAL_ERROR_NOT_FOUND, udal_kernel_get_argument_info(add.get(), 4, &arg), "4");

  Kernel sizes = kernel("value_sizes");
  const uint32_t want[6] = {1, 2, 4, 8, 16, 8};
  for (uint32_t i = 0; i < 6; ++i) {
    UDAL_ASSERT_OK(udal_kernel_get_argument_info(sizes.get(), i + 1, &arg));
    EXPECT_EQ(arg.kind, UDAL_ARG_KIND_VALUE);
    EXPECT_EQ(arg.value_size, want[i]) << "argument " << i + 1;
  }
}

TEST_P(LaunchTest, ValuesOfEverySizeArrive) {
  Kernel sizes = kernel("value_sizes");
  Buffer out = make_buffer(6 * 8);
  const uint8_t a = 0xab;
  const uint16_t b = 0xbeef;
  const uint32_t c = 0xdeadbeef;
  const uint64_t d = 0x0123456789abcdefull;
  const float e[4] = {1, 2, 3, 4.5f};
  const double f = -2.25;
  UDAL_ASSERT_OK(launch(io_stream_.get(), sizes.get(),
                        {udal_arg_buffer(out.get(), 0), udal_arg_value(&a, 1),
                         udal_arg_value(&b, 2), udal_arg_value(&c, 4), udal_arg_value(&d, 8),
                         udal_arg_value(e, 16), udal_arg_value(&f, 8)}));
  std::vector<uint64_t> got = read_as<uint64_t>(out.get(), 6);
  uint32_t e3 = 0;
  std::memcpy(&e3, &e[3], 4);
  uint64_t f_bits = 0;
  std::memcpy(&f_bits, &f, 8);
  EXPECT_EQ(got, (std::vector<uint64_t>{a, b, c, d, e3, f_bits}));
}

TEST_P(LaunchTest, LaunchesThatDoNotMatchTheKernelAreRefused) {
  Kernel add = kernel("add_u32");
  Buffer data = make_buffer(1024);
  const uint32_t value = 1;
  const uint64_t wide = 1;
  const uint32_t n = 256;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(io_stream_.get(), add.get(), {udal_arg_buffer(data.get(), 0)}),
                    "takes 3 argument");
  UDAL_EXPECT_FAILS(
      UDAL_ERROR_INVALID_ARGUMENT,
      launch(io_stream_.get(), add.get(),
             {udal_arg_value(&value, 4), udal_arg_value(&value, 4), udal_arg_value(&n, 4)}),
      "parameter 0");
  UDAL_EXPECT_FAILS(
      UDAL_ERROR_INVALID_ARGUMENT,
      launch(io_stream_.get(), add.get(),
             {udal_arg_buffer(data.get(), 0), udal_arg_value(&wide, 8), udal_arg_value(&n, 4)}),
      "8 bytes", "has 4");
  // add_u32 writes its buffer: a caller that says READ is refused.
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(io_stream_.get(), add.get(),
                           {udal_arg_buffer_access(data.get(), 0, UDAL_ARG_ACCESS_READ),
                            udal_arg_value(&value, 4), udal_arg_value(&n, 4)}),
                    "READ_WRITE");
  UDAL_EXPECT_FAILS(
      UDAL_ERROR_OUT_OF_RANGE,
      launch(io_stream_.get(), add.get(),
             {udal_arg_buffer(data.get(), 1024), udal_arg_value(&value, 4), udal_arg_value(&n, 4)}),
      "1024");
  if (info_.buffer_argument_offset_alignment > 1) {
    UDAL_EXPECT_FAILS(
        UDAL_ERROR_INVALID_ARGUMENT,
        launch(io_stream_.get(), add.get(),
               {udal_arg_buffer(data.get(), 4), udal_arg_value(&value, 4), udal_arg_value(&n, 4)}),
        "buffer_argument_offset_alignment");
  }
  const uint32_t too_big = info_.max_group_size[0] + 1;
  UDAL_EXPECT_FAILS(
      UDAL_ERROR_INVALID_ARGUMENT,
      launch(io_stream_.get(), add.get(),
             {udal_arg_buffer(data.get(), 0), udal_arg_value(&value, 4), udal_arg_value(&n, 4)}, 1,
             too_big),
      "max_group_size");
  UDAL_EXPECT_FAILS(
      UDAL_ERROR_INVALID_ARGUMENT,
      launch(io_stream_.get(), add.get(),
             {udal_arg_buffer(data.get(), 0), udal_arg_value(&value, 4), udal_arg_value(&n, 4)}, 1,
             1, info_.max_local_memory_bytes + 1),
      "local_memory_bytes");
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), kWaitNs)); // nothing was enqueued
}

TEST_P(LaunchTest, BufferArgumentAtAnOffsetSeesTheBufferFromThere) {
  Kernel add = kernel("add_u32");
  const uint64_t offset = info_.buffer_argument_offset_alignment * 2;
  const uint32_t words = static_cast<uint32_t>(offset / 4) + 64;
  Buffer data = make_buffer(words * 4);
  const uint32_t zero = 0;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(io_stream_.get(), data.get(), 0, words * 4, &zero, 4));
  for (int round = 0; round < 2; ++round) { // the second launch reuses the sub-buffer
    const uint32_t value = 3;
    const uint32_t n = 64;
    UDAL_ASSERT_OK(launch(
        io_stream_.get(), add.get(),
        {udal_arg_buffer(data.get(), offset), udal_arg_value(&value, 4), udal_arg_value(&n, 4)}, 2,
        32));
  }
  std::vector<uint32_t> got = read_as<uint32_t>(data.get(), words);
  for (uint32_t i = 0; i < words; ++i) {
    ASSERT_EQ(got[i], i < offset / 4 ? 0u : 6u) << "word " << i;
  }
}

TEST_P(LaunchTest, LocalMemoryIsTheTrailingParameterAndRequired) {
  Kernel reverse = kernel("local_reverse");
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_info(reverse.get(), &info));
  EXPECT_NE(info.flags & UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY, 0u);
  EXPECT_EQ(info.argument_count, 1u);
  Buffer data = make_buffer(4 * 256);
  std::vector<uint32_t> values(256);
  for (uint32_t i = 0; i < 256; ++i)
    values[i] = i;
  write(data.get(), 0, values.data(), 4 * 256);
  UDAL_EXPECT_FAILS(
      UDAL_ERROR_INVALID_ARGUMENT,
      launch(io_stream_.get(), reverse.get(), {udal_arg_buffer(data.get(), 0)}, 4, 64),
      "local_memory_bytes is 0");
  UDAL_ASSERT_OK(
      launch(io_stream_.get(), reverse.get(), {udal_arg_buffer(data.get(), 0)}, 4, 64, 64 * 4));
  std::vector<uint32_t> got = read_as<uint32_t>(data.get(), 256);
  for (uint32_t i = 0; i < 256; ++i) {
    ASSERT_EQ(got[i], (i / 64) * 64 + 63 - i % 64) << i;
  }
}

TEST_P(LaunchTest, FixedGroupSizeIsReportedAndEnforced) {
  Kernel fixed = kernel("fixed_size");
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_info(fixed.get(), &info));
  EXPECT_NE(info.flags & UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE, 0u);
  EXPECT_EQ(info.required_group_size[0], 4u);
  EXPECT_EQ(info.required_group_size[1], 1u);
  EXPECT_EQ(info.required_group_size[2], 1u);
  Buffer out = make_buffer(4 * 8);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(io_stream_.get(), fixed.get(), {udal_arg_buffer(out.get(), 0)}, 4, 2),
                    "4x1x1");
  UDAL_ASSERT_OK(launch(io_stream_.get(), fixed.get(), {udal_arg_buffer(out.get(), 0)}, 2, 4));
  EXPECT_EQ(read_as<uint32_t>(out.get(), 8), std::vector<uint32_t>(8, 4u));
}

TEST_P(LaunchTest, StructByValueRunsWithoutArgumentInfo) {
  Kernel by_struct = kernel("by_struct");
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_info(by_struct.get(), &info));
  const struct {
    int32_t first;
    int32_t second;
  } pair = {40, 2};
  Buffer out = make_buffer(4);
  if ((info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO) == 0) {
    udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
    UDAL_EXPECT_FAILS(UDAL_ERROR_UNSUPPORTED,
                      udal_kernel_get_argument_info(by_struct.get(), 1, &arg), "pair_t");
    // The count and kinds are still known and checked (the struct's size is not: PoCL's
    // clSetKernelArg does not check it either).
    EXPECT_EQ(info.argument_count, 2u);
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                      launch(io_stream_.get(), by_struct.get(),
                             {udal_arg_buffer(out.get(), 0), udal_arg_buffer(out.get(), 0)}),
                      "parameter 1");
  } else {
    const uint64_t wrong[2] = {};
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                      launch(io_stream_.get(), by_struct.get(),
                             {udal_arg_buffer(out.get(), 0), udal_arg_value(wrong, 16)}),
                      "16 bytes");
  }
  UDAL_ASSERT_OK(launch(io_stream_.get(), by_struct.get(),
                        {udal_arg_buffer(out.get(), 0), udal_arg_value(&pair, sizeof(pair))}));
  EXPECT_EQ(read_as<int32_t>(out.get(), 1)[0], 42);
}

TEST_P(LaunchTest, MultiDimensionalGrid) {
  Kernel add = kernel("add_u32");
  Buffer data = make_buffer(4 * 512);
  const uint32_t zero = 0;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(io_stream_.get(), data.get(), 0, 4 * 512, &zero, 4));
  const uint32_t value = 1;
  const uint32_t n = 512;
  udal_kernel_arg_t args[3] = {udal_arg_buffer(data.get(), 0), udal_arg_value(&value, 4),
                               udal_arg_value(&n, 4)};
  udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
  desc.group_count[0] = 4;
  desc.group_count[1] = 2;
  desc.group_size[0] = 16;
  desc.group_size[1] = 2;
  desc.args = args;
  desc.arg_count = 3;
  UDAL_ASSERT_OK(udal_stream_launch(io_stream_.get(), add.get(), &desc));
  // add_u32 indexes by global id 0 only: items (x, y) with the same x add twice.
  std::vector<uint32_t> got = read_as<uint32_t>(data.get(), 512);
  for (uint32_t i = 0; i < 512; ++i)
    ASSERT_EQ(got[i], i < 64 ? 4u : 0u) << i;
}

// Launches carry their own arguments: one kernel launched from several threads at once,
// each with its own buffer and value, never sees another's (labelled concurrency; CI runs
// it under ThreadSanitizer).
TEST_P(LaunchTest, OneKernelFromSeveralThreads) {
  Kernel add = kernel("add_u32");
  constexpr int kThreads = 4;
  constexpr int kLaunches = 50;
  std::vector<Buffer> buffers;
  std::vector<Stream> streams;
  for (int t = 0; t < kThreads; ++t) {
    buffers.push_back(make_buffer(4 * 64));
    streams.push_back(make_stream());
    const uint32_t zero = 0;
    UDAL_ASSERT_OK(udal_stream_fill_buffer(streams[t].get(), buffers[t].get(), 0, 256, &zero, 4));
  }
  std::vector<std::thread> threads;
  std::vector<udal_result_t> results(kThreads, UDAL_SUCCESS);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const uint32_t value = static_cast<uint32_t>(t + 1);
      const uint32_t n = 64;
      for (int i = 0; i < kLaunches && results[t] == UDAL_SUCCESS; ++i) {
        results[t] = launch(streams[t].get(), add.get(),
                            {udal_arg_buffer(buffers[t].get(), 0), udal_arg_value(&value, 4),
                             udal_arg_value(&n, 4)},
                            2, 32);
      }
      if (results[t] == UDAL_SUCCESS)
        results[t] = udal_stream_synchronize(streams[t].get(), kWaitNs);
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t], UDAL_SUCCESS) << "thread " << t;
    EXPECT_EQ(read_as<uint32_t>(buffers[t].get(), 64),
              std::vector<uint32_t>(64, static_cast<uint32_t>((t + 1) * kLaunches)))
        << "thread " << t;
  }
}

std::string FormatName(const ::testing::TestParamInfo<udal_module_format_t>& info) {
  return info.param == UDAL_MODULE_FORMAT_OPENCL_C ? "OpenclC" : "Spirv";
}

INSTANTIATE_TEST_SUITE_P(Formats, LaunchTest,
                         ::testing::Values(UDAL_MODULE_FORMAT_OPENCL_C,
                                           UDAL_MODULE_FORMAT_SPIRV_KERNEL),
                         FormatName);

} // namespace
} // namespace udal::opencl::test
