// The instance and the driver status: what libudal reports about the driver under test, and
// the failure paths of the instance functions.
#include "cts.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

namespace cts {
namespace {

using InstanceTest = DeviceTest;

// The status of the driver of the device under test in |instance|.
bool FindStatus(udal_instance_t instance, const std::string& name, udal_driver_status_t* out) {
  uint32_t count = 0;
  if (udal_instance_get_driver_count(instance, &count) != UDAL_SUCCESS) return false;
  for (uint32_t i = 0; i < count; ++i) {
    udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
    if (udal_instance_get_driver_status(instance, i, &status) == UDAL_SUCCESS &&
        name == status.name) {
      *out = status;
      return true;
    }
  }
  return false;
}

TEST_P(InstanceTest, DriverUnderTestIsLoadedWithItsDevices) {
  udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
  ASSERT_TRUE(FindStatus(context().instance, GetParam().driver_name, &status));
  EXPECT_EQ(UDAL_DRIVER_STATE_LOADED, status.state);
  EXPECT_EQ(UDAL_SUCCESS, status.result);
  EXPECT_STREQ("", status.reason);
  EXPECT_STRNE("", status.library_path);
  EXPECT_NE(nullptr, status.manifest_path);
  EXPECT_EQ(UDAL_VERSION_MAJOR(UDAL_ABI_VERSION), UDAL_VERSION_MAJOR(status.abi_version));
  EXPECT_GE(status.device_count, 1u);
  EXPECT_EQ(status.abi_version, info().abi_version);
  EXPECT_EQ(status.driver_version, info().driver_version);
}

TEST_P(InstanceTest, TwoInstancesSeeTheSameDevicesIndependently) {
  Instance first, second;
  ASSERT_OK(CreateInstanceLikeContext(first.out()));
  ASSERT_OK(CreateInstanceLikeContext(second.out()));
  udal_driver_status_t a = UDAL_DRIVER_STATUS_INIT, b = UDAL_DRIVER_STATUS_INIT;
  ASSERT_TRUE(FindStatus(first.get(), GetParam().driver_name, &a));
  ASSERT_TRUE(FindStatus(second.get(), GetParam().driver_name, &b));
  EXPECT_EQ(a.device_count, b.device_count);
  // Objects of one instance work while the other is released.
  first.reset();
  uint32_t count = 0;
  ASSERT_OK(udal_instance_get_device_count(second.get(), &count));
  EXPECT_GE(count, 1u);
}

TEST_P(InstanceTest, RetainKeepsTheInstanceAlive) {
  Instance instance;
  ASSERT_OK(CreateInstanceLikeContext(instance.out()));
  ASSERT_OK(udal_instance_retain(instance.get()));
  ASSERT_OK(udal_instance_release(instance.get()));
  uint32_t count = 0;
  EXPECT_OK(udal_instance_get_device_count(instance.get(), &count));
  EXPECT_GE(count, 1u);
}

TEST_P(InstanceTest, IndexPastTheEndIsNotFound) {
  udal_instance_t instance = context().instance;
  uint32_t drivers = 0, devices = 0;
  ASSERT_OK(udal_instance_get_driver_count(instance, &drivers));
  ASSERT_OK(udal_instance_get_device_count(instance, &devices));
  udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
  EXPECT_UDAL(UDAL_ERROR_NOT_FOUND, udal_instance_get_driver_status(instance, drivers, &status));
  udal_device_t device = Poison<udal_device_t>();
  EXPECT_UDAL(UDAL_ERROR_NOT_FOUND, udal_instance_get_device(instance, devices, &device));
  EXPECT_EQ(nullptr, device) << "the out-parameter must be cleared on failure";
  EXPECT_UDAL(UDAL_ERROR_NOT_FOUND, udal_instance_get_device(instance, UINT32_MAX, &device));
}

TEST_P(InstanceTest, BadArgumentsAreRejected) {
  udal_instance_t instance = context().instance;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_instance_get_device_count(instance, nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_instance_get_driver_count(instance, nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_instance_get_device(instance, 0, nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_instance_get_driver_status(instance, 0, nullptr));
  udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
  status.struct_size = 0;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_instance_get_driver_status(instance, 0, &status));
  uint32_t count = 0;
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_instance_get_device_count(nullptr, &count));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_instance_retain(nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_instance_release(nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_instance_create(nullptr, nullptr));

  udal_instance_t out = Poison<udal_instance_t>();
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.struct_size = 3;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_instance_create(&desc, &out));
  EXPECT_EQ(nullptr, out);
  desc = UDAL_INSTANCE_DESC_INIT;
  desc.flags = uint64_t{1} << 40;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_instance_create(&desc, &out));
  desc = UDAL_INSTANCE_DESC_INIT;
  desc.type = UDAL_STRUCTURE_TYPE_DEVICE_INFO;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_instance_create(&desc, &out)) << "wrong struct type";
  desc = UDAL_INSTANCE_DESC_INIT;
  desc.reserved0 = 1;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_instance_create(&desc, &out)) << "reserved0 not zero";
  EXPECT_EQ(nullptr, out);
  status = UDAL_DRIVER_STATUS_INIT;
  status.type = UDAL_STRUCTURE_TYPE_INSTANCE_DESC;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_instance_get_driver_status(instance, 0, &status))
      << "wrong struct type";
  const char* null_path[] = {nullptr};
  desc = UDAL_INSTANCE_DESC_INIT;
  desc.driver_paths = null_path;
  desc.driver_path_count = 1;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_instance_create(&desc, &out));
}

