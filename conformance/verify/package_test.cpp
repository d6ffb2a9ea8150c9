// udal-cts verify (issue 11): a package verifies only when it holds a result for every test
// of the certification profile of the CTS that wrote it, its files, report, JUnit, summary
// and log agree, the driver library (when present) is the one certified, and, with a key,
// the certifier signed exactly these files. Every forgery below used to verify, or would.
#include "report.h"
#include "synthetic_package.h"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace cts {
namespace {

namespace fs = std::filesystem;

#define EXPECT_CONTAINS(haystack, needle)                                                      \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)                             \
      << "'" << (haystack) << "' does not contain '" << (needle) << "'"

std::string Joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  return text;
}

class PackageTest : public ::testing::Test {
 protected:
  PackageTest() {
    std::string pattern = (fs::temp_directory_path() / "udal-cts-verify-XXXXXX").string();
    dir_ = mkdtemp(pattern.data()) ? pattern : std::string();
    run_.profile = profile_;
  }
  ~PackageTest() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A fresh package of |run| in its own directory.
  std::string Write(const synthetic::Run& run, const Ed25519Key* key = nullptr) {
    std::string dir = dir_ + "/pkg" + std::to_string(++packages_);
    synthetic::Write(dir, run, key);
    return dir;
  }

  VerifyOutcome Verify(const std::map<std::string, std::string>& files, const Ed25519Key* key = nullptr,
                       const Profile* profile = nullptr) {
    return VerifyContents(files, {}, profile ? *profile : profile_, key, hasher_);
  }

  static std::string Report(const std::map<std::string, std::string>& files) {
    return files.at(kReportFile);
  }

  Profile profile_{"1.0.0",
                   {"Devices/BufferTest.Create/DEVICE", "Devices/BufferTest.Map/DEVICE",
                    "Devices/LaunchTest.Saxpy/DEVICE", "Devices/StreamTest.Synchronize/DEVICE",
                    "Standalone.Once"}};
  synthetic::Run run_;
  LibraryHasher hasher_ = [](const std::string& path) {
    LibraryHash h;
    h.where = path;
    h.why = "no such file";
    return h;
  };
  std::string dir_;
  int packages_ = 0;
};

TEST_F(PackageTest, AFreshCertificationVerifies) {
  VerifyOutcome out = Verify(synthetic::Read(Write(run_)));
  EXPECT_TRUE(out.problems.empty()) << Joined(out.problems);
  EXPECT_CONTAINS(out.summary, "all 9 tests of its profile (4 on each of 2 device(s), 1 once)");
  EXPECT_CONTAINS(Joined(out.notes), "not signed");
  EXPECT_CONTAINS(Joined(out.notes), "is not on this machine");
}

TEST_F(PackageTest, FilteredRunRelabelledAsACertificationFailsNamingTheMissingTests) {
  // The issue's forgery: a run filtered to the buffer tests, relabelled certify: true with
  // every hash recomputed. Everything a forger can fix is fixed; only the profile catches it.
  run_.certify = false;
  run_.gtest_filter = "*Buffer*";
  run_.ran = [](const std::string& name) { return name.find("BufferTest") != std::string::npos; };
  auto files = synthetic::Read(Write(run_));
  nlohmann::json report = nlohmann::json::parse(Report(files));
  report["run"]["certify"] = true;
  report["run"]["gtest_filter"] = "*";
  files[kReportFile] = report.dump(2) + "\n";
  std::string& summary = files[kSummaryFile];
  summary.replace(0, summary.find('\n'), "# udal-cts certification: **PASS**");
  synthetic::Rehash(files);

  VerifyOutcome out = Verify(files);
  ASSERT_EQ(out.problems.size(), 1u) << Joined(out.problems);
  EXPECT_CONTAINS(out.problems[0], "5 of the 9 tests of the udal-cts 1.0.0 certification profile "
                                   "have no result");
  EXPECT_CONTAINS(out.problems[0], "Devices/StreamTest.Synchronize/fake_0_Fake_device");
  EXPECT_CONTAINS(out.problems[0], "Standalone.Once");
  EXPECT_EQ(out.summary, "");
}

