// Kernel reflection (udal_kernel_get_argument_info, udal_kernel_info_t flags) and the launch
// checks drivers make with it: the three launches that returned UDAL_SUCCESS and then crashed
// the process before ABI 1.0 (arguments in the wrong order, a value of the wrong size, local
// memory missing) are refused at enqueue, as is a launch that gives less access than the
// kernel declares or another group size than the kernel requires.
// Optional: UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO.
#include "cts.h"

#include <fmt/format.h>

namespace cts {
namespace {

class ReflectionTest : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped()) return;
    if (!HasFeature(UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO))
      GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO";
    stream_ = MakeStream();
    ASSERT_TRUE(stream_);
  }

  udal_kernel_info_t InfoOf(udal_kernel_t kernel) {
    udal_kernel_info_t kernel_info = UDAL_KERNEL_INFO_INIT;
    EXPECT_OK(udal_kernel_get_info(kernel, &kernel_info));
    return kernel_info;
  }

  udal_kernel_arg_info_t ArgOf(udal_kernel_t kernel, uint32_t index) {
    udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
    EXPECT_OK(udal_kernel_get_argument_info(kernel, index, &arg)) << "argument " << index;
    return arg;
  }

  // Formats that declare each buffer's access exactly (readonly/writeonly in GLSL, the host
  // kernel's declaration); the others may report READ_WRITE for what they do not say.
  static bool ExactAccess(udal_module_format_t format) {
    return format == UDAL_MODULE_FORMAT_HOST_NATIVE || format == UDAL_MODULE_FORMAT_SPIRV_COMPUTE;
  }

  // Checks argument |index| of |kernel|: a buffer with at least |access| (exactly, where the
  // format says it), or a value of |value_size| bytes.
  void ExpectArg(udal_kernel_t kernel, udal_module_format_t format, uint32_t index,
                 udal_arg_kind_t kind, udal_arg_access_t access, uint32_t value_size) {
    SCOPED_TRACE(fmt::format("argument {} ({})", index, FormatName(format)));
    udal_kernel_arg_info_t arg = ArgOf(kernel, index);
    EXPECT_EQ(UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO, arg.type);
    EXPECT_EQ(kind, arg.kind);
    EXPECT_EQ(0u, arg.reserved0);
    if (kind == UDAL_ARG_KIND_BUFFER) {
      EXPECT_EQ(0u, arg.value_size);
      if (ExactAccess(format)) {
        EXPECT_EQ(access, arg.access);
      } else {
        EXPECT_EQ(static_cast<int>(access), static_cast<int>(arg.access) & static_cast<int>(access))
            << "the reported access " << arg.access << " lacks what the kernel does";
      }
    } else {
      EXPECT_EQ(UDAL_ARG_ACCESS_NONE, arg.access);
      EXPECT_EQ(value_size, arg.value_size);
    }
  }

  Stream stream_;
};

TEST_P(ReflectionTest, ArgumentsOfEachKernelAreDescribed) {
  struct Expected {
    udal_arg_kind_t kind;
    udal_arg_access_t access;
    uint32_t value_size;
  };
  constexpr Expected kWrite{UDAL_ARG_KIND_BUFFER, UDAL_ARG_ACCESS_WRITE, 0};
  constexpr Expected kRead{UDAL_ARG_KIND_BUFFER, UDAL_ARG_ACCESS_READ, 0};
  constexpr Expected kReadWrite{UDAL_ARG_KIND_BUFFER, UDAL_ARG_ACCESS_READ_WRITE, 0};
  constexpr Expected kU32{UDAL_ARG_KIND_VALUE, UDAL_ARG_ACCESS_NONE, 4};
  constexpr Expected kU64{UDAL_ARG_KIND_VALUE, UDAL_ARG_ACCESS_NONE, 8};
  // Kernels whose buffers come before their values (SPIRV_COMPUTE cannot say how buffers and
  // push-constant members interleave).
  const std::vector<std::pair<std::string, std::vector<Expected>>> kernels = {
      {"fill_index", {kWrite, kU32, kU32}},
      {"saxpy", {kReadWrite, kRead, kU32, kU32}},
      {"add_u32", {kReadWrite, kU32, kU32}},
      {"global_ids", {kWrite, kU32}},
      {"grid_extent", {kReadWrite}},
  };
  for (const auto& [name, args] : kernels) {
    SCOPED_TRACE(name);
    Module module;
    Kernel kernel = MakeKernel(name, &module);
    ASSERT_TRUE(kernel);
    udal_module_format_t format = FormatOf(module.get());
    udal_kernel_info_t kernel_info = InfoOf(kernel.get());
    ASSERT_NE(0u, kernel_info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO)
        << "a device with UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO describes every CTS kernel ("
        << FormatName(format) << ")";
    ASSERT_EQ(args.size(), kernel_info.argument_count);
    for (uint32_t k = 0; k < args.size(); ++k) {
      ExpectArg(kernel.get(), format, k, args[k].kind, args[k].access, args[k].value_size);
    }
    udal_kernel_arg_info_t past = UDAL_KERNEL_ARG_INFO_INIT;
    EXPECT_UDAL(UDAL_ERROR_NOT_FOUND,
                udal_kernel_get_argument_info(kernel.get(), kernel_info.argument_count, &past));
    EXPECT_UDAL(UDAL_ERROR_NOT_FOUND, udal_kernel_get_argument_info(kernel.get(), UINT32_MAX, &past));
  }
  // A 64-bit value (the device address kernel), where the device has device addresses.
  if (HasFeature(UDAL_DEVICE_FEATURE_DEVICE_ADDRESS) && HasFeature(UDAL_DEVICE_FEATURE_INT64)) {
    Module module;
    Kernel kernel = MakeKernel("device_address", &module);
    ASSERT_TRUE(kernel);
    ASSERT_EQ(2u, InfoOf(kernel.get()).argument_count);
    ExpectArg(kernel.get(), FormatOf(module.get()), 0, kU64.kind, kU64.access, kU64.value_size);
    ExpectArg(kernel.get(), FormatOf(module.get()), 1, kU32.kind, kU32.access, kU32.value_size);
  }
}

