#include "report.h"

// The regular-file and size checks libudal uses for what it reads; header-only.
#include "udal/sdk/file_check.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

namespace cts {
namespace fs = std::filesystem;
namespace fc = udal::file_check;

// ---------------------------------------------------------------------------------------
// Hashes and keys
// ---------------------------------------------------------------------------------------

namespace {

std::string Hex(const unsigned char* bytes, size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string text;
  text.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    text += digits[bytes[i] >> 4];
    text += digits[bytes[i] & 15];
  }
  return text;
}

bool IsLowerHex(const std::string& text, size_t length) {
  return text.size() == length &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Lower-case hex into bytes; false when it is not that.
bool Unhex(const std::string& text, std::string& out) {
  if (text.size() % 2 != 0 || !IsLowerHex(text, text.size())) return false;
  out.clear();
  for (size_t i = 0; i < text.size(); i += 2) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    out += static_cast<char>(nibble(text[i]) << 4 | nibble(text[i + 1]));
  }
  return true;
}

using DigestContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

std::string OpenSslError(const char* what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return what;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return fmt::format("{} ({})", what, text);
}

}  // namespace

std::string Sha256(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) return "";
  return Hex(digest, length);
}

std::string Sha256File(const std::string& path) {
  fc::OpenedFile file;
  if (fc::open_regular_file(path.c_str(), fc::kMaxLibraryBytes, file)) return "";
  DigestContext ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return "";
  std::vector<char> chunk(1 << 16);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = read(file.fd.get(), chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return "";
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (total > file.size) return "";  // it grew while being read
    EVP_DigestUpdate(ctx.get(), chunk.data(), static_cast<size_t>(n));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) return "";
  return Hex(digest, length);
}

std::string ProfileDigest(const std::vector<std::string>& tests) {
  std::string text;
  for (const std::string& t : tests) text += t + "\n";
  return Sha256(text);
}

namespace {

// PEM keys with a passphrase are refused rather than prompted for.
int NoPassphrase(char*, int, int, void*) { return -1; }

std::shared_ptr<EVP_PKEY> ReadPem(const std::string& path, bool want_private, std::string* error) {
  std::string text;
  if (fc::Problem p = fc::read_regular_file(path.c_str(), kMaxKeyFileBytes, text)) {
    *error = fmt::format("{}: {}", path, p.text);
    return nullptr;
  }
  ERR_clear_error();
  auto read = [&text](bool private_key) -> EVP_PKEY* {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), BIO_free);
    if (!bio) return nullptr;
    return private_key ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr)
                       : PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr);
  };
  EVP_PKEY* key = want_private ? read(true) : read(false);
  if (key == nullptr && !want_private) {
    ERR_clear_error();
    key = read(true);
  }
  if (key == nullptr) {
    *error = OpenSslError(fmt::format("{}: not an unencrypted PEM {} key", path,
                                      want_private ? "private" : "public (or private)")
                              .c_str());
    return nullptr;
  }
  std::shared_ptr<EVP_PKEY> owned(key, EVP_PKEY_free);
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    *error = fmt::format("{}: a {} key; udal-cts signs with Ed25519 (openssl genpkey -algorithm "
                         "ed25519)",
                         path, OBJ_nid2sn(EVP_PKEY_get_id(key)));
    return nullptr;
  }
  return owned;
}

}  // namespace

std::optional<Ed25519Key> Ed25519Key::LoadPrivate(const std::string& path, std::string* error) {
  Ed25519Key key;
  key.key_ = ReadPem(path, /*want_private=*/true, error);
  if (!key.key_) return std::nullopt;
  key.is_private_ = true;
  return key;
}

std::optional<Ed25519Key> Ed25519Key::LoadPublic(const std::string& path, std::string* error) {
  Ed25519Key key;
  key.key_ = ReadPem(path, /*want_private=*/false, error);
  if (!key.key_) return std::nullopt;
  return key;
}

std::optional<Ed25519Key> Ed25519Key::FromRawPrivate(const std::string& raw32, std::string* error) {
  if (raw32.size() != 32) {
    *error = fmt::format("an Ed25519 private key is 32 bytes, not {}", raw32.size());
    return std::nullopt;
  }
  EVP_PKEY* raw = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw32.data()), 32);
  if (raw == nullptr) {
    *error = OpenSslError("EVP_PKEY_new_raw_private_key failed");
    return std::nullopt;
  }
  Ed25519Key key;
  key.key_.reset(raw, EVP_PKEY_free);
  key.is_private_ = true;
  return key;
}

std::string Ed25519Key::PublicHex() const {
  unsigned char raw[64];
  size_t length = sizeof raw;
  if (!key_ || EVP_PKEY_get_raw_public_key(key_.get(), raw, &length) != 1) return "";
  return Hex(raw, length);
}

std::string Ed25519Key::Sign(const std::string& message) const {
  if (!key_ || !is_private_) return "";
  DigestContext ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char signature[64];
  size_t length = sizeof signature;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature, &length,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    ERR_clear_error();
    return "";
  }
  return Hex(signature, length);
}

bool Ed25519Key::Verify(const std::string& message, const std::string& signature) const {
  if (!key_) return false;
  DigestContext ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  bool good = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
              EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                               signature.size(),
                               reinterpret_cast<const unsigned char*>(message.data()),
                               message.size()) == 1;
  ERR_clear_error();
  return good;
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

