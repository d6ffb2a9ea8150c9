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

TEST_F(LaunchTest, AlignedBufferOffsetsAreApplied) {
  Kernel kernel = make_kernel("store_u32");
  ASSERT_TRUE(kernel);
  Buffer out = make_buffer(1024);
  ASSERT_TRUE(out);
  const uint64_t a = info_.buffer_argument_offset_alignment;
  for (uint64_t offset : {uint64_t{0}, a, 4 * a, 1008 / a * a}) {
    const uint32_t poison = 0xdeadbeef, value = 50, n = 4;
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
      const uint32_t want =
          (w >= first && w < first + n) ? value + static_cast<uint32_t>(w - first) : poison;
      ASSERT_EQ(want, word) << "offset " << offset << " word " << w;
    }
  }
}

// The copy-through of unaligned offsets is gone: it copied the buffer's tail and back,
// which overwrote what other streams wrote meanwhile.
TEST_F(LaunchTest, MisalignedBufferOffsetIsInvalidArgumentNamingTheAlignment) {
  Kernel kernel = make_kernel("store_u32");
  Buffer out = make_buffer(1024);
  ASSERT_TRUE(kernel && out);
  ASSERT_GT(info_.buffer_argument_offset_alignment, 1u) << "lavapipe and GPUs want 16 or more";
  EXPECT_EQ(0u, info_.buffer_argument_offset_alignment & (info_.buffer_argument_offset_alignment - 1));
  const std::string alignment = std::to_string(info_.buffer_argument_offset_alignment);
  const uint32_t value = 1, n = 1;
  for (uint64_t offset : {uint64_t{4}, uint64_t{100}, info_.buffer_argument_offset_alignment + 1}) {
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                      launch(io_stream_.get(), kernel.get(),
                             {udal_arg_buffer(out.get(), offset), udal_arg_value(&value, 4),
                              udal_arg_value(&n, 4)}),
                      "buffer_argument_offset_alignment", alignment.c_str());
  }
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), kWaitNs));
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
                    launch(s, k, {buffer_arg, udal_arg_value(&big, 8)}), "takes 4 bytes");
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

namespace udal::vulkan::test {
namespace {

// Today's value arguments were copied before their size was checked: a 1 GiB value
// crashed in memcpy.
TEST_F(LaunchTest, HugeValueArgumentIsRefusedBeforeAnyCopy) {
  Kernel kernel = make_kernel("store_u32");
  Buffer out = make_buffer(64);
  ASSERT_TRUE(kernel && out);
  const uint32_t value = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(io_stream_.get(), kernel.get(),
                           {udal_arg_buffer(out.get(), 0), udal_arg_value(&value, 1u << 30),
                            udal_arg_value(&value, 4)}));
  // Over max_value_argument_bytes in total, each value of a size the kernel would take.
  std::vector<uint32_t> many(info_.max_value_argument_bytes / 4 + 1, 7);
  std::vector<udal_kernel_arg_t> args = {udal_arg_buffer(out.get(), 0)};
  for (const uint32_t& v : many) args.push_back(udal_arg_value(&v, 4));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, launch(io_stream_.get(), kernel.get(), args));
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), kWaitNs));
}

// Today: "double free or corruption" and SIGABRT inside lavapipe.
TEST_F(LaunchTest, KernelThatUsesLocalMemoryIsRefusedWithoutIt) {
  Kernel kernel = make_kernel("local_reverse");
  Buffer data = make_buffer(64 * 4);
  ASSERT_TRUE(kernel && data);
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_info(kernel.get(), &info));
  EXPECT_TRUE(info.flags & UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(io_stream_.get(), kernel.get(), {udal_arg_buffer(data.get(), 0)}, 1, 64, 0),
                    "local_memory_bytes 0", "local_reverse");
  UDAL_ASSERT_OK(launch(io_stream_.get(), kernel.get(), {udal_arg_buffer(data.get(), 0)}, 1, 64, 256));
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), kWaitNs));
}

TEST_F(LaunchTest, AccessMustCoverWhatTheKernelDeclares) {
  Kernel kernel = make_kernel("vector_add");  // a, b readonly; c writeonly
  Buffer a = make_buffer(64), b = make_buffer(64), c = make_buffer(64);
  ASSERT_TRUE(kernel && a && b && c);
  const uint32_t n = 16;
  const float scale = 1;
  auto args = [&](udal_arg_access_t access_a, udal_arg_access_t access_c) {
    return std::vector<udal_kernel_arg_t>{
        udal_arg_buffer_access(a.get(), 0, access_a), udal_arg_buffer_access(b.get(), 0, UDAL_ARG_ACCESS_READ),
        udal_arg_buffer_access(c.get(), 0, access_c), udal_arg_value(&n, 4), udal_arg_value(&scale, 4)};
  };
  udal_stream_t s = io_stream_.get();
  UDAL_ASSERT_OK(launch(s, kernel.get(), args(UDAL_ARG_ACCESS_READ, UDAL_ARG_ACCESS_WRITE), 1, 16));
  UDAL_ASSERT_OK(launch(s, kernel.get(), args(UDAL_ARG_ACCESS_READ_WRITE, UDAL_ARG_ACCESS_READ_WRITE), 1, 16));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(s, kernel.get(), args(UDAL_ARG_ACCESS_READ, UDAL_ARG_ACCESS_READ), 1, 16),
                    "args[2]", "writes", "READ");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(s, kernel.get(), args(UDAL_ARG_ACCESS_WRITE, UDAL_ARG_ACCESS_WRITE), 1, 16),
                    "args[0]", "reads");
  UDAL_ASSERT_OK(udal_stream_synchronize(s, kWaitNs));
}

