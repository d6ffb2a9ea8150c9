// Results, messages, and the instance functions' own argument checks.
#include "test_support.h"

#include <set>
#include <thread>

using namespace udal_test;

namespace {

TEST(ResultNameTest, EveryResultHasItsOwnName) {
  const udal_result_t all[] = {UDAL_SUCCESS,
                               UDAL_NOT_READY,
                               UDAL_TIMEOUT,
                               UDAL_ERROR_INVALID_ARGUMENT,
                               UDAL_ERROR_INVALID_HANDLE,
                               UDAL_ERROR_OUT_OF_RANGE,
                               UDAL_ERROR_UNSUPPORTED,
                               UDAL_ERROR_OUT_OF_HOST_MEMORY,
                               UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                               UDAL_ERROR_INVALID_MODULE,
                               UDAL_ERROR_KERNEL_NOT_FOUND,
                               UDAL_ERROR_INVALID_STATE,
                               UDAL_ERROR_DEVICE_LOST,
                               UDAL_ERROR_INCOMPATIBLE_DRIVER,
                               UDAL_ERROR_NOT_FOUND,
                               UDAL_ERROR_INTERNAL};
  std::set<std::string> names;
  for (udal_result_t r : all) {
    std::string name = udal_result_name(r);
    EXPECT_EQ(name.rfind("UDAL_", 0), 0u) << name;
    EXPECT_NE(name, "UDAL_RESULT_UNKNOWN") << r;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), std::size(all));
  EXPECT_STREQ(udal_result_name(UDAL_ERROR_OUT_OF_RANGE), "UDAL_ERROR_OUT_OF_RANGE");
  EXPECT_STREQ(udal_result_name(static_cast<udal_result_t>(-99)), "UDAL_RESULT_UNKNOWN");
  EXPECT_STREQ(udal_result_name(UDAL_RESULT_FORCE_32BIT), "UDAL_RESULT_UNKNOWN");
}

TEST(ErrorMessageTest, IsEmptyOnAThreadWhereNothingFailed) {
  const char* message = reinterpret_cast<const char*>(1);
  std::thread([&] { message = udal_last_error_message(); }).join();
  ASSERT_NE(message, nullptr);
  EXPECT_STREQ(message, "");
}

TEST(ErrorMessageTest, SuccessDoesNotClearTheLastFailure) {
  EXPECT_EQ(udal_instance_retain(nullptr), UDAL_ERROR_INVALID_HANDLE);
  std::string failure = udal_last_error_message();
  EXPECT_NE(failure, "");
  EXPECT_EQ(udal_get_abi_version(), static_cast<uint32_t>(UDAL_ABI_VERSION));
  EXPECT_EQ(udal_last_error_message(), failure);
}

TEST(AbiVersionTest, IsTheHeadersVersion) {
  EXPECT_EQ(udal_get_abi_version(), static_cast<uint32_t>(UDAL_ABI_VERSION));
  EXPECT_EQ(UDAL_VERSION_MAJOR(udal_get_abi_version()), 1u);
}

class InstanceArgumentTest : public ::testing::Test {
protected:
  Environment env;
};