namespace {

const std::set<std::string>& KnownStatuses() {
  static const std::set<std::string> known = {"passed",  "failed",           "skipped",
                                              "waived", "expected_failure", "unexpected_pass"};
  return known;
}

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

// The JUnit element a result is written as: "failure", "skipped", "system-out" or "".
std::string JUnitKind(const std::string& status) {
  if (status == "failed") return "failure";
  if (status == "skipped" || status == "waived" || status == "expected_failure") return "skipped";
  if (status == "unexpected_pass") return "system-out";
  return "";
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
    std::vector<TestResult> copy;
    for (const TestResult* r : members) copy.push_back(*r);
    Counts sc = Count(copy);
    xml << fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" "
                       "errors=\"0\">\n",
                       XmlEscape(suite), sc.total, sc.failed, sc.skipped + sc.waived + sc.expected_failure);
    for (const TestResult* r : members) {
      xml << fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"",
                         XmlEscape(r->suite), XmlEscape(r->name), r->seconds);
      std::string kind = JUnitKind(r->status);
      if (kind == "failure") {
        std::string first_line = r->message.substr(0, r->message.find('\n'));
        xml << fmt::format(">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                           XmlEscape(first_line), XmlEscape(r->message));
      } else if (kind == "skipped") {
        xml << fmt::format(">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                           XmlEscape(r->message));
      } else if (kind == "system-out") {
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

std::string SummaryTitle(bool certify, const std::string& verdict) {
  return fmt::format("# udal-cts {}: **{}**", certify ? "certification" : "run", verdict);
}

std::string Summary(const nlohmann::json& report, const std::vector<TestResult>& results) {
  const nlohmann::json& run = report["run"];
  const nlohmann::json& c = report["counts"];
  std::ostringstream md;
  md << SummaryTitle(run.value("certify", false), report["verdict"].get<std::string>()) << "\n\n";
  md << "| | |\n|---|---|\n";
  md << "| CTS | " << run.value("cts_version", "") << " (git " << run.value("cts_git_revision", "")
     << "), profile sha256 " << run.value("profile_sha256", "") << " |\n";
  md << "| ABI | " << run.value("abi_version", "") << " |\n";
  for (const nlohmann::json& d : run["drivers"]) {
    md << "| Driver | " << d.value("name", "") << " " << d.value("version", "") << ", "
       << d.value("library_path", "") << ", sha256 " << d.value("library_sha256", "") << " |\n";
  }
  for (const nlohmann::json& d : run["devices"]) {
    md << "| Device | " << d.value("test_suffix", "") << ": " << d.value("name", "") << " ("
       << d.value("vendor", "") << ") |\n";
  }
  md << "| Started | " << run.value("started_utc", "") << " |\n";
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
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

std::string SignatureText(const Ed25519Key& key, const std::string& manifest) {
  std::string signature = key.Sign(manifest);
  if (signature.empty()) return "";
  return fmt::format("udal-cts-signature/1\nalgorithm: ed25519\npublic-key: {}\nsignature: {}\n",
                     key.PublicHex(), signature);
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
  report["format"] = kReportFormat;
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
                         const std::vector<TestResult>& results, const Ed25519Key* key) {
  fs::create_directories(dir);
  Counts c = Count(results);
  // Invalid UTF-8 in a driver's message must not stop the report from being written.
  WriteText(fs::path(dir) / kReportFile,
            report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  WriteText(fs::path(dir) / kJUnitFile, JUnit(results, c));
  WriteText(fs::path(dir) / kSummaryFile, Summary(report, results));
  std::vector<std::string> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && !entry.is_symlink() && name != kManifestFile &&
        name != kSignatureFile)
      files.push_back(name);
  }
  std::sort(files.begin(), files.end());
  std::string manifest;
  for (const std::string& name : files) {
    manifest += Sha256File((fs::path(dir) / name).string()) + "  " + name + "\n";
  }
  fs::path manifest_path = fs::path(dir) / kManifestFile;
  WriteText(manifest_path, manifest);
  std::error_code ignored;
  fs::remove(fs::path(dir) / kSignatureFile, ignored);
  if (key != nullptr) WriteText(fs::path(dir) / kSignatureFile, SignatureText(*key, manifest));
  return Sha256(manifest);
}

// ---------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------

namespace {

// Thrown by the JSON callback: a duplicate key or too deep a nesting.
struct JsonRefusal {
  std::string reason;
};

// JSON with every key once per object and at most |max_depth| levels: a verifier that took
// the last of two "verdict" keys would read another report than a tool that takes the first.
nlohmann::json ParseStrict(const std::string& text, size_t max_depth) {
  // nlohmann's lexer ends the input at a NUL byte: "{...}\0anything" would parse as its
  // first part. A JSON text has no raw NUL.
  if (size_t nul = text.find('\0'); nul != std::string::npos)
    throw JsonRefusal{fmt::format("a NUL byte at offset {} (JSON has none)", nul)};
  std::vector<std::set<std::string>> keys;
  auto callback = [&keys, max_depth](int depth, nlohmann::json::parse_event_t event,
                                     nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start || event == E::array_start) {
      if (static_cast<size_t>(depth) >= max_depth)
        throw JsonRefusal{fmt::format("nested deeper than {} levels", max_depth)};
      keys.emplace_back();
    } else if (event == E::object_end || event == E::array_end) {
      if (!keys.empty()) keys.pop_back();
    } else if (event == E::key && !keys.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!keys.back().insert(key).second)
        throw JsonRefusal{fmt::format("the key \"{}\" appears twice in one object",
                                      key.substr(0, 64))};
    }
    return true;
  };
  return nlohmann::json::parse(text, callback);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// A file name a package may hold: what `udal-cts --out` writes, never a path.
bool PackageFileName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return c != '/' && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
  });
}

// For a message: control characters escaped, at most 120 bytes.
std::string Shown(const std::string& text) {
  std::string out;
  size_t i = 0;
  for (; i < text.size() && out.size() < 120; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return i < text.size() ? out + "..." : out;
}

// "a, b, c and 7 more"
std::string ListSome(const std::vector<std::string>& names, size_t shown = 10) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < shown; ++i) text += (i ? ", " : "") + Shown(names[i]);
  if (names.size() > shown) text += fmt::format(" and {} more", names.size() - shown);
  return text;
}

