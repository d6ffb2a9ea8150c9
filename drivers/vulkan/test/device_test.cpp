// The device's info comes from Vulkan's properties.
#include <cstddef>

#include "fixture.h"

namespace udal::vulkan::test {
namespace {

using DeviceTest = VulkanDriverTest;

TEST_F(DeviceTest, InfoComesFromTheVulkanDevice) {
  EXPECT_GT(std::strlen(info_.name), 0u);
  EXPECT_GT(std::strlen(info_.vendor), 0u);
  EXPECT_STREQ("vulkan", info_.driver_name);
  EXPECT_EQ(UDAL_ABI_VERSION, info_.abi_version);
  ASSERT_EQ(1u, info_.module_format_count);
  EXPECT_EQ(UDAL_MODULE_FORMAT_SPIRV_COMPUTE, info_.module_formats[0]);
  bool uuid_nonzero = false;
  for (uint8_t byte : info_.uuid) uuid_nonzero |= byte != 0;
  EXPECT_TRUE(uuid_nonzero);
  for (int axis = 0; axis < 3; ++axis) {
    EXPECT_GT(info_.max_group_size[axis], 0u);
    EXPECT_LE(info_.max_group_size[axis], info_.max_group_invocations);
    EXPECT_GT(info_.max_group_count[axis], 0u);
  }
  EXPECT_GE(info_.max_value_argument_bytes, 128u) << "Vulkan guarantees 128 push-constant bytes";
  EXPECT_GT(info_.max_local_memory_bytes, 0u);
  EXPECT_LE(info_.max_allocation_bytes, info_.device_memory_bytes);
  EXPECT_TRUE(info_.features & UDAL_DEVICE_FEATURE_LOCAL_MEMORY);
  EXPECT_EQ(0u, info_.min_buffer_alignment & (info_.min_buffer_alignment - 1));
}

TEST_F(DeviceTest, LavapipeIsACpuDeviceWithoutPciBusId) {
  if (std::string(info_.name).find("llvmpipe") == std::string::npos) {
    GTEST_SKIP() << "not lavapipe: " << info_.name;
  }
  EXPECT_EQ(UDAL_DEVICE_TYPE_CPU, info_.device_type);
  EXPECT_STREQ("Mesa", info_.vendor);
  EXPECT_STREQ("", info_.pci_bus_id) << "lavapipe has no VK_EXT_pci_bus_info";
  EXPECT_EQ(-1, info_.numa_node);
  const udal_device_features_t all =
      UDAL_DEVICE_FEATURE_TIMESTAMPS | UDAL_DEVICE_FEATURE_HOST_BUFFERS |
      UDAL_DEVICE_FEATURE_SHARED_BUFFERS | UDAL_DEVICE_FEATURE_LOCAL_MEMORY |
      UDAL_DEVICE_FEATURE_FLOAT64 | UDAL_DEVICE_FEATURE_INT64 | UDAL_DEVICE_FEATURE_FLOAT16 |
      UDAL_DEVICE_FEATURE_INT8 | UDAL_DEVICE_FEATURE_INT16 | UDAL_DEVICE_FEATURE_DEVICE_ADDRESS |
      UDAL_DEVICE_FEATURE_MEMORY_USAGE | UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO;
  EXPECT_EQ(all, info_.features);
  // minStorageBufferOffsetAlignment and subgroupSize of llvmpipe (Mesa 22.3, 256-bit).
  EXPECT_EQ(16u, info_.buffer_argument_offset_alignment);
  EXPECT_EQ(info_.subgroup_sizes[0], info_.preferred_group_size_multiple);
}

TEST_F(DeviceTest, TuningFieldsAreConsistent) {
  EXPECT_GE(info_.compute_unit_count, 1u);
  EXPECT_GE(info_.preferred_group_size_multiple, 1u);
  ASSERT_GE(info_.subgroup_size_count, 1u);
  ASSERT_LE(info_.subgroup_size_count, static_cast<uint32_t>(UDAL_MAX_SUBGROUP_SIZES));
  bool has_preferred = false;
  for (uint32_t i = 0; i < info_.subgroup_size_count; ++i) {
    EXPECT_GT(info_.subgroup_sizes[i], 0u);
    if (i > 0) {
      EXPECT_GT(info_.subgroup_sizes[i], info_.subgroup_sizes[i - 1]) << "ascending";
    }
    has_preferred |= info_.subgroup_sizes[i] == info_.preferred_group_size_multiple;
  }
  EXPECT_TRUE(has_preferred);
  for (uint32_t i = info_.subgroup_size_count; i < UDAL_MAX_SUBGROUP_SIZES; ++i) {
    EXPECT_EQ(0u, info_.subgroup_sizes[i]);
  }
  const uint64_t a = info_.buffer_argument_offset_alignment;
  EXPECT_TRUE(a > 0 && (a & (a - 1)) == 0) << a;
  EXPECT_EQ(0u, info_.reserved0);
}

TEST_F(DeviceTest, MemoryUsageCountsBuffersOfEachKind) {
  udal_memory_usage_t before = UDAL_MEMORY_USAGE_INIT, during = UDAL_MEMORY_USAGE_INIT,
                      after = UDAL_MEMORY_USAGE_INIT;
  UDAL_ASSERT_OK(udal_device_get_memory_usage(device_, &before));
  EXPECT_GT(before.device_budget_bytes, 0u);
  EXPECT_GT(before.host_visible_budget_bytes, 0u);
  EXPECT_LE(before.device_budget_bytes, info_.device_memory_bytes);
  {
    Buffer device = make_buffer(3 << 20), host = make_buffer(5 << 20, UDAL_BUFFER_KIND_HOST);
    ASSERT_TRUE(device && host);
    UDAL_ASSERT_OK(udal_device_get_memory_usage(device_, &during));
  }
  UDAL_ASSERT_OK(udal_device_get_memory_usage(device_, &after));
  EXPECT_EQ(before.device_allocated_bytes + (3 << 20), during.device_allocated_bytes);
  EXPECT_EQ(before.host_visible_allocated_bytes + (5 << 20), during.host_visible_allocated_bytes);
  EXPECT_EQ(before.device_allocated_bytes, after.device_allocated_bytes);
  EXPECT_EQ(before.host_visible_allocated_bytes, after.host_visible_allocated_bytes);
}

TEST_F(DeviceTest, ChainedVendorStructOnAnOutputIsRefused) {
  udal_base_out_t vendor = {static_cast<udal_structure_type_t>(UDAL_STRUCTURE_TYPE_VENDOR_BEGIN + 3),
                            sizeof(udal_base_out_t), nullptr};
  udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
  usage.next = &vendor;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_memory_usage(device_, &usage),
                    "0x10003");
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  info.next = &vendor;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_info(device_, &info), "0x10003");
}