TEST_F(InstanceArgumentTest, CreateRejectsBadDescriptors) {
  udal_instance_t out = reinterpret_cast<udal_instance_t>(uintptr_t{1});
  EXPECT_FAILS_WITH(udal_instance_create(nullptr, nullptr), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_instance");
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.struct_size = 8;
  EXPECT_FAILS_WITH(udal_instance_create(&desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "struct_size 8");
  EXPECT_EQ(out, nullptr);
  desc = UDAL_INSTANCE_DESC_INIT;
  desc.flags = 0x6;
  EXPECT_FAILS_WITH(udal_instance_create(&desc, &out), UDAL_ERROR_INVALID_ARGUMENT, "flags");
  desc = UDAL_INSTANCE_DESC_INIT;
  desc.driver_path_count = 2;
  EXPECT_FAILS_WITH(udal_instance_create(&desc, &out), UDAL_ERROR_INVALID_ARGUMENT, "driver_paths");
  const char* paths[] = {"/a.json", nullptr};
  desc.driver_paths = paths;
  EXPECT_FAILS_WITH(udal_instance_create(&desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "driver_paths[1]");
  paths[1] = "";
  EXPECT_FAILS_WITH(udal_instance_create(&desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "driver_paths[1] is empty");
  EXPECT_EQ(out, nullptr);
}

TEST_F(InstanceArgumentTest, NullDescriptorMeansDefaults) {
  TempDir dir;
  env.set("UDAL_DRIVER_FILES", dir.manifest("a.json", "fake", stub("udal_test_fake")));
  udal_instance_t instance = nullptr;
  ASSERT_EQ(udal_instance_create(nullptr, &instance), UDAL_SUCCESS) << udal_last_error_message();
  uint32_t count = 0;
  EXPECT_EQ(udal_instance_get_device_count(instance, &count), UDAL_SUCCESS);
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(udal_instance_release(instance), UDAL_SUCCESS);
}

TEST_F(InstanceArgumentTest, InstanceFunctionsRejectNullAndForeignHandles) {
  uint32_t count = 5;
  EXPECT_FAILS_WITH(udal_instance_retain(nullptr), UDAL_ERROR_INVALID_HANDLE, "instance");
  EXPECT_FAILS_WITH(udal_instance_release(nullptr), UDAL_ERROR_INVALID_HANDLE, "instance");
  EXPECT_FAILS_WITH(udal_instance_get_driver_count(nullptr, &count), UDAL_ERROR_INVALID_HANDLE,
                    "instance");
  EXPECT_EQ(count, 0u);
  count = 5;
  EXPECT_FAILS_WITH(udal_instance_get_device_count(nullptr, &count), UDAL_ERROR_INVALID_HANDLE,
                    "instance");
  EXPECT_EQ(count, 0u);
  udal_device_t device = reinterpret_cast<udal_device_t>(uintptr_t{1});
  EXPECT_FAILS_WITH(udal_instance_get_device(nullptr, 0, &device), UDAL_ERROR_INVALID_HANDLE,
                    "instance");
  EXPECT_EQ(device, nullptr);
  udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
  EXPECT_FAILS_WITH(udal_instance_get_driver_status(nullptr, 0, &status), UDAL_ERROR_INVALID_HANDLE,
                    "instance");

  // Something that is not an instance (here: a device handle) is told apart.
  Instance real({stub("udal_test_fake")});
  udal_instance_t not_an_instance = reinterpret_cast<udal_instance_t>(real.device(0));
  EXPECT_FAILS_WITH(udal_instance_get_driver_count(not_an_instance, &count),
                    UDAL_ERROR_INVALID_HANDLE, "not a live udal_instance_t");
}

TEST_F(InstanceArgumentTest, InstanceQueriesRejectBadOutputsAndIndices) {
  Instance instance({stub("udal_test_fake")});
  EXPECT_FAILS_WITH(udal_instance_get_driver_count(instance.get(), nullptr),
                    UDAL_ERROR_INVALID_ARGUMENT, "out_count");
  EXPECT_FAILS_WITH(udal_instance_get_device_count(instance.get(), nullptr),
                    UDAL_ERROR_INVALID_ARGUMENT, "out_count");
  EXPECT_FAILS_WITH(udal_instance_get_device(instance.get(), 0, nullptr),
                    UDAL_ERROR_INVALID_ARGUMENT, "out_device");
  EXPECT_FAILS_WITH(udal_instance_get_driver_status(instance.get(), 0, nullptr),
                    UDAL_ERROR_INVALID_ARGUMENT, "out_status");
  udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
  status.struct_size = sizeof(status) - 4;
  EXPECT_FAILS_WITH(udal_instance_get_driver_status(instance.get(), 0, &status),
                    UDAL_ERROR_INVALID_ARGUMENT, "struct_size");
  status = UDAL_DRIVER_STATUS_INIT;
  EXPECT_FAILS_WITH(udal_instance_get_driver_status(instance.get(), 1, &status),
                    UDAL_ERROR_NOT_FOUND, "index 1");
  ASSERT_NE(status.name, nullptr) << "strings are never NULL, even on failure";
  EXPECT_STREQ(status.name, "");
  EXPECT_STREQ(status.reason, "");
}

} // namespace