bool TestSuffixName(const std::string& text) {
  return !text.empty() && text.size() <= 512 &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_';
         });
}

class Verifier {
 public:
  Verifier(const std::map<std::string, std::string>& files,
           const std::vector<std::string>& unreadable, const Profile& profile,
           const Ed25519Key* key, const LibraryHasher& library_hash, VerifyOutcome& out)
      : files_(files), unreadable_(unreadable), profile_(profile), key_(key),
        library_hash_(library_hash), out_(out) {}

  void Run() {
    for (const std::string& u : unreadable_) Problem(u);
    if (!CheckManifest()) return;
    CheckSignature();
    if (!ReadReport()) return;
    CheckRun();
    CheckTests();
    CheckJUnit();
    CheckLog();
    CheckSummary();
    if (out_.problems.empty()) {
      out_.summary = fmt::format(
          "certification of driver '{}' {} by udal-cts {}: all {} tests of its profile "
          "({} on each of {} device(s), {} once) have a result; {} files match {}{}; report, "
          "JUnit, summary and log agree;{} verdict {}",
          driver_name_, driver_version_, profile_.cts_version, expected_.size(), per_device_,
          device_suffixes_.size(), profile_.tests.size() - per_device_, listed_.size(), kManifestFile,
          signed_ok_ ? ", signed by the --key given" : "",
          library_checked_.empty() ? "" : " the driver library " + library_checked_ + " is the one certified;",
          report_.value("verdict", ""));
    }
  }

 private:
  void Problem(std::string text) { out_.problems.push_back(std::move(text)); }
  void Note(std::string text) { out_.notes.push_back(std::move(text)); }

  const std::string* File(const char* name) const {
    auto it = files_.find(name);
    return it == files_.end() ? nullptr : &it->second;
  }

  // 1. Untampered: every file is in the manifest with its hash, and nothing else is there.
  bool CheckManifest() {
    const std::string* manifest = File(kManifestFile);
    if (manifest == nullptr) {
      Problem(fmt::format("{} is missing: this is not a udal-cts package", kManifestFile));
      return false;
    }
    int number = 0;
    for (const std::string& line : Lines(*manifest)) {
      ++number;
      std::string hash = line.substr(0, 64);
      std::string name = line.size() > 66 ? line.substr(66) : "";
      if (line.size() < 67 || line.compare(64, 2, "  ") != 0 || !IsLowerHex(hash, 64) ||
          !PackageFileName(name)) {
        Problem(fmt::format("{}:{}: not `<sha256>  <file name>`: {}", kManifestFile, number,
                            Shown(line)));
        continue;
      }
      if (name == kManifestFile || name == kSignatureFile) {
        Problem(fmt::format("{}:{}: lists {}, which it cannot cover", kManifestFile, number, name));
        continue;
      }
      if (!listed_.emplace(name, hash).second)
        Problem(fmt::format("{}:{}: lists {} a second time", kManifestFile, number, Shown(name)));
    }
    for (const char* required : {kReportFile, kJUnitFile, kSummaryFile, kLogFile}) {
      if (!listed_.count(required)) Problem(fmt::format("{} is not in {}", required, kManifestFile));
    }
    for (const auto& [name, hash] : listed_) {
      auto it = files_.find(name);
      if (it == files_.end()) {
        const std::string& file = name;  // a structured binding cannot be captured (clang 14)
        bool explained = std::any_of(unreadable_.begin(), unreadable_.end(), [&file](const std::string& u) {
          return u.rfind(file + " ", 0) == 0 || u.rfind(file + ":", 0) == 0;
        });
        if (!explained) Problem(fmt::format("{} is listed in {} but missing", Shown(name), kManifestFile));
        continue;
      }
      std::string actual = Sha256(it->second);
      if (actual != hash)
        Problem(fmt::format("{} was changed: its sha256 is {}, {} says {}", Shown(name), actual,
                            kManifestFile, hash));
    }
    for (const auto& [name, bytes] : files_) {
      if (name != kManifestFile && name != kSignatureFile && !listed_.count(name))
        Problem(fmt::format("{} is not in {}", Shown(name), kManifestFile));
    }
    return true;
  }

