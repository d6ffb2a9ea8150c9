// Manifests, dlopen, negotiation and driver creation: every way a driver can fail to load
// is listed with its reason, and never takes the other drivers down with it.
#include "test_support.h"

#include <udal/udal_driver.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

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

// "1.1": the ABI version of this build's header, as libudal's messages write it.
std::string abi_version_text() {
  return std::to_string(UDAL_VERSION_MAJOR(UDAL_ABI_VERSION)) + "." +
         std::to_string(UDAL_VERSION_MINOR(UDAL_ABI_VERSION));
}

TEST_F(LoaderTest, ManifestStatingAnotherAbiMajorIsRefusedSayingBothVersions) {
  std::string m = dir.manifest("fake.json", "fake", stub("udal_test_fake"), "2.0");
  Instance instance({m});
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s[0].result, UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_CONTAINS(s[0].reason, "2.0");
  EXPECT_CONTAINS(s[0].reason, abi_version_text());
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
  EXPECT_EQ(s.reason, "driver 'udal_test_abi2' implements UDAL ABI 2.0; this libudal implements " +
                          abi_version_text());
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
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
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
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
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

// ---------------------------------------------------------------------------------------
// Hostile files (issue 11): everything libudal reads is a regular file of bounded size,
// checked before it is opened; a driver library is checked like an ELF image before
// dlopen. None of these may crash, block or read without end.
// ---------------------------------------------------------------------------------------

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

// The status of an instance given exactly |paths|.
Status only_status(const std::vector<std::string>& paths) {
  Instance instance(paths);
  auto s = statuses(instance.get());
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(device_count(instance.get()), 0u);
  return s.empty() ? Status{} : s[0];
}

TEST_F(LoaderTest, TruncatedDriverLibraryIsRefusedBeforeDlopenSayingWhichCheckFailed) {
  // `head -c 4096 libudal_driver_cpu.so > t.so` used to die of SIGBUS inside dlopen.
  std::string library = read_bytes(stub("udal_test_fake"));
  ASSERT_GT(library.size(), 8192u);
  for (size_t cut : {size_t{4096}, library.size() - 1, size_t{40}}) {
    std::string cut_path = write_bytes(dir.path() + "/libcut.so", library.substr(0, cut));
    Status s = only_status({cut_path});
    EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED) << cut;
    EXPECT_EQ(s.result, UDAL_ERROR_INVALID_ARGUMENT) << cut;
    EXPECT_CONTAINS(s.reason, "refused before dlopen");
    EXPECT_CONTAINS(s.reason, cut_path);
    if (cut >= 64) {
      EXPECT_CONTAINS(s.reason, "past the end of the " + std::to_string(cut) + "-byte file");
    } else {
      EXPECT_CONTAINS(s.reason, "ELF header");
    }
  }
}

TEST_F(LoaderTest, TruncatedLibraryNamedByUdalDriverFilesInTheWorkingDirectoryIsRefused) {
  // The exact reproducer: a bare file name in UDAL_DRIVER_FILES, run from its
  // directory. The file found there is the one checked and loaded.
  std::string library = read_bytes(stub("udal_test_fake"));
  write_bytes(dir.path() + "/t.so", library.substr(0, 4096));
  write_bytes(dir.path() + "/libwhole.so", library);
  fs::path old = fs::current_path();
  fs::current_path(dir.path());
  env.set("UDAL_DRIVER_FILES", "t.so:libwhole.so");
  Instance instance(kSearch);
  fs::current_path(old);
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_CONTAINS(s[0].reason, "truncated");
  EXPECT_EQ(s[1].state, UDAL_DRIVER_STATE_LOADED) << s[1].reason;
  EXPECT_EQ(s[1].library_path, "./libwhole.so");
}

// A copy of the fake driver with byte |offset| set to |value|.
std::string patched_stub(const TempDir& dir, const std::string& name, size_t offset,
                         unsigned char value) {
  std::string library = read_bytes(stub("udal_test_fake"));
  library.at(offset) = static_cast<char>(value);
  return write_bytes(dir.path() + "/" + name, library);
}

TEST_F(LoaderTest, ForeignArchitectureLibraryReportsItsElfMachine) {
  // e_machine is at byte 18 (little-endian): EM_AARCH64 = 183, EM_RISCV = 243.
  uint16_t host = 0;
  std::string library = read_bytes(stub("udal_test_fake"));
  std::memcpy(&host, library.data() + 18, 2);
  unsigned char foreign = host == 183 ? 243 : 183;
  std::string path = patched_stub(dir, "libforeign.so", 18, foreign);
  Status s = only_status({path});
  EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s.result, UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_CONTAINS(s.reason, "ELF machine");
  EXPECT_CONTAINS(s.reason, foreign == 183 ? "AArch64 (183)" : "RISC-V (243)");
  EXPECT_EQ(s.reason.find("No such file"), std::string::npos) << s.reason;
}

