// Kernel reflection (udal_kernel_get_argument_info, kernel flags) from what HOST_NATIVE
// kernels declare with UDAL_HOST_KERNEL_ARGS, and the launch checks it allows: the launches
// that used to return UDAL_SUCCESS and then crash the process are refused at enqueue.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fixture.h"

namespace udal::cpu::test {
namespace {

udal_kernel_arg_info_t argument_info(udal_kernel_t kernel, uint32_t index) {
  udal_kernel_arg_info_t info = UDAL_KERNEL_ARG_INFO_INIT;
  EXPECT_EQ(udal_kernel_get_argument_info(kernel, index, &info), UDAL_SUCCESS)
      << index << ": " << udal_last_error_message();
  return info;
}

TEST_F(CpuDriverTest, DeclaredArgumentsAreDescribed) {
  Kernel kernel = make_kernel("vector_add");
  const udal_arg_access_t access[3] = {UDAL_ARG_ACCESS_READ, UDAL_ARG_ACCESS_READ,
                                       UDAL_ARG_ACCESS_WRITE};
  for (uint32_t i = 0; i < 3; ++i) {
    const udal_kernel_arg_info_t info = argument_info(kernel.get(), i);
    EXPECT_EQ(info.kind, UDAL_ARG_KIND_BUFFER) << i;
    EXPECT_EQ(info.value_size, 0u) << i;
    EXPECT_EQ(info.access, access[i]) << i;
    EXPECT_EQ(info.reserved0, 0u);
  }
  const udal_kernel_arg_info_t n = argument_info(kernel.get(), 3);
  EXPECT_EQ(n.kind, UDAL_ARG_KIND_VALUE);
  EXPECT_EQ(n.value_size, 4u);
  EXPECT_EQ(n.access, UDAL_ARG_ACCESS_NONE);

  Kernel values = make_kernel("values");
  EXPECT_EQ(argument_info(values.get(), 1).value_size, 1u);
  EXPECT_EQ(argument_info(values.get(), 2).value_size, 8u);
  EXPECT_EQ(argument_info(values.get(), 3).value_size, 16u);
}

TEST_F(CpuDriverTest, AKernelThatUsesLocalMemorySaysSo) {
  Kernel kernel = make_kernel("local_sum");
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_info(kernel.get(), &info));
  EXPECT_EQ(info.flags, UDAL_KERNEL_FLAG_ARGUMENT_INFO | UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY);
  EXPECT_EQ(info.argument_count, 1u);
  Kernel other = make_kernel("add_one");
  UDAL_ASSERT_OK(udal_kernel_get_info(other.get(), &info));
  EXPECT_EQ(info.flags, UDAL_KERNEL_FLAG_ARGUMENT_INFO);
}

TEST_F(CpuDriverTest, ArgumentInfoMisuseIsRefused) {
  Kernel plain = make_kernel("increment");
  udal_kernel_arg_info_t info = UDAL_KERNEL_ARG_INFO_INIT;
  UDAL_EXPECT_FAILS(UDAL_ERROR_UNSUPPORTED, udal_kernel_get_argument_info(plain.get(), 0, &info),
                    "increment", "UDAL_HOST_KERNEL_ARGS");
  Kernel kernel = make_kernel("add_one");
  UDAL_EXPECT_FAILS(UDAL_ERROR_NOT_FOUND, udal_kernel_get_argument_info(kernel.get(), 2, &info),
                    "index 2", "2 arguments");
  UDAL_EXPECT_FAILS(UDAL_ERROR_NOT_FOUND, udal_kernel_get_argument_info(kernel.get(), UINT32_MAX, &info));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_get_argument_info(kernel.get(), 0, nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_kernel_get_argument_info(nullptr, 0, &info));
  udal_kernel_arg_info_t wrong = UDAL_KERNEL_ARG_INFO_INIT;
  wrong.type = UDAL_STRUCTURE_TYPE_KERNEL_INFO;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_get_argument_info(kernel.get(), 0, &wrong));
}

TEST_F(CpuDriverTest, KernelsWithBadDeclarationsAreInvalidModules) {
  Module module =
      make_module(device_, UDAL_MODULE_FORMAT_HOST_NATIVE, read_file(UDAL_CPU_BAD_DECLARATIONS));
  ASSERT_TRUE(module);
  const std::pair<const char*, const char*> bad[] = {
      {"bad_kind", "kind 7"},        {"bad_access", "access 0"},
      {"bad_value", "value_size 0"}, {"bad_count", "argument count symbol says 2"},
      {"bad_version", "abi_version is 99"}, {"bad_flags", "0x80"}};
  for (const auto& [name, why] : bad) {
    udal_kernel_t kernel = nullptr;
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE, udal_kernel_create(module.get(), name, &kernel),
                      name, why);
    EXPECT_EQ(kernel, nullptr) << name;
  }
  udal_kernel_t good = nullptr;
  UDAL_ASSERT_OK(udal_kernel_create(module.get(), "good", &good));
  Kernel owned(good);
  EXPECT_EQ(argument_info(good, 0).access, UDAL_ARG_ACCESS_READ_WRITE);
}

// ---- the launches that used to crash --------------------------------------------------

class LaunchCheckTest : public CpuDriverTest {
 protected:
  void SetUp() override {
    CpuDriverTest::SetUp();
    if (HasFatalFailure()) return;
    stream_ = make_stream();
    buffer_ = make_buffer(4096);
    std::vector<uint8_t> zeros(4096, 0);
    write(buffer_.get(), 0, zeros.data(), zeros.size());
  }
  // After a refused launch nothing ran: the stream completes and the buffer is unchanged.
  void ExpectNothingRan() {
    UDAL_ASSERT_OK(udal_stream_synchronize(stream_.get(), UDAL_TIMEOUT_INFINITE));
    auto bytes = read(buffer_.get(), 0, 4096);
    for (std::size_t i = 0; i < bytes.size(); ++i) ASSERT_EQ(bytes[i], 0) << i;
  }
  Stream stream_;
  Buffer buffer_;
};