TEST_F(LaunchTest, ValueOfAnotherSizeThanTheKernelsIsRefused) {
  Kernel kernel = make_kernel("store_u32");  // (buffer, uint value, uint n)
  Buffer out = make_buffer(64);
  ASSERT_TRUE(kernel && out);
  const uint64_t wide = 1;
  const uint16_t narrow[2] = {1, 2};
  const uint32_t n = 1;
  // Same packed size (8 bytes) as the kernel's block, but not its members.
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(io_stream_.get(), kernel.get(), {udal_arg_buffer(out.get(), 0), udal_arg_value(&wide, 8)}),
                    "takes 4 bytes", "passes 8");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(io_stream_.get(), kernel.get(),
                           {udal_arg_buffer(out.get(), 0), udal_arg_value(&narrow[0], 2),
                            udal_arg_value(&narrow[1], 2), udal_arg_value(&n, 4)}),
                    "takes 4 bytes", "passes 2");
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), kWaitNs));
}

TEST_F(LaunchTest, ArgumentInfoDescribesBuffersThenValues) {
  Kernel add = make_kernel("vector_add"), unused = make_kernel("unused_binding");
  Kernel fixed = make_kernel("fixed_size");
  ASSERT_TRUE(add && unused && fixed);
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_info(add.get(), &info));
  EXPECT_EQ(UDAL_KERNEL_FLAG_ARGUMENT_INFO, info.flags);
  EXPECT_EQ(5u, info.argument_count);
  const struct {
    udal_arg_kind_t kind;
    uint32_t value_size;
    udal_arg_access_t access;
  } want[] = {{UDAL_ARG_KIND_BUFFER, 0, UDAL_ARG_ACCESS_READ},
              {UDAL_ARG_KIND_BUFFER, 0, UDAL_ARG_ACCESS_READ},
              {UDAL_ARG_KIND_BUFFER, 0, UDAL_ARG_ACCESS_WRITE},
              {UDAL_ARG_KIND_VALUE, 4, UDAL_ARG_ACCESS_NONE},
              {UDAL_ARG_KIND_VALUE, 4, UDAL_ARG_ACCESS_NONE}};
  for (uint32_t i = 0; i < 5; ++i) {
    udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
    UDAL_ASSERT_OK(udal_kernel_get_argument_info(add.get(), i, &arg));
    EXPECT_EQ(want[i].kind, arg.kind) << i;
    EXPECT_EQ(want[i].value_size, arg.value_size) << i;
    EXPECT_EQ(want[i].access, arg.access) << i;
  }
  udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
  UDAL_EXPECT_FAILS(UDAL_ERROR_NOT_FOUND, udal_kernel_get_argument_info(add.get(), 5, &arg), "5");
  UDAL_EXPECT_FAILS(UDAL_ERROR_NOT_FOUND, udal_kernel_get_argument_info(add.get(), UINT32_MAX, &arg));
  // A binding below the highest one that the kernel never uses still takes a buffer (READ).
  UDAL_ASSERT_OK(udal_kernel_get_info(unused.get(), &info));
  EXPECT_EQ(3u, info.argument_count);
  UDAL_ASSERT_OK(udal_kernel_get_argument_info(unused.get(), 0, &arg));
  EXPECT_EQ(UDAL_ARG_KIND_BUFFER, arg.kind);
  EXPECT_EQ(UDAL_ARG_ACCESS_READ, arg.access);
  UDAL_ASSERT_OK(udal_kernel_get_argument_info(unused.get(), 1, &arg));
  EXPECT_EQ(UDAL_ARG_ACCESS_READ_WRITE, arg.access);
  // A fixed LocalSize is the required group size.
  UDAL_ASSERT_OK(udal_kernel_get_info(fixed.get(), &info));
  EXPECT_TRUE(info.flags & UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE);
  EXPECT_EQ(8u, info.required_group_size[0]);
  EXPECT_EQ(1u, info.required_group_size[1]);
  EXPECT_EQ(1u, info.required_group_size[2]);
  EXPECT_EQ(8u, info.max_group_invocations);
}

