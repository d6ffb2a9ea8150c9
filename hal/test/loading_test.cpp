// Manifests, dlopen, negotiation and driver creation: every way a driver can fail to load
// is listed with its reason, and never takes the other drivers down with it.
#include "test_support.h"

#include <udal/udal_driver.h>

#include <atomic>
#include <thread>

using namespace udal_test;

namespace {

class LoaderTest : public ::testing::Test {
protected:
  // Loads the single manifest with |content| and returns its status.
  Status load_manifest_text(const std::string& content) {
    std::string m = dir.write("m/driver.json", content);
    Instance instance({m});
    auto s = statuses(instance.get());
    EXPECT_EQ(s.size(), 1u);
    EXPECT_EQ(device_count(instance.get()), 0u);
    return s.empty() ? Status{} : s[0];
  }

  Status load_library(const std::string& name) {
    Instance instance({dir.manifest(name + ".json", name, stub(name))});
    auto s = statuses(instance.get());
    EXPECT_EQ(s.size(), 1u);
    return s.empty() ? Status{} : s[0];
  }

  Environment env;
  TempDir dir;
};

std::string manifest_text(const std::string& driver_object,
                          const std::string& format = "\"1.0.0\"") {
  return "{\"file_format_version\": " + format + ", \"driver\": " + driver_object + "}";
}

#define EXPECT_CONTAINS(haystack, needle)                                                          \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)                                 \
      << "'" << (haystack) << "' does not contain '" << (needle) << "'"

TEST_F(LoaderTest, ManifestWithBadJsonIsFailedWithTheParserMessage) {
  Status s = load_manifest_text("{\"file_format_version\": \"1.0.0\", \"driver\": {");
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_CONTAINS(s.reason, "not valid JSON");
  EXPECT_EQ(s.name, "driver") << "a manifest that cannot be read is named after its file";
}

TEST_F(LoaderTest, ManifestThatIsNotAnObjectIsFailed) {
  Status s = load_manifest_text("[1, 2]");
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_CONTAINS(s.reason, "array");
}

TEST_F(LoaderTest, ManifestWithoutFileFormatVersionIsFailed) {
  Status s = load_manifest_text("{\"driver\": {}}");
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_CONTAINS(s.reason, "file_format_version");
}

TEST_F(LoaderTest, ManifestOfAnotherFileFormatMajorIsRefused) {
  Status s = load_manifest_text(manifest_text(
      "{\"name\": \"x\", \"library_path\": \"/x.so\", \"abi_version\": \"1.0\"}", "\"2.0.0\""));
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_CONTAINS(s.reason, "2.0.0");
}

TEST_F(LoaderTest, ManifestWithoutDriverObjectIsFailed) {
  Status s = load_manifest_text("{\"file_format_version\": \"1.0.0\"}");
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_CONTAINS(s.reason, "\"driver\"");
}

TEST_F(LoaderTest, ManifestWithoutLibraryPathIsFailed) {
  Status s = load_manifest_text(manifest_text("{\"name\": \"x\", \"abi_version\": \"1.0\"}"));
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_CONTAINS(s.reason, "driver.library_path");
}

TEST_F(LoaderTest, ManifestWithEmptyNameIsFailed) {
  Status s = load_manifest_text(
      manifest_text("{\"name\": \"\", \"library_path\": \"/x.so\", \"abi_version\": \"1.0\"}"));
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_CONTAINS(s.reason, "driver.name");
  EXPECT_CONTAINS(s.reason, "empty");
}

TEST_F(LoaderTest, ManifestFieldOfTheWrongTypeIsFailedNamingTheType) {
  Status s = load_manifest_text(
      manifest_text("{\"name\": 7, \"library_path\": \"/x.so\", \"abi_version\": \"1.0\"}"));
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_CONTAINS(s.reason, "driver.name");
  EXPECT_CONTAINS(s.reason, "number");

  Status v = load_manifest_text(
      manifest_text("{\"name\": \"x\", \"library_path\": \"/x.so\", \"abi_version\": 1}"));
  EXPECT_CONTAINS(v.reason, "driver.abi_version");
}

TEST_F(LoaderTest, ManifestAbiVersionThatIsNotAVersionIsFailed) {
  Status s = load_manifest_text(
      manifest_text("{\"name\": \"x\", \"library_path\": \"/x.so\", \"abi_version\": \"one\"}"));
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_CONTAINS(s.reason, "\"one\"");
}

TEST_F(LoaderTest, ManifestStatingAnotherAbiMajorIsRefusedSayingBothVersions) {
  std::string m = dir.manifest("fake.json", "fake", stub("udal_test_fake"), "2.0");
  Instance instance({m});
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s[0].result, UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_CONTAINS(s[0].reason, "2.0");
  EXPECT_CONTAINS(s[0].reason, "1.0");
  EXPECT_EQ(s[0].library_path, stub("udal_test_fake"));
  EXPECT_EQ(device_count(instance.get()), 0u);
}

TEST_F(LoaderTest, MissingLibraryIsReportedWithTheDynamicLinkerMessage) {
  std::string missing = dir.path() + "/libnot_there.so";
  Instance instance({dir.manifest("gone.json", "gone", missing)});
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s[0].result, UDAL_ERROR_NOT_FOUND);
  EXPECT_CONTAINS(s[0].reason, missing);
  EXPECT_CONTAINS(s[0].reason, "No such file");
}

