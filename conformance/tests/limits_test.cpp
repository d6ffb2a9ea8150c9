// Every launch limit of the device at its value (the launch runs and computes the right
// thing) and one past it (UDAL_ERROR_INVALID_ARGUMENT, nothing runs): group count, group
// size, argument count, value bytes, local memory; and a grid of more than 2^32 work-items.
#include "cts.h"
#include "recorder.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>

namespace cts {
namespace {

// Launching more groups than this at a limit's value would take too long on a CPU: such an
// axis is checked one past its limit only (the trace says so).
constexpr uint64_t kMostGroupsToRun = 1u << 22;

class LimitsTest : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped()) return;
    stream_ = MakeStream();
    ASSERT_TRUE(stream_);
  }

  // Runs grid_extent over the grid; returns its eight result words.
  // |wait_ns|: how long the launch may take (grids of billions of items on a software
  // device take longer than the usual wait).
  std::vector<uint32_t> GridExtent(udal_kernel_t kernel, std::array<uint32_t, 3> count,
                                   std::array<uint32_t, 3> size, uint64_t wait_ns = kWaitNs) {
    Buffer out = MakeBuffer(32);
    if (!out) return {};
    const uint32_t zero = 0;
    EXPECT_OK(udal_stream_fill_buffer(stream_.get(), out.get(), 0, 32, &zero, 4));
    EXPECT_OK(Launch(stream_.get(), kernel, count, size, {udal_arg_buffer(out.get(), 0)}))
        << fmt::format("group_count {}x{}x{}, group_size {}x{}x{}", count[0], count[1], count[2],
                       size[0], size[1], size[2]);
    EXPECT_OK(udal_stream_synchronize(stream_.get(), wait_ns));
    return ReadBackAs<uint32_t>(stream_.get(), out.get(), 8);
  }

  void ExpectExtent(const std::vector<uint32_t>& words, std::array<uint32_t, 3> count,
                    std::array<uint32_t, 3> size) {
    ASSERT_EQ(8u, words.size());
    uint64_t groups = uint64_t{count[0]} * count[1] * count[2];
    EXPECT_EQ(static_cast<uint32_t>(groups), words[0]) << "groups whose first item ran";
    EXPECT_EQ(static_cast<uint32_t>(groups), words[1]) << "groups whose last item ran";
    for (int axis = 0; axis < 3; ++axis) {
      EXPECT_EQ(count[axis] * size[axis] - 1, words[2 + axis]) << "the last item's global id on axis " << axis;
    }
  }

  // The CTS kernel that takes exactly |count| arguments (|count| - 1 u32 values after one
  // buffer), "" if none.
  static std::string KernelWithArguments(uint32_t count) {
    if (count == 32) return "many_args";
    if (count == 64) return "args_64";
    return "";
  }

  // Kernel |name| of the CTS's images when one is in a format the device takes; an empty
  // owner (and no failure) when none is.
  Kernel TryKernel(const std::string& name, Module* module, const std::string& spirv_compute_file = "") {
    KernelImages images = LoadKernelImages(name, spirv_compute_file);
    Kernel kernel;
    if (images.images.empty()) return kernel;
    udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
    desc.images = images.images.data();
    desc.image_count = static_cast<uint32_t>(images.images.size());
    udal_result_t made = udal_module_create(device(), &desc, module->out());
    if (made == UDAL_ERROR_UNSUPPORTED) return kernel;
    EXPECT_OK(made) << name;
    if (made != UDAL_SUCCESS) return kernel;
    udal_result_t created = udal_kernel_create(module->get(), name.c_str(), kernel.out());
    if (created != UDAL_ERROR_KERNEL_NOT_FOUND) {
      EXPECT_OK(created) << name;
    }
    return kernel;
  }

  Stream stream_;
};

TEST_P(LimitsTest, GroupCountAtTheLimitAndOnePast) {
  Module module;
  Kernel kernel = MakeKernel("grid_extent", &module);
  ASSERT_TRUE(kernel);
  Buffer out = MakeBuffer(32);
  ASSERT_TRUE(out);
  for (int axis = 0; axis < 3; ++axis) {
    SCOPED_TRACE(fmt::format("axis {}", axis));
    uint32_t limit = info().max_group_count[axis];
    std::array<uint32_t, 3> count = {1, 1, 1}, size = {1, 1, 1};
    if (limit <= kMostGroupsToRun) {
      count[axis] = limit;
      ExpectExtent(GridExtent(kernel.get(), count, size), count, size);
    } else {
      std::cout << fmt::format("[   NOTE   ] max_group_count[{}] = {}: more groups than the CTS runs "
                               "({}); checked one past the limit only\n", axis, limit, kMostGroupsToRun);
    }
    if (limit < UINT32_MAX) {
      count[axis] = limit + 1;
      EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
                  Launch(stream_.get(), kernel.get(), count, size, {udal_arg_buffer(out.get(), 0)}))
          << "group_count[" << axis << "] = max_group_count + 1 = " << count[axis];
    }
  }
}