TEST_P(InstanceTest, MissingDriverFileIsListedWithAReason) {
  const char* paths[] = {"/nonexistent/udal-cts/libudal_driver_missing.so"};
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.driver_paths = paths;
  desc.driver_path_count = 1;
  desc.flags = UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT;
  Instance instance;
  ASSERT_OK(udal_instance_create(&desc, instance.out()));
  uint32_t drivers = 0, devices = 7;
  ASSERT_OK(udal_instance_get_driver_count(instance.get(), &drivers));
  ASSERT_EQ(1u, drivers);
  udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
  ASSERT_OK(udal_instance_get_driver_status(instance.get(), 0, &status));
  EXPECT_EQ(UDAL_DRIVER_STATE_FAILED, status.state);
  EXPECT_LT(status.result, 0);
  EXPECT_STRNE("", status.reason);
  EXPECT_EQ(0u, status.device_count);
  ASSERT_OK(udal_instance_get_device_count(instance.get(), &devices));
  EXPECT_EQ(0u, devices);
}

TEST_P(InstanceTest, ResultNamesAndAbiVersion) {
  EXPECT_STREQ("UDAL_SUCCESS", udal_result_name(UDAL_SUCCESS));
  EXPECT_STREQ("UDAL_ERROR_OUT_OF_RANGE", udal_result_name(UDAL_ERROR_OUT_OF_RANGE));
  EXPECT_STREQ("UDAL_TIMEOUT", udal_result_name(UDAL_TIMEOUT));
  EXPECT_STREQ("UDAL_RESULT_UNKNOWN", udal_result_name(static_cast<udal_result_t>(-999)));
  EXPECT_EQ(UDAL_VERSION_MAJOR(UDAL_ABI_VERSION), UDAL_VERSION_MAJOR(udal_get_abi_version()));
}

TEST_P(InstanceTest, LastErrorMessageIsPerThread) {
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_buffer_destroy(nullptr));
  std::string other_thread = "unset";
  std::thread([&] { other_thread = udal_last_error_message(); }).join();
  EXPECT_EQ("", other_thread) << "a thread with no failed call has an empty message";
  EXPECT_STRNE("", udal_last_error_message());
}

// udal_instance_release with work in flight on a stream that was never destroyed: the
// driver waits for it before it is unloaded, so no driver code runs after (udal.h).
TEST_P(InstanceTest, ReleaseWaitsForWorkInFlight) {
  Instance instance;
  ASSERT_OK(CreateInstanceLikeContext(instance.out()));
  uint32_t count = 0;
  ASSERT_OK(udal_instance_get_device_count(instance.get(), &count));
  udal_device_t same = nullptr;
  for (uint32_t k = 0; k < count && same == nullptr; ++k) {
    udal_device_t candidate = nullptr;
    ASSERT_OK(udal_instance_get_device(instance.get(), k, &candidate));
    udal_device_info_t candidate_info = UDAL_DEVICE_INFO_INIT;
    ASSERT_OK(udal_device_get_info(candidate, &candidate_info));
    if (std::memcmp(candidate_info.uuid, info().uuid, UDAL_UUID_SIZE) == 0) same = candidate;
  }
  ASSERT_NE(nullptr, same) << "a second instance does not list this device";
  udal_stream_t stream = nullptr;  // never destroyed: the release must drain it
  ASSERT_OK(udal_stream_create(same, nullptr, &stream));
  struct Work {
    std::atomic<int> ran{0};
  };
  static Work work;  // outlives the instance whatever the driver does
  work.ran = 0;
  for (int k = 0; k < 3; ++k) {
    ASSERT_OK(udal_stream_enqueue_host_function(
        stream,
        [](void* user_data) {
          std::this_thread::sleep_for(std::chrono::milliseconds(30));
          ++static_cast<Work*>(user_data)->ran;
        },
        &work));
  }
  ASSERT_OK(udal_instance_release(instance.release()));
  EXPECT_EQ(3, work.ran.load()) << "udal_instance_release returned before the work in flight ran";
}

}  // namespace

CTS_INSTANTIATE(InstanceTest);

}  // namespace cts