TEST_F(LoaderTest, MissingEntryPointIsReportedWithReason) {
  Status s = load_library("udal_test_no_entry");
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_NOT_FOUND);
  EXPECT_CONTAINS(s.reason, "udal_driver_negotiate");
}

TEST_F(LoaderTest, NegotiateErrorIsReportedWithTheDriversMessage) {
  Status s = load_library("udal_test_negotiate_fails");
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_CONTAINS(s.reason, "udal_driver_negotiate returned UDAL_ERROR_INVALID_ARGUMENT");
}

TEST_F(LoaderTest, MajorVersionStatedByNegotiateIsRefused) {
  Status s = load_library("udal_test_abi2");
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_EQ(s.reason,
            "driver 'udal_test_abi2' implements UDAL ABI 2.0; this libudal implements 1.0");
  EXPECT_EQ(s.abi_version, UDAL_MAKE_VERSION(2, 0));
  EXPECT_EQ(s.device_count, 0u);
}

TEST_F(LoaderTest, DriverCreateFailureIsReportedWithTheDriversCodeAndMessage) {
  Status s = load_library("udal_test_create_fails");
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_DEVICE_LOST);
  EXPECT_CONTAINS(s.reason, "driver_create");
  EXPECT_CONTAINS(s.reason, "refuses to start");
}

TEST_F(LoaderTest, MissingRequiredEntryIsRefusedNamingTheEntry) {
  Status s = load_library("udal_test_missing_required");
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_CONTAINS(s.reason, "device_get_info");
}

TEST_F(LoaderTest, DriverObjectWithoutTheTablePointerFirstIsRefused) {
  Status s = load_library("udal_test_bad_layout");
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_CONTAINS(s.reason, "table pointer");
}

TEST_F(LoaderTest, OlderDriverWithASmallerTableAnswersUnsupportedBeyondIt) {
  Instance instance({dir.manifest("small.json", "small", stub("udal_test_small"))});
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s[0].state, UDAL_DRIVER_STATE_LOADED) << s[0].reason;
  udal_device_t device = instance.device(0);
  EXPECT_EQ(device_name(device), "small device 0");

  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 64;
  udal_buffer_t buffer = reinterpret_cast<udal_buffer_t>(&desc);
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, &buffer), UDAL_ERROR_UNSUPPORTED,
                    "buffer_create");
  EXPECT_EQ(buffer, nullptr);
  EXPECT_CONTAINS(udal_last_error_message(), "'small'");
  udal_stream_t stream = nullptr;
  EXPECT_FAILS_WITH(udal_stream_create(device, nullptr, &stream), UDAL_ERROR_UNSUPPORTED,
                    "stream_create");
  udal_event_t event = nullptr;
  EXPECT_FAILS_WITH(udal_event_create(device, nullptr, &event), UDAL_ERROR_UNSUPPORTED,
                    "event_create");
}