// Two copies of the one lavapipe device (UDAL_VULKAN_DEVICE_COPIES=2): what belongs to one
// is refused by the other's streams.
class TwoDeviceTest : public VulkanDriverTest {
 protected:
  void SetUp() override {
    device_copies_ = 2;
    VulkanDriverTest::SetUp();
    if (IsSkipped()) return;
    uint32_t count = 0;
    UDAL_ASSERT_OK(udal_instance_get_device_count(instance_.get(), &count));
    ASSERT_EQ(2u, count);
    UDAL_ASSERT_OK(udal_instance_get_device(instance_.get(), 1, &other_));
  }
  udal_device_t other_ = nullptr;
};

TEST_F(TwoDeviceTest, CopiesAreDistinctDevices) {
  udal_device_info_t second = UDAL_DEVICE_INFO_INIT;
  UDAL_ASSERT_OK(udal_device_get_info(other_, &second));
  EXPECT_NE(0, std::memcmp(info_.uuid, second.uuid, UDAL_UUID_SIZE));
  EXPECT_NE(std::string(info_.name), std::string(second.name));
  EXPECT_NE(std::string(second.name).find("copy 2 of 2"), std::string::npos) << second.name;
}

TEST_F(TwoDeviceTest, ObjectsOfAnotherDeviceAreInvalidHandle) {
  Buffer mine = make_buffer(256);
  Kernel kernel = make_kernel("store_u32");
  ASSERT_TRUE(mine && kernel);
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 256;
  udal_buffer_t raw = nullptr;
  UDAL_ASSERT_OK(udal_buffer_create(other_, &desc, &raw));
  Buffer theirs(raw);
  udal_event_t raw_event = nullptr;
  UDAL_ASSERT_OK(udal_event_create(other_, nullptr, &raw_event));
  Event their_event(raw_event);
  Module their_module = make_module(other_, kSpirv, kernel_spirv("store_u32"));
  ASSERT_TRUE(their_module);
  Kernel their_kernel = ::udal::test::make_kernel(their_module.get(), "store_u32");
  ASSERT_TRUE(their_kernel);

  udal_stream_t s = io_stream_.get();
  const uint32_t value = 1, n = 1, word = 0;
  uint32_t back = 0;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE,
                    launch(s, kernel.get(), {udal_arg_buffer(theirs.get(), 0), udal_arg_value(&value, 4),
                                             udal_arg_value(&n, 4)}), "args[0]");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE,
                    launch(s, their_kernel.get(), {udal_arg_buffer(mine.get(), 0),
                                                   udal_arg_value(&value, 4), udal_arg_value(&n, 4)}),
                    "kernel");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_copy_buffer(s, theirs.get(), 0, mine.get(), 0, 4));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_copy_buffer(s, mine.get(), 0, theirs.get(), 0, 4));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_fill_buffer(s, theirs.get(), 0, 4, &word, 4));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_write_buffer(s, theirs.get(), 0, &word, 4));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_read_buffer(s, theirs.get(), 0, &back, 4));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_record_event(s, their_event.get()));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_wait_event(s, their_event.get()));
  Event timing = make_event(UDAL_EVENT_FLAG_TIMING);
  udal_event_desc_t event_desc = UDAL_EVENT_DESC_INIT;
  event_desc.flags = UDAL_EVENT_FLAG_TIMING;
  UDAL_ASSERT_OK(udal_event_create(other_, &event_desc, &raw_event));
  Event their_timing(raw_event);
  uint64_t ns = 0;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_event_elapsed_ns(timing.get(), their_timing.get(), &ns));
  // Both devices still work.
  UDAL_ASSERT_OK(udal_stream_synchronize(s, kWaitNs));
}

}  // namespace
}  // namespace udal::vulkan::test
