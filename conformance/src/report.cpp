#include "report.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

namespace cts {
namespace fs = std::filesystem;

std::string Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return "";
  std::vector<char> chunk(1 << 16);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), chunk.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) return "";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

namespace {

struct Counts {
  int total = 0, passed = 0, failed = 0, skipped = 0, waived = 0, expected_failure = 0,
      unexpected_pass = 0;
};

Counts Count(const std::vector<TestResult>& results) {
  Counts c;
  for (const TestResult& r : results) {
    ++c.total;
    if (r.status == "passed") ++c.passed;
    else if (r.status == "failed") ++c.failed;
    else if (r.status == "skipped") ++c.skipped;
    else if (r.status == "waived") ++c.waived;
    else if (r.status == "expected_failure") ++c.expected_failure;
    else if (r.status == "unexpected_pass") ++c.unexpected_pass;
  }
  return c;
}

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\n': out += "&#10;"; break;
      default:
        // XML 1.0 cannot carry most control characters, even escaped.
        if (c < 0x20 && c != '\t') out += '?';
        else out += static_cast<char>(c);
    }
  }
  return out;
}

std::string JUnit(const std::vector<TestResult>& results, const Counts& counts) {
  std::map<std::string, std::vector<const TestResult*>> suites;
  for (const TestResult& r : results) suites[r.suite].push_back(&r);
  double total_time = 0;
  for (const TestResult& r : results) total_time += r.seconds;
  std::ostringstream xml;
  // Expected failures count as skipped for JUnit readers: they are waived, not passed.
  xml << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml << fmt::format("<testsuites name=\"udal-cts\" tests=\"{}\" failures=\"{}\" "
                     "skipped=\"{}\" errors=\"0\" time=\"{:.3f}\">\n",
                     counts.total, counts.failed, counts.skipped + counts.waived + counts.expected_failure,
                     total_time);
  for (const auto& [suite, members] : suites) {
    Counts sc = Count([&] {
      std::vector<TestResult> copy;
      for (const TestResult* r : members) copy.push_back(*r);
      return copy;
    }());
    xml << fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" "
                       "errors=\"0\">\n",
                       XmlEscape(suite), sc.total, sc.failed, sc.skipped + sc.waived + sc.expected_failure);
    for (const TestResult* r : members) {
      xml << fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"",
                         XmlEscape(r->suite), XmlEscape(r->name), r->seconds);
      if (r->status == "failed") {
        std::string first_line = r->message.substr(0, r->message.find('\n'));
        xml << fmt::format(">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                           XmlEscape(first_line), XmlEscape(r->message));
      } else if (r->status == "skipped" || r->status == "waived" ||
                 r->status == "expected_failure") {
        xml << fmt::format(">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                           XmlEscape(r->message));
      } else if (r->status == "unexpected_pass") {
        xml << fmt::format(">\n      <system-out>{}</system-out>\n    </testcase>\n",
                           XmlEscape("unexpected pass: " + r->message));
      } else {
        xml << "/>\n";
      }
    }
    xml << "  </testsuite>\n";
  }
  xml << "</testsuites>\n";
  return xml.str();
}

std::string Summary(const nlohmann::json& report, const std::vector<TestResult>& results) {
  const nlohmann::json& run = report["run"];
  const nlohmann::json& c = report["counts"];
  std::ostringstream md;
  md << "# udal-cts " << (run.value("certify", false) ? "certification" : "run") << ": **"
     << report["verdict"].get<std::string>() << "**\n\n";
  md << "| | |\n|---|---|\n";
  md << "| CTS | " << run["cts_version"].get<std::string>() << " (git "
     << run["cts_git_revision"].get<std::string>() << ") |\n";
  md << "| ABI | " << run["abi_version"].get<std::string>() << " |\n";
  for (const nlohmann::json& d : run["drivers"]) {
    md << "| Driver | " << d["name"].get<std::string>() << " " << d["version"].get<std::string>()
       << ", " << d["library_path"].get<std::string>() << ", sha256 "
       << d["library_sha256"].get<std::string>() << " |\n";
  }
  for (const nlohmann::json& d : run["devices"]) {
    md << "| Device | " << d["test_suffix"].get<std::string>() << ": "
       << d["name"].get<std::string>() << " (" << d["vendor"].get<std::string>() << ") |\n";
  }
  md << "| Started | " << run["started_utc"].get<std::string>() << " |\n";
  md << "| Tests | " << c["total"] << " run: " << c["passed"] << " passed, " << c["failed"]
     << " failed, " << c["skipped"] << " skipped, " << c["waived"] << " waived, "
     << c["expected_failure"]
     << " expected failures, " << c["unexpected_pass"] << " unexpected passes |\n";
  md << "| Time | " << fmt::format("{:.1f}", report["seconds"].get<double>()) << " s |\n";
  if (!report["complete"].get<bool>()) md << "| Note | the run stopped early (a test timed out) |\n";
  md << "\n";
  auto section = [&](const char* title, const char* status) {
    bool any = false;
    for (const TestResult& r : results) {
      if (r.status != status) continue;
      if (!any) md << "## " << title << "\n\n";
      any = true;
      std::string first_line = r.message.substr(0, r.message.find('\n'));
      md << "- `" << r.full_name << "`" << (first_line.empty() ? "" : ": " + first_line) << "\n";
    }
    if (any) md << "\n";
  };
  section("Failed", "failed");
  section("Unexpected passes (remove them from the expectations file)", "unexpected_pass");
  section("Waived: declared expected failures, not run", "waived");
  section("Expected failures (declared by the driver, run anyway)", "expected_failure");
  section("Skipped", "skipped");
  return md.str();
}