  // 2. Signed: MANIFEST.sig is the --key's signature of MANIFEST.sha256's exact bytes.
  void CheckSignature() {
    const std::string* sig = File(kSignatureFile);
    std::string public_hex, signature;
    if (sig != nullptr) {
      std::vector<std::string> lines = Lines(*sig);
      std::string raw;
      if (lines.size() != 4 || lines[0] != "udal-cts-signature/1" ||
          lines[1] != "algorithm: ed25519" || lines[2].rfind("public-key: ", 0) != 0 ||
          lines[3].rfind("signature: ", 0) != 0 || !IsLowerHex(lines[2].substr(12), 64) ||
          !Unhex(lines[3].substr(11), raw) || raw.size() != 64) {
        Problem(fmt::format("{} is not a udal-cts Ed25519 signature (4 lines: udal-cts-signature/1, "
                            "algorithm, public-key, signature)",
                            kSignatureFile));
        return;
      }
      public_hex = lines[2].substr(12);
      signature = raw;
    }
    if (key_ == nullptr) {
      if (sig != nullptr)
        Note(fmt::format("signed by Ed25519 key {}; the signature was not checked (give --key "
                         "with the certifier's public key)",
                         public_hex));
      else
        Note("not signed: the package proves its own consistency only; anyone could have "
             "written it (udal-cts --certify --sign-key KEY.pem signs)");
      return;
    }
    if (sig == nullptr) {
      Problem(fmt::format("the package is not signed ({} is missing) but --key was given", kSignatureFile));
      return;
    }
    if (public_hex != key_->PublicHex()) {
      Problem(fmt::format("{} was made with key {}, not with the --key given ({})", kSignatureFile,
                          public_hex, key_->PublicHex()));
      return;
    }
    if (!key_->Verify(*File(kManifestFile), signature)) {
      Problem(fmt::format("{}: the signature does not match {}: the package was changed after "
                          "it was signed",
                          kSignatureFile, kManifestFile));
      return;
    }
    signed_ok_ = true;
  }

  bool ReadReport() {
    const std::string* text = File(kReportFile);
    if (text == nullptr) return false;
    try {
      report_ = ParseStrict(*text, 64);
    } catch (const nlohmann::json::exception& e) {
      Problem(fmt::format("{} is not valid JSON: {}", kReportFile, e.what()));
      return false;
    } catch (const JsonRefusal& r) {
      Problem(fmt::format("{} is refused: {}", kReportFile, r.reason));
      return false;
    }
    if (!report_.is_object()) {
      Problem(fmt::format("{} is a JSON {}, not an object", kReportFile, report_.type_name()));
      return false;
    }
    if (report_.value("format", "") != kReportFormat) {
      Problem(fmt::format("{}: format is not \"{}\"", kReportFile, kReportFormat));
      return false;
    }
    for (const char* key : {"run", "counts"}) {
      if (!report_.contains(key) || !report_[key].is_object()) {
        Problem(fmt::format("{}: \"{}\" is missing or not an object", kReportFile, key));
        return false;
      }
    }
    if (!report_.contains("tests") || !report_["tests"].is_array()) {
      Problem(fmt::format("{}: \"tests\" is missing or not an array", kReportFile));
      return false;
    }
    if (!report_.contains("verdict") || !report_["verdict"].is_string() ||
        !report_.contains("complete") || !report_["complete"].is_boolean()) {
      Problem(fmt::format("{}: \"verdict\" (a string) or \"complete\" (a boolean) is missing", kReportFile));
      return false;
    }
    return true;
  }