TEST_F(PackageTest, APlainRunOrAFilterIsNotACertification) {
  run_.certify = false;
  VerifyOutcome plain = Verify(synthetic::Read(Write(run_)));
  EXPECT_CONTAINS(Joined(plain.problems), "run.certify is not true");
  run_.certify = true;
  run_.gtest_filter = "*Buffer*";
  VerifyOutcome filtered = Verify(synthetic::Read(Write(run_)));
  EXPECT_CONTAINS(Joined(filtered.problems), "run.gtest_filter is \"*Buffer*\"");
}

TEST_F(PackageTest, ATestOutsideTheProfileOrRunTwiceFails) {
  Profile smaller = profile_;
  smaller.tests.erase(std::find(smaller.tests.begin(), smaller.tests.end(), "Standalone.Once"));
  VerifyOutcome out = Verify(synthetic::Read(Write(run_)), nullptr, &smaller);
  EXPECT_CONTAINS(Joined(out.problems), "1 test(s) are not in the udal-cts 1.0.0 profile: Standalone.Once");
  EXPECT_CONTAINS(Joined(out.problems), "run.profile_sha256");

  auto files = synthetic::Read(Write(run_));
  nlohmann::json report = nlohmann::json::parse(Report(files));
  report["tests"].push_back(report["tests"][0]);
  report["counts"]["total"] = report["counts"]["total"].get<int>() + 1;
  report["counts"]["passed"] = report["counts"]["passed"].get<int>() + 1;
  files[kReportFile] = report.dump(2);
  synthetic::Rehash(files);
  EXPECT_CONTAINS(Joined(Verify(files).problems), "1 test(s) have more than one result");
}

TEST_F(PackageTest, APackageOfAnotherCtsVersionIsNotJudgedByThisProfile) {
  Profile other = profile_;
  other.cts_version = "2.0.0";
  VerifyOutcome out = Verify(synthetic::Read(Write(run_)), nullptr, &other);
  EXPECT_CONTAINS(Joined(out.problems), "written by udal-cts 1.0.0; this is udal-cts 2.0.0");
}

TEST_F(PackageTest, SignedPackageVerifiesWithItsKeyOnly) {
  std::string error;
  auto key = Ed25519Key::FromRawPrivate(std::string(32, '\x11'), &error);
  auto other = Ed25519Key::FromRawPrivate(std::string(32, '\x22'), &error);
  ASSERT_TRUE(key && other) << error;
  auto files = synthetic::Read(Write(run_, &*key));
  ASSERT_TRUE(files.count(kSignatureFile));

  VerifyOutcome good = Verify(files, &*key);
  EXPECT_TRUE(good.problems.empty()) << Joined(good.problems);
  EXPECT_CONTAINS(good.summary, "signed by the --key given");

  VerifyOutcome unchecked = Verify(files);
  EXPECT_TRUE(unchecked.problems.empty()) << Joined(unchecked.problems);
  EXPECT_CONTAINS(Joined(unchecked.notes), "signed by Ed25519 key " + key->PublicHex());

  EXPECT_CONTAINS(Joined(Verify(files, &*other).problems), "not with the --key given");

  files.erase(kSignatureFile);
  EXPECT_CONTAINS(Joined(Verify(files, &*key).problems), "the package is not signed");
}