TEST_F(LoaderTest, NewerDriverWithALargerTableWritesOnlyTheLoadersSize) {
  Instance instance({dir.manifest("large.json", "large", stub("udal_test_large"))});
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s[0].state, UDAL_DRIVER_STATE_LOADED) << s[0].reason;
  EXPECT_EQ(s[0].abi_version, UDAL_MAKE_VERSION(1, 1));
  // Had the driver written past libudal's table, the record behind it (which names the
  // driver) would be clobbered.
  udal_device_info_t info{};
  info.struct_size = sizeof(info);
  ASSERT_EQ(udal_device_get_info(instance.device(0), &info), UDAL_SUCCESS);
  EXPECT_STREQ(info.driver_name, "large");
  EXPECT_EQ(info.abi_version, UDAL_MAKE_VERSION(1, 1));
  udal_stream_t stream = nullptr;
  ASSERT_EQ(udal_stream_create(instance.device(0), nullptr, &stream), UDAL_SUCCESS);
  EXPECT_EQ(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
  EXPECT_EQ(udal_stream_destroy(stream), UDAL_SUCCESS);
}

TEST_F(LoaderTest, DriverThatWritesPastItsTableIsRefused) {
  Status s = load_library("udal_test_overrun");
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_CONTAINS(s.reason, "wrote past the end");
  EXPECT_CONTAINS(s.reason, "struct_size");
}

