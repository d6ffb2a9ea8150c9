// Launches: grids, arguments, local memory, validation against kernel and device.
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fixture.h"

namespace udal::cpu::test {
namespace {

TEST_F(CpuDriverTest, VectorAddComputesEveryElement) {
  const uint32_t n = 100003;
  std::vector<float> a(n), b(n);
  for (uint32_t i = 0; i < n; ++i) {
    a[i] = static_cast<float>(i);
    b[i] = static_cast<float>(2 * i);
  }
  Buffer da = make_buffer(n * 4), db = make_buffer(n * 4), dc = make_buffer(n * 4);
  write(da.get(), 0, a.data(), n * 4);
  write(db.get(), 0, b.data(), n * 4);
  Kernel kernel = make_kernel("vector_add");
  Stream stream = make_stream();
  UDAL_ASSERT_OK(launch(stream.get(), kernel.get(),
                        {udal_arg_buffer(da.get(), 0), udal_arg_buffer(db.get(), 0),
                         udal_arg_buffer(dc.get(), 0), udal_arg_value(&n, 4)},
                        (n + 63) / 64, 64));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  auto bytes = read(dc.get(), 0, n * 4);
  std::vector<float> c(n);
  std::memcpy(c.data(), bytes.data(), n * 4);
  for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(c[i], static_cast<float>(3 * i)) << i;
}

TEST_F(CpuDriverTest, EveryGroupOfA3dGridRunsOnceWithItsId) {
  Kernel kernel = make_kernel("group_ids");
  Stream stream = make_stream();
  for (auto [gx, gy, gz] : {std::array<uint32_t, 3>{1, 1, 1}, {2, 1, 1}, {7, 5, 3}, {64, 2, 2}}) {
    const uint64_t groups = uint64_t{gx} * gy * gz;
    Buffer out = make_buffer(groups * 8);
    const uint32_t zero = 0;
    UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), out.get(), 0, groups * 8, &zero, 4));
    udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
    desc.group_count[0] = gx;
    desc.group_count[1] = gy;
    desc.group_count[2] = gz;
    desc.group_size[0] = 3;
    desc.group_size[1] = 2;
    desc.group_size[2] = 2;
    udal_kernel_arg_t arg = udal_arg_buffer(out.get(), 0);
    desc.args = &arg;
    desc.arg_count = 1;
    UDAL_ASSERT_OK(udal_stream_launch(stream.get(), kernel.get(), &desc));
    UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
    auto bytes = read(out.get(), 0, groups * 8);
    std::vector<uint32_t> v(groups * 2);
    std::memcpy(v.data(), bytes.data(), groups * 8);
    for (uint64_t g = 0; g < groups; ++g) {
      ASSERT_EQ(v[g], g + 1) << "group " << g << " of " << gx << "x" << gy << "x" << gz;
      ASSERT_EQ(v[groups + g], 12u) << "items of group " << g;
    }
  }
}

TEST_F(CpuDriverTest, LocalMemoryIsAlignedAndPrivateToEachGroup) {
  Kernel kernel = make_kernel("local_sum");
  Stream stream = make_stream();
  const uint32_t groups = 64;
  const uint64_t local = 4000;
  Buffer out = make_buffer(groups * 12);
  UDAL_ASSERT_OK(launch(stream.get(), kernel.get(), {udal_arg_buffer(out.get(), 0)}, groups, 1, local));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  auto bytes = read(out.get(), 0, groups * 12);
  std::vector<uint32_t> v(groups * 3);
  std::memcpy(v.data(), bytes.data(), groups * 12);
  for (uint32_t g = 0; g < groups; ++g) {
    EXPECT_EQ(v[3 * g], g * (local / 4)) << "group " << g;
    EXPECT_EQ(v[3 * g + 1], 1u) << "group " << g << " local memory not 64-byte aligned";
    EXPECT_EQ(v[3 * g + 2], local);
  }
}

