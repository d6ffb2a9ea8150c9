// The certification package: report.json, junit.xml, summary.md, cts.log, MANIFEST.sha256
// and, when signed, MANIFEST.sig; and its verification (`udal-cts verify DIR`).
//
// What `verify` proves (docs/certification.md): the files are those MANIFEST.sha256 lists;
// report.json, junit.xml, summary.md and cts.log tell the same story; the run was a
// certification that holds a result for every test of the profile of the CTS version that
// wrote it (no test missing, none added, none run twice); the driver library, when it is on
// this machine, is the one certified; and, with --key, that the holder of the certifier's
// Ed25519 key signed exactly these files. Without a signature, anyone can write a
// consistent package: only the signature says who vouches for it.
#pragma once

#include "recorder.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;

namespace cts {

inline constexpr const char* kReportFile = "report.json";
inline constexpr const char* kJUnitFile = "junit.xml";
inline constexpr const char* kSummaryFile = "summary.md";
inline constexpr const char* kLogFile = "cts.log";
inline constexpr const char* kManifestFile = "MANIFEST.sha256";
inline constexpr const char* kSignatureFile = "MANIFEST.sig";
inline constexpr const char* kReportFormat = "udal-cts-report/1";

// Bounds of what verify reads: a package file, the files in a package, a key file.
inline constexpr uint64_t kMaxPackageFileBytes = uint64_t{64} << 20;
inline constexpr size_t kMaxPackageFiles = 64;
inline constexpr uint64_t kMaxKeyFileBytes = 64 << 10;

// The test parameter the profile is listed with: "Devices/BufferTest.Create/DEVICE" stands
// for that test on every device under test.
inline constexpr const char* kProfileDevice = "DEVICE";

// The certification profile of this CTS: every test a certification must hold a result
// for, per device (names ending in "/DEVICE") or once.
struct Profile {
  std::string cts_version;
  std::vector<std::string> tests; // sorted, unique
};

// sha256 of the profile's names, one a line: names the profile in a report.
std::string ProfileDigest(const std::vector<std::string>& tests);

// Hex sha256 of a regular file's bytes (at most 1 GiB, never a FIFO or device); "" when it
// cannot be read.
std::string Sha256File(const std::string& path);
std::string Sha256(const std::string& bytes);

// An Ed25519 key (OpenSSL libcrypto), private (to sign) or public (to verify).
class Ed25519Key {
 public:
  // Reads a PEM key file: LoadPrivate needs a private key (unencrypted PKCS#8, as
  // `openssl genpkey -algorithm ed25519` writes); LoadPublic takes a public key or a
  // private one (whose public half it uses). nullopt with |error| set when it is neither.
  static std::optional<Ed25519Key> LoadPrivate(const std::string& path, std::string* error);
  static std::optional<Ed25519Key> LoadPublic(const std::string& path, std::string* error);
  // From raw bytes (32 bytes); for tests.
  static std::optional<Ed25519Key> FromRawPrivate(const std::string& raw32, std::string* error);

  std::string PublicHex() const; // the 32-byte public key, hex
  // The 64-byte signature of |message|, hex; "" on failure (only a private key signs).
  std::string Sign(const std::string& message) const;
  bool Verify(const std::string& message, const std::string& signature) const;

 private:
  std::shared_ptr<EVP_PKEY> key_;
  bool is_private_ = false;
};

// "FAIL" when a test failed, none passed, or the run stopped early; else
// "PASS_WITH_WAIVERS" when the driver's expected failures waived some tests; else "PASS".
std::string Verdict(const std::vector<TestResult>& results, bool complete);

// The JSON report: |run| (what was tested, with what, how) + every result + counts + verdict.
nlohmann::json BuildReport(const nlohmann::json& run, const std::vector<TestResult>& results,
                           bool complete);

// Writes report.json, junit.xml and summary.md into |dir|, then MANIFEST.sha256 over every
// regular file in |dir| (the log included) and, with |key|, MANIFEST.sig. Returns the sha256
// of the manifest: the package digest.
std::string WritePackage(const std::string& dir, const nlohmann::json& report,
                         const std::vector<TestResult>& results, const Ed25519Key* key = nullptr);

// ---------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------

struct VerifyOutcome {
  std::vector<std::string> problems; // empty: the package verifies
  std::vector<std::string> notes;    // what was not checked, and why
  std::string summary;               // one line on success
};

// The driver library a package names, as found on the verifying machine.
struct LibraryHash {
  bool present = false; // a file is there (or --library named one)
  std::string sha256;   // its sha256; "" when present but unreadable
  std::string where;    // the path looked at
  std::string why;      // why it is absent or unreadable
};
using LibraryHasher = std::function<LibraryHash(const std::string& recorded_path)>;

// The checks on a package's files in memory (name → bytes, as read from the directory;
// |unreadable| lists files that could not be read, with why). |key|: check MANIFEST.sig
// against it. Never throws.
VerifyOutcome VerifyContents(const std::map<std::string, std::string>& files,
                             const std::vector<std::string>& unreadable, const Profile& profile,
                             const Ed25519Key* key, const LibraryHasher& library_hash) noexcept;

struct VerifyOptions {
  std::string dir;
  std::string key_path;     // "": the signature is not checked
  std::string library_path; // "": the library at the recorded path, when there
  Profile profile;
};

// Reads |options.dir| (regular files only, none followed through a symlink, each bounded,
// nothing that can block) and runs VerifyContents; prints what it finds. Returns 0 when the
// package verifies and its verdict is PASS or PASS_WITH_WAIVERS, 1 when it does not verify
// or its verdict is FAIL, 2 when it cannot be read at all or the key is bad.
int VerifyPackage(const VerifyOptions& options);

}  // namespace cts
