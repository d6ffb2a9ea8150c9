// Where libudal looks for drivers, in which order, and what it does with what it finds.
#include "test_support.h"

#include <algorithm>
#include <sys/stat.h>

using namespace udal_test;

namespace {

class DiscoveryTest : public ::testing::Test {
protected:
  void SetUp() override {
    // The standard XDG locations point into the scratch directory, so the machine's own
    // manifests never take part (except libudal's own build-tree directory).
    env.set("XDG_CONFIG_DIRS", dir.path() + "/xdg-config");
    env.set("XDG_DATA_DIRS", dir.path() + "/xdg-data");
  }

  std::vector<std::string> names(udal_instance_t instance) {
    std::vector<std::string> out;
    for (const Status& s : statuses(instance))
      out.push_back(s.name);
    return out;
  }

  // Statuses of drivers whose manifest lies in the scratch directory (the build tree's
  // own drivers may be listed too when the standard search runs).
  std::vector<Status> ours(udal_instance_t instance) {
    std::vector<Status> out;
    for (const Status& s : statuses(instance)) {
      if (s.manifest_path.rfind(dir.path(), 0) == 0 || s.library_path.rfind(dir.path(), 0) == 0 ||
          s.library_path.rfind(UDAL_TEST_STUB_DIR, 0) == 0)
        out.push_back(s);
    }
    return out;
  }

  Environment env;
  TempDir dir;
};

TEST_F(DiscoveryTest, DriverPathsManifestLoadsThatDriverOnly) {
  std::string m = dir.manifest("m/fake.json", "fake", stub("udal_test_fake"));
  Instance instance({m});
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_LOADED) << s[0].reason;
  EXPECT_EQ(s[0].result, UDAL_SUCCESS);
  EXPECT_EQ(s[0].name, "fake");
  EXPECT_EQ(s[0].manifest_path, m);
  EXPECT_EQ(s[0].library_path, stub("udal_test_fake"));
  EXPECT_EQ(s[0].reason, "");
  EXPECT_EQ(s[0].device_count, 1u);
  EXPECT_EQ(s[0].abi_version, UDAL_MAKE_VERSION(1, 0));
  EXPECT_EQ(s[0].driver_version, UDAL_MAKE_VERSION(3, 7));
  EXPECT_EQ(device_count(instance.get()), 1u);
}

TEST_F(DiscoveryTest, DriverPathsLibraryLoadsItUnderItsFileName) {
  Instance instance({stub("udal_test_fake_b")});
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_LOADED) << s[0].reason;
  EXPECT_EQ(s[0].name, "udal_test_fake_b");
  EXPECT_EQ(s[0].manifest_path, "");
  EXPECT_EQ(device_count(instance.get()), 2u);
}

TEST_F(DiscoveryTest, RelativeLibraryPathIsResolvedAgainstTheManifestDirectory) {
  std::string m = dir.manifest("deep/er/fake.json", "fake", "");
  std::string relative = fs::relative(stub("udal_test_fake"), fs::path(m).parent_path()).string();
  ASSERT_NE(relative.find('/'), std::string::npos);
  dir.manifest("deep/er/fake.json", "fake", relative);
  // Run from elsewhere: the path must not be taken relative to the working directory.
  fs::path old = fs::current_path();
  fs::current_path("/");
  Instance instance({m});
  fs::current_path(old);
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_LOADED) << s[0].reason;
  EXPECT_EQ(fs::weakly_canonical(s[0].library_path), fs::weakly_canonical(stub("udal_test_fake")));
}

TEST_F(DiscoveryTest, BareLibraryNameIsLeftToTheDynamicLinkerSearch) {
  std::string m = dir.manifest("bare.json", "bare", "libudal_test_no_such_driver.so");
  Instance instance({m});
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].library_path, "libudal_test_no_such_driver.so");
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_NE(s[0].reason.find("libudal_test_no_such_driver.so"), std::string::npos) << s[0].reason;
}

TEST_F(DiscoveryTest, UdalDriverFilesWithAFileReplacesTheSearch) {
  dir.manifest("xdg-config/udal/drivers.d/b.json", "fake_b", stub("udal_test_fake_b"));
  std::string m = dir.manifest("only/fake.json", "fake", stub("udal_test_fake"));
  env.set("UDAL_DRIVER_FILES", m);
  Instance instance(kSearch);
  EXPECT_EQ(names(instance.get()), std::vector<std::string>{"fake"});
}