bool WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

std::string Verdict(const std::vector<TestResult>& results, bool complete) {
  Counts c = Count(results);
  if (!complete || c.failed > 0 || c.passed + c.unexpected_pass == 0) return "FAIL";
  // A waiver is the driver's own declaration; a certificate shows it rather than hide it.
  return c.waived + c.expected_failure > 0 ? "PASS_WITH_WAIVERS" : "PASS";
}

nlohmann::json BuildReport(const nlohmann::json& run, const std::vector<TestResult>& results,
                           bool complete) {
  Counts c = Count(results);
  nlohmann::json report;
  report["format"] = "udal-cts-report/1";
  report["run"] = run;
  report["complete"] = complete;
  double seconds = 0;
  nlohmann::json tests = nlohmann::json::array();
  for (const TestResult& r : results) {
    seconds += r.seconds;
    tests.push_back({{"name", r.full_name},
                     {"suite", r.suite},
                     {"case", r.name},
                     {"device", r.device},
                     {"status", r.status},
                     {"seconds", r.seconds},
                     {"message", r.message}});
  }
  report["seconds"] = seconds;
  report["counts"] = {{"total", c.total},
                      {"passed", c.passed},
                      {"failed", c.failed},
                      {"skipped", c.skipped},
                      {"waived", c.waived},
                      {"expected_failure", c.expected_failure},
                      {"unexpected_pass", c.unexpected_pass}};
  report["tests"] = std::move(tests);
  report["verdict"] = Verdict(results, complete);
  return report;
}

std::string WritePackage(const std::string& dir, const nlohmann::json& report,
                         const std::vector<TestResult>& results) {
  fs::create_directories(dir);
  Counts c = Count(results);
  WriteText(fs::path(dir) / kReportFile, report.dump(2) + "\n");
  WriteText(fs::path(dir) / kJUnitFile, JUnit(results, c));
  WriteText(fs::path(dir) / kSummaryFile, Summary(report, results));
  std::vector<std::string> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name != kManifestFile) files.push_back(name);
  }
  std::sort(files.begin(), files.end());
  std::string manifest;
  for (const std::string& name : files) {
    manifest += Sha256File((fs::path(dir) / name).string()) + "  " + name + "\n";
  }
  fs::path manifest_path = fs::path(dir) / kManifestFile;
  WriteText(manifest_path, manifest);
  return Sha256File(manifest_path.string());
}