TEST_P(ReflectionTest, LocalMemoryKernelSaysSo) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_LOCAL_MEMORY)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_LOCAL_MEMORY";
  Module module;
  Kernel with = MakeKernel("local_reverse", &module);
  Module other;
  Kernel without = MakeKernel("fill_index", &other);
  ASSERT_TRUE(with && without);
  EXPECT_NE(0u, InfoOf(with.get()).flags & UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY);
  EXPECT_EQ(0u, InfoOf(without.get()).flags & UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY);
}

TEST_P(ReflectionTest, BadArgumentsAreRejected) {
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  ASSERT_TRUE(kernel);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_get_argument_info(kernel.get(), 0, nullptr));
  udal_kernel_arg_info_t bad = UDAL_KERNEL_ARG_INFO_INIT;
  bad.type = UDAL_STRUCTURE_TYPE_KERNEL_INFO;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_get_argument_info(kernel.get(), 0, &bad))
      << "wrong struct type";
  udal_kernel_arg_info_t good = UDAL_KERNEL_ARG_INFO_INIT;
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_kernel_get_argument_info(nullptr, 0, &good));
  udal_kernel_info_t bad_info = UDAL_KERNEL_INFO_INIT;
  bad_info.struct_size = 3;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_get_info(kernel.get(), &bad_info));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_get_info(kernel.get(), nullptr));
}

// A plain UDAL_HOST_KERNEL declares nothing: no ARGUMENT_INFO flag, and argument info is
// UNSUPPORTED for it.
TEST_P(ReflectionTest, HostKernelWithoutDeclarationHasNoArgumentInfo) {
  if (!Accepts(UDAL_MODULE_FORMAT_HOST_NATIVE)) GTEST_SKIP() << "needs module format HOST_NATIVE";
  Module module;
  Kernel kernel = MakeKernel("value_bytes", &module);
  ASSERT_TRUE(kernel);
  ASSERT_EQ(UDAL_MODULE_FORMAT_HOST_NATIVE, FormatOf(module.get()));
  EXPECT_EQ(0u, InfoOf(kernel.get()).flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO);
  udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
  EXPECT_UDAL(UDAL_ERROR_UNSUPPORTED, udal_kernel_get_argument_info(kernel.get(), 0, &arg));
}

// ---------------------------------------------------------------------------------------
// Launches checked against the kernel's arguments
// ---------------------------------------------------------------------------------------

// fill_index's arguments given as (n, base, out). Positional formats (HOST_NATIVE, OpenCL)
// refuse it: argument 0 is a buffer. SPIRV_COMPUTE matches buffers to bindings and values to
// push-constant members, each kind in its own order, so the same launch is the correct one
// there and must compute the right answer.
TEST_P(ReflectionTest, ArgumentsInTheWrongOrderAreRefused) {
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  Buffer out = MakeBuffer(64 * 4);
  ASSERT_TRUE(kernel && out);
  const uint32_t n = 64, base = 100, poison = 0x5eed5eed;
  ASSERT_OK(udal_stream_fill_buffer(stream_.get(), out.get(), 0, 64 * 4, &poison, 4));
  udal_result_t result = Launch(stream_.get(), kernel.get(), {1, 1, 1}, {64, 1, 1},
                                {Value(n), Value(base), udal_arg_buffer(out.get(), 0)});
  std::vector<uint32_t> words = ReadBackAs<uint32_t>(stream_.get(), out.get(), 64);
  if (FormatOf(module.get()) == UDAL_MODULE_FORMAT_SPIRV_COMPUTE) {
    ASSERT_OK(result);
    for (uint32_t i = 0; i < 64; ++i) ASSERT_EQ(base + i, words[i]) << "item " << i;
    return;
  }
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, result);
  EXPECT_EQ(std::vector<uint32_t>(64, poison), words) << "the refused launch ran";
  // Two buffers where one is declared: refused in every format.
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
              Launch(stream_.get(), kernel.get(), {1, 1, 1}, {64, 1, 1},
                     {udal_arg_buffer(out.get(), 0), udal_arg_buffer(out.get(), 0), Value(base)}));
}

