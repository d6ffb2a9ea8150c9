// Writes the seed corpus of fuzz_package into the directory given: a signed certification
// that verifies (with the fuzzer's key and profile), an unsigned one, one with a skipped
// and a failed test, and the forgery (a filtered run relabelled as a certification).
//   package_seeds fuzz/corpus/package
#include "package_fixture.h"
#include "synthetic_package.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace {

cts::synthetic::Run BaseRun() {
  cts::synthetic::Run run;
  run.profile = udal_fuzz::Profile();
  run.devices = {"fuzz_0_Fuzz_device", "fuzz_1_Fuzz_device"};
  run.driver = "fuzz";
  run.library_path = udal_fuzz::kLibraryPath;
  run.library_sha256 = cts::Sha256(udal_fuzz::LibraryBytes());
  return run;
}

std::string Package(const cts::synthetic::Run& run, const cts::Ed25519Key* key) {
  std::string dir = (std::filesystem::temp_directory_path() / "udal-fuzz-seed").string();
  std::filesystem::remove_all(dir);
  cts::synthetic::Write(dir, run, key);
  std::string text = udal_fuzz::Join(cts::synthetic::Read(dir));
  std::filesystem::remove_all(dir);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  std::filesystem::create_directories(argv[1]);
  auto write = [&](const char* name, const std::string& text) {
    std::ofstream(std::filesystem::path(argv[1]) / name, std::ios::binary) << text;
  };
  cts::synthetic::Run run = BaseRun();
  write("signed", Package(run, &udal_fuzz::Key()));
  write("unsigned", Package(run, nullptr));
  cts::synthetic::Run mixed = BaseRun();
  mixed.status = [](const std::string& name) {
    return name.find("Map") != std::string::npos      ? std::string("skipped")
           : name.find("Standalone") != std::string::npos ? std::string("failed")
                                                        : std::string("passed");
  };
  write("mixed", Package(mixed, &udal_fuzz::Key()));
  cts::synthetic::Run filtered = BaseRun();
  filtered.ran = [](const std::string& name) { return name.find("Buffer") != std::string::npos; };
  auto files = udal_fuzz::Split(Package(filtered, nullptr));
  cts::synthetic::Rehash(files);
  write("filtered", udal_fuzz::Join(files));
  return 0;
}
