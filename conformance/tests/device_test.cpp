// Device information: names, limits (non-zero and coherent), formats, features, UUIDs
// unique across devices, and the struct_size rule.
#include "cts.h"

#include <cstddef>
#include <regex>
#include <set>

namespace cts {
namespace {

using DeviceInfoTest = DeviceTest;

bool IsPowerOfTwo(uint64_t value) { return value != 0 && (value & (value - 1)) == 0; }

TEST_P(DeviceInfoTest, NamesAreNonEmptyAndTerminated) {
  const udal_device_info_t& i = info();
  EXPECT_NE(nullptr, std::memchr(i.name, 0, sizeof i.name));
  EXPECT_NE(nullptr, std::memchr(i.vendor, 0, sizeof i.vendor));
  EXPECT_NE(nullptr, std::memchr(i.driver_name, 0, sizeof i.driver_name));
  EXPECT_STRNE("", i.name);
  EXPECT_STRNE("", i.vendor);
  EXPECT_EQ(GetParam().driver_name, i.driver_name);
  EXPECT_EQ(UDAL_VERSION_MAJOR(UDAL_ABI_VERSION), UDAL_VERSION_MAJOR(i.abi_version));
  EXPECT_GE(static_cast<int>(i.device_type), 0);
  EXPECT_LE(static_cast<int>(i.device_type), static_cast<int>(UDAL_DEVICE_TYPE_ACCELERATOR));
  EXPECT_EQ(UDAL_STRUCTURE_TYPE_DEVICE_INFO, i.type) << "the struct's tag is the caller's";
  EXPECT_EQ(0u, i.reserved0) << "reserved fields are written as zero";
}

TEST_P(DeviceInfoTest, LimitsAreNonZero) {
  const udal_device_info_t& i = info();
  for (int axis = 0; axis < 3; ++axis) {
    EXPECT_GT(i.max_group_size[axis], 0u) << "axis " << axis;
    EXPECT_GT(i.max_group_count[axis], 0u) << "axis " << axis;
  }
  EXPECT_GT(i.max_group_invocations, 0u);
  EXPECT_GT(i.max_local_memory_bytes, 0u);
  EXPECT_GT(i.max_allocation_bytes, 0u);
  EXPECT_GT(i.max_kernel_arguments, 0u);
  EXPECT_GT(i.max_value_argument_bytes, 0u);
  EXPECT_GT(i.min_buffer_alignment, 0u);
  EXPECT_GT(i.device_memory_bytes, 0u);
  EXPECT_GT(i.buffer_argument_offset_alignment, 0u);
  EXPECT_GT(i.compute_unit_count, 0u);
  EXPECT_GT(i.preferred_group_size_multiple, 0u);
  EXPECT_GT(i.subgroup_size_count, 0u);
}

TEST_P(DeviceInfoTest, LimitsAreCoherent) {
  const udal_device_info_t& i = info();
  uint64_t product = 1;
  for (int axis = 0; axis < 3; ++axis) {
    EXPECT_LE(i.max_group_size[axis], i.max_group_invocations)
        << "a group of max_group_size[" << axis << "] items must be launchable";
    product *= i.max_group_size[axis];
  }
  EXPECT_LE(i.max_group_invocations, product) << "more invocations than the axes allow";
  EXPECT_TRUE(IsPowerOfTwo(i.min_buffer_alignment)) << i.min_buffer_alignment;
  EXPECT_LE(i.max_allocation_bytes,
            std::max(i.device_memory_bytes, i.host_visible_memory_bytes))
      << "one buffer cannot be larger than the memory it comes from";
  if (HasFeature(UDAL_DEVICE_FEATURE_HOST_BUFFERS) || HasFeature(UDAL_DEVICE_FEATURE_SHARED_BUFFERS)) {
    EXPECT_GT(i.host_visible_memory_bytes, 0u) << "host-visible kinds need host-visible memory";
  }
  if (HasFeature(UDAL_DEVICE_FEATURE_LOCAL_MEMORY)) {
    EXPECT_GT(i.max_local_memory_bytes, 0u);
  }
  EXPECT_GE(i.max_kernel_arguments, 4u) << "too few arguments for any useful kernel";
  EXPECT_TRUE(IsPowerOfTwo(i.buffer_argument_offset_alignment)) << i.buffer_argument_offset_alignment;
  EXPECT_LE(i.preferred_group_size_multiple, i.max_group_invocations);
}

TEST_P(DeviceInfoTest, SubgroupSizesAreAscendingAndWithinTheGroupLimit) {
  const udal_device_info_t& i = info();
  ASSERT_GE(i.subgroup_size_count, 1u);
  ASSERT_LE(i.subgroup_size_count, static_cast<uint32_t>(UDAL_MAX_SUBGROUP_SIZES));
  for (uint32_t k = 0; k < i.subgroup_size_count; ++k) {
    EXPECT_GT(i.subgroup_sizes[k], 0u) << "subgroup_sizes[" << k << "]";
    EXPECT_LE(i.subgroup_sizes[k], i.max_group_invocations) << "subgroup_sizes[" << k << "]";
    if (k > 0) {
      EXPECT_GT(i.subgroup_sizes[k], i.subgroup_sizes[k - 1]) << "ascending, each once";
    }
  }
  for (uint32_t k = i.subgroup_size_count; k < UDAL_MAX_SUBGROUP_SIZES; ++k) {
    EXPECT_EQ(0u, i.subgroup_sizes[k]) << "entries past subgroup_size_count are zero";
  }
}

TEST_P(DeviceInfoTest, ModuleFormatsAreListedOnceEach) {
  const udal_device_info_t& i = info();
  ASSERT_GE(i.module_format_count, 1u)
      << "a device must take at least one module format, or no kernel can run on it (the "
         "driver SDK's udal/sdk/host_module.h loads HOST_NATIVE modules: see "
         "docs/driver-guide.md)";
  ASSERT_LE(i.module_format_count, static_cast<uint32_t>(UDAL_MAX_MODULE_FORMATS));
  std::set<int> seen;
  for (uint32_t k = 0; k < i.module_format_count; ++k) {
    int format = static_cast<int>(i.module_formats[k]);
    bool standard = format >= UDAL_MODULE_FORMAT_HOST_NATIVE && format <= UDAL_MODULE_FORMAT_PTX;
    bool vendor = format >= UDAL_MODULE_FORMAT_VENDOR_BEGIN && format < UDAL_MODULE_FORMAT_FORCE_32BIT;
    EXPECT_TRUE(standard || vendor) << "format " << format << " at " << k;
    EXPECT_TRUE(seen.insert(format).second) << "format " << format << " listed twice";
  }
}

TEST_P(DeviceInfoTest, FeaturesAreKnownBits) {
  // Every bit is known up to the minor version of the suite's own header (1.1 added none).
  if (UDAL_VERSION_MINOR(info().abi_version) > UDAL_VERSION_MINOR(UDAL_ABI_VERSION))
    GTEST_SKIP() << "the driver is of a later minor version than the suite, which may add features";
  constexpr udal_device_features_t kKnown =
      UDAL_DEVICE_FEATURE_TIMESTAMPS | UDAL_DEVICE_FEATURE_HOST_BUFFERS |
      UDAL_DEVICE_FEATURE_SHARED_BUFFERS | UDAL_DEVICE_FEATURE_LOCAL_MEMORY |
      UDAL_DEVICE_FEATURE_FLOAT64 | UDAL_DEVICE_FEATURE_INT64 | UDAL_DEVICE_FEATURE_FLOAT16 |
      UDAL_DEVICE_FEATURE_INT8 | UDAL_DEVICE_FEATURE_INT16 | UDAL_DEVICE_FEATURE_DEVICE_ADDRESS |
      UDAL_DEVICE_FEATURE_MEMORY_USAGE | UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO;
  EXPECT_EQ(0u, info().features & ~kKnown);
}

TEST_P(DeviceInfoTest, UuidIsNonZeroAndUniqueAcrossDevices) {
  static const uint8_t zero[UDAL_UUID_SIZE] = {};
  EXPECT_NE(0, std::memcmp(zero, info().uuid, UDAL_UUID_SIZE)) << "an all-zero UUID";
  // Against every device of every loaded driver, not only those under test.
  udal_instance_t instance = context().instance;
  uint32_t count = 0;
  ASSERT_OK(udal_instance_get_device_count(instance, &count));
  for (uint32_t k = 0; k < count; ++k) {
    udal_device_t other = nullptr;
    ASSERT_OK(udal_instance_get_device(instance, k, &other));
    if (other == device()) continue;
    udal_device_info_t other_info = UDAL_DEVICE_INFO_INIT;
    ASSERT_OK(udal_device_get_info(other, &other_info));
    EXPECT_NE(0, std::memcmp(other_info.uuid, info().uuid, UDAL_UUID_SIZE))
        << "device " << k << " (" << other_info.name << ") has the same UUID";
  }
}

TEST_P(DeviceInfoTest, InfoIsStableAndMatchesAcrossInstances) {
  udal_device_info_t again = UDAL_DEVICE_INFO_INIT;
  ASSERT_OK(udal_device_get_info(device(), &again));
  EXPECT_EQ(0, std::memcmp(&again.name, &info().name,
                           sizeof(udal_device_info_t) - offsetof(udal_device_info_t, name)))
      << "a second udal_device_get_info wrote other bytes";
  // A second instance reports the same device (the UUID is stable).
  Instance instance;
  ASSERT_OK(CreateInstanceLikeContext(instance.out()));
  uint32_t count = 0;
  ASSERT_OK(udal_instance_get_device_count(instance.get(), &count));
  bool found = false;
  for (uint32_t k = 0; k < count && !found; ++k) {
    udal_device_t other = nullptr;
    ASSERT_OK(udal_instance_get_device(instance.get(), k, &other));
    udal_device_info_t other_info = UDAL_DEVICE_INFO_INIT;
    ASSERT_OK(udal_device_get_info(other, &other_info));
    found = std::memcmp(other_info.uuid, info().uuid, UDAL_UUID_SIZE) == 0;
  }
  EXPECT_TRUE(found) << "a second instance does not list this device's UUID";
}

TEST_P(DeviceInfoTest, LargerStructSizeWritesOnlyTheFieldsItKnows) {
  // An application built against a newer header passes a larger struct: the tail it added
  // is not this implementation's to write.
  constexpr size_t kNewer = sizeof(udal_device_info_t) + 64;
  std::vector<uint8_t> storage(kNewer, 0xab);
  auto* newer = reinterpret_cast<udal_device_info_t*>(storage.data());
  newer->type = UDAL_STRUCTURE_TYPE_DEVICE_INFO;
  newer->struct_size = kNewer;
  newer->next = nullptr;
  ASSERT_OK(udal_device_get_info(device(), newer));
  for (size_t k = sizeof(udal_device_info_t); k < kNewer; ++k) {
    ASSERT_EQ(0xab, storage[k]) << "byte " << k << " lies past the struct this ABI knows";
  }
  EXPECT_STREQ(info().name, newer->name);
}

TEST_P(DeviceInfoTest, StructSizeSmallerThanVersion1IsInvalidArgument) {
  udal_device_info_t smaller = UDAL_DEVICE_INFO_INIT;
  smaller.struct_size = offsetof(udal_device_info_t, uuid);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_info(device(), &smaller));
}

TEST_P(DeviceInfoTest, BadArgumentsAreRejected) {
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_info(device(), nullptr));
  udal_device_info_t bad = UDAL_DEVICE_INFO_INIT;
  bad.struct_size = 0;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_info(device(), &bad));
  bad = UDAL_DEVICE_INFO_INIT;
  bad.type = UDAL_STRUCTURE_TYPE_BUFFER_INFO;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_info(device(), &bad)) << "wrong struct type";
  bad = UDAL_DEVICE_INFO_INIT;
  bad.type = UDAL_STRUCTURE_TYPE_NONE;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_info(device(), &bad)) << "type not set";
  udal_device_info_t good = UDAL_DEVICE_INFO_INIT;
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_device_get_info(nullptr, &good));
}

TEST_P(DeviceInfoTest, PciBusIdAndNumaNodeAreWellFormed) {
  std::string bus_id = info().pci_bus_id;
  if (!bus_id.empty()) {
    EXPECT_TRUE(std::regex_match(bus_id, std::regex("[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]")))
        << bus_id;
  }
  EXPECT_GE(info().numa_node, -1);
}

}  // namespace

CTS_INSTANTIATE(DeviceInfoTest);

}  // namespace cts
