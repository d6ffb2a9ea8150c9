// The device the driver makes of the OpenCL device, the filters, and what happens without a
// platform.
#include <cstdlib>
#include <string>

#include "fixture.h"
#include "udal/udal_opencl.h"

namespace udal::opencl::test {
namespace {

bool has_format(const udal_device_info_t& info, udal_module_format_t format) {
  for (uint32_t i = 0; i < info.module_format_count; ++i) {
    if (info.module_formats[i] == format)
      return true;
  }
  return false;
}

using DeviceTest = OpenclDriverTest;

TEST_F(DeviceTest, InfoComesFromTheOpenclDevice) {
  EXPECT_STREQ(info_.driver_name, "opencl");
  EXPECT_NE(info_.name[0], '\0');
  EXPECT_NE(info_.vendor[0], '\0');
  EXPECT_EQ(info_.abi_version, UDAL_ABI_VERSION);
  EXPECT_GT(info_.device_memory_bytes, 0u);
  EXPECT_GT(info_.max_allocation_bytes, 0u);
  EXPECT_LE(info_.max_allocation_bytes, info_.device_memory_bytes);
  EXPECT_GT(info_.compute_unit_count, 0u);
  EXPECT_GE(info_.subgroup_size_count, 1u);
  EXPECT_GE(info_.preferred_group_size_multiple, 1u);
  // Sub-buffers start at CL_DEVICE_MEM_BASE_ADDR_ALIGN: a power of two, at least 1.
  const uint64_t a = info_.buffer_argument_offset_alignment;
  EXPECT_EQ(a & (a - 1), 0u) << a;
  EXPECT_EQ(info_.min_buffer_alignment, a);
  for (int axis = 0; axis < 3; ++axis) {
    EXPECT_GE(info_.max_group_size[axis], 1u);
    EXPECT_LE(info_.max_group_size[axis], info_.max_group_invocations);
  }
  EXPECT_TRUE(has_format(info_, UDAL_MODULE_FORMAT_OPENCL_PROGRAM_BINARY));
  EXPECT_NE(info_.features & UDAL_DEVICE_FEATURE_MEMORY_USAGE, 0u);
  EXPECT_NE(info_.features & UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO, 0u);
  EXPECT_NE(info_.features & UDAL_DEVICE_FEATURE_HOST_BUFFERS, 0u);
}

TEST_F(DeviceTest, PoclOffersSpirvThroughTheTranslatorAndOpenclC) {
  if (std::string(info_.name).find("pthread") == std::string::npos &&
      std::string(info_.name).find("cpu") == std::string::npos) {
    GTEST_SKIP() << "not a PoCL CPU device: " << info_.name;
  }
  EXPECT_EQ(info_.device_type, UDAL_DEVICE_TYPE_CPU);
  EXPECT_TRUE(has_format(info_, UDAL_MODULE_FORMAT_SPIRV_KERNEL));
  EXPECT_TRUE(has_format(info_, UDAL_MODULE_FORMAT_OPENCL_C));
  EXPECT_NE(info_.features & UDAL_DEVICE_FEATURE_TIMESTAMPS, 0u);
  EXPECT_NE(info_.features & UDAL_DEVICE_FEATURE_DEVICE_ADDRESS, 0u); // PoCL has SVM
  EXPECT_EQ(info_.pci_bus_id[0], '\0');                               // not a PCI device
}

TEST_F(DeviceTest, UuidIsStableAcrossInstances) {
  udal_instance_t other = nullptr;
  UDAL_ASSERT_OK(create_opencl_instance(&other));
  Instance owned(other);
  udal_device_t device = nullptr;
  UDAL_ASSERT_OK(udal_instance_get_device(other, 0, &device));
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  UDAL_ASSERT_OK(udal_device_get_info(device, &info));
  EXPECT_EQ(0, std::memcmp(info.uuid, info_.uuid, UDAL_UUID_SIZE));
  EXPECT_NE(device, device_); // each instance has its own driver object
}

TEST_F(DeviceTest, MemoryUsageCountsBuffersByKind) {
  udal_memory_usage_t before = UDAL_MEMORY_USAGE_INIT;
  UDAL_ASSERT_OK(udal_device_get_memory_usage(device_, &before));
  EXPECT_EQ(before.device_budget_bytes, info_.device_memory_bytes);
  {
    Buffer device_buffer = make_buffer(1 << 20);
    Buffer host_buffer = make_buffer(3 << 10, UDAL_BUFFER_KIND_HOST);
    udal_memory_usage_t during = UDAL_MEMORY_USAGE_INIT;
    UDAL_ASSERT_OK(udal_device_get_memory_usage(device_, &during));
    EXPECT_EQ(during.device_allocated_bytes, before.device_allocated_bytes + (1 << 20));
    EXPECT_EQ(during.host_visible_allocated_bytes, before.host_visible_allocated_bytes + (3 << 10));
  }
  udal_memory_usage_t after = UDAL_MEMORY_USAGE_INIT;
  UDAL_ASSERT_OK(udal_device_get_memory_usage(device_, &after));
  EXPECT_EQ(after.device_allocated_bytes, before.device_allocated_bytes);
  EXPECT_EQ(after.host_visible_allocated_bytes, before.host_visible_allocated_bytes);
}

TEST_F(DeviceTest, AllocationsPastTheDeviceMemoryFailAndTheDeviceGoesOn) {
  // Buffers of the maximum size until the device's memory is spent: the next one fails
  // with OUT_OF_DEVICE_MEMORY before OpenCL is asked (PoCL would overcommit).
  std::vector<Buffer> buffers;
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = info_.max_allocation_bytes;
  udal_result_t r = UDAL_SUCCESS;
  for (int i = 0; i < 64 && r == UDAL_SUCCESS; ++i) {
    udal_buffer_t buffer = nullptr;
    r = udal_buffer_create(device_, &desc, &buffer);
    if (r == UDAL_SUCCESS)
      buffers.emplace_back(buffer);
  }
  EXPECT_EQ(r, UDAL_ERROR_OUT_OF_DEVICE_MEMORY) << udal_last_error_message();
  EXPECT_NE(std::string(udal_last_error_message()).find("bytes"), std::string::npos)
      << udal_last_error_message();
  EXPECT_LE(buffers.size() * desc.size, info_.device_memory_bytes);
  buffers.clear();
  Buffer small = make_buffer(256);
  const uint32_t pattern = 0xa5a5a5a5;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(io_stream_.get(), small.get(), 0, 256, &pattern, 4));
  EXPECT_EQ(read_as<uint32_t>(small.get(), 64), std::vector<uint32_t>(64, pattern));
}

// ---------------------------------------------------------------------------------------
// Filters: read by the driver when an instance is created.
// ---------------------------------------------------------------------------------------

class FilterTest : public ::testing::Test {
protected:
  void TearDown() override {
    unsetenv("UDAL_OPENCL_DEVICE_TYPE");
    unsetenv("UDAL_OPENCL_PLATFORM");
  }
  // The opencl driver's status in a fresh instance.
  udal_driver_status_t status(uint32_t* devices) {
    udal_instance_t instance = nullptr;
    EXPECT_EQ(UDAL_SUCCESS, create_opencl_instance(&instance)) << udal_last_error_message();
    Instance owned(instance);
    udal_driver_status_t s = UDAL_DRIVER_STATUS_INIT;
    EXPECT_EQ(UDAL_SUCCESS, udal_instance_get_driver_status(instance, 0, &s));
    *devices = 0;
    udal_instance_get_device_count(instance, devices);
    reason_ = s.reason;
    return s;
  }
  std::string reason_; // outlives the instance
};

TEST_F(FilterTest, DeviceTypeWithoutMatchingDevicesLeavesTheDriverUnloadedWithTheReason) {
  setenv("UDAL_OPENCL_DEVICE_TYPE", "accelerator", 1);
  uint32_t devices = 0;
  udal_driver_status_t s = status(&devices);
  if (s.state == UDAL_DRIVER_STATE_LOADED)
    GTEST_SKIP() << "this machine has an accelerator";
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_UNSUPPORTED);
  EXPECT_EQ(devices, 0u);
  EXPECT_NE(reason_.find("no usable OpenCL device"), std::string::npos) << reason_;
}

