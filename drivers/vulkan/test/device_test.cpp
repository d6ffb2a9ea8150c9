// The device's info comes from Vulkan's properties.
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
  EXPECT_EQ(UDAL_DEVICE_TYPE_CPU, info_.type);
  EXPECT_STREQ("Mesa", info_.vendor);
  EXPECT_STREQ("", info_.pci_bus_id) << "lavapipe has no VK_EXT_pci_bus_info";
  EXPECT_EQ(-1, info_.numa_node);
  const udal_device_features_t all =
      UDAL_DEVICE_FEATURE_TIMESTAMPS | UDAL_DEVICE_FEATURE_HOST_BUFFERS |
      UDAL_DEVICE_FEATURE_SHARED_BUFFERS | UDAL_DEVICE_FEATURE_LOCAL_MEMORY |
      UDAL_DEVICE_FEATURE_FLOAT64 | UDAL_DEVICE_FEATURE_INT64;
  EXPECT_EQ(all, info_.features);
}

}  // namespace
}  // namespace udal::vulkan::test