TEST_P(LimitsTest, GroupSizeAtTheLimitAndOnePast) {
  Module module;
  Kernel kernel = MakeKernel("grid_extent", &module);
  Buffer out = MakeBuffer(32);
  ASSERT_TRUE(kernel && out);
  const udal_device_info_t& i = info();
  for (int axis = 0; axis < 3; ++axis) {
    SCOPED_TRACE(fmt::format("axis {}", axis));
    std::array<uint32_t, 3> count = {2, 1, 1}, size = {1, 1, 1};
    size[axis] = std::min(i.max_group_size[axis], i.max_group_invocations);
    ExpectExtent(GridExtent(kernel.get(), count, size), count, size);
    if (i.max_group_size[axis] < UINT32_MAX) {
      size[axis] = i.max_group_size[axis] + 1;
      EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
                  Launch(stream_.get(), kernel.get(), count, size, {udal_arg_buffer(out.get(), 0)}))
          << "group_size[" << axis << "] = max_group_size + 1";
    }
  }
  // max_group_invocations items in one group, spread over the axes; then one more on x.
  std::array<uint32_t, 3> size = {1, 1, 1};
  uint32_t left = i.max_group_invocations;
  for (int axis = 0; axis < 3 && left > 1; ++axis) {
    size[axis] = std::min(i.max_group_size[axis], left);
    left /= size[axis];
  }
  uint64_t product = uint64_t{size[0]} * size[1] * size[2];
  if (product == i.max_group_invocations) {
    ExpectExtent(GridExtent(kernel.get(), {2, 1, 1}, size), {2, 1, 1}, size);
  }
  std::array<uint32_t, 3> over = {i.max_group_invocations + 1, 1, 1};
  if (over[0] > i.max_group_size[0]) {
    // Spread max_group_invocations + 1 items over two axes where the axes allow it.
    over = {i.max_group_size[0], (i.max_group_invocations / i.max_group_size[0]) + 1, 1};
  }
  if (uint64_t{over[0]} * over[1] > i.max_group_invocations && over[1] <= i.max_group_size[1]) {
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
                Launch(stream_.get(), kernel.get(), {1, 1, 1}, over, {udal_arg_buffer(out.get(), 0)}))
        << fmt::format("a group of {}x{}x{} items, over max_group_invocations {}", over[0], over[1],
                       over[2], i.max_group_invocations);
  }
}

