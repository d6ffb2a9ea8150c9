// Device enumeration and info.
#include <cstddef>
#include <cstring>
#include <string>

#include "fixture.h"

namespace udal::cpu::test {
namespace {

// A struct of a vendor's extension, to chain on a struct's next.
struct VendorStruct {
  udal_structure_type_t type;
  uint32_t struct_size;
  void* next;
  uint64_t payload;
};

TEST_F(CpuDriverTest, DeviceInfoIsCompleteAndCoherent) {
  EXPECT_EQ(info_.type, UDAL_STRUCTURE_TYPE_DEVICE_INFO);
  EXPECT_EQ(info_.struct_size, sizeof(udal_device_info_t));
  EXPECT_EQ(std::string(info_.name).rfind("CPU (NUMA node ", 0), 0u) << info_.name;
  EXPECT_EQ(std::string(info_.name).find("device"), std::string::npos)
      << "one device per node needs no index: " << info_.name;
  EXPECT_STRNE(info_.vendor, "");
  EXPECT_STREQ(info_.driver_name, "cpu");
  EXPECT_EQ(info_.abi_version, UDAL_ABI_VERSION);
  EXPECT_EQ(info_.driver_version, UDAL_MAKE_VERSION(1, 0));
  EXPECT_EQ(info_.device_type, UDAL_DEVICE_TYPE_CPU);
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
  // Buffer arguments are pointers: any offset.
  EXPECT_EQ(info_.buffer_argument_offset_alignment, 1u);
  // What a framework tunes with.
  EXPECT_GE(info_.compute_unit_count, 1u);
  EXPECT_GE(info_.preferred_group_size_multiple, 1u);
  EXPECT_EQ(info_.preferred_group_size_multiple & (info_.preferred_group_size_multiple - 1), 0u)
      << info_.preferred_group_size_multiple << " is not a power of two";
  ASSERT_EQ(info_.subgroup_size_count, 1u);
  EXPECT_EQ(info_.subgroup_sizes[0], 1u);
  for (uint32_t i = 1; i < UDAL_MAX_SUBGROUP_SIZES; ++i) EXPECT_EQ(info_.subgroup_sizes[i], 0u);
  ASSERT_EQ(info_.module_format_count, 1u);
  EXPECT_EQ(info_.module_formats[0], UDAL_MODULE_FORMAT_HOST_NATIVE);
  const udal_device_features_t always =
      UDAL_DEVICE_FEATURE_TIMESTAMPS | UDAL_DEVICE_FEATURE_HOST_BUFFERS |
      UDAL_DEVICE_FEATURE_SHARED_BUFFERS | UDAL_DEVICE_FEATURE_LOCAL_MEMORY |
      UDAL_DEVICE_FEATURE_FLOAT64 | UDAL_DEVICE_FEATURE_INT64 | UDAL_DEVICE_FEATURE_INT8 |
      UDAL_DEVICE_FEATURE_INT16 | UDAL_DEVICE_FEATURE_DEVICE_ADDRESS |
      UDAL_DEVICE_FEATURE_MEMORY_USAGE | UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO;
  // Halves depend on the host (x86 F16C), the rest never.
  EXPECT_EQ(info_.features & ~UDAL_DEVICE_FEATURE_FLOAT16, always);
  EXPECT_STREQ(info_.pci_bus_id, "");
  EXPECT_GE(info_.numa_node, 0);
  EXPECT_EQ(info_.reserved0, 0u);
}

TEST_F(CpuDriverTest, UuidIsStableAcrossInstances) {
  Instance other = open_cpu_instance();
  ASSERT_TRUE(other);
  udal_device_t device = nullptr;
  UDAL_ASSERT_OK(udal_instance_get_device(other.get(), 0, &device));
  // A second instance loads its own driver object: its own device handle.
  EXPECT_NE(device, device_);
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
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
  newer.known.type = UDAL_STRUCTURE_TYPE_DEVICE_INFO;
  newer.known.struct_size = sizeof(newer);
  newer.known.next = nullptr;
  UDAL_ASSERT_OK(udal_device_get_info(device_, &newer.known));
  EXPECT_STREQ(newer.known.name, info_.name);
  EXPECT_EQ(newer.known.numa_node, info_.numa_node);
  EXPECT_EQ(newer.known.subgroup_size_count, 1u);
  EXPECT_EQ(newer.known.reserved0, 0u) << "reserved fields are written as zero";
  EXPECT_EQ(newer.known.type, UDAL_STRUCTURE_TYPE_DEVICE_INFO);
  EXPECT_EQ(newer.known.struct_size, sizeof(newer));
  for (unsigned char b : newer.later_fields) ASSERT_EQ(b, 0xab) << "a field past v1.0 was written";
}

TEST_F(CpuDriverTest, AChainedVendorStructIsRefusedByTheDriverNamingIt) {
  // libudal passes vendor types through; the driver knows none and must say so.
  VendorStruct vendor = {static_cast<udal_structure_type_t>(UDAL_STRUCTURE_TYPE_VENDOR_BEGIN + 0x42),
                         sizeof(VendorStruct), nullptr, 0};
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  info.next = &vendor;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_info(device_, &info), "0x10042",
                    "cpu");
  udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
  usage.next = &vendor;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_memory_usage(device_, &usage),
                    "0x10042");
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 64;
  desc.next = &vendor;
  udal_buffer_t buffer = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device_, &desc, &buffer), "0x10042");
  EXPECT_EQ(buffer, nullptr);
  udal_stream_desc_t stream_desc = UDAL_STREAM_DESC_INIT;
  stream_desc.next = &vendor;
  udal_stream_t stream = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_create(device_, &stream_desc, &stream),
                    "0x10042");
  udal_event_desc_t event_desc = UDAL_EVENT_DESC_INIT;
  event_desc.next = &vendor;
  udal_event_t event = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device_, &event_desc, &event),
                    "0x10042");
  // Past the refusal, the same structs without the chain work.
  info.next = nullptr;
  UDAL_ASSERT_OK(udal_device_get_info(device_, &info));
}

TEST_F(CpuDriverTest, BadInfoArgumentsAreRefused) {
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_info(device_, nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_device_get_info(nullptr, &info_));
  udal_device_info_t wrong_type = UDAL_DEVICE_INFO_INIT;
  wrong_type.type = UDAL_STRUCTURE_TYPE_BUFFER_INFO;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_info(device_, &wrong_type),
                    "UDAL_STRUCTURE_TYPE_DEVICE_INFO");
}

}  // namespace
}  // namespace udal::cpu::test