TEST_F(LoaderTest, LibraryOfTheOtherElfClassSaysSo) {
  std::string path = patched_stub(dir, "libclass.so", 4, sizeof(void*) == 8 ? 1 : 2);
  Status s = only_status({path});
  EXPECT_EQ(s.result, UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_CONTAINS(s.reason, "ELF class");
  EXPECT_CONTAINS(s.reason, sizeof(void*) == 8 ? "32-bit" : "64-bit");
}

TEST_F(LoaderTest, FileThatIsNotElfIsRefusedNamingItsFirstBytes) {
  Status s = only_status({dir.write("libtext.so", "INPUT(-lc)\n this is a linker script\n")});
  EXPECT_EQ(s.result, UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_CONTAINS(s.reason, "ELF magic");
  EXPECT_CONTAINS(s.reason, "49 4e 50 55");
}

TEST_F(LoaderTest, FifoAsDriverLibraryOrManifestIsRefusedWithoutBlocking) {
  // Opening a FIFO for reading blocks until a writer comes: this test would hang.
  std::string library = dir.path() + "/libfifo.so";
  std::string manifest = dir.path() + "/fifo.json";
  ASSERT_EQ(mkfifo(library.c_str(), 0600), 0);
  ASSERT_EQ(mkfifo(manifest.c_str(), 0600), 0);
  Status l = only_status({library});
  EXPECT_EQ(l.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(l.result, UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_CONTAINS(l.reason, "a FIFO, not a regular file");
  Status m = only_status({manifest});
  EXPECT_EQ(m.result, UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_CONTAINS(m.reason, "a FIFO, not a regular file");
  // Named by a manifest as its library, too.
  Status via = only_status({dir.manifest("lib.json", "via", library)});
  EXPECT_CONTAINS(via.reason, "a FIFO, not a regular file");
  // And in UDAL_DRIVER_FILES, whose directories are listed: a FIFO there is listed, not read.
  env.set("UDAL_DRIVER_FILES", dir.path());
  Instance instance(kSearch);
  bool listed = false;
  for (const Status& s : statuses(instance.get()))
    listed = listed || (s.manifest_path == manifest && s.reason.find("FIFO") != std::string::npos);
  EXPECT_TRUE(listed) << "the FIFO in the directory is not listed with its type";
}

TEST_F(LoaderTest, DevZeroAsManifestOrLibraryIsRefusedWithoutReading) {
  // Reading /dev/zero never ends: it used to read until memory ran out.
  fs::create_symlink("/dev/zero", dir.path() + "/zero.json");
  fs::create_symlink("/dev/zero", dir.path() + "/libzero.so");
  for (const std::string& p :
       {dir.path() + "/zero.json", dir.path() + "/libzero.so", std::string("/dev/zero")}) {
    Status s = only_status({p});
    EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED) << p;
    EXPECT_EQ(s.result, UDAL_ERROR_INVALID_ARGUMENT) << p;
    EXPECT_CONTAINS(s.reason, "a character device, not a regular file");
  }
}

TEST_F(LoaderTest, DirectoryAsDriverLibraryIsRefusedAsADirectory) {
  fs::create_directories(dir.path() + "/libdir.so");
  Status s = only_status({dir.manifest("d.json", "d", dir.path() + "/libdir.so")});
  EXPECT_EQ(s.result, UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_CONTAINS(s.reason, "a directory, not a regular file");
}

TEST_F(LoaderTest, SymlinkLoopIsReportedAsALoopNotAsMissing) {
  fs::create_symlink(dir.path() + "/b.json", dir.path() + "/a.json");
  fs::create_symlink(dir.path() + "/a.json", dir.path() + "/b.json");
  fs::create_symlink(dir.path() + "/libb.so", dir.path() + "/liba.so");
  fs::create_symlink(dir.path() + "/liba.so", dir.path() + "/libb.so");
  for (const std::string& p : {dir.path() + "/a.json", dir.path() + "/liba.so"}) {
    Status s = only_status({p});
    EXPECT_EQ(s.state, UDAL_DRIVER_STATE_FAILED) << p;
    EXPECT_EQ(s.result, UDAL_ERROR_INVALID_ARGUMENT) << p;
    EXPECT_CONTAINS(s.reason, "symlink loop");
    EXPECT_EQ(s.reason.find("does not exist"), std::string::npos) << s.reason;
  }
  Status via = only_status({dir.manifest("loop.json", "loop", dir.path() + "/liba.so")});
  EXPECT_CONTAINS(via.reason, "symlink loop");
}

TEST_F(LoaderTest, ManifestLargerThanOneMebibyteIsRefusedWithoutReadingIt) {
  // Sparse: a 512 MiB manifest used to cost 2.1 GB and 33 s.
  std::string big = dir.path() + "/big.json";
  write_bytes(big, "{}");
  ASSERT_EQ(truncate(big.c_str(), off_t{512} << 20), 0);
  Status s = only_status({big});
  EXPECT_EQ(s.result, UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_CONTAINS(s.reason, "size: 536870912 bytes, more than the 1048576 allowed");

  // Just inside the bound is read, and refused for its NULs: the JSON parser would have
  // stopped at the first one and taken "{}" for the whole manifest.
  ASSERT_EQ(truncate(big.c_str(), off_t{1} << 20), 0);
  EXPECT_CONTAINS(only_status({big}).reason, "not valid JSON: it holds a NUL byte at offset 2");
}

TEST_F(LoaderTest, NulInAManifestStringIsRefusedSoTwoNamesCannotCollide) {
  // "cpu\u0000a" and "cpu\u0000b" were both read as "cpu": two drivers called cpu loaded.
  std::string a = dir.write("a.json", manifest_text("{\"name\": \"fake\\u0000a\", \"library_path\": \"" +
                                                     stub("udal_test_fake") +
                                                     "\", \"abi_version\": \"1.0\"}"));
  std::string b = dir.write("b.json", manifest_text("{\"name\": \"fake\\u0000b\", \"library_path\": \"" +
                                                     stub("udal_test_fake_b") +
                                                     "\", \"abi_version\": \"1.0\"}"));
  Instance instance({a, b});
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 2u);
  for (const Status& st : s) {
    EXPECT_EQ(st.state, UDAL_DRIVER_STATE_FAILED);
    EXPECT_EQ(st.result, UDAL_ERROR_INVALID_ARGUMENT);
    EXPECT_CONTAINS(st.reason, "driver.name");
    EXPECT_CONTAINS(st.reason, "NUL");
  }
  EXPECT_EQ(device_count(instance.get()), 0u);

  Status path = load_manifest_text(manifest_text(
      "{\"name\": \"x\", \"library_path\": \"/lib\\u0000/evil.so\", \"abi_version\": \"1.0\"}"));
  EXPECT_CONTAINS(path.reason, "driver.library_path");
  EXPECT_CONTAINS(path.reason, "NUL");
}

TEST_F(LoaderTest, DuplicateManifestKeysAreRefusedNamingTheKey) {
  Status top = load_manifest_text(
      "{\"file_format_version\": \"1.0.0\", \"file_format_version\": \"1.0.0\", "
      "\"driver\": {\"name\": \"x\", \"library_path\": \"/x.so\", \"abi_version\": \"1.0\"}}");
  EXPECT_EQ(top.result, UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_CONTAINS(top.reason, "\"file_format_version\" twice");
  Status inner = load_manifest_text(manifest_text(
      "{\"name\": \"x\", \"library_path\": \"/a.so\", \"library_path\": \"" +
      stub("udal_test_fake") + "\", \"abi_version\": \"1.0\"}"));
  EXPECT_EQ(inner.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_CONTAINS(inner.reason, "\"library_path\" twice");
  // The same key in two different objects is fine.
  Status ok = load_manifest_text(
      "{\"file_format_version\": \"1.0.0\", \"x\": {\"name\": 1}, \"driver\": {\"name\": "
      "\"x\", \"library_path\": \"/nowhere/x.so\", \"abi_version\": \"1.0\"}}");
  EXPECT_EQ(ok.reason.find("twice"), std::string::npos) << ok.reason;
  EXPECT_CONTAINS(ok.reason, "/nowhere/x.so");
}

TEST_F(LoaderTest, DriverNameMustBePrintableAndFitDeviceInfo) {
  Status control = load_manifest_text(
      manifest_text("{\"name\": \"a\\nb\", \"library_path\": \"/x.so\", \"abi_version\": \"1.0\"}"));
  EXPECT_CONTAINS(control.reason, "control character U+000A at byte 1");
  std::string long_name(UDAL_MAX_DRIVER_NAME, 'n');
  Status too_long = load_manifest_text(manifest_text(
      "{\"name\": \"" + long_name + "\", \"library_path\": \"/x.so\", \"abi_version\": \"1.0\"}"));
  EXPECT_CONTAINS(too_long.reason,
                  "is " + std::to_string(UDAL_MAX_DRIVER_NAME) + " bytes long; a driver name has at most");
}

TEST_F(LoaderTest, DeeplyNestedManifestIsRefused) {
  std::string nested = "{\"file_format_version\": \"1.0.0\", \"x\": " +
                       std::string(100000, '[') + std::string(100000, ']') + "}";
  Status s = load_manifest_text(nested);
  EXPECT_EQ(s.result, UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_CONTAINS(s.reason, "deeper than 32 levels");
}

} // namespace