  // A string field of |object|, or "" with a problem.
  std::string String(const nlohmann::json& object, const char* key, const std::string& where) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_string()) {
      Problem(fmt::format("{}: {}.{} is missing or not a string", kReportFile, where, key));
      return "";
    }
    return it->get<std::string>();
  }

  // 3. A certification of one driver by this CTS's profile, unfiltered.
  void CheckRun() {
    const nlohmann::json& run = report_["run"];
    std::string version = String(run, "cts_version", "run");
    if (version != profile_.cts_version) {
      Problem(fmt::format("the package was written by udal-cts {}; this is udal-cts {}, which "
                          "knows only its own profile: verify it with udal-cts {}",
                          Shown(version), profile_.cts_version, Shown(version)));
      version_matches_ = false;
    }
    std::string digest = String(run, "profile_sha256", "run");
    std::string own = ProfileDigest(profile_.tests);
    if (version_matches_ && digest != own)
      Problem(fmt::format("run.profile_sha256 is {}, but the profile of this udal-cts {} is {}: "
                          "the package was written by another build of the CTS (git {})",
                          Shown(digest), profile_.cts_version, own,
                          Shown(run.value("cts_git_revision", "?"))));
    if (run.value("certify", false) != true)
      Problem("run.certify is not true: this is a plain run, not a certification (udal-cts "
              "--certify runs the whole profile)");
    if (run.value("gtest_filter", "") != "*")
      Problem(fmt::format("run.gtest_filter is \"{}\": a certification runs every test (\"*\")",
                          Shown(run.value("gtest_filter", ""))));
    if (run.value("run_expected_failures", false) != false)
      Problem("run.run_expected_failures is true: a certification waives the driver's declared "
              "expected failures instead");
    auto timeout = run.find("timeout_s");
    if (timeout == run.end() || !timeout->is_number() || !std::isfinite(timeout->get<double>()) ||
        timeout->get<double>() <= 0 || timeout->get<double>() > 86400)
      Problem("run.timeout_s is not a number of seconds in (0, 86400]");

    // The one driver certified.
    auto drivers = run.find("drivers");
    if (drivers == run.end() || !drivers->is_array()) {
      Problem(fmt::format("{}: run.drivers is missing or not an array", kReportFile));
      return;
    }
    const nlohmann::json* loaded = nullptr;
    size_t loaded_count = 0;
    for (const nlohmann::json& d : *drivers) {
      if (d.is_object() && d.value("state", "") == "loaded") {
        ++loaded_count;
        loaded = &d;
      }
    }
    if (loaded_count != 1) {
      Problem(fmt::format("run.drivers lists {} loaded drivers; a certification is of exactly one",
                          loaded_count));
      return;
    }
    driver_name_ = String(*loaded, "name", "run.drivers[]");
    driver_version_ = loaded->value("version", "");
    std::string recorded = String(*loaded, "library_sha256", "run.drivers[]");
    if (!IsLowerHex(recorded, 64)) {
      Problem(fmt::format("run.drivers[].library_sha256 \"{}\" is not a sha256: the package does "
                          "not say which library it certified",
                          Shown(recorded)));
    } else {
      std::string path = loaded->value("library_file", "");
      if (path.empty()) path = loaded->value("library_path", "");
      LibraryHash found = library_hash_ ? library_hash_(path) : LibraryHash{false, "", path, "not looked for"};
      if (!found.present) {
        Note(fmt::format("the driver library {} is not on this machine ({}): its sha256 {} was "
                         "not checked (give --library FILE to check a copy)",
                         Shown(found.where), found.why, recorded));
      } else if (found.sha256.empty()) {
        Problem(fmt::format("the driver library {} cannot be read: {}", Shown(found.where), found.why));
      } else if (found.sha256 != recorded) {
        Problem(fmt::format("the driver library {} has sha256 {}, but the package certified {}: "
                            "it is not the library that was certified",
                            Shown(found.where), found.sha256, recorded));
      } else {
        library_checked_ = found.where;
      }
    }
    uint64_t device_count = 0;
    auto count = loaded->find("device_count");
    if (count == loaded->end() || !count->is_number_unsigned())
      Problem("run.drivers[].device_count is missing or not a count");
    else
      device_count = count->get<uint64_t>();

    auto devices = run.find("devices");
    if (devices == run.end() || !devices->is_array()) {
      Problem(fmt::format("{}: run.devices is missing or not an array", kReportFile));
      return;
    }
    for (const nlohmann::json& d : *devices) {
      std::string suffix = d.is_object() ? d.value("test_suffix", "") : "";
      if (!TestSuffixName(suffix)) {
        Problem(fmt::format("run.devices[] has a test_suffix \"{}\" that is not a test parameter name",
                            Shown(suffix)));
        continue;
      }
      if (d.value("driver_name", "") != driver_name_)
        Problem(fmt::format("device {} belongs to driver \"{}\", not to the certified \"{}\"", suffix,
                            Shown(d.value("driver_name", "")), Shown(driver_name_)));
      if (!device_suffixes_.insert(suffix).second)
        Problem(fmt::format("run.devices lists device {} twice", suffix));
    }
    if (device_suffixes_.empty()) Problem("run.devices is empty: nothing was certified");
    if (device_suffixes_.size() != device_count)
      Problem(fmt::format("the driver reported {} device(s) but run.devices lists {}: every device "
                          "of the driver is certified",
                          device_count, device_suffixes_.size()));
  }

  // 4. Every test of the profile on every device, once, each with a known result; counts and
  // verdict follow from them.
  void CheckTests() {
    std::set<std::string> names;
    std::vector<std::string> repeated;
    for (const nlohmann::json& t : report_["tests"]) {
      TestResult r;
      if (!t.is_object() || !t.contains("name") || !t["name"].is_string() || !t.contains("status") ||
          !t["status"].is_string()) {
        Problem(fmt::format("{}: a test without a name and status: {}", kReportFile,
                            Shown(t.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))));
        continue;
      }
      r.full_name = t["name"].get<std::string>();
      r.status = t["status"].get<std::string>();
      r.suite = t.value("suite", "");
      r.name = t.value("case", "");
      if (r.suite + "." + r.name != r.full_name)
        Problem(fmt::format("{}: test {} has suite \"{}\" and case \"{}\"", kReportFile,
                            Shown(r.full_name), Shown(r.suite), Shown(r.name)));
      if (!KnownStatuses().count(r.status))
        Problem(fmt::format("test {} has the unknown status \"{}\"", Shown(r.full_name), Shown(r.status)));
      if (!names.insert(r.full_name).second) repeated.push_back(r.full_name);
      results_.push_back(std::move(r));
    }
    if (!repeated.empty())
      Problem(fmt::format("{} test(s) have more than one result: {}", repeated.size(), ListSome(repeated)));

    if (version_matches_ && !device_suffixes_.empty()) {
      const std::string marker = kProfileDevice;
      for (const std::string& test : profile_.tests) {
        size_t slash = test.rfind('/');
        bool per_device = slash != std::string::npos && test.compare(slash + 1, marker.size(), marker) == 0;
        if (!per_device) {
          expected_.insert(test);
          continue;
        }
        ++per_device_;
        for (const std::string& suffix : device_suffixes_)
          expected_.insert(test.substr(0, slash + 1) + suffix + test.substr(slash + 1 + marker.size()));
      }
      std::vector<std::string> missing, extra;
      std::set_difference(expected_.begin(), expected_.end(), names.begin(), names.end(),
                          std::back_inserter(missing));
      std::set_difference(names.begin(), names.end(), expected_.begin(), expected_.end(),
                          std::back_inserter(extra));
      if (!missing.empty())
        Problem(fmt::format("{} of the {} tests of the udal-cts {} certification profile have no "
                            "result (a filtered or cut-short run): {}",
                            missing.size(), expected_.size(), profile_.cts_version, ListSome(missing)));
      if (!extra.empty())
        Problem(fmt::format("{} test(s) are not in the udal-cts {} profile: {}", extra.size(),
                            profile_.cts_version, ListSome(extra)));
    }

    Counts c = Count(results_);
    const nlohmann::json& counts = report_["counts"];
    auto check = [&](const char* key, int value) {
      auto it = counts.find(key);
      if (it == counts.end() || !it->is_number_integer() || it->get<int64_t>() != value)
        Problem(fmt::format("{}: counts.{} is {} but the results hold {}", kReportFile, key,
                            it == counts.end() ? "missing" : Shown(it->dump()), value));
    };
    check("total", c.total);
    check("passed", c.passed);
    check("failed", c.failed);
    check("skipped", c.skipped);
    check("waived", c.waived);
    check("expected_failure", c.expected_failure);
    check("unexpected_pass", c.unexpected_pass);
    bool complete = report_["complete"].get<bool>();
    if (!complete) Problem("the run stopped early (complete is false): a test timed out or crashed");
    std::string verdict = Verdict(results_, complete);
    if (report_["verdict"].get<std::string>() != verdict)
      Problem(fmt::format("{}: verdict {} does not follow from the results ({})", kReportFile,
                          Shown(report_["verdict"].get<std::string>()), verdict));
  }

  // 5. junit.xml holds the same tests with the same outcomes.
  void CheckJUnit() {
    const std::string* xml = File(kJUnitFile);
    if (xml == nullptr) return;
    Counts c = Count(results_);
    // <testsuites name="udal-cts" tests="N" failures="F" skipped="S"
    const std::string head = "<testsuites name=\"udal-cts\" tests=\"";
    size_t at = xml->find(head);
    long long totals[3] = {-1, -1, -1};
    if (at != std::string::npos) {
      size_t pos = at + head.size();
      const char* names[3] = {"", "\" failures=\"", "\" skipped=\""};
      for (int k = 0; k < 3; ++k) {
        if (k > 0) {
          if (xml->compare(pos, std::strlen(names[k]), names[k]) != 0) break;
          pos += std::strlen(names[k]);
        }
        size_t digits = 0;
        long long value = 0;
        while (pos < xml->size() && digits < 9 && (*xml)[pos] >= '0' && (*xml)[pos] <= '9') {
          value = value * 10 + ((*xml)[pos++] - '0');
          ++digits;
        }
        if (digits == 0) break;
        totals[k] = value;
      }
    }
    int skipped = c.skipped + c.waived + c.expected_failure;
    if (totals[2] < 0) {
      Problem(fmt::format("{}: no <testsuites name=\"udal-cts\" tests=.. failures=.. skipped=..> element", kJUnitFile));
    } else if (totals[0] != c.total || totals[1] != c.failed || totals[2] != skipped) {
      Problem(fmt::format("{} counts {} tests, {} failures, {} skipped; {} has {}, {}, {}", kJUnitFile,
                          totals[0], totals[1], totals[2], kReportFile, c.total, c.failed, skipped));
    }
    // Each <testcase classname=".." name=".." ...> and what it holds.
    std::map<std::string, std::string> cases;  // "classname.name" -> kind
    std::vector<std::string> repeated;
    const std::string open = "<testcase classname=\"";
    for (size_t pos = xml->find(open); pos != std::string::npos; pos = xml->find(open, pos + 1)) {
      size_t class_start = pos + open.size();
      size_t class_end = xml->find('"', class_start);
      if (class_end == std::string::npos || xml->compare(class_end, 8, "\" name=\"") != 0) {
        Problem(fmt::format("{}: a <testcase> at byte {} is malformed", kJUnitFile, pos));
        return;
      }
      size_t name_start = class_end + 8;
      size_t name_end = xml->find('"', name_start);
      size_t tag_end = name_end == std::string::npos ? name_end : xml->find('>', name_end);
      if (tag_end == std::string::npos) {
        Problem(fmt::format("{}: a <testcase> at byte {} is malformed", kJUnitFile, pos));
        return;
      }
      std::string key = xml->substr(class_start, class_end - class_start) + "." +
                        xml->substr(name_start, name_end - name_start);
      std::string kind;
      if ((*xml)[tag_end - 1] != '/') {
        size_t close = xml->find("</testcase>", tag_end);
        if (close == std::string::npos) {
          Problem(fmt::format("{}: <testcase> {} is not closed", kJUnitFile, Shown(key)));
          return;
        }
        std::string body = xml->substr(tag_end + 1, close - tag_end - 1);
        for (const char* k : {"failure", "skipped", "system-out"}) {
          if (body.find(std::string("<") + k) != std::string::npos) {
            kind = k;
            break;
          }
        }
      }
      if (!cases.emplace(key, kind).second) repeated.push_back(key);
    }
    if (!repeated.empty())
      Problem(fmt::format("{} lists {} test(s) twice: {}", kJUnitFile, repeated.size(), ListSome(repeated)));
    std::vector<std::string> disagree;
    for (const TestResult& r : results_) {
      std::string key = XmlEscape(r.suite) + "." + XmlEscape(r.name);
      auto it = cases.find(key);
      if (it == cases.end()) {
        disagree.push_back(r.full_name + " (missing)");
        continue;
      }
      if (it->second != JUnitKind(r.status))
        disagree.push_back(fmt::format("{} ({} in {}, <{}> in {})", r.full_name, r.status,
                                       kReportFile, it->second.empty() ? "passed" : it->second, kJUnitFile));
      cases.erase(it);
    }
    for (const auto& [key, kind] : cases) disagree.push_back(key + " (not in " + kReportFile + ")");
    if (!disagree.empty())
      Problem(fmt::format("{} and {} disagree on {} test(s): {}", kJUnitFile, kReportFile,
                          disagree.size(), ListSome(disagree)));
  }

  // 6. cts.log: the header and driver/device lines of the run, then every test started and
  // ended with the status report.json gives it, in the same order.
  void CheckLog() {
    const std::string* log = File(kLogFile);
    if (log == nullptr) return;
    const nlohmann::json& run = report_["run"];
    std::vector<std::string> lines = Lines(*log);
    std::string header = fmt::format("udal-cts {} (git {}), ABI {}, started {}",
                                     run.value("cts_version", ""), run.value("cts_git_revision", ""),
                                     run.value("abi_version", ""), run.value("started_utc", ""));
    if (lines.empty() || lines[0] != header)
      Problem(fmt::format("{} does not begin with the run's header line \"{}\"", kLogFile, Shown(header)));
    nlohmann::json drivers = nlohmann::json::array(), devices = nlohmann::json::array();
    std::vector<std::pair<std::string, std::string>> ended;  // name, status
    std::string running;
    size_t runs = 0;
    bool abandoned = false;
    for (size_t i = 1; i < lines.size(); ++i) {
      const std::string& line = lines[i];
      if (running.empty() && (line.rfind("driver: ", 0) == 0 || line.rfind("device: ", 0) == 0)) {
        try {
          (line.rfind("driver: ", 0) == 0 ? drivers : devices).push_back(ParseStrict(line.substr(8), 16));
        } catch (...) {
          Problem(fmt::format("{}:{}: not JSON: {}", kLogFile, i + 1, Shown(line)));
        }
        continue;
      }
      if (line.rfind("[ RUN      ] ", 0) == 0 && running.empty()) {
        running = line.substr(13);
        ++runs;
        continue;
      }
      if (line.rfind("[  ABANDON ]", 0) == 0) abandoned = true;
      if (running.empty() || line.rfind("[ ", 0) != 0) continue;
      size_t close = line.find(" ] ");
      if (close == std::string::npos) continue;
      std::string status = line.substr(2, close - 2);
      status.erase(0, status.find_first_not_of(' '));
      if (!KnownStatuses().count(status)) continue;
      if (line.compare(close + 3, running.size() + 2, running + " (") != 0) continue;
      ended.emplace_back(running, status);
      running.clear();
    }
    if (abandoned) Problem(fmt::format("{} shows the run was abandoned (a timeout or a crash)", kLogFile));
    if (drivers != run.value("drivers", nlohmann::json()))
      Problem(fmt::format("the driver lines of {} differ from run.drivers of {}", kLogFile, kReportFile));
    if (devices != run.value("devices", nlohmann::json()))
      Problem(fmt::format("the device lines of {} differ from run.devices of {}", kLogFile, kReportFile));
    if (runs != results_.size() || ended.size() != results_.size()) {
      Problem(fmt::format("{} starts {} and ends {} tests; {} holds {}", kLogFile, runs,
                          ended.size(), kReportFile, results_.size()));
    }
    for (size_t i = 0; i < ended.size() && i < results_.size(); ++i) {
      if (ended[i].first != results_[i].full_name || ended[i].second != results_[i].status) {
        Problem(fmt::format("{} and {} disagree at test #{}: the log ends {} as {}, the report "
                            "has {} as {}",
                            kLogFile, kReportFile, i + 1, Shown(ended[i].first), Shown(ended[i].second),
                            Shown(results_[i].full_name), Shown(results_[i].status)));
        break;
      }
    }
  }

  // 7. summary.md states the same verdict.
  void CheckSummary() {
    const std::string* summary = File(kSummaryFile);
    if (summary == nullptr) return;
    std::string title = SummaryTitle(report_["run"].value("certify", false),
                                     report_["verdict"].get<std::string>());
    if (summary->substr(0, summary->find('\n')) != title)
      Problem(fmt::format("{} does not begin with \"{}\"", kSummaryFile, title));
  }

  const std::map<std::string, std::string>& files_;
  const std::vector<std::string>& unreadable_;
  const Profile& profile_;
  const Ed25519Key* key_;
  const LibraryHasher& library_hash_;
  VerifyOutcome& out_;

  std::map<std::string, std::string> listed_;
  nlohmann::json report_;
  bool signed_ok_ = false;
  bool version_matches_ = true;
  std::string driver_name_, driver_version_, library_checked_;
  std::set<std::string> device_suffixes_;
  std::set<std::string> expected_;
  size_t per_device_ = 0;
  std::vector<TestResult> results_;
};

}  // namespace