TEST_F(PackageTest, SignedPackageWithOneByteChangedFailsVerifyWithTheKey) {
  std::string error;
  auto key = Ed25519Key::FromRawPrivate(std::string(32, '\x33'), &error);
  ASSERT_TRUE(key) << error;
  const auto original = synthetic::Read(Write(run_, &*key));
  for (const auto& [name, bytes] : original) {
    for (size_t at : {size_t{0}, bytes.size() / 2, bytes.size() - 2}) {
      auto files = original;
      files[name][at] = static_cast<char>(files[name][at] ^ 0x01);
      EXPECT_FALSE(Verify(files, &*key).problems.empty()) << name << " byte " << at;
      if (name == kManifestFile || name == kSignatureFile) continue;
      // The forger recomputes every hash: only the signature can tell.
      synthetic::Rehash(files);
      VerifyOutcome out = Verify(files, &*key);
      EXPECT_CONTAINS(Joined(out.problems), "the signature does not match MANIFEST.sha256");
    }
  }
}

TEST_F(PackageTest, TheRecordedLibraryHashIsCheckedWhenTheLibraryIsPresent) {
  auto files = synthetic::Read(Write(run_));
  hasher_ = [](const std::string& path) {
    return LibraryHash{true, std::string(64, 'a'), path, ""};
  };
  VerifyOutcome same = Verify(files);
  EXPECT_TRUE(same.problems.empty()) << Joined(same.problems);
  EXPECT_CONTAINS(same.summary, "the driver library /nonexistent/libudal_driver_fake.so is the one certified");

  hasher_ = [](const std::string& path) {
    return LibraryHash{true, std::string(64, 'b'), path, ""};
  };
  EXPECT_CONTAINS(Joined(Verify(files).problems), "it is not the library that was certified");
  hasher_ = [](const std::string& path) { return LibraryHash{true, "", path, "a FIFO"}; };
  EXPECT_CONTAINS(Joined(Verify(files).problems), "cannot be read: a FIFO");

  run_.library_sha256 = "";
  EXPECT_CONTAINS(Joined(Verify(synthetic::Read(Write(run_))).problems),
                  "does not say which library it certified");
}

TEST_F(PackageTest, LogJUnitAndSummaryMustAgreeWithTheReport) {
  run_.status = [](const std::string& name) {
    return name.find("Map") != std::string::npos ? std::string("skipped") : std::string("passed");
  };
  const auto original = synthetic::Read(Write(run_));
  ASSERT_TRUE(Verify(original).problems.empty()) << Joined(Verify(original).problems);

  auto log = original;
  std::string& text = log[kLogFile];
  size_t at = text.find("[  skipped ] Devices/BufferTest.Map");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, 12, "[   passed ]");
  synthetic::Rehash(log);
  EXPECT_CONTAINS(Joined(Verify(log).problems), "cts.log and report.json disagree at test #");

  auto junit = original;
  std::string& xml = junit[kJUnitFile];
  size_t skipped = xml.find("<skipped ");
  ASSERT_NE(skipped, std::string::npos);
  xml.replace(skipped, 9, "<failure ");
  synthetic::Rehash(junit);
  EXPECT_CONTAINS(Joined(Verify(junit).problems), "junit.xml and report.json disagree on 1 test(s)");

  auto summary = original;
  summary[kSummaryFile].replace(0, summary[kSummaryFile].find('\n'), "# udal-cts certification: **FAIL**");
  synthetic::Rehash(summary);
  EXPECT_CONTAINS(Joined(Verify(summary).problems), "summary.md does not begin with");

  auto header = original;
  header[kLogFile].replace(0, 8, "udal-cts 9");
  synthetic::Rehash(header);
  EXPECT_CONTAINS(Joined(Verify(header).problems), "cts.log does not begin with the run's header");
}

TEST_F(PackageTest, DuplicateKeysInTheReportAreRefused) {
  auto files = synthetic::Read(Write(run_));
  std::string& report = files[kReportFile];
  size_t at = report.find("\"verdict\": \"PASS\"");
  ASSERT_NE(at, std::string::npos);
  report.insert(at, "\"verdict\": \"FAIL\", ");
  synthetic::Rehash(files);
  EXPECT_CONTAINS(Joined(Verify(files).problems), "the key \"verdict\" appears twice");
}