TEST_F(DiscoveryTest, UdalDriverFilesWithADirectoryTakesItsJsonFilesSortedByName) {
  dir.manifest("d/20-b.json", "fake_b", stub("udal_test_fake_b"));
  dir.manifest("d/10-a.json", "fake", stub("udal_test_fake"));
  dir.write("d/README.txt", "not a manifest");
  dir.manifest("d/sub/30-c.json", "sub", stub("udal_test_fake")); // not recursive
  env.set("UDAL_DRIVER_FILES", dir.path() + "/d");
  Instance instance(kSearch);
  EXPECT_EQ(names(instance.get()), (std::vector<std::string>{"fake", "fake_b"}));
  ASSERT_EQ(device_count(instance.get()), 3u);
  EXPECT_EQ(device_name(instance.device(0)), "fake device 0");
  EXPECT_EQ(device_name(instance.device(1)), "fake_b device 0");
  EXPECT_EQ(device_name(instance.device(2)), "fake_b device 1");
}

TEST_F(DiscoveryTest, UdalDriverFilesListsAMissingFileAsFailed) {
  std::string m = dir.manifest("fake.json", "fake", stub("udal_test_fake"));
  std::string missing = dir.path() + "/nowhere.json";
  env.set("UDAL_DRIVER_FILES", missing + ":" + m);
  Instance instance(kSearch);
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_EQ(s[0].result, UDAL_ERROR_NOT_FOUND);
  EXPECT_EQ(s[0].manifest_path, missing);
  EXPECT_NE(s[0].reason.find("does not exist"), std::string::npos) << s[0].reason;
  EXPECT_EQ(s[1].state, UDAL_DRIVER_STATE_LOADED);
}

TEST_F(DiscoveryTest, UdalAddDriverFilesIsSearchedBeforeTheStandardDirectories) {
  dir.manifest("xdg-config/udal/drivers.d/b.json", "fake_b", stub("udal_test_fake_b"));
  std::string added = dir.manifest("added/fake.json", "fake", stub("udal_test_fake"));
  env.set("UDAL_ADD_DRIVER_FILES", added);
  Instance instance(kSearch);
  auto s = ours(instance.get());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].name, "fake");
  EXPECT_EQ(s[1].name, "fake_b");
  auto all = statuses(instance.get());
  EXPECT_EQ(all[0].name, "fake") << "UDAL_ADD_DRIVER_FILES must come first";
}

TEST_F(DiscoveryTest, XdgConfigDirsComeBeforeEtcAndXdgDataDirs) {
  dir.manifest("xdg-data/udal/drivers.d/a.json", "fake_b", stub("udal_test_fake_b"));
  dir.manifest("xdg-config/udal/drivers.d/z.json", "fake", stub("udal_test_fake"));
  Instance instance(kSearch);
  auto s = ours(instance.get());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].name, "fake");
  EXPECT_EQ(s[1].name, "fake_b");
}

TEST_F(DiscoveryTest, SeveralXdgDataDirsAreSearchedInOrder) {
  dir.manifest("one/udal/drivers.d/a.json", "fake_b", stub("udal_test_fake_b"));
  dir.manifest("two/udal/drivers.d/a.json", "fake", stub("udal_test_fake"));
  env.set("XDG_DATA_DIRS", dir.path() + "/two:" + dir.path() + "/one");
  Instance instance(kSearch);
  auto s = ours(instance.get());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].name, "fake");
  EXPECT_EQ(s[1].name, "fake_b");
}

TEST_F(DiscoveryTest, TheSameManifestReachedTwiceIsListedOnce) {
  std::string m = dir.manifest("d/fake.json", "fake", stub("udal_test_fake"));
  fs::create_symlink(m, dir.path() + "/link.json");
  env.set("UDAL_DRIVER_FILES", dir.path() + "/d:" + m + ":" + dir.path() + "/link.json");
  Instance instance(kSearch);
  EXPECT_EQ(names(instance.get()), std::vector<std::string>{"fake"});
}

TEST_F(DiscoveryTest, ASecondDriverOfTheSameNameIsFilteredNamingTheFirstManifest) {
  std::string first = dir.manifest("d/a.json", "fake", stub("udal_test_fake"));
  dir.manifest("d/b.json", "fake", stub("udal_test_fake_b"));
  env.set("UDAL_DRIVER_FILES", dir.path() + "/d");
  Instance instance(kSearch);
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_LOADED);
  EXPECT_EQ(s[1].state, UDAL_DRIVER_STATE_FILTERED);
  EXPECT_NE(s[1].reason.find(first), std::string::npos) << s[1].reason;
  EXPECT_EQ(device_count(instance.get()), 1u);
}