// A grid of more than 2^32 work-items: every group runs, and the last item's global id is
// the grid's extent minus one.
TEST_P(LimitsTest, GridOfMoreThanTwoToThe32WorkItems) {
  Module module;
  Kernel kernel = MakeKernel("grid_extent", &module);
  ASSERT_TRUE(kernel);
  const udal_device_info_t& i = info();
  uint32_t group = std::min({i.max_group_invocations, i.max_group_size[0], 1024u});
  uint32_t gx = std::min(i.max_group_count[0], 65535u);
  uint64_t groups_needed = ((uint64_t{1} << 32) + group) / group;  // > 2^32 items
  uint64_t gy = (groups_needed + gx - 1) / gx;
  std::array<uint32_t, 3> count = {gx, 1, 1};
  if (gy <= i.max_group_count[1]) {
    count[1] = static_cast<uint32_t>(gy);
  } else if (gy <= i.max_group_count[2]) {
    count[2] = static_cast<uint32_t>(gy);
  } else {
    GTEST_SKIP() << "the device's group count limits allow no grid of more than 2^32 items";
  }
  std::array<uint32_t, 3> size = {group, 1, 1};
  uint64_t items = uint64_t{count[0]} * count[1] * count[2] * group;
  ASSERT_GT(items, uint64_t{1} << 32);
  SCOPED_TRACE(fmt::format("{} items: group_count {}x{}x{}, group_size {}", items, count[0],
                           count[1], count[2], group));
  // Billions of items take a software device (lavapipe: about 2.5 ns of CPU an item) longer
  // than a test usually may: this one may take two minutes, or the run's limit when longer.
  double allowed = AllowTestSeconds(std::max(120.0, context().timeout_s));
  double seconds = allowed - 5.0;
  auto start = std::chrono::steady_clock::now();
  ExpectExtent(GridExtent(kernel.get(), count, size, static_cast<uint64_t>(seconds * 1e9)), count, size);
  std::cout << fmt::format("[   NOTE   ] {} items took {:.1f} s\n", items,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

TEST_P(LimitsTest, ArgumentCountAtTheLimit) {
  uint32_t limit = info().max_kernel_arguments;
  std::string name = KernelWithArguments(limit);
  Module module;
  Kernel kernel;
  if (!name.empty()) kernel = TryKernel(name, &module);
  if (!kernel)
    GTEST_SKIP() << "no CTS kernel takes exactly max_kernel_arguments = " << limit
                 << " arguments in a format this device accepts";
  Buffer out = MakeBuffer(uint64_t{limit} * 4);
  ASSERT_TRUE(out);
  std::vector<uint32_t> values(limit - 1);
  std::vector<udal_kernel_arg_t> args = {udal_arg_buffer(out.get(), 0)};
  for (uint32_t k = 0; k + 1 < limit; ++k) {
    values[k] = 0x100 * k + 3;
    args.push_back(Value(values[k]));
  }
  ASSERT_OK(Launch(stream_.get(), kernel.get(), {1, 1, 1}, {1, 1, 1}, args));
  EXPECT_EQ(values, ReadBackAs<uint32_t>(stream_.get(), out.get(), limit - 1));
}

TEST_P(LimitsTest, ArgumentCountOnePastTheLimit) {
  uint32_t limit = info().max_kernel_arguments;
  ASSERT_LT(limit, 1u << 20) << "max_kernel_arguments is too large to try";
  Module module;
  Kernel kernel = MakeKernel("many_args", &module);
  Buffer out = MakeBuffer(uint64_t{limit + 1} * 4);
  ASSERT_TRUE(kernel && out);
  std::vector<uint32_t> values(limit, 9);
  std::vector<udal_kernel_arg_t> args = {udal_arg_buffer(out.get(), 0)};
  for (uint32_t k = 0; k < limit; ++k) args.push_back(Value(values[k]));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, Launch(stream_.get(), kernel.get(), {1, 1, 1}, {1, 1, 1}, args))
      << limit + 1 << " arguments, one past max_kernel_arguments";
}

// value_bytes takes one value argument as large as the launch allows: HOST_NATIVE's plain
// kernel takes any size; SPIRV_COMPUTE has one image per push-constant size.
TEST_P(LimitsTest, ValueBytesAtTheLimitAndOnePast) {
  uint32_t limit = info().max_value_argument_bytes;
  ASSERT_LT(limit, 1u << 24) << "max_value_argument_bytes is too large to try";
  Module module;
  Kernel kernel = TryKernel("value_bytes", &module, fmt::format("value_bytes_{}.spv", limit));
  if (!kernel)
    GTEST_SKIP() << "no CTS kernel image takes exactly max_value_argument_bytes = " << limit
                 << " bytes of values in a format this device accepts";
  Buffer out = MakeBuffer(uint64_t{limit} + 4);
  ASSERT_TRUE(out);
  std::vector<uint8_t> bytes = Pattern(limit + 1, 61);
  ASSERT_OK(Launch(stream_.get(), kernel.get(), {1, 1, 1}, {1, 1, 1},
                   {udal_arg_buffer(out.get(), 0), udal_arg_value(bytes.data(), limit)}));
  std::vector<uint8_t> want(bytes.begin(), bytes.begin() + limit);
  EXPECT_EQ("", FirstDifference(want, ReadBack(stream_.get(), out.get(), 0, limit)));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
              Launch(stream_.get(), kernel.get(), {1, 1, 1}, {1, 1, 1},
                     {udal_arg_buffer(out.get(), 0), udal_arg_value(bytes.data(), limit + 1)}))
      << limit + 1 << " bytes of values, one past max_value_argument_bytes";
}

TEST_P(LimitsTest, LocalMemoryAtTheLimitAndOnePast) {
  if (!HasFeature(UDAL_DEVICE_FEATURE_LOCAL_MEMORY)) GTEST_SKIP() << "needs UDAL_DEVICE_FEATURE_LOCAL_MEMORY";
  uint64_t limit = info().max_local_memory_bytes;
  ASSERT_GE(limit, 64u * 4);
  Module module;
  Kernel kernel = MakeKernel("local_reverse", &module);
  constexpr uint32_t kGroup = 64, kGroups = 3;
  Buffer data = MakeBuffer(kGroup * kGroups * 4);
  ASSERT_TRUE(kernel && data);
  std::vector<uint32_t> values(kGroup * kGroups);
  for (uint32_t k = 0; k < values.size(); ++k) values[k] = k * 7 + 1;
  ASSERT_OK(udal_stream_write_buffer(stream_.get(), data.get(), 0, values.data(), values.size() * 4));
  ASSERT_OK(Launch(stream_.get(), kernel.get(), {kGroups, 1, 1}, {kGroup, 1, 1},
                   {udal_arg_buffer(data.get(), 0)}, limit))
      << "local_memory_bytes = max_local_memory_bytes = " << limit;
  std::vector<uint32_t> back = ReadBackAs<uint32_t>(stream_.get(), data.get(), values.size());
  for (uint32_t g = 0; g < kGroups; ++g) {
    for (uint32_t l = 0; l < kGroup; ++l) {
      ASSERT_EQ(values[g * kGroup + kGroup - 1 - l], back[g * kGroup + l]) << "group " << g << ", item " << l;
    }
  }
  if (limit < UINT64_MAX) {
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT,
                Launch(stream_.get(), kernel.get(), {kGroups, 1, 1}, {kGroup, 1, 1},
                       {udal_arg_buffer(data.get(), 0)}, limit + 1))
        << "local_memory_bytes one past max_local_memory_bytes";
  }
}

}  // namespace

CTS_INSTANTIATE(LimitsTest);

}  // namespace cts