TEST_F(PackageTest, ANulByteEndsNoJson) {
  // The JSON parser stops at a NUL: what follows one would be hashed but never read.
  auto files = synthetic::Read(Write(run_));
  files[kReportFile] += std::string("\0{\"verdict\": \"FAIL\"}", 20);
  synthetic::Rehash(files);
  EXPECT_CONTAINS(Joined(Verify(files).problems), "report.json is refused: a NUL byte at offset");
}

TEST_F(PackageTest, ManifestMustListEveryFileOnceAndNothingElse) {
  const auto original = synthetic::Read(Write(run_));
  auto extra = original;
  extra["notes.txt"] = "hello";
  EXPECT_CONTAINS(Joined(Verify(extra).problems), "notes.txt is not in MANIFEST.sha256");
  auto twice = original;
  twice[kManifestFile] += twice[kManifestFile].substr(0, twice[kManifestFile].find('\n') + 1);
  EXPECT_CONTAINS(Joined(Verify(twice).problems), "a second time");
  auto path = original;
  path[kManifestFile] += std::string(64, '0') + "  ../etc/passwd\n";
  EXPECT_CONTAINS(Joined(Verify(path).problems), "not `<sha256>  <file name>`");
  auto none = original;
  none.erase(kManifestFile);
  EXPECT_CONTAINS(Joined(Verify(none).problems), "MANIFEST.sha256 is missing");
}

// ---------------------------------------------------------------------------------------
// The directory and the key files: nothing that blocks, reads for ever or follows a link.
// ---------------------------------------------------------------------------------------

class PackageDirectoryTest : public PackageTest {
 protected:
  int VerifyDir(const std::string& dir, std::string* output, const std::string& key = "") {
    VerifyOptions options;
    options.dir = dir;
    options.key_path = key;
    options.profile = profile_;
    testing::internal::CaptureStdout();
    int code = VerifyPackage(options);
    *output = testing::internal::GetCapturedStdout();
    return code;
  }
};

TEST_F(PackageDirectoryTest, AGoodPackageDirectoryVerifies) {
  std::string out;
  EXPECT_EQ(VerifyDir(Write(run_), &out), 0) << out;
  EXPECT_CONTAINS(out, "OK: ");
  EXPECT_CONTAINS(out, "package digest");
}

TEST_F(PackageDirectoryTest, AGenuineCertificationOfAFailingDriverExitsNonZero) {
  run_.status = [](const std::string& name) {
    return name == "Standalone.Once" ? std::string("failed") : std::string("passed");
  };
  std::string out;
  EXPECT_EQ(VerifyDir(Write(run_), &out), 1) << out;
  EXPECT_CONTAINS(out, "verdict FAIL (the package is genuine, but the driver did not pass)");
}

TEST_F(PackageDirectoryTest, ARegularFileFifoOrNothingIsNotAPackageDirectory) {
  std::string out;
  std::string file = dir_ + "/file";
  std::ofstream(file) << "x";
  EXPECT_EQ(VerifyDir(file, &out), 2);
  EXPECT_CONTAINS(out, "is a regular file, not a package directory");
  std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(VerifyDir(fifo, &out), 2);
  EXPECT_CONTAINS(out, "is a FIFO, not a package directory");
  EXPECT_EQ(VerifyDir(dir_ + "/nothing", &out), 2);
  EXPECT_CONTAINS(out, "No such file or directory");
}