TEST_P(ReflectionTest, ValueOfTheWrongSizeIsRefused) {
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  Buffer out = MakeBuffer(64 * 4);
  ASSERT_TRUE(kernel && out);
  const uint32_t base = 100, poison = 0x5eed5eed;
  const uint64_t wide_n = 64;
  const uint16_t narrow_n = 64;
  ASSERT_OK(udal_stream_fill_buffer(stream_.get(), out.get(), 0, 64 * 4, &poison, 4));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
              Launch(stream_.get(), kernel.get(), {1, 1, 1}, {64, 1, 1},
                     {udal_arg_buffer(out.get(), 0), Value(wide_n), Value(base)}))
      << "an 8-byte value for a 4-byte argument";
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
              Launch(stream_.get(), kernel.get(), {1, 1, 1}, {64, 1, 1},
                     {udal_arg_buffer(out.get(), 0), Value(narrow_n), Value(base)}))
      << "a 2-byte value for a 4-byte argument";
  std::vector<uint32_t> words = ReadBackAs<uint32_t>(stream_.get(), out.get(), 64);
  EXPECT_EQ(std::vector<uint32_t>(64, poison), words) << "a refused launch ran";
}

TEST_P(ReflectionTest, LocalMemoryMissingIsRefused) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_LOCAL_MEMORY)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_LOCAL_MEMORY";
  Module module;
  Kernel kernel = MakeKernel("local_reverse", &module);
  Buffer data = MakeBuffer(64 * 4);
  ASSERT_TRUE(kernel && data);
  ASSERT_NE(0u, InfoOf(kernel.get()).flags & UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY);
  std::vector<uint32_t> values(64);
  for (uint32_t k = 0; k < 64; ++k) values[k] = k;
  ASSERT_OK(udal_stream_write_buffer(stream_.get(), data.get(), 0, values.data(), 64 * 4));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
              Launch(stream_.get(), kernel.get(), {2, 1, 1}, {32, 1, 1}, {udal_arg_buffer(data.get(), 0)}, 0))
      << "local_memory_bytes 0 for a kernel that uses local memory";
  EXPECT_EQ(values, ReadBackAs<uint32_t>(stream_.get(), data.get(), 64)) << "the refused launch ran";
}

// The launch's access must include every access the kernel declares: a kernel that writes a
// buffer the caller passes as READ is refused.
TEST_P(ReflectionTest, LessAccessThanTheKernelDeclaresIsRefused) {
  Module module;
  Kernel kernel = MakeKernel("saxpy", &module);
  Buffer x = MakeBuffer(64 * 4), y = MakeBuffer(64 * 4);
  ASSERT_TRUE(kernel && x && y);
  const float a = 2.0f, zero = 0.0f, one = 1.0f;
  const uint32_t n = 64;
  ASSERT_OK(udal_stream_fill_buffer(stream_.get(), x.get(), 0, 64 * 4, &one, 4));
  ASSERT_OK(udal_stream_fill_buffer(stream_.get(), y.get(), 0, 64 * 4, &zero, 4));
  udal_module_format_t format = FormatOf(module.get());
  udal_arg_access_t y_access = ArgOf(kernel.get(), 0).access;
  for (udal_arg_access_t given : {UDAL_ARG_ACCESS_READ, UDAL_ARG_ACCESS_WRITE}) {
    if ((static_cast<int>(y_access) & ~static_cast<int>(given)) == 0) continue;
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
                Launch(stream_.get(), kernel.get(), {1, 1, 1}, {64, 1, 1},
                       {udal_arg_buffer_access(y.get(), 0, given),
                        udal_arg_buffer_access(x.get(), 0, UDAL_ARG_ACCESS_READ), Value(a), Value(n)}))
        << "y (declared " << y_access << ") passed as " << given;
  }
  if (ExactAccess(format)) {
    // x is only read: passing it READ is enough, and the launch runs.
    ASSERT_OK(Launch(stream_.get(), kernel.get(), {1, 1, 1}, {64, 1, 1},
                     {udal_arg_buffer_access(y.get(), 0, UDAL_ARG_ACCESS_READ_WRITE),
                      udal_arg_buffer_access(x.get(), 0, UDAL_ARG_ACCESS_READ), Value(a), Value(n)}));
    std::vector<float> got = ReadBackAs<float>(stream_.get(), y.get(), 64);
    for (uint32_t i = 0; i < 64; ++i) ASSERT_EQ(2.0f, got[i]) << "item " << i;
  }
}

