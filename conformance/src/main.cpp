// udal-cts: the UDAL conformance suite.
//
//   udal-cts [--driver <name|manifest.json|library.so>] [--timeout-s N] [--out DIR]
//            [--expectations FILE] [--run-expected-failures] [GoogleTest flags…]
//   udal-cts --certify --driver <…> --out DIR [--sign-key KEY.pem]
//                                         the fixed profile; writes a (signed) package
//   udal-cts verify DIR [--key PUB.pem] [--library FILE]
//                                         checks a package against this CTS's profile
//   udal-cts profile                      lists the certification profile
//
// The CTS's own options are parsed by CLI11; everything else goes to GoogleTest.
#include "cts.h"
#include "expectations.h"
#include "recorder.h"
#include "report.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fnmatch.h>
#include <iostream>
#include <map>
#include <set>
#include <thread>

namespace fs = std::filesystem;

namespace {

struct Options {
  std::string driver;
  std::string timeout_text;
  double timeout_s = 20;
  std::string out_dir;
  std::string expectations_file;
  bool run_expected_failures = false;
  bool certify = false;
  std::string sign_key;
  std::string kernel_dir;
  std::string verify_dir;
  std::string verify_key;
  std::string verify_library;
};

// The longest a test may run: a day. Beyond it a duration overflows the clocks it is
// compared with (1e20 s timed out at once), and no test needs it.
constexpr double kMaxTimeoutS = 86400;

// --timeout-s: a finite number of seconds, 0 < t <= a day. CLI11's PositiveNumber let "nan"
// (every test timed out) and 1e308 (overflowed) through.
bool ParseTimeout(const std::string& text, double* out, std::string* error) {
  errno = 0;
  char* end = nullptr;
  double value = text.empty() ? 0 : std::strtod(text.c_str(), &end);
  if (text.empty() || end == nullptr || *end != '\0' || !std::isfinite(value) || value <= 0 ||
      value > kMaxTimeoutS || errno == ERANGE) {
    *error = fmt::format("--timeout-s '{}' is not a number of seconds in (0, {}]: give e.g. "
                         "--timeout-s 60",
                         text, kMaxTimeoutS);
    return false;
  }
  *out = value;
  return true;
}

std::string VersionText(uint32_t version) {
  return fmt::format("{}.{}", UDAL_VERSION_MAJOR(version), UDAL_VERSION_MINOR(version));
}

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

fs::path ExeDir() {
  std::error_code error;
  fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::current_path() : exe.parent_path();
}

bool LooksLikePath(const std::string& driver) {
  return driver.find('/') != std::string::npos || driver.ends_with(".json") ||
         driver.ends_with(".so") || driver.find(".so.") != std::string::npos;
}

std::string Hex(const uint8_t* bytes, size_t size) {
  std::string text;
  for (size_t i = 0; i < size; ++i) text += fmt::format("{:02x}", bytes[i]);
  return text;
}

nlohmann::json DeviceJson(const cts::DeviceParam& d) {
  const udal_device_info_t& i = d.info;
  nlohmann::json formats = nlohmann::json::array();
  for (uint32_t k = 0; k < i.module_format_count && k < UDAL_MAX_MODULE_FORMATS; ++k) {
    formats.push_back(static_cast<int>(i.module_formats[k]));
  }
  nlohmann::json subgroups = nlohmann::json::array();
  for (uint32_t k = 0; k < i.subgroup_size_count && k < UDAL_MAX_SUBGROUP_SIZES; ++k) {
    subgroups.push_back(i.subgroup_sizes[k]);
  }
  return {{"test_suffix", d.test_suffix},
          {"index", d.index},
          {"name", i.name},
          {"vendor", i.vendor},
          {"driver_name", i.driver_name},
          {"driver_version", VersionText(i.driver_version)},
          {"abi_version", VersionText(i.abi_version)},
          {"device_type", static_cast<int>(i.device_type)},
          {"uuid", Hex(i.uuid, UDAL_UUID_SIZE)},
          {"device_memory_bytes", i.device_memory_bytes},
          {"host_visible_memory_bytes", i.host_visible_memory_bytes},
          {"max_group_size", {i.max_group_size[0], i.max_group_size[1], i.max_group_size[2]}},
          {"max_group_invocations", i.max_group_invocations},
          {"max_group_count", {i.max_group_count[0], i.max_group_count[1], i.max_group_count[2]}},
          {"max_local_memory_bytes", i.max_local_memory_bytes},
          {"max_allocation_bytes", i.max_allocation_bytes},
          {"max_kernel_arguments", i.max_kernel_arguments},
          {"max_value_argument_bytes", i.max_value_argument_bytes},
          {"min_buffer_alignment", i.min_buffer_alignment},
          {"buffer_argument_offset_alignment", i.buffer_argument_offset_alignment},
          {"compute_unit_count", i.compute_unit_count},
          {"preferred_group_size_multiple", i.preferred_group_size_multiple},
          {"subgroup_sizes", subgroups},
          {"module_formats", formats},
          {"features", i.features},
          {"pci_bus_id", i.pci_bus_id},
          {"numa_node", i.numa_node}};
}

// GoogleTest flags that change which tests run or how often: refused by --certify, because
// the certification profile is fixed.
bool ChangesProfile(const std::string& arg) {
  static const char* allowed[] = {"--gtest_color", "--gtest_brief", "--gtest_print_time"};
  if (!arg.starts_with("--gtest_")) return true;  // anything unknown is refused as well
  for (const char* ok : allowed) {
    if (arg.starts_with(ok)) return false;
  }
  return true;
}

int Fail(const std::string& message) {
  std::cerr << "udal-cts: " << message << "\n";
  return 2;
}

// GoogleTest's own rule for a disabled test: never run, so not part of the profile.
bool Disabled(const std::string& full_name) {
  return fnmatch("DISABLED_*", full_name.c_str(), 0) == 0 ||
         fnmatch("*/DISABLED_*", full_name.c_str(), 0) == 0 ||
         full_name.find(".DISABLED_") != std::string::npos;
}

// Every test GoogleTest registered, "Suite.Case/param", disabled ones left out.
std::vector<std::string> RegisteredTests() {
  std::vector<std::string> names;
  testing::UnitTest* unit = testing::UnitTest::GetInstance();
  for (int i = 0; i < unit->total_test_suite_count(); ++i) {
    const testing::TestSuite* suite = unit->GetTestSuite(i);
    for (int j = 0; j < suite->total_test_count(); ++j) {
      const testing::TestInfo* info = suite->GetTestInfo(j);
      std::string name = std::string(info->test_suite_name()) + "." + info->name();
      if (!Disabled(name)) names.push_back(name);
    }
  }
  return names;
}

// The profile with a test's device parameter (a leading device suffix of its last path
// component) written as cts::kProfileDevice.
std::vector<std::string> ProfileOf(const std::vector<std::string>& tests,
                                   const std::vector<std::string>& suffixes) {
  std::set<std::string> profile;
  for (const std::string& test : tests) {
    size_t slash = test.rfind('/');
    std::string best;
    for (const std::string& suffix : suffixes) {
      if (slash != std::string::npos && test.compare(slash + 1, suffix.size(), suffix) == 0 &&
          suffix.size() > best.size())
        best = suffix;
    }
    profile.insert(best.empty() ? test
                                : test.substr(0, slash + 1) + cts::kProfileDevice +
                                      test.substr(slash + 1 + best.size()));
  }
  return {profile.begin(), profile.end()};
}

// The certification profile of this build: the tests registered for one stand-in device.
// Only before GoogleTest has registered the tests for real devices.
cts::Profile ListProfile(const char* argv0) {
  cts::DeviceParam stand_in;
  stand_in.test_suffix = cts::kProfileDevice;
  stand_in.driver_name = cts::kProfileDevice;
  cts::context().devices = {stand_in};
  std::string name = argv0;
  std::vector<char*> argv = {name.data(), nullptr};
  int argc = 1;
  testing::InitGoogleTest(&argc, argv.data());
  cts::Profile profile;
  profile.cts_version = UDAL_CTS_VERSION;
  profile.tests = ProfileOf(RegisteredTests(), {cts::kProfileDevice});
  cts::context().devices.clear();
  return profile;
}

// The file a library loaded by a bare name (left to the dynamic linker's search) came from.
std::string LoadedLibraryFile(const std::string& bare) {
  struct Search {
    std::string bare, found;
  } search{bare, ""};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        if (info->dlpi_name == nullptr) return 0;
        std::string name = info->dlpi_name;
        size_t slash = name.rfind('/');
        if (slash != std::string::npos && name.compare(slash + 1, std::string::npos, s->bare) == 0) {
          s->found = name;
          return 1;
        }
        return 0;
      },
      &search);
  return search.found;
}