int VerifyPackage(const std::string& dir) {
  std::vector<std::string> problems;
  auto problem = [&](std::string text) { problems.push_back(std::move(text)); };
  fs::path root(dir);

  // 1. Untampered: every file is in the manifest with its hash, and nothing else is there.
  std::map<std::string, std::string> listed;
  {
    std::ifstream in(root / kManifestFile);
    if (!in) {
      std::cout << "FAIL: " << (root / kManifestFile).string() << " is missing\n";
      return 1;
    }
    std::string line;
    std::regex entry("^([0-9a-f]{64})  ([^/]+)$");
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      std::smatch m;
      if (!std::regex_match(line, m, entry)) {
        problem(fmt::format("{}:{}: not `<sha256>  <file>`", kManifestFile, number));
        continue;
      }
      listed[m[2].str()] = m[1].str();
    }
  }
  for (const char* required : {kReportFile, kJUnitFile, kSummaryFile, kLogFile}) {
    if (!listed.count(required)) problem(fmt::format("{} is not in the manifest", required));
  }
  for (const auto& [name, hash] : listed) {
    std::string actual = Sha256File((root / name).string());
    if (actual.empty()) problem(fmt::format("{} is listed but missing", name));
    else if (actual != hash) problem(fmt::format("{} was changed: sha256 {} (manifest says {})", name, actual, hash));
  }
  if (fs::is_directory(root)) {
    for (const fs::directory_entry& e : fs::directory_iterator(root)) {
      std::string name = e.path().filename().string();
      if (name != kManifestFile && !listed.count(name)) problem(fmt::format("{} is not in the manifest", name));
    }
  }

  // 2. Consistent: the JSON's counts and verdict follow from its results, and JUnit agrees.
  nlohmann::json report;
  try {
    std::ifstream in(root / kReportFile);
    report = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    problem(fmt::format("{} is not valid JSON: {}", kReportFile, e.what()));
  }
  if (report.is_object()) {
    try {
      std::vector<TestResult> results;
      for (const nlohmann::json& t : report.at("tests")) {
        TestResult r;
        r.full_name = t.at("name").get<std::string>();
        r.status = t.at("status").get<std::string>();
        static const std::set<std::string> known = {"passed", "failed", "skipped", "waived",
                                                    "expected_failure", "unexpected_pass"};
        if (!known.count(r.status)) problem(fmt::format("test {} has unknown status {}", r.full_name, r.status));
        results.push_back(std::move(r));
      }
      Counts c = Count(results);
      const nlohmann::json& counts = report.at("counts");
      auto check = [&](const char* key, int value) {
        if (counts.at(key).get<int>() != value)
          problem(fmt::format("{}: counts.{} is {} but the results hold {}", kReportFile, key,
                              counts.at(key).get<int>(), value));
      };
      check("total", c.total);
      check("passed", c.passed);
      check("failed", c.failed);
      check("skipped", c.skipped);
      check("waived", c.waived);
      check("expected_failure", c.expected_failure);
      check("unexpected_pass", c.unexpected_pass);
      std::string verdict = Verdict(results, report.at("complete").get<bool>());
      if (report.at("verdict").get<std::string>() != verdict)
        problem(fmt::format("{}: verdict {} does not follow from the results ({})", kReportFile,
                            report.at("verdict").get<std::string>(), verdict));
      for (const char* key : {"cts_version", "cts_git_revision", "abi_version", "drivers", "devices"}) {
        if (!report.at("run").contains(key)) problem(fmt::format("{}: run.{} is missing", kReportFile, key));
      }

      std::ifstream in(root / kJUnitFile);
      std::string xml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::smatch m;
      std::regex head("<testsuites name=\"udal-cts\" tests=\"(\\d+)\" failures=\"(\\d+)\" skipped=\"(\\d+)\"");
      if (!std::regex_search(xml, m, head)) {
        problem(fmt::format("{}: no <testsuites> element", kJUnitFile));
      } else {
        auto occurrences = [&](const std::string& needle) {
          int n = 0;
          for (size_t at = xml.find(needle); at != std::string::npos; at = xml.find(needle, at + 1)) ++n;
          return n;
        };
        int tests = std::stoi(m[1]), failures = std::stoi(m[2]), skipped = std::stoi(m[3]);
        if (tests != c.total || occurrences("<testcase ") != c.total)
          problem(fmt::format("{} has {} tests ({} <testcase>), {} has {}", kJUnitFile, tests,
                              occurrences("<testcase "), kReportFile, c.total));
        if (failures != c.failed || occurrences("<failure ") != c.failed)
          problem(fmt::format("{} has {} failures, {} has {}", kJUnitFile, failures, kReportFile, c.failed));
        int waived = c.skipped + c.waived + c.expected_failure;
        if (skipped != waived || occurrences("<skipped ") != waived)
          problem(fmt::format("{} has {} skipped, {} has {}", kJUnitFile, skipped, kReportFile, waived));
      }
    } catch (const std::exception& e) {
      problem(fmt::format("{} lacks a field: {}", kReportFile, e.what()));
    }
  }

  std::string digest = Sha256File((root / kManifestFile).string());
  if (!problems.empty()) {
    std::cout << "FAIL: " << dir << " is not a valid udal-cts package:\n";
    for (const std::string& p : problems) std::cout << "  - " << p << "\n";
    return 1;
  }
  std::cout << "OK: " << dir << ": " << listed.size() << " files match " << kManifestFile
            << "; JUnit and JSON agree; verdict " << report["verdict"].get<std::string>()
            << " (" << report["counts"]["total"] << " tests)\n"
            << "package digest (sha256 of " << kManifestFile << "): " << digest << "\n";
  return 0;
}

}  // namespace cts