TEST_F(DiscoveryTest, DriversSelectKeepsOnlyDriversMatchingAGlob) {
  dir.manifest("d/a.json", "fake", stub("udal_test_fake"));
  dir.manifest("d/b.json", "fake_b", stub("udal_test_fake_b"));
  dir.manifest("d/c.json", "other", stub("udal_test_large"));
  env.set("UDAL_DRIVER_FILES", dir.path() + "/d");
  env.set("UDAL_DRIVERS_SELECT", "nomatch,fake_*");
  Instance instance(kSearch);
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_FILTERED);
  EXPECT_NE(s[0].reason.find("UDAL_DRIVERS_SELECT"), std::string::npos) << s[0].reason;
  EXPECT_EQ(s[1].state, UDAL_DRIVER_STATE_LOADED);
  EXPECT_EQ(s[2].state, UDAL_DRIVER_STATE_FILTERED);
  EXPECT_EQ(device_count(instance.get()), 2u);
}

TEST_F(DiscoveryTest, DriversDisableFiltersDriversMatchingAGlob) {
  dir.manifest("d/a.json", "fake", stub("udal_test_fake"));
  dir.manifest("d/b.json", "fake_b", stub("udal_test_fake_b"));
  env.set("UDAL_DRIVER_FILES", dir.path() + "/d");
  env.set("UDAL_DRIVERS_DISABLE", "f?ke");
  Instance instance(kSearch);
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_FILTERED);
  EXPECT_EQ(s[0].result, UDAL_SUCCESS);
  EXPECT_NE(s[0].reason.find("UDAL_DRIVERS_DISABLE"), std::string::npos) << s[0].reason;
  EXPECT_NE(s[0].reason.find("f?ke"), std::string::npos) << s[0].reason;
  EXPECT_EQ(s[1].state, UDAL_DRIVER_STATE_LOADED);
}

TEST_F(DiscoveryTest, DisableWinsOverSelect) {
  std::string m = dir.manifest("a.json", "fake", stub("udal_test_fake"));
  env.set("UDAL_DRIVERS_SELECT", "*");
  env.set("UDAL_DRIVERS_DISABLE", "fake");
  Instance instance({m});
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_FILTERED);
}

TEST_F(DiscoveryTest, DriverPathsReplaceUdalDriverFilesButFiltersStillApply) {
  std::string a = dir.manifest("a.json", "fake", stub("udal_test_fake"));
  std::string b = dir.manifest("b.json", "fake_b", stub("udal_test_fake_b"));
  env.set("UDAL_DRIVER_FILES", b);
  env.set("UDAL_DRIVERS_DISABLE", "fake");
  Instance instance({a});
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].name, "fake");
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_FILTERED);
}

TEST_F(DiscoveryTest, IgnoreEnvironmentSkipsEveryVariable) {
  std::string a = dir.manifest("a.json", "fake", stub("udal_test_fake"));
  std::string b = dir.manifest("b.json", "fake_b", stub("udal_test_fake_b"));
  dir.manifest("xdg-config/udal/drivers.d/c.json", "xdg", stub("udal_test_fake"));
  env.set("UDAL_DRIVER_FILES", b);
  env.set("UDAL_DRIVERS_DISABLE", "*");
  env.set("UDAL_LOG", "debug");

  Instance with_paths({a}, UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT);
  auto s = statuses(with_paths.get());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_LOADED) << "UDAL_DRIVERS_DISABLE must be ignored";

  Instance searched(kSearch, UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT);
  for (const Status& st : statuses(searched.get())) {
    EXPECT_NE(st.manifest_path, b) << "UDAL_DRIVER_FILES must be ignored";
    EXPECT_NE(st.name, "xdg") << "XDG_CONFIG_DIRS must be ignored";
    EXPECT_NE(st.state, UDAL_DRIVER_STATE_FILTERED) << st.name << ": " << st.reason;
  }
}

TEST_F(DiscoveryTest, EmptyUdalDriverFilesCountsAsUnset) {
  dir.manifest("xdg-config/udal/drivers.d/a.json", "fake", stub("udal_test_fake"));
  env.set("UDAL_DRIVER_FILES", "");
  Instance instance(kSearch);
  EXPECT_EQ(ours(instance.get()).size(), 1u);
}