TEST_F(CpuDriverTest, ValueArgumentsAreCopiedAtEnqueueAndAligned) {
  Event gate = make_gate();
  Kernel values = make_kernel("values");
  Stream stream = make_stream();
  Buffer out = make_buffer(1024);
  uint8_t small = 0xab;
  uint64_t big = 0x0123456789abcdefull;
  uint8_t block[16];
  for (int i = 0; i < 16; ++i) block[i] = static_cast<uint8_t>(i * 3);
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  UDAL_ASSERT_OK(launch(stream.get(), values.get(),
                        {udal_arg_buffer(out.get(), 512), udal_arg_value(&small, 1),
                         udal_arg_value(&big, 8), udal_arg_value(block, 16)}));
  // Changed while the launch is still held by the gate: it must not see these.
  small = 0;
  big = 0;
  std::memset(block, 0, sizeof(block));
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 0));
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  auto bytes = read(out.get(), 512, 64);
  uint64_t v[8];
  std::memcpy(v, bytes.data(), 64);
  EXPECT_EQ(v[0], 0xabu);
  EXPECT_EQ(v[1], 0x0123456789abcdefull);
  uint8_t seen[16];
  std::memcpy(seen, &v[2], 16);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(seen[i], i * 3) << i;
  EXPECT_EQ(v[4], 1u) << "value arguments are not 16-byte aligned";
  EXPECT_EQ(v[5], 512u) << "arg_sizes of a buffer is the bytes from its offset to its end";
  EXPECT_EQ(v[6], 1u);
  EXPECT_EQ(v[7], 16u);
}

TEST_F(CpuDriverTest, LaunchesThatBreakTheKernelOrDeviceLimitsAreRejected) {
  Kernel kernel = make_kernel("add_one");
  Stream stream = make_stream();
  Buffer buffer = make_buffer(256);
  const uint32_t n = 64;
  udal_stream_t s = stream.get();
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, launch(s, kernel.get(), {udal_arg_buffer(buffer.get(), 0)}),
                    "passes 1 arguments", "'add_one' takes 2");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(s, kernel.get(),
                           {udal_arg_buffer(buffer.get(), 0), udal_arg_value(&n, 4), udal_arg_value(&n, 4)}),
                    "passes 3 arguments", "takes 2");
  std::vector<udal_kernel_arg_t> good = {udal_arg_buffer(buffer.get(), 0), udal_arg_value(&n, 4)};
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, launch(s, kernel.get(), good, 1, info_.max_group_size[0] + 1),
                    "group_size[0]");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(s, kernel.get(), good, 1, 1, info_.max_local_memory_bytes + 1),
                    "local_memory_bytes");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, launch(s, kernel.get(), good, 0, 1));

  udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
  desc.args = good.data();
  desc.arg_count = 2;
  desc.group_size[0] = 64;
  desc.group_size[1] = 64;
  desc.group_size[2] = 64;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_launch(s, kernel.get(), &desc),
                    "max_group_invocations");
  desc.group_size[1] = desc.group_size[2] = 1;
  desc.group_count[1] = info_.max_group_count[1] + 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_launch(s, kernel.get(), &desc),
                    "group_count[1]");

  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE,
                    launch(s, kernel.get(), {udal_arg_buffer(buffer.get(), 256), udal_arg_value(&n, 4)}),
                    "256");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE,
                    launch(s, kernel.get(), {udal_arg_buffer(nullptr, 0), udal_arg_value(&n, 4)}));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, launch(s, nullptr, good));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, launch(nullptr, kernel.get(), good));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_launch(s, kernel.get(), nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(s, kernel.get(), {udal_arg_buffer(buffer.get(), 0), udal_arg_value(nullptr, 4)}));
  UDAL_ASSERT_OK(udal_stream_synchronize(s, UDAL_TIMEOUT_INFINITE));
}

TEST_F(CpuDriverTest, BuffersOfAnotherInstancesDeviceAreInvalidHandles) {
  Instance other = open_cpu_instance();
  ASSERT_TRUE(other);
  udal_instance_t raw = other.get();
  udal_device_t other_device = nullptr;
  UDAL_ASSERT_OK(udal_instance_get_device(raw, 0, &other_device));
  udal_buffer_desc_t bdesc = UDAL_BUFFER_DESC_INIT;
  bdesc.size = 256;
  udal_buffer_t foreign_raw = nullptr;
  UDAL_ASSERT_OK(udal_buffer_create(other_device, &bdesc, &foreign_raw));
  Buffer foreign(foreign_raw);
  Buffer mine = make_buffer(256);
  Kernel kernel = make_kernel("add_one");
  Stream stream = make_stream();
  const uint32_t n = 64;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE,
                    launch(stream.get(), kernel.get(), {udal_arg_buffer(foreign.get(), 0), udal_arg_value(&n, 4)}));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE,
                    udal_stream_copy_buffer(stream.get(), foreign.get(), 0, mine.get(), 0, 64));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
}

TEST_F(CpuDriverTest, ManyEmptyLaunchesComplete) {
  Kernel kernel = make_kernel("empty");
  Stream stream = make_stream();
  for (int i = 0; i < 2000; ++i) {
    UDAL_ASSERT_OK(launch(stream.get(), kernel.get(), {}));
    if (i % 7 == 0) {
      UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
    }
  }
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
}

}  // namespace
}  // namespace udal::cpu::test