TEST_F(PackageDirectoryTest, LinksFifosAndDirectoriesInAPackageAreRefusedWithoutReading) {
  // A log that is a link to /dev/zero or a FIFO used to hang verify for ever.
  std::string out;
  std::string zero = Write(run_);
  fs::remove(zero + "/cts.log");
  fs::create_symlink("/dev/zero", zero + "/cts.log");
  EXPECT_EQ(VerifyDir(zero, &out), 1);
  EXPECT_CONTAINS(out, "cts.log is a symbolic link (to /dev/zero); a package holds regular files only");
  EXPECT_EQ(out.find("cts.log is listed"), std::string::npos) << out;

  std::string fifo = Write(run_);
  fs::remove(fifo + "/cts.log");
  ASSERT_EQ(mkfifo((fifo + "/cts.log").c_str(), 0600), 0);
  EXPECT_EQ(VerifyDir(fifo, &out), 1);
  EXPECT_CONTAINS(out, "cts.log is a FIFO; a package holds regular files only");

  std::string sub = Write(run_);
  fs::create_directory(sub + "/extra");
  EXPECT_EQ(VerifyDir(sub, &out), 1);
  EXPECT_CONTAINS(out, "extra is a directory");
}

TEST_F(PackageDirectoryTest, AnOversizedFileIsRefusedWithoutReadingIt) {
  std::string out;
  std::string big = Write(run_);
  ASSERT_EQ(truncate((big + "/cts.log").c_str(), static_cast<off_t>(kMaxPackageFileBytes) + 1), 0);
  EXPECT_EQ(VerifyDir(big, &out), 1);
  EXPECT_CONTAINS(out, "cts.log: size: 67108865 bytes, more than the 67108864 allowed");
}

// PEM files of a fresh key of |type| ("ED25519", "X25519"): private and public.
std::pair<std::string, std::string> KeyFiles(const std::string& dir, const char* type) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  std::string private_path = dir + "/" + type + ".pem";
  std::string public_path = dir + "/" + type + ".pub.pem";
  FILE* f = fopen(private_path.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  fclose(f);
  f = fopen(public_path.c_str(), "w");
  PEM_write_PUBKEY(f, key);
  fclose(f);
  EVP_PKEY_free(key);
  return {private_path, public_path};
}

TEST_F(PackageDirectoryTest, PemKeysSignAndVerifyAndOtherKeysAreRefused) {
  auto [private_pem, public_pem] = KeyFiles(dir_, "ED25519");
  std::string error;
  auto key = Ed25519Key::LoadPrivate(private_pem, &error);
  ASSERT_TRUE(key) << error;
  EXPECT_FALSE(Ed25519Key::LoadPrivate(public_pem, &error));
  EXPECT_CONTAINS(error, "not an unencrypted PEM private key");
  std::string out;
  std::string signed_dir = Write(run_, &*key);
  EXPECT_EQ(VerifyDir(signed_dir, &out, public_pem), 0) << out;
  EXPECT_EQ(VerifyDir(signed_dir, &out, private_pem), 0) << out;  // its public half

  // One byte of the report changed, every hash recomputed: the signature catches it.
  auto files = synthetic::Read(signed_dir);
  files[kReportFile][10] = static_cast<char>(files[kReportFile][10] ^ 1);
  synthetic::Rehash(files);
  for (const auto& [name, bytes] : files) std::ofstream(signed_dir + "/" + name, std::ios::binary) << bytes;
  EXPECT_EQ(VerifyDir(signed_dir, &out, public_pem), 1);
  EXPECT_CONTAINS(out, "the signature does not match MANIFEST.sha256");

  auto [x_private, x_public] = KeyFiles(dir_, "X25519");
  EXPECT_EQ(VerifyDir(signed_dir, &out, x_public), 2);
  EXPECT_CONTAINS(out, "a X25519 key; udal-cts signs with Ed25519");
  std::string fifo = dir_ + "/key.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(VerifyDir(signed_dir, &out, fifo), 2);
  EXPECT_CONTAINS(out, "a FIFO, not a regular file");
}

TEST_F(PackageDirectoryTest, Sha256FileReadsOnlyRegularFiles) {
  std::string fifo = dir_ + "/lib.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(Sha256File(fifo), "");
  EXPECT_EQ(Sha256File("/dev/zero"), "");
  std::ofstream(dir_ + "/abc") << "abc";
  EXPECT_EQ(Sha256File(dir_ + "/abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace cts