// A kernel that fixes its group size (SPIR-V LocalSize, reqd_work_group_size) reports it and
// refuses another.
TEST_P(ReflectionTest, RequiredGroupSizeIsReportedAndEnforced) {
  Module module;
  Kernel kernel = MakeKernel("fixed_group", &module);
  Buffer out = MakeBuffer(64 * 4);
  ASSERT_TRUE(kernel && out);
  udal_module_format_t format = FormatOf(module.get());
  udal_kernel_info_t kernel_info = InfoOf(kernel.get());
  if (format == UDAL_MODULE_FORMAT_HOST_NATIVE) {
    EXPECT_EQ(0u, kernel_info.flags & UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE) << "host kernels take any group size";
    EXPECT_EQ(0u, kernel_info.required_group_size[0]);
    GTEST_SKIP() << "a HOST_NATIVE kernel cannot fix its group size";
  }
  ASSERT_NE(0u, kernel_info.flags & UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE) << FormatName(format);
  EXPECT_EQ(8u, kernel_info.required_group_size[0]);
  EXPECT_EQ(1u, kernel_info.required_group_size[1]);
  EXPECT_EQ(1u, kernel_info.required_group_size[2]);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
              Launch(stream_.get(), kernel.get(), {4, 1, 1}, {16, 1, 1}, {udal_arg_buffer(out.get(), 0)}))
      << "group size 16 for a kernel that requires 8";
  ASSERT_OK(Launch(stream_.get(), kernel.get(), {8, 1, 1}, {8, 1, 1}, {udal_arg_buffer(out.get(), 0)}));
  EXPECT_EQ(std::vector<uint32_t>(64, 8), ReadBackAs<uint32_t>(stream_.get(), out.get(), 64));
}

// Kernels without a fixed group size report none.
TEST_P(ReflectionTest, KernelsWithoutARequiredGroupSizeReportNone) {
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  ASSERT_TRUE(kernel);
  udal_kernel_info_t kernel_info = InfoOf(kernel.get());
  EXPECT_EQ(0u, kernel_info.flags & UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE);
  EXPECT_EQ(0u, kernel_info.required_group_size[0] | kernel_info.required_group_size[1] |
                    kernel_info.required_group_size[2]);
  EXPECT_EQ(0u, kernel_info.reserved0);
  EXPECT_EQ(0u, kernel_info.flags & ~(UDAL_KERNEL_FLAG_ARGUMENT_INFO | UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY |
                                      UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE))
      << "unknown kernel flags";
}

// On every device, with or without the feature: argument info is there exactly for kernels
// that carry UDAL_KERNEL_FLAG_ARGUMENT_INFO, and UNSUPPORTED for the others.
using ReflectionFlagTest = DeviceTest;

TEST_P(ReflectionFlagTest, ArgumentInfoIsThereExactlyWhenTheKernelSaysSo) {
  for (const char* name : {"fill_index", "value_bytes"}) {
    SCOPED_TRACE(name);
    KernelImages images = LoadKernelImages(name);
    udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
    desc.images = images.images.data();
    desc.image_count = static_cast<uint32_t>(images.images.size());
    Module module;
    udal_result_t made = udal_module_create(device(), &desc, module.out());
    if (made == UDAL_ERROR_UNSUPPORTED && std::string(name) == "value_bytes") continue;
    ASSERT_OK(made);
    Kernel kernel;
    udal_result_t created = udal_kernel_create(module.get(), name, kernel.out());
    if (created == UDAL_ERROR_KERNEL_NOT_FOUND) continue;  // value_bytes exists for HOST_NATIVE only
    ASSERT_OK(created);
    udal_kernel_info_t kernel_info = UDAL_KERNEL_INFO_INIT;
    ASSERT_OK(udal_kernel_get_info(kernel.get(), &kernel_info));
    udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
    if ((kernel_info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO) != 0) {
      EXPECT_OK(udal_kernel_get_argument_info(kernel.get(), 0, &arg));
      EXPECT_NE(UDAL_ARGUMENT_COUNT_UNKNOWN, kernel_info.argument_count);
    } else {
      EXPECT_UDAL(UDAL_ERROR_UNSUPPORTED, udal_kernel_get_argument_info(kernel.get(), 0, &arg));
    }
  }
}

}  // namespace

CTS_INSTANTIATE(ReflectionTest);
CTS_INSTANTIATE(ReflectionFlagTest);

}  // namespace cts