TEST_F(FilterTest, DeviceTypeListSelectsTheDevice) {
  setenv("UDAL_OPENCL_DEVICE_TYPE", "gpu, cpu", 1);
  uint32_t with_filter = 0;
  status(&with_filter);
  unsetenv("UDAL_OPENCL_DEVICE_TYPE");
  uint32_t all = 0;
  status(&all);
  if (all == 0)
    GTEST_SKIP() << "no OpenCL device";
  EXPECT_GE(with_filter, 1u);
  EXPECT_LE(with_filter, all);
}

TEST_F(FilterTest, UnknownDeviceTypeIsRefusedNamingIt) {
  setenv("UDAL_OPENCL_DEVICE_TYPE", "cpu,fpga", 1);
  uint32_t devices = 0;
  udal_driver_status_t s = status(&devices);
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(reason_.find("'fpga'"), std::string::npos) << reason_;
}

TEST_F(FilterTest, PlatformByNameIndexOrNothing) {
  uint32_t devices = 0;
  status(&devices);
  if (devices == 0)
    GTEST_SKIP() << "no OpenCL device";
  setenv("UDAL_OPENCL_PLATFORM", "0", 1);
  uint32_t by_index = 0;
  status(&by_index);
  EXPECT_GE(by_index, 1u);
  setenv("UDAL_OPENCL_PLATFORM", "no-such-platform", 1);
  uint32_t none = 0;
  udal_driver_status_t s = status(&none);
  EXPECT_EQ(none, 0u);
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_NE(reason_.find("UDAL_OPENCL_PLATFORM='no-such-platform'"), std::string::npos) << reason_;
}

// Run by ctest with OCL_ICD_VENDORS naming an empty directory (opencl.NoPlatform): the ICD
// loader then finds no platform, and the driver must be listed as not loaded, with why.
TEST(NoPlatform, DriverIsListedAsNotLoadedWithTheReason) {
  if (std::getenv("UDAL_OPENCL_TEST_NO_PLATFORM") == nullptr) {
    GTEST_SKIP() << "runs under ctest's opencl.NoPlatform (OCL_ICD_VENDORS=<empty dir>)";
  }
  udal_instance_t instance = nullptr;
  UDAL_ASSERT_OK(create_opencl_instance(&instance));
  Instance owned(instance);
  uint32_t drivers = 0;
  UDAL_ASSERT_OK(udal_instance_get_driver_count(instance, &drivers));
  ASSERT_EQ(drivers, 1u);
  udal_driver_status_t s = UDAL_DRIVER_STATUS_INIT;
  UDAL_ASSERT_OK(udal_instance_get_driver_status(instance, 0, &s));
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_UNSUPPORTED);
  EXPECT_NE(std::string(s.reason).find("no OpenCL platform"), std::string::npos) << s.reason;
  uint32_t devices = 1;
  UDAL_ASSERT_OK(udal_instance_get_device_count(instance, &devices));
  EXPECT_EQ(devices, 0u);
}

} // namespace
} // namespace udal::opencl::test
