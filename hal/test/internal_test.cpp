// libudal's internals that the C ABI cannot reach from a test: the elevated-process rules,
// version and path parsing, and the order of the standard directories.
#include "discovery.h"
#include "environment.h"
#include "log.h"
#include "manifest.h"

#include "test_support.h"

using namespace udal::hal;

namespace {

TEST(EnvironmentTest, ElevatedProcessIgnoresOverridesAndSaysSoOnce) {
  udal_test::Environment env;
  env.set("UDAL_ADD_DRIVER_FILES", "/tmp/evil.json");
  Environment elevated(/*ignore=*/false, /*elevated=*/true);
  Logger logger;
  testing::internal::CaptureStderr();
  EXPECT_EQ(elevated.override_variable("UDAL_ADD_DRIVER_FILES", logger), std::nullopt);
  EXPECT_EQ(elevated.override_variable("UDAL_ADD_DRIVER_FILES", logger), std::nullopt);
  std::string err = testing::internal::GetCapturedStderr();
  size_t first = err.find("UDAL_ADD_DRIVER_FILES is ignored");
  ASSERT_NE(first, std::string::npos) << err;
  EXPECT_EQ(err.find("UDAL_ADD_DRIVER_FILES", first + 1), std::string::npos)
      << "reported more than once: " << err;
  EXPECT_NE(err.find("setuid"), std::string::npos) << err;
}

TEST(EnvironmentTest, ElevatedProcessSaysNothingWhenNoOverrideIsSet) {
  udal_test::Environment env;
  Environment elevated(false, true);
  Logger logger;
  testing::internal::CaptureStderr();
  EXPECT_EQ(elevated.override_variable("UDAL_DRIVERS_SELECT", logger), std::nullopt);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(EnvironmentTest, IgnoreAnswersUnsetForEveryVariable) {
  udal_test::Environment env;
  env.set("UDAL_DRIVER_FILES", "/x.json");
  env.set("XDG_DATA_DIRS", "/x");
  Environment ignoring(/*ignore=*/true, /*elevated=*/false);
  Logger logger;
  EXPECT_EQ(ignoring.override_variable("UDAL_DRIVER_FILES", logger), std::nullopt);
  EXPECT_EQ(ignoring.plain_variable("XDG_DATA_DIRS"), std::nullopt);
}

TEST(EnvironmentTest, OrdinaryProcessReadsOverridesAndTreatsEmptyAsUnset) {
  udal_test::Environment env;
  Environment plain(false, false);
  Logger logger;
  env.set("UDAL_DRIVERS_DISABLE", "cpu");
  EXPECT_EQ(plain.override_variable("UDAL_DRIVERS_DISABLE", logger), "cpu");
  env.set("UDAL_DRIVERS_DISABLE", "");
  EXPECT_EQ(plain.override_variable("UDAL_DRIVERS_DISABLE", logger), std::nullopt);
}

TEST(LoggerTest, SettingChoosesTheThreshold) {
  EXPECT_FALSE(Logger::from_setting("none").enabled(UDAL_LOG_LEVEL_ERROR));
  EXPECT_TRUE(Logger::from_setting("debug").enabled(UDAL_LOG_LEVEL_DEBUG));
  EXPECT_TRUE(Logger::from_setting("ERROR").enabled(UDAL_LOG_LEVEL_ERROR));
  EXPECT_FALSE(Logger::from_setting("error").enabled(UDAL_LOG_LEVEL_WARNING));
  EXPECT_FALSE(Logger::from_setting(nullptr).enabled(UDAL_LOG_LEVEL_INFO));
  EXPECT_TRUE(Logger::from_setting(nullptr).enabled(UDAL_LOG_LEVEL_WARNING));
  testing::internal::CaptureStderr();
  Logger bogus = Logger::from_setting("loud");
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(bogus.enabled(UDAL_LOG_LEVEL_WARNING));
  EXPECT_NE(err.find("UDAL_LOG='loud'"), std::string::npos) << err;
}

TEST(ManifestParsingTest, VersionsAreMajorMinorWithAnOptionalPatch) {
  uint32_t v = 0;
  EXPECT_TRUE(parse_version("1.0", v));
  EXPECT_EQ(v, UDAL_MAKE_VERSION(1, 0));
  EXPECT_TRUE(parse_version("1.2.3", v));
  EXPECT_EQ(v, UDAL_MAKE_VERSION(1, 2));
  EXPECT_TRUE(parse_version("65535.7", v));
  for (const char* bad :
       {"", "1", "1.", ".1", "1.0.0.0", "a.b", "1.x", "1.0-rc1", "99999.0", " 1.0", "1..0"}) {
    EXPECT_FALSE(parse_version(bad, v)) << "'" << bad << "'";
  }
}

TEST(ManifestParsingTest, LibraryPathsResolveAgainstTheManifestDirectory) {
  EXPECT_EQ(resolve_library_path("/etc/udal/drivers.d/a.json", "libx.so"), "libx.so");
  EXPECT_EQ(resolve_library_path("/etc/udal/drivers.d/a.json", "/opt/libx.so"), "/opt/libx.so");
  EXPECT_EQ(resolve_library_path("/etc/udal/drivers.d/a.json", "../lib/libx.so"),
            "/etc/udal/drivers.d/../lib/libx.so");
  EXPECT_EQ(resolve_library_path("a.json", "./libx.so"), "./libx.so");
}

TEST(DiscoveryNamingTest, LibraryFileNamesGiveDriverNames) {
  EXPECT_EQ(driver_name_from_library("/usr/lib/udal/libudal_driver_cpu.so"), "cpu");
  EXPECT_EQ(driver_name_from_library("libudal_driver_vulkan.so.1"), "vulkan");
  EXPECT_EQ(driver_name_from_library("/x/libacme.so"), "acme");
  EXPECT_EQ(driver_name_from_library("/x/acme"), "acme");
}

TEST(DiscoveryNamingTest, ListsDropEmptyEntries) {
  EXPECT_EQ(split_list("a::b:", ':'), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(split_list("", ':'), std::vector<std::string>{});
  EXPECT_EQ(split_list("cpu,vulkan*", ','), (std::vector<std::string>{"cpu", "vulkan*"}));
}

TEST(DiscoveryOrderTest, StandardDirectoriesFollowTheDocumentedOrder) {
  udal_test::Environment env;
  env.set("XDG_CONFIG_DIRS", "/c1:/c2");
  env.set("XDG_DATA_DIRS", "/d1");
  auto dirs = standard_directories(Environment(false, false));
  ASSERT_GE(dirs.size(), 5u);
  EXPECT_EQ(dirs[0], "/c1/udal/drivers.d");
  EXPECT_EQ(dirs[1], "/c2/udal/drivers.d");
  EXPECT_EQ(dirs[2], "/etc/udal/drivers.d");
  EXPECT_EQ(dirs[3], "/d1/udal/drivers.d");
  EXPECT_EQ(dirs.back(), UDAL_INSTALL_MANIFEST_DIR_FULL);

  auto defaults = standard_directories(Environment(true, false));
  EXPECT_EQ(defaults[0], "/etc/xdg/udal/drivers.d");
  EXPECT_EQ(defaults[1], "/etc/udal/drivers.d");
  EXPECT_EQ(defaults[2], "/usr/local/share/udal/drivers.d");
  EXPECT_EQ(defaults[3], "/usr/share/udal/drivers.d");
}

} // namespace