// A module of four kernels linked with spirv-link: each kernel gets its own bindings and
// push-constant block (today every kernel reported the first one's).
TEST_F(LaunchTest, MultiKernelModuleGivesEachKernelItsOwnArguments) {
  const std::pair<const char*, uint32_t> kernels[] = {
      {"vector_add", 5}, {"store_u32", 3}, {"local_reverse", 1}, {"unused_binding", 3}};
  std::vector<Kernel> made;
  for (auto [name, count] : kernels) {
    made.push_back(make_kernel_from("multi", name));
    ASSERT_TRUE(made.back()) << name;
    udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
    UDAL_ASSERT_OK(udal_kernel_get_info(made.back().get(), &info));
    EXPECT_EQ(count, info.argument_count) << name;
  }
  Buffer out = make_buffer(256);
  ASSERT_TRUE(out);
  const uint32_t value = 40, n = 8, single = 99;
  UDAL_ASSERT_OK(launch(io_stream_.get(), made[1].get(),
                        {udal_arg_buffer(out.get(), 0), udal_arg_value(&value, 4), udal_arg_value(&n, 4)},
                        1, 8));
  UDAL_ASSERT_OK(launch(io_stream_.get(), made[3].get(),
                        {udal_arg_buffer(out.get(), 0), udal_arg_buffer(out.get(), 64), udal_arg_value(&single, 4)}));
  std::vector<uint8_t> back = read(out.get(), 0, 68);
  uint32_t words[17];
  std::memcpy(words, back.data(), sizeof(words));
  for (uint32_t i = 0; i < 8; ++i) EXPECT_EQ(40 + i, words[i]);
  EXPECT_EQ(99u, words[16]);
}

TEST_F(LaunchTest, KernelWritesThroughADeviceAddress) {
  ASSERT_TRUE(info_.features & UDAL_DEVICE_FEATURE_DEVICE_ADDRESS) << "lavapipe has bufferDeviceAddress";
  Kernel kernel = make_kernel("device_address");
  Buffer target = make_buffer(1024, UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
  ASSERT_TRUE(kernel && target);
  uint64_t address = 0;
  UDAL_ASSERT_OK(udal_buffer_get_device_address(target.get(), &address));
  ASSERT_NE(0u, address);
  // Pointer arithmetic: the kernel writes from the 17th word on.
  const uint64_t at = address + 64;
  const uint32_t value = 1000, n = 32;
  UDAL_ASSERT_OK(launch(io_stream_.get(), kernel.get(),
                        {udal_arg_value(&at, 8), udal_arg_value(&value, 4), udal_arg_value(&n, 4)}, 1, 32));
  std::vector<uint8_t> back = read(target.get(), 64, n * 4);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t word;
    std::memcpy(&word, back.data() + i * 4, 4);
    ASSERT_EQ(value + i, word) << "item " << i;
  }
}

}  // namespace
}  // namespace udal::vulkan::test

namespace udal::vulkan::test {
namespace {

// An array member of the push-constant block takes one value per element (reflection lists
// them so) or the whole array as one value.
TEST_F(LaunchTest, ArrayMemberTakesItsElementsOrTheWholeArray) {
  Kernel kernel = make_kernel("array_values");  // uint v[4]; uint n
  Buffer out = make_buffer(64);
  ASSERT_TRUE(kernel && out);
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_info(kernel.get(), &info));
  EXPECT_EQ(6u, info.argument_count) << "1 buffer + 4 elements + n";
  const uint32_t v[4] = {10, 11, 12, 13}, n = 99;
  auto check = [&]() {
    std::vector<uint8_t> back = read(out.get(), 0, 20);
    uint32_t words[5];
    std::memcpy(words, back.data(), 20);
    for (int k = 0; k < 4; ++k) EXPECT_EQ(v[k], words[k]);
    EXPECT_EQ(n, words[4]);
    const uint32_t zero = 0;
    UDAL_ASSERT_OK(udal_stream_fill_buffer(io_stream_.get(), out.get(), 0, 64, &zero, 4));
  };
  UDAL_ASSERT_OK(launch(io_stream_.get(), kernel.get(),
                        {udal_arg_buffer(out.get(), 0), udal_arg_value(&v[0], 4), udal_arg_value(&v[1], 4),
                         udal_arg_value(&v[2], 4), udal_arg_value(&v[3], 4), udal_arg_value(&n, 4)}));
  check();
  UDAL_ASSERT_OK(launch(io_stream_.get(), kernel.get(),
                        {udal_arg_buffer(out.get(), 0), udal_arg_value(v, 16), udal_arg_value(&n, 4)}));
  check();
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(io_stream_.get(), kernel.get(),
                           {udal_arg_buffer(out.get(), 0), udal_arg_value(v, 8), udal_arg_value(&v[2], 8)}),
                    "takes 4 bytes there (or 16 for its whole array)");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(io_stream_.get(), kernel.get(), {udal_arg_buffer(out.get(), 0), udal_arg_value(v, 16)}),
                    "takes 5 value arguments");
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), kWaitNs));
}

// Linked with a kernel of a fixed group size, whose WorkgroupSize SPIR-V applies to every
// kernel of the module (lavapipe ran them all at 8x1x1): refused at creation.
TEST_F(LaunchTest, ModuleLinkingAFixedSizeKernelWithOthersIsInvalidModule) {
  udal_module_t module = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE,
                    create_module(device_, kSpirv, kernel_spirv("multi_fixed"), &module),
                    "WorkgroupSize", "module of its own");
  EXPECT_EQ(nullptr, module);
}

}  // namespace
}  // namespace udal::vulkan::test
