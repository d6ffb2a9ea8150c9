// Device enumeration and info.
#include <cstddef>
#include <cstring>
#include <string>

#include "fixture.h"

namespace udal::cpu::test {
namespace {

TEST_F(CpuDriverTest, DeviceInfoIsCompleteAndCoherent) {
  EXPECT_EQ(std::string(info_.name).rfind("CPU (NUMA node ", 0), 0u) << info_.name;
  EXPECT_STRNE(info_.vendor, "");
  EXPECT_STREQ(info_.driver_name, "cpu");
  EXPECT_EQ(info_.abi_version, UDAL_ABI_VERSION);
  EXPECT_EQ(info_.driver_version, UDAL_MAKE_VERSION(1, 0));
  EXPECT_EQ(info_.type, UDAL_DEVICE_TYPE_CPU);
  bool uuid_zero = true;
  for (uint8_t b : info_.uuid) uuid_zero = uuid_zero && b == 0;
  EXPECT_FALSE(uuid_zero);
  EXPECT_GT(info_.device_memory_bytes, 0u);
  EXPECT_GT(info_.host_visible_memory_bytes, 0u);
  for (int axis = 0; axis < 3; ++axis) {
    EXPECT_GT(info_.max_group_size[axis], 0u);
    EXPECT_GT(info_.max_group_count[axis], 0u);
    EXPECT_LE(info_.max_group_size[axis], info_.max_group_invocations);
  }
  EXPECT_GT(info_.max_local_memory_bytes, 0u);
  EXPECT_GT(info_.max_allocation_bytes, 0u);
  EXPECT_LE(info_.max_allocation_bytes, info_.device_memory_bytes);
  EXPECT_GT(info_.max_kernel_arguments, 0u);
  EXPECT_GT(info_.max_value_argument_bytes, 0u);
  EXPECT_GE(info_.min_buffer_alignment, 64u);
  ASSERT_EQ(info_.module_format_count, 1u);
  EXPECT_EQ(info_.module_formats[0], UDAL_MODULE_FORMAT_HOST_NATIVE);
  const udal_device_features_t expected =
      UDAL_DEVICE_FEATURE_TIMESTAMPS | UDAL_DEVICE_FEATURE_HOST_BUFFERS |
      UDAL_DEVICE_FEATURE_SHARED_BUFFERS | UDAL_DEVICE_FEATURE_LOCAL_MEMORY |
      UDAL_DEVICE_FEATURE_FLOAT64 | UDAL_DEVICE_FEATURE_INT64;
  EXPECT_EQ(info_.features, expected);
  EXPECT_STREQ(info_.pci_bus_id, "");
  EXPECT_GE(info_.numa_node, 0);
}

TEST_F(CpuDriverTest, UuidIsStableAcrossInstances) {
  const char* paths[] = {UDAL_CPU_MANIFEST};
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.flags = UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT;
  desc.driver_paths = paths;
  desc.driver_path_count = 1;
  udal_instance_t raw = nullptr;
  UDAL_ASSERT_OK(udal_instance_create(&desc, &raw));
  Instance other(raw);
  udal_device_t device = nullptr;
  UDAL_ASSERT_OK(udal_instance_get_device(raw, 0, &device));
  // A second instance loads its own driver object: its own device handle.
  EXPECT_NE(device, device_);
  udal_device_info_t info = {};
  info.struct_size = sizeof(info);
  UDAL_ASSERT_OK(udal_device_get_info(device, &info));
  EXPECT_EQ(0, std::memcmp(info.uuid, info_.uuid, UDAL_UUID_SIZE));
  EXPECT_STREQ(info.name, info_.name);
}

TEST_F(CpuDriverTest, GetInfoFromANewerCallerWritesNothingPastTheKnownFields) {
  // A caller built against a later minor version passes a bigger struct; the fields this
  // version does not know must stay as the caller left them.
  struct Newer {
    udal_device_info_t known;
    unsigned char later_fields[64];
  } newer;
  std::memset(&newer, 0xab, sizeof(newer));
  newer.known.struct_size = sizeof(newer);
  newer.known.next = nullptr;
  UDAL_ASSERT_OK(udal_device_get_info(device_, &newer.known));
  EXPECT_STREQ(newer.known.name, info_.name);
  EXPECT_EQ(newer.known.numa_node, info_.numa_node);
  EXPECT_EQ(newer.known.struct_size, sizeof(newer));
  for (unsigned char b : newer.later_fields) ASSERT_EQ(b, 0xab) << "a field past v1.0 was written";
}

TEST_F(CpuDriverTest, NullInfoPointerIsInvalidArgument) {
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_info(device_, nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_device_get_info(nullptr, &info_));
}

}  // namespace
}  // namespace udal::cpu::test
