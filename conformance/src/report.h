// The certification package: report.json, junit.xml, summary.md, cts.log and
// MANIFEST.sha256, and its verification (`udal-cts verify DIR`).
#pragma once

#include "recorder.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace cts {

inline constexpr const char* kReportFile = "report.json";
inline constexpr const char* kJUnitFile = "junit.xml";
inline constexpr const char* kSummaryFile = "summary.md";
inline constexpr const char* kLogFile = "cts.log";
inline constexpr const char* kManifestFile = "MANIFEST.sha256";

// Hex sha256 of a file's bytes; "" when it cannot be read.
std::string Sha256File(const std::string& path);

// "FAIL" when a test failed, none passed, or the run stopped early; else
// "PASS_WITH_WAIVERS" when the driver's expected failures waived some tests; else "PASS".
std::string Verdict(const std::vector<TestResult>& results, bool complete);

// The JSON report: |run| (what was tested, with what, how) + every result + counts + verdict.
nlohmann::json BuildReport(const nlohmann::json& run, const std::vector<TestResult>& results,
                           bool complete);

// Writes report.json, junit.xml and summary.md into |dir|, then MANIFEST.sha256 over every
// file in |dir| (the log included). Returns the sha256 of the manifest: the package digest.
std::string WritePackage(const std::string& dir, const nlohmann::json& report,
                         const std::vector<TestResult>& results);

// Checks that |dir| holds a complete, consistent, untampered package; prints what it finds.
// Returns 0 when it does, 1 otherwise.
int VerifyPackage(const std::string& dir);

}  // namespace cts