TEST_F(LoaderTest, DriverLogCallbackWritesThroughUdalLog) {
  std::string m = dir.manifest("a.json", "chatty", stub("udal_test_fake"));
  env.set("UDAL_LOG", "debug");
  testing::internal::CaptureStderr();
  { Instance instance({m}); }
  std::string debug = testing::internal::GetCapturedStderr();
  EXPECT_CONTAINS(debug, "driver 'chatty': fake driver created");
  EXPECT_CONTAINS(debug, "loading driver 'chatty'");

  env.set("UDAL_LOG", "warning");
  testing::internal::CaptureStderr();
  { Instance instance({m}); }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST_F(LoaderTest, FailedDriverIsAWarningUnlessUdalLogIsNone) {
  std::string m = dir.manifest("a.json", "broken", dir.path() + "/libmissing.so");
  env.set("UDAL_LOG", "warning");
  testing::internal::CaptureStderr();
  { Instance instance({m}); }
  std::string warned = testing::internal::GetCapturedStderr();
  EXPECT_CONTAINS(warned, "udal: warning: driver 'broken' not loaded");

  env.set("UDAL_LOG", "none");
  testing::internal::CaptureStderr();
  { Instance instance({m}); }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST_F(LoaderTest, InstancesCanBeCreatedOnSeveralThreadsAtOnce) {
  std::string m = dir.manifest("a.json", "fake", stub("udal_test_fake"));
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        const char* paths[] = {m.c_str()};
        udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
        desc.driver_paths = paths;
        desc.driver_path_count = 1;
        udal_instance_t instance = nullptr;
        if (udal_instance_create(&desc, &instance) != UDAL_SUCCESS)
          continue;
        uint32_t count = 0;
        udal_device_t device = nullptr;
        if (udal_instance_get_device_count(instance, &count) == UDAL_SUCCESS && count == 1 &&
            udal_instance_get_device(instance, 0, &device) == UDAL_SUCCESS &&
            udal_buffer_create(device, nullptr, nullptr) == UDAL_ERROR_INVALID_ARGUMENT &&
            std::string(udal_last_error_message()).find("udal_buffer_create") == 0)
          ++good;
        udal_instance_release(instance);
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(good.load(), 40);
}

TEST_F(LoaderTest, TwoDriversListTheirDevicesInSearchOrder) {
  Instance instance({dir.manifest("b.json", "fake_b", stub("udal_test_fake_b")),
                     dir.manifest("a.json", "fake", stub("udal_test_fake"))});
  ASSERT_EQ(device_count(instance.get()), 3u);
  EXPECT_EQ(device_name(instance.device(0)), "fake_b device 0");
  EXPECT_EQ(device_name(instance.device(1)), "fake_b device 1");
  EXPECT_EQ(device_name(instance.device(2)), "fake device 0");
  udal_device_t none = instance.device(0);
  EXPECT_FAILS_WITH(udal_instance_get_device(instance.get(), 3, &none), UDAL_ERROR_NOT_FOUND,
                    "index 3");
  EXPECT_EQ(none, nullptr);
}

TEST_F(LoaderTest, AFailingDriverDoesNotHideTheOthers) {
  Instance instance({stub("udal_test_create_fails"), stub("udal_test_no_entry"),
                     dir.path() + "/missing.so", stub("udal_test_fake")});
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s[1].state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s[2].state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s[2].result, UDAL_ERROR_NOT_FOUND);
  EXPECT_EQ(s[3].state, UDAL_DRIVER_STATE_LOADED);
  for (int i = 0; i < 3; ++i)
    EXPECT_NE(s[i].reason, "") << s[i].name;
  EXPECT_EQ(device_count(instance.get()), 1u);
}

TEST_F(LoaderTest, DeviceInfoCarriesTheNameAndVersionsLibudalKnows) {
  Instance instance({dir.manifest("a.json", "manifest-name", stub("udal_test_fake"))});
  udal_device_info_t info{};
  info.struct_size = sizeof(info);
  ASSERT_EQ(udal_device_get_info(instance.device(0), &info), UDAL_SUCCESS);
  EXPECT_STREQ(info.name, "fake device 0");
  EXPECT_STREQ(info.driver_name, "manifest-name");
  EXPECT_EQ(info.driver_version, UDAL_MAKE_VERSION(3, 7));
  EXPECT_EQ(info.abi_version, UDAL_MAKE_VERSION(1, 0));
}

TEST_F(LoaderTest, TwoInstancesLoadingOneDriverAreIndependent) {
  std::string m = dir.manifest("a.json", "fake", stub("udal_test_fake"));
  auto first = std::make_unique<Instance>(std::vector<std::string>{m});
  Instance second({m});
  udal_device_t a = first->device(0);
  udal_device_t b = second.device(0);
  ASSERT_NE(a, b);
  // Each instance has its own table, so objects of the two never mix.
  udal_stream_t stream = nullptr;
  ASSERT_EQ(udal_stream_create(a, nullptr, &stream), UDAL_SUCCESS);
  udal_event_t event = nullptr;
  ASSERT_EQ(udal_event_create(b, nullptr, &event), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_stream_record_event(stream, event), UDAL_ERROR_INVALID_HANDLE, "event");
  EXPECT_EQ(udal_event_destroy(event), UDAL_SUCCESS);
  EXPECT_EQ(udal_stream_destroy(stream), UDAL_SUCCESS);

  first.reset();
  EXPECT_EQ(device_name(second.device(0)), "fake device 0");
}

TEST_F(LoaderTest, InstanceLivesUntilItsLastReferenceIsReleased) {
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  std::string lib = stub("udal_test_fake");
  const char* paths[] = {lib.c_str()};
  desc.driver_paths = paths;
  desc.driver_path_count = 1;
  udal_instance_t instance = nullptr;
  ASSERT_EQ(udal_instance_create(&desc, &instance), UDAL_SUCCESS);
  ASSERT_EQ(udal_instance_retain(instance), UDAL_SUCCESS);
  ASSERT_EQ(udal_instance_release(instance), UDAL_SUCCESS);
  uint32_t count = 0;
  EXPECT_EQ(udal_instance_get_device_count(instance, &count), UDAL_SUCCESS);
  EXPECT_EQ(count, 1u);
  udal_device_t device = nullptr;
  ASSERT_EQ(udal_instance_get_device(instance, 0, &device), UDAL_SUCCESS);
  EXPECT_EQ(device_name(device), "fake device 0");
  EXPECT_EQ(udal_instance_release(instance), UDAL_SUCCESS);
}

TEST_F(LoaderTest, NoDevicesAlwaysComesWithAReason) {
  Instance instance({stub("udal_test_abi2"), stub("udal_test_missing_required")});
  EXPECT_EQ(device_count(instance.get()), 0u);
  for (const Status& s : statuses(instance.get())) {
    EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
    EXPECT_NE(s.result, UDAL_SUCCESS);
    EXPECT_NE(s.reason, "");
  }
}

TEST_F(LoaderTest, UdalDriverFilesNamingAMissingDirectoryListsItAsFailed) {
  env.set("UDAL_DRIVER_FILES", dir.path() + "/empty-dir-that-does-not-exist");
  Instance instance(kSearch);
  EXPECT_EQ(device_count(instance.get()), 0u);
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].result, UDAL_ERROR_NOT_FOUND);
}

} // namespace