VerifyOutcome VerifyContents(const std::map<std::string, std::string>& files,
                             const std::vector<std::string>& unreadable, const Profile& profile,
                             const Ed25519Key* key, const LibraryHasher& library_hash) noexcept {
  VerifyOutcome out;
  try {
    Verifier(files, unreadable, profile, key, library_hash, out).Run();
  } catch (const std::exception& e) {
    try {
      out.problems.push_back(fmt::format("verification stopped: {}", e.what()));
    } catch (...) {
    }
  } catch (...) {
  }
  if (out.problems.empty() && out.summary.empty()) {
    // Never "verified" by accident: a check that stopped without a word is a failure.
    try {
      out.problems.push_back("verification stopped before it could check everything");
    } catch (...) {
    }
  }
  return out;
}

namespace {

// Reads every entry of the package directory |fd| into |files|; what cannot be read (not a
// regular file, a symlink, too large) goes to |unreadable| with why.
void ReadPackageDirectory(int fd, std::map<std::string, std::string>& files,
                          std::vector<std::string>& unreadable) {
  int listing = dup(fd);
  DIR* dir = listing >= 0 ? fdopendir(listing) : nullptr;
  if (dir == nullptr) {
    if (listing >= 0) close(listing);
    unreadable.push_back(fmt::format("the directory cannot be listed: {}", std::strerror(errno)));
    return;
  }
  struct Closer {
    void operator()(DIR* d) const { closedir(d); }
  };
  std::unique_ptr<DIR, Closer> owned(dir);
  std::vector<std::string> names;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (names.size() == kMaxPackageFiles) {
      unreadable.push_back(fmt::format("the directory holds more than {} entries: not a package",
                                       kMaxPackageFiles));
      break;
    }
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    struct stat st {};
    if (fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      unreadable.push_back(fmt::format("{}: {}", Shown(name), std::strerror(errno)));
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      char target[512] = {};
      ssize_t n = readlinkat(fd, name.c_str(), target, sizeof target - 1);
      unreadable.push_back(fmt::format("{} is a symbolic link (to {}); a package holds regular "
                                       "files only",
                                       Shown(name), n > 0 ? Shown(std::string(target, static_cast<size_t>(n))) : "?"));
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      unreadable.push_back(fmt::format("{} is {}; a package holds regular files only", Shown(name),
                                       fc::file_type_name(st.st_mode)));
      continue;
    }
    std::string bytes;
    if (fc::Problem p = fc::read_regular_file(name.c_str(), kMaxPackageFileBytes, bytes,
                                              /*no_follow=*/true, fd)) {
      unreadable.push_back(fmt::format("{}: {}", Shown(name), p.text));
      continue;
    }
    files.emplace(name, std::move(bytes));
  }
}

}  // namespace