TEST_F(DiscoveryTest, BuildTreeManifestsAreFoundWithoutAnyEnvironment) {
  std::vector<fs::path> expected;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(UDAL_TEST_BUILD_MANIFEST_DIR, ec))
    if (e.path().extension() == ".json")
      expected.push_back(fs::canonical(e.path()));
  if (expected.empty())
    GTEST_SKIP() << "no manifest in " << UDAL_TEST_BUILD_MANIFEST_DIR << " (no driver built yet)";
  Instance instance(kSearch);
  std::vector<fs::path> found;
  for (const Status& s : statuses(instance.get()))
    if (!s.manifest_path.empty() && fs::exists(s.manifest_path))
      found.push_back(fs::canonical(s.manifest_path));
  for (const fs::path& p : expected)
    EXPECT_NE(std::find(found.begin(), found.end(), p), found.end())
        << p << " was not found by the search beside libudal";
}

// Issue 11: relative XDG directories are invalid (the XDG Base Directory spec) and ignored;
// they used to be searched from the current directory.
TEST_F(DiscoveryTest, RelativeXdgDirectoriesAreIgnoredWithAWarning) {
  dir.manifest("rel/udal/drivers.d/a.json", "fake", stub("udal_test_fake"));
  dir.manifest("abs/udal/drivers.d/b.json", "fake_b", stub("udal_test_fake_b"));
  env.set("XDG_CONFIG_DIRS", "rel:" + dir.path() + "/abs");
  env.set("XDG_DATA_DIRS", "rel");
  env.set("UDAL_LOG", "warning");
  fs::path old = fs::current_path();
  fs::current_path(dir.path());
  testing::internal::CaptureStderr();
  Instance instance(kSearch);
  std::string warned = testing::internal::GetCapturedStderr();
  fs::current_path(old);
  auto s = ours(instance.get());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].name, "fake_b");
  EXPECT_NE(warned.find("XDG_CONFIG_DIRS entry 'rel' is ignored"), std::string::npos) << warned;
  EXPECT_NE(warned.find("XDG_DATA_DIRS entry 'rel' is ignored"), std::string::npos) << warned;
}

TEST_F(DiscoveryTest, DriversSelectWithOnlySeparatorsCountsAsUnsetAndSaysSo) {
  // UDAL_DRIVERS_SELECT=',' used to select nothing: every driver filtered, silently.
  std::string m = dir.manifest("a.json", "fake", stub("udal_test_fake"));
  for (const char* value : {",", ",,,"}) {
    env.set("UDAL_DRIVERS_SELECT", value);
    env.set("UDAL_LOG", "warning");
    testing::internal::CaptureStderr();
    Instance instance({m});
    std::string warned = testing::internal::GetCapturedStderr();
    auto s = statuses(instance.get());
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_LOADED) << value << ": " << s[0].reason;
    EXPECT_NE(warned.find(std::string("UDAL_DRIVERS_SELECT='") + value + "' lists nothing"),
              std::string::npos)
        << warned;
  }
  // An empty glob beside a real one is just dropped.
  env.set("UDAL_DRIVERS_SELECT", ",nomatch,");
  Instance filtered({m});
  EXPECT_EQ(statuses(filtered.get())[0].state, UDAL_DRIVER_STATE_FILTERED);
}

TEST_F(DiscoveryTest, UdalDriverFilesWithOnlySeparatorsKeepsTheSearch) {
  dir.manifest("xdg-config/udal/drivers.d/a.json", "fake", stub("udal_test_fake"));
  env.set("UDAL_DRIVER_FILES", "::");
  Instance instance(kSearch);
  EXPECT_EQ(ours(instance.get()).size(), 1u);
}

TEST_F(DiscoveryTest, ANonRegularJsonInADriverDirectoryIsListedWithItsType) {
  dir.manifest("d/a.json", "fake", stub("udal_test_fake"));
  ASSERT_EQ(mkfifo((dir.path() + "/d/b.json").c_str(), 0600), 0);
  fs::create_symlink("/dev/zero", dir.path() + "/d/c.json");
  fs::create_directories(dir.path() + "/d/sub.json");
  env.set("UDAL_DRIVER_FILES", dir.path() + "/d");
  Instance instance(kSearch);
  auto s = statuses(instance.get());
  ASSERT_EQ(s.size(), 3u) << "a directory named *.json is not a manifest";
  EXPECT_EQ(s[0].state, UDAL_DRIVER_STATE_LOADED);
  EXPECT_NE(s[1].reason.find("a FIFO, not a regular file"), std::string::npos) << s[1].reason;
  EXPECT_NE(s[2].reason.find("a character device, not a regular file"), std::string::npos)
      << s[2].reason;
}

} // namespace