TEST_F(LaunchCheckTest, ArgumentsInTheWrongOrderAreRefused) {
  Kernel kernel = make_kernel("add_one");  // (buffer, uint32_t n)
  const uint32_t n = 64;
  // The value where the buffer belongs: the kernel would write through the value's bytes.
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(stream_.get(), kernel.get(),
                           {udal_arg_value(&n, 4), udal_arg_buffer(buffer_.get(), 0)}, 1, 64),
                    "args[0]", "VALUE", "'add_one'", "BUFFER", "out of order");
  Kernel add = make_kernel("vector_add");  // (a, b, c, n)
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(stream_.get(), add.get(),
                           {udal_arg_buffer(buffer_.get(), 0), udal_arg_buffer(buffer_.get(), 0),
                            udal_arg_value(&n, 4), udal_arg_buffer(buffer_.get(), 0)}),
                    "args[2]");
  ExpectNothingRan();
}

TEST_F(LaunchCheckTest, AValueOfTheWrongSizeIsRefused) {
  Kernel kernel = make_kernel("add_one");  // n is a uint32_t
  const uint64_t n64 = 64;
  const uint16_t n16 = 64;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(stream_.get(), kernel.get(),
                           {udal_arg_buffer(buffer_.get(), 0), udal_arg_value(&n64, 8)}, 1, 64),
                    "args[1]", "8 bytes", "4 bytes");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(stream_.get(), kernel.get(),
                           {udal_arg_buffer(buffer_.get(), 0), udal_arg_value(&n16, 2)}, 1, 64),
                    "2 bytes");
  ExpectNothingRan();
}

TEST_F(LaunchCheckTest, AKernelThatUsesLocalMemoryLaunchedWithoutItIsRefused) {
  Kernel kernel = make_kernel("local_sum");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(stream_.get(), kernel.get(), {udal_arg_buffer(buffer_.get(), 0)}, 4, 1, 0),
                    "'local_sum'", "local_memory_bytes 0");
  ExpectNothingRan();
  // With local memory it runs.
  UDAL_ASSERT_OK(launch(stream_.get(), kernel.get(), {udal_arg_buffer(buffer_.get(), 0)}, 4, 1, 64));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream_.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(read_value<uint32_t>(buffer_.get(), 3 * 4 * 3), 3u * 16u);  // group 3: 16 items of 3
}

TEST_F(LaunchCheckTest, AnAccessNarrowerThanTheKernelDeclaresIsRefused) {
  Kernel kernel = make_kernel("vector_add");  // c is WRITE
  const uint32_t n = 16;
  const auto read_only = [&](uint32_t i) {
    return udal_arg_buffer_access(buffer_.get(), 1024 * i, UDAL_ARG_ACCESS_READ);
  };
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(stream_.get(), kernel.get(),
                           {read_only(0), read_only(1), read_only(2), udal_arg_value(&n, 4)}),
                    "args[2]", "READ", "WRITE", "writes");
  // a is READ: passing it as WRITE only hides from the caller that the kernel reads it.
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(stream_.get(), kernel.get(),
                           {udal_arg_buffer_access(buffer_.get(), 0, UDAL_ARG_ACCESS_WRITE),
                            read_only(1),
                            udal_arg_buffer_access(buffer_.get(), 2048, UDAL_ARG_ACCESS_WRITE),
                            udal_arg_value(&n, 4)}),
                    "args[0]", "reads");
  ExpectNothingRan();
  // A wider access than declared is fine, and so is the exact one.
  UDAL_ASSERT_OK(launch(stream_.get(), kernel.get(),
                        {udal_arg_buffer(buffer_.get(), 0), read_only(1),
                         udal_arg_buffer_access(buffer_.get(), 2048, UDAL_ARG_ACCESS_WRITE),
                         udal_arg_value(&n, 4)}));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream_.get(), UDAL_TIMEOUT_INFINITE));
}

TEST_F(LaunchCheckTest, BufferOffsetsNeedNoAlignmentOnThisDevice) {
  ASSERT_EQ(info_.buffer_argument_offset_alignment, 1u);
  Kernel kernel = make_kernel("add_one_byte");
  const uint32_t n = 2;
  // Offset 3: the kernel sees the buffer from byte 3 on.
  UDAL_ASSERT_OK(launch(stream_.get(), kernel.get(),
                        {udal_arg_buffer(buffer_.get(), 3), udal_arg_value(&n, 4)}, 1, 2));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream_.get(), UDAL_TIMEOUT_INFINITE));
  auto bytes = read(buffer_.get(), 0, 8);
  const uint8_t expected[8] = {0, 0, 0, 1, 1, 0, 0, 0};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(bytes[i], expected[i]) << "byte " << i;
}

TEST_F(LaunchCheckTest, PlainKernelsAreCheckedByCountOnly) {
  Kernel kernel = make_kernel("increment");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, launch(stream_.get(), kernel.get(), {}),
                    "passes 0 arguments");
  UDAL_ASSERT_OK(launch(stream_.get(), kernel.get(),
                        {udal_arg_buffer_access(buffer_.get(), 8, UDAL_ARG_ACCESS_READ_WRITE)}));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream_.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(read_value<uint64_t>(buffer_.get(), 8), 1u);
}

}  // namespace
}  // namespace udal::cpu::test