// The absolute, symlink-free path of a driver's library as loaded, or "".
std::string LibraryFile(const std::string& library_path) {
  std::string path = library_path.find('/') == std::string::npos ? LoadedLibraryFile(library_path)
                                                                 : library_path;
  if (path.empty()) return "";
  std::error_code error;
  fs::path canonical = fs::canonical(path, error);
  return error ? "" : canonical.string();
}

std::string JsonLine(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"udal-cts: the UDAL conformance suite. Options not listed here go to "
               "GoogleTest (e.g. --gtest_filter=*Buffer*)."};
  app.allow_extras();
  app.add_option("--driver", opt.driver,
                 "driver under test: a name (as in its manifest), a manifest (.json) or a "
                 "library (.so); default: every driver the search finds");
  CLI::Option* timeout_option =
      app.add_option("--timeout-s", opt.timeout_text,
                     "time limit of one test in seconds, 0 < N <= 86400 (default 20)");
  app.add_option("--out", opt.out_dir,
                 "write the report package (report.json, junit.xml, summary.md, cts.log, "
                 "MANIFEST.sha256) into this new or empty directory");
  app.add_option("--expectations", opt.expectations_file,
                 "expected failures file (`<test glob> <reason>` a line); default: the "
                 "driver's declared one, share/udal/cts/expectations/<name>.txt beside the "
                 "share/udal/drivers.d that holds its manifest");
  app.add_flag("--run-expected-failures", opt.run_expected_failures,
               "run declared expected failures anyway and report unexpected passes");
  app.add_flag("--certify", opt.certify,
               "run the fixed certification profile (no filters) and write the package to "
               "--out");
  app.add_option("--sign-key", opt.sign_key,
                 "with --certify: sign the package with this Ed25519 private key (PEM, "
                 "`openssl genpkey -algorithm ed25519 -out KEY.pem`)");
  app.add_option("--kernel-dir", opt.kernel_dir, "where the CTS's kernel images are");
  CLI::App* verify = app.add_subcommand(
      "verify", "check a certification package against this CTS's profile");
  verify->add_option("dir", opt.verify_dir, "the package directory")->required();
  verify->add_option("--key", opt.verify_key,
                     "the certifier's Ed25519 public key (PEM): the package must be signed by it");
  verify->add_option("--library", opt.verify_library,
                     "the driver library to compare with the recorded sha256 (default: the "
                     "recorded path, when it exists here)");
  verify->allow_extras(false);
  CLI::App* profile_command =
      app.add_subcommand("profile", "list the certification profile of this CTS");
  profile_command->allow_extras(false);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*verify || *profile_command) {
    CLI::App* sub = *verify ? verify : profile_command;
    std::vector<std::string> extra = app.remaining();
    std::vector<std::string> sub_extra = sub->remaining();
    extra.insert(extra.end(), sub_extra.begin(), sub_extra.end());
    if (!extra.empty())
      return Fail(fmt::format("{} takes {}; unexpected `{}`", sub->get_name(),
                              *verify ? "one package directory" : "no argument", extra.front()));
    if (!opt.driver.empty() || !opt.out_dir.empty() || opt.certify || !opt.sign_key.empty())
      return Fail(sub->get_name() + " takes none of --driver, --out, --certify, --sign-key");
    cts::Profile profile = ListProfile(argv[0]);
    if (*profile_command) {
      std::cout << "# udal-cts " << profile.cts_version << " certification profile: "
                << profile.tests.size() << " tests (each test named .../" << cts::kProfileDevice
                << " runs once per device); sha256 " << cts::ProfileDigest(profile.tests) << "\n";
      for (const std::string& t : profile.tests) std::cout << t << "\n";
      return 0;
    }
    cts::VerifyOptions verify_options;
    verify_options.dir = opt.verify_dir;
    verify_options.key_path = opt.verify_key;
    verify_options.library_path = opt.verify_library;
    verify_options.profile = std::move(profile);
    return cts::VerifyPackage(verify_options);
  }

  if (timeout_option->count() > 0) {
    std::string error;
    if (!ParseTimeout(opt.timeout_text, &opt.timeout_s, &error)) return Fail(error);
  }
  std::optional<cts::Ed25519Key> sign_key;
  if (!opt.sign_key.empty()) {
    if (!opt.certify) return Fail("--sign-key signs a certification: it needs --certify");
    std::string error;
    sign_key = cts::Ed25519Key::LoadPrivate(opt.sign_key, &error);
    if (!sign_key) return Fail("--sign-key " + error);
  }

  std::vector<std::string> gtest_args = app.remaining();
  cts::Context& ctx = cts::context();
  ctx.timeout_s = opt.timeout_s;

  if (opt.certify) {
    if (opt.driver.empty()) return Fail("--certify needs --driver: a package certifies one driver");
    if (opt.out_dir.empty()) return Fail("--certify needs --out DIR");
    if (!opt.expectations_file.empty() || opt.run_expected_failures)
      return Fail("--certify takes the expected failures declared beside the driver "
                  "(share/udal/cts/expectations/<name>.txt next to the manifest's "
                  "share/udal/drivers.d) and nothing else");
    for (const std::string& arg : gtest_args) {
      if (ChangesProfile(arg))
        return Fail("--certify runs the fixed profile; `" + arg + "` is refused");
    }
    for (const char* variable : {"GTEST_FILTER", "GTEST_ALSO_RUN_DISABLED_TESTS", "GTEST_REPEAT",
                                 "GTEST_SHUFFLE", "GTEST_TOTAL_SHARDS", "GTEST_SHARD_INDEX",
                                 "GTEST_FAIL_FAST"}) {
      if (std::getenv(variable) != nullptr)
        return Fail(fmt::format("--certify runs the fixed profile; unset {}", variable));
    }
  }
  if (!opt.out_dir.empty()) {
    std::error_code error;
    if (fs::exists(opt.out_dir) && !fs::is_empty(opt.out_dir, error))
      return Fail("--out " + opt.out_dir + " is not empty; a package is written into a new directory");
    fs::create_directories(opt.out_dir, error);
    if (error) return Fail("cannot create " + opt.out_dir + ": " + error.message());
  }

  // Kernel images: the installed ones of the prefix this binary runs from, else those the
  // build tree keeps beside the binary. Both are found from the binary's own place, so a
  // moved prefix still finds its kernels and an installed suite never reads a build tree.
  if (opt.kernel_dir.empty()) {
    for (fs::path candidate : {ExeDir() / ".." / "share" / "udal" / "cts" / "kernels",
                               ExeDir() / "udal-cts-kernels"}) {
      if (fs::is_directory(candidate)) {
        opt.kernel_dir = candidate.string();
        break;
      }
    }
  }
  ctx.kernel_dir = opt.kernel_dir;

  // The driver under test.
  if (!opt.driver.empty() && LooksLikePath(opt.driver)) {
    ctx.driver_paths.push_back(fs::absolute(opt.driver).string());
  } else {
    ctx.driver_name = opt.driver;
  }
  udal_result_t created = cts::CreateInstanceLikeContext(&ctx.instance);
  if (created != UDAL_SUCCESS) {
    return Fail(fmt::format("udal_instance_create: {}: {}", udal_result_name(created),
                            udal_last_error_message()));
  }

  nlohmann::json drivers = nlohmann::json::array();
  std::vector<std::string> tested_driver_names;
  std::vector<std::string> tested_manifest_paths;
  uint32_t driver_count = 0;
  udal_instance_get_driver_count(ctx.instance, &driver_count);
  std::string load_failures;
  for (uint32_t i = 0; i < driver_count; ++i) {
    udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
    if (udal_instance_get_driver_status(ctx.instance, i, &status) != UDAL_SUCCESS) continue;
    if (!ctx.driver_name.empty() && ctx.driver_name != status.name) continue;
    if (status.state != UDAL_DRIVER_STATE_LOADED) {
      load_failures += fmt::format("\n  {} ({}): {}", status.name, status.library_path, status.reason);
    } else {
      tested_driver_names.push_back(status.name);
      tested_manifest_paths.push_back(status.manifest_path);
    }
    std::string library_file = LibraryFile(status.library_path);
    drivers.push_back({{"name", status.name},
                       {"state", status.state == UDAL_DRIVER_STATE_LOADED ? "loaded"
                                 : status.state == UDAL_DRIVER_STATE_FAILED ? "failed"
                                                                            : "filtered"},
                       {"reason", status.reason},
                       {"version", VersionText(status.driver_version)},
                       {"abi_version", VersionText(status.abi_version)},
                       {"manifest_path", status.manifest_path},
                       {"library_path", status.library_path},
                       {"library_file", library_file},
                       {"library_sha256", library_file.empty() ? "" : cts::Sha256File(library_file)},
                       {"device_count", status.device_count}});
  }

  uint32_t device_count = 0;
  udal_instance_get_device_count(ctx.instance, &device_count);
  std::map<std::string, uint32_t> per_driver;
  for (uint32_t i = 0; i < device_count; ++i) {
    cts::DeviceParam param;
    param.index = i;
    if (udal_instance_get_device(ctx.instance, i, &param.device) != UDAL_SUCCESS) continue;
    // param.info is UDAL_DEVICE_INFO_INIT (type and struct_size set) from DeviceParam.
    if (udal_device_get_info(param.device, &param.info) != UDAL_SUCCESS) {
      return Fail(fmt::format("udal_device_get_info of device {}: {}", i, udal_last_error_message()));
    }
    param.driver_name = param.info.driver_name;
    if (!ctx.driver_name.empty() && param.driver_name != ctx.driver_name) continue;
    uint32_t ordinal = per_driver[param.driver_name]++;
    param.test_suffix = cts::Sanitize(fmt::format("{}_{}_{}", param.driver_name, ordinal, param.info.name));
    ctx.devices.push_back(param);
  }
  if (opt.certify) {
    // A certificate names the bytes it certifies.
    for (const nlohmann::json& d : drivers) {
      if (d["state"] == "loaded" && d["library_sha256"] == "")
        return Fail(fmt::format("--certify: cannot read driver library '{}' to record its sha256",
                                d["library_path"].get<std::string>()));
    }
  }
  if (ctx.devices.empty()) {
    std::string what = opt.driver.empty() ? "any driver" : "driver " + opt.driver;
    if (drivers.empty()) return Fail("no driver found for " + what + " (see UDAL_DRIVER_FILES)");
    return Fail("no device to test for " + what +
                (load_failures.empty() ? std::string(": the driver reports no devices")
                                       : ": it did not load:" + load_failures));
  }

  // Expected failures: the file declared beside the driver, `<name>.txt` in
  // share/udal/cts/expectations of the tree that holds its manifest in share/udal/drivers.d
  // (an install prefix, a build tree: UDAL's own and udal_add_driver's mirror that layout);
  // for a driver given as a library, that of the prefix this binary runs from. No path of
  // the machine the suite was built on is ever read. A certification takes that file only, and its verdict says
  // PASS_WITH_WAIVERS when it waived anything.
  {
    std::string file = opt.expectations_file;
    if (file.empty() && tested_driver_names.size() == 1) {
      const std::string& name = tested_driver_names.front();
      const std::string& manifest = tested_manifest_paths.front();
      const fs::path share = manifest.empty() ? ExeDir() / ".." / "share" / "udal"
                                              : fs::path(manifest).parent_path() / "..";
      const fs::path candidate = share / "cts" / "expectations" / (name + ".txt");
      std::error_code error;
      if (fs::is_regular_file(candidate, error)) {
        file = fs::weakly_canonical(candidate, error).string();
        if (error) file = candidate.string();
      }
    }
    if (!file.empty()) {
      std::string error;
      if (!cts::expectations().Load(file, &error)) return Fail(error);
      std::cout << "udal-cts: expected failures from " << file << "\n";
    }
    cts::run_expected_failures() = opt.run_expected_failures;
  }

  // GoogleTest sees argv[0] plus what CLI11 did not take; the tests are registered now,
  // from the device list.
  std::vector<std::string> gtest_storage = {argv[0]};
  gtest_storage.insert(gtest_storage.end(), gtest_args.begin(), gtest_args.end());
  std::vector<char*> gtest_argv;
  for (std::string& arg : gtest_storage) gtest_argv.push_back(arg.data());
  int gtest_argc = static_cast<int>(gtest_argv.size());
  gtest_argv.push_back(nullptr);  // argv[argc] is NULL: GoogleTest moves it with the rest
  testing::InitGoogleTest(&gtest_argc, gtest_argv.data());
  if (gtest_argc > 1) return Fail(fmt::format("unknown option `{}` (see --help)", gtest_argv[1]));

  nlohmann::json run;
  run["cts_version"] = UDAL_CTS_VERSION;
  run["cts_git_revision"] = UDAL_CTS_GIT_REVISION;
  run["abi_version"] = VersionText(UDAL_ABI_VERSION);
  run["libudal_abi_version"] = VersionText(udal_get_abi_version());
  run["certify"] = opt.certify;
  run["driver_argument"] = opt.driver;
  run["timeout_s"] = opt.timeout_s;
  run["gtest_filter"] = testing::GTEST_FLAG(filter);
  {
    std::vector<std::string> suffixes;
    for (const cts::DeviceParam& d : ctx.devices) suffixes.push_back(d.test_suffix);
    run["profile_sha256"] = cts::ProfileDigest(ProfileOf(RegisteredTests(), suffixes));
  }
  run["expectations_file"] = cts::expectations().path();
  run["expectations_sha256"] =
      cts::expectations().path().empty() ? "" : cts::Sha256File(cts::expectations().path());
  run["run_expected_failures"] = opt.run_expected_failures;
  run["started_utc"] = UtcNow();
  run["host"] = [] {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    return std::string(name);
  }();
  run["drivers"] = drivers;
  nlohmann::json device_list = nlohmann::json::array();
  for (const cts::DeviceParam& d : ctx.devices) device_list.push_back(DeviceJson(d));
  run["devices"] = device_list;

  std::string log_path = opt.out_dir.empty() ? "" : (fs::path(opt.out_dir) / cts::kLogFile).string();
  auto* recorder = new cts::Recorder(log_path);  // owned by GoogleTest's listener list
  recorder->Log(fmt::format("udal-cts {} (git {}), ABI {}, started {}", UDAL_CTS_VERSION,
                            UDAL_CTS_GIT_REVISION, VersionText(UDAL_ABI_VERSION),
                            run["started_utc"].get<std::string>()));
  for (const nlohmann::json& d : drivers) recorder->Log("driver: " + JsonLine(d));
  for (const nlohmann::json& d : device_list) recorder->Log("device: " + JsonLine(d));
  testing::UnitTest::GetInstance()->listeners().Append(recorder);

  const std::string out_dir = opt.out_dir;
  recorder->StartWatchdog(opt.timeout_s, [run, out_dir](const std::vector<cts::TestResult>& so_far) {
    if (out_dir.empty()) return;
    nlohmann::json report = cts::BuildReport(run, so_far, /*complete=*/false);
    cts::WritePackage(out_dir, report, so_far);
    std::cerr << "udal-cts: partial report written to " << out_dir << "\n";
  });
  recorder->InstallCrashHandler();

  // The verdict comes from the recorder (expected failures change it), not from gtest.
  int gtest_result = RUN_ALL_TESTS();
  (void)gtest_result;
  recorder->StopWatchdog();

  std::vector<cts::TestResult> results = recorder->Results();
  nlohmann::json report = cts::BuildReport(run, results, /*complete=*/true);
  const nlohmann::json& c = report["counts"];
  std::cout << fmt::format(
      "\nudal-cts: {} tests: {} passed, {} failed, {} skipped, {} waived, {} expected "
      "failures, {} unexpected passes; verdict {}\n",
      c["total"].get<int>(), c["passed"].get<int>(), c["failed"].get<int>(),
      c["skipped"].get<int>(), c["waived"].get<int>(), c["expected_failure"].get<int>(),
      c["unexpected_pass"].get<int>(), report["verdict"].get<std::string>());
  for (const cts::TestResult& r : results) {
    if (r.status == "failed") std::cout << "  FAILED: " << r.full_name << "\n";
    if (r.status == "unexpected_pass")
      std::cout << "  UNEXPECTED PASS: " << r.full_name << " (declared in "
                << cts::expectations().path() << ")\n";
  }
  if (!out_dir.empty()) {
    std::string digest =
        cts::WritePackage(out_dir, report, results, sign_key ? &*sign_key : nullptr);
    std::cout << "udal-cts: package written to " << out_dir
              << "; package digest (sha256 of MANIFEST.sha256): " << digest << "\n";
    if (sign_key)
      std::cout << "udal-cts: signed with Ed25519 key " << sign_key->PublicHex() << " ("
                << cts::kSignatureFile << ")\n";
  }
  int code = c["failed"].get<int>() > 0 || c["total"].get<int>() == 0 ? 1 : 0;
  if (opt.certify && report["verdict"] == "FAIL") code = 1;
  std::cout.flush();

  // Tearing down a broken driver may hang; the verdict is already written, so a bounded
  // wait ends the process either way.
  double limit = opt.timeout_s;
  std::thread([limit, code] {
    std::this_thread::sleep_for(std::chrono::duration<double>(limit));
    std::cerr << "udal-cts: udal_instance_release did not return within " << limit << " s\n";
    _exit(code != 0 ? code : 3);
  }).detach();
  udal_instance_release(ctx.instance);
  return code;
}