int VerifyPackage(const VerifyOptions& options) {
  const std::string& dir = options.dir;
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) {
    std::cout << "FAIL: " << dir << ": " << fc::errno_text(errno) << "\n";
    return 2;
  }
  if (!S_ISDIR(st.st_mode)) {
    std::cout << "FAIL: " << dir << " is " << fc::file_type_name(st.st_mode)
              << ", not a package directory (the directory `udal-cts --certify --out DIR` "
                 "wrote)\n";
    return 2;
  }
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    std::cout << "FAIL: " << dir << ": " << fc::errno_text(errno) << "\n";
    return 2;
  }
  fc::FileDescriptor owned(fd);

  std::optional<Ed25519Key> key;
  if (!options.key_path.empty()) {
    std::string error;
    key = Ed25519Key::LoadPublic(options.key_path, &error);
    if (!key) {
      std::cout << "FAIL: --key " << error << "\n";
      return 2;
    }
  }

  std::map<std::string, std::string> files;
  std::vector<std::string> unreadable;
  ReadPackageDirectory(fd, files, unreadable);

  LibraryHasher hasher = [&options](const std::string& recorded) {
    LibraryHash h;
    h.where = options.library_path.empty() ? recorded : options.library_path;
    if (h.where.empty()) {
      h.why = "the package records no path";
      return h;
    }
    struct stat library {};
    if (stat(h.where.c_str(), &library) != 0 && options.library_path.empty() &&
        (errno == ENOENT || errno == ENOTDIR)) {
      h.why = "no such file";
      return h;
    }
    h.present = true;
    fc::OpenedFile file;
    if (fc::Problem p = fc::open_regular_file(h.where.c_str(), fc::kMaxLibraryBytes, file)) {
      h.why = p.text;
      return h;
    }
    h.sha256 = Sha256File(h.where);
    if (h.sha256.empty()) h.why = "reading it failed";
    return h;
  };

  VerifyOutcome outcome = VerifyContents(files, unreadable, options.profile,
                                         key ? &*key : nullptr, hasher);
  auto manifest = files.find(kManifestFile);
  std::string digest = manifest == files.end() ? "" : Sha256(manifest->second);
  if (!outcome.problems.empty()) {
    std::cout << "FAIL: " << dir << " is not a verified udal-cts certification:\n";
    size_t shown = 0;
    for (const std::string& p : outcome.problems) {
      if (++shown > 50) {
        std::cout << "  - ... and " << outcome.problems.size() - 50 << " more problems\n";
        break;
      }
      std::cout << "  - " << p << "\n";
    }
    for (const std::string& n : outcome.notes) std::cout << "  note: " << n << "\n";
    return 1;
  }
  // Verified means genuine; a genuine certification whose driver failed is still no
  // certificate, so the exit status says both (0: genuine and passed).
  bool passed = outcome.summary.ends_with("verdict PASS") ||
                outcome.summary.ends_with("verdict PASS_WITH_WAIVERS");
  std::cout << (passed ? "OK: " : "FAIL: ") << dir << ": " << outcome.summary
            << (passed ? "" : " (the package is genuine, but the driver did not pass)") << "\n";
  for (const std::string& n : outcome.notes) std::cout << "  note: " << n << "\n";
  std::cout << "package digest (sha256 of " << kManifestFile << "): " << digest << "\n";
  return passed ? 0 : 1;
}

}  // namespace cts
