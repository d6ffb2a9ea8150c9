// A certification package made without a driver: the run, results and log that udal-cts
// would write for a given profile, devices and outcomes, written by the real WritePackage.
// Used by the verifier's tests and to make the seeds of fuzz/package_fuzz.cpp. The log
// mirrors what main.cpp and recorder.cpp write.
#pragma once

#include "report.h"

#include <fmt/format.h>

#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cts::synthetic {

struct Run {
  Profile profile;
  std::vector<std::string> devices = {"fake_0_Fake_device", "fake_1_Fake_device"};
  std::string driver = "fake";
  std::string library_path = "/nonexistent/libudal_driver_fake.so";
  std::string library_sha256 = std::string(64, 'a');
  bool certify = true;
  std::string gtest_filter = "*";
  std::string git_revision = "0123456789abcdef0123456789abcdef01234567";
  // Which tests ran (all by default) and how each ended ("passed" by default).
  std::function<bool(const std::string&)> ran = [](const std::string&) { return true; };
  std::function<std::string(const std::string&)> status = [](const std::string&) {
    return std::string("passed");
  };
};

// Every test of |run.profile| on every device, in profile order.
inline std::vector<std::string> Expand(const Run& run) {
  std::vector<std::string> names;
  const std::string marker = kProfileDevice;
  for (const std::string& test : run.profile.tests) {
    size_t slash = test.rfind('/');
    if (slash == std::string::npos || test.compare(slash + 1, marker.size(), marker) != 0) {
      names.push_back(test);
      continue;
    }
    for (const std::string& device : run.devices)
      names.push_back(test.substr(0, slash + 1) + device + test.substr(slash + 1 + marker.size()));
  }
  return names;
}

inline nlohmann::json RunJson(const Run& run) {
  nlohmann::json drivers = nlohmann::json::array();
  drivers.push_back({{"name", run.driver},
                     {"state", "loaded"},
                     {"reason", ""},
                     {"version", "3.7"},
                     {"abi_version", "1.0"},
                     {"manifest_path", ""},
                     {"library_path", run.library_path},
                     {"library_file", run.library_path},
                     {"library_sha256", run.library_sha256},
                     {"device_count", run.devices.size()}});
  nlohmann::json devices = nlohmann::json::array();
  for (size_t i = 0; i < run.devices.size(); ++i)
    devices.push_back({{"test_suffix", run.devices[i]},
                       {"index", i},
                       {"name", "Fake device"},
                       {"vendor", "UDAL"},
                       {"driver_name", run.driver}});
  nlohmann::json j;
  j["cts_version"] = run.profile.cts_version;
  j["cts_git_revision"] = run.git_revision;
  j["abi_version"] = "1.0";
  j["libudal_abi_version"] = "1.0";
  j["certify"] = run.certify;
  j["driver_argument"] = run.driver;
  j["timeout_s"] = 20.0;
  j["gtest_filter"] = run.gtest_filter;
  j["profile_sha256"] = ProfileDigest(run.profile.tests);
  j["expectations_file"] = "";
  j["expectations_sha256"] = "";
  j["run_expected_failures"] = false;
  j["started_utc"] = "2026-01-01T00:00:00Z";
  j["host"] = "synthetic";
  j["drivers"] = drivers;
  j["devices"] = devices;
  return j;
}

inline std::vector<TestResult> Results(const Run& run) {
  std::vector<TestResult> results;
  for (const std::string& name : Expand(run)) {
    if (!run.ran(name)) continue;
    TestResult r;
    r.full_name = name;
    size_t dot = name.find('.');
    r.suite = name.substr(0, dot);
    r.name = name.substr(dot + 1);
    size_t slash = r.name.rfind('/');
    r.device = slash == std::string::npos ? "" : r.name.substr(slash + 1);
    r.status = run.status(name);
    r.seconds = 0.001;
    r.message = r.status == "passed" ? "" : "because the test says so";
    results.push_back(r);
  }
  return results;
}

// cts.log as main.cpp and the recorder write it.
inline std::string Log(const Run& run, const std::vector<TestResult>& results) {
  nlohmann::json j = RunJson(run);
  std::string log = fmt::format("udal-cts {} (git {}), ABI {}, started {}\n", run.profile.cts_version,
                                run.git_revision, "1.0", j["started_utc"].get<std::string>());
  for (const nlohmann::json& d : j["drivers"]) log += "driver: " + d.dump() + "\n";
  for (const nlohmann::json& d : j["devices"]) log += "device: " + d.dump() + "\n";
  for (const TestResult& r : results) {
    log += "[ RUN      ] " + r.full_name + "\n";
    if (r.status == "failed") log += "test.cpp:1: " + r.message + "\n";
    log += fmt::format("[ {:>8} ] {} ({:.3f} s){}\n", r.status, r.full_name, r.seconds,
                       r.status == "skipped" || r.status == "waived" ? ": " + r.message : "");
  }
  return log;
}

// Writes the package of |run| into |dir| (created; must be empty), signed with |key| when
// given. Returns the package digest.
inline std::string Write(const std::string& dir, const Run& run, const Ed25519Key* key = nullptr) {
  std::vector<TestResult> results = Results(run);
  std::filesystem::create_directories(dir);
  std::ofstream(std::filesystem::path(dir) / kLogFile, std::ios::binary) << Log(run, results);
  return WritePackage(dir, BuildReport(RunJson(run), results, /*complete=*/true), results, key);
}

// The files of a package directory, name -> bytes.
inline std::map<std::string, std::string> Read(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    files[entry.path().filename().string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return files;
}

// Rewrites MANIFEST.sha256 over |files| as a forger would (the signature, if any, is kept).
inline void Rehash(std::map<std::string, std::string>& files) {
  std::string manifest;
  for (const auto& [name, bytes] : files) {
    if (name == kManifestFile || name == kSignatureFile) continue;
    manifest += Sha256(bytes) + "  " + name + "\n";
  }
  files[kManifestFile] = manifest;
}

}  // namespace cts::synthetic
