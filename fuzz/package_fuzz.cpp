// libFuzzer target: the certification-package verifier (conformance/src/report.cpp,
// VerifyContents) on packages given as text (package_fixture.h), without and with the
// fuzzer's key. It must never crash, hang or throw, must pass nothing it should not (a
// verified package has a summary and no problem, and passing with the key implies passing
// without it), and a package it passes must hold a result for every test of the profile.
#include "package_fixture.h"

#include <cstdint>

#define CHECK(condition)                                                                       \
  do {                                                                                         \
    if (!(condition)) __builtin_trap();                                                        \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::map<std::string, std::string> files = udal_fuzz::Split(text);
  cts::LibraryHasher hasher = udal_fuzz::FindLibrary;
  cts::VerifyOutcome plain = cts::VerifyContents(files, {}, udal_fuzz::Profile(), nullptr, hasher);
  cts::VerifyOutcome keyed =
      cts::VerifyContents(files, {}, udal_fuzz::Profile(), &udal_fuzz::Key(), hasher);
  for (const cts::VerifyOutcome* out : {&plain, &keyed}) {
    CHECK(out->problems.empty() != out->summary.empty());
    for (const std::string& p : out->problems) CHECK(!p.empty());
  }
  if (keyed.problems.empty()) CHECK(plain.problems.empty());
  if (plain.problems.empty()) {
    // A pass means every profile test has a result: the report names each of them.
    const std::string& report = files.at(cts::kReportFile);
    for (const std::string& test : udal_fuzz::Profile().tests) {
      std::string stem = test.substr(0, test.rfind('/') + 1);
      CHECK(report.find(stem.empty() ? test : stem) != std::string::npos);
    }
  }
  return 0;
}
