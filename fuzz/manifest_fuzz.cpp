// libFuzzer target: the driver manifest parser and the driver search (hal/src/manifest.*,
// discovery.*, environment.*). The first input byte picks what the rest feeds:
//   0, 1  parse_manifest on the bytes in memory (the parser: strict JSON, fields, names)
//   2     the bytes as a manifest file in a driver directory, found by find_drivers and read
//         by read_manifest (the file checks and the search)
//   3     the bytes as list variables and paths: split_list, UDAL_DRIVERS_SELECT/XDG_* through
//         Environment, standard_directories, driver_name_from_library, parse_version
// Every result is checked for the promises callers rely on; a broken one traps.
#include "discovery.h"
#include "udal/sdk/file_check.h"
#include "environment.h"
#include "log.h"
#include "manifest.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace udal::hal;

namespace {

#define CHECK(condition)                                                                           \
  do {                                                                                             \
    if (!(condition))                                                                              \
      __builtin_trap();                                                                            \
  } while (0)

void CheckManifestResult(const ManifestResult& r) {
  if (r.ok) {
    const Manifest& m = r.manifest;
    CHECK(!m.name.empty() && m.name.size() < UDAL_MAX_DRIVER_NAME);
    CHECK(m.name.find('\0') == std::string::npos);
    for (char c : m.name)
      CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
    CHECK(!m.library_path.empty() && m.library_path.find('\0') == std::string::npos);
    CHECK(UDAL_VERSION_MAJOR(m.abi_version) == UDAL_VERSION_MAJOR(UDAL_ABI_VERSION));
    CHECK(r.result == UDAL_SUCCESS && r.reason.empty());
  } else {
    CHECK(r.result < 0 && !r.reason.empty());
  }
}

// A private directory, removed at exit. Plain char arrays: no destructor runs before the
// atexit handler that needs them.
char scratch[64];
char scratch_file[96];

void RemoveScratch() {
  unlink(scratch_file);
  rmdir(scratch);
}

const char* ScratchDirectory() {
  if (scratch[0] == '\0') {
    // tmpfs when there is one: rewriting a file on a disk file system costs milliseconds.
    std::snprintf(scratch, sizeof scratch, "/dev/shm/udal-fuzz-manifest-XXXXXX");
    if (mkdtemp(scratch) == nullptr) {
      std::snprintf(scratch, sizeof scratch, "/tmp/udal-fuzz-manifest-XXXXXX");
      if (mkdtemp(scratch) == nullptr)
        std::abort();
    }
    std::snprintf(scratch_file, sizeof scratch_file, "%s/driver.json", scratch);
    std::atexit(RemoveScratch);
  }
  return scratch;
}

std::string WithoutNul(const std::string& text) {
  std::string out;
  for (char c : text)
    if (c != '\0')
      out += c;
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Logger quiet(std::nullopt);
  switch (data[0] % 4) {
  case 0:
  case 1:
    CheckManifestResult(parse_manifest("/udal-fuzz/drivers.d/driver.json", text));
    break;
  case 2: {
    const std::string dir = ScratchDirectory();
    {
      std::ofstream out(scratch_file, std::ios::binary | std::ios::trunc);
      out << text;
    }
    Environment environment(/*ignore=*/false, /*elevated=*/false);
    std::vector<Candidate> candidates = find_drivers({dir}, environment, quiet);
    CHECK(candidates.size() == 1 && candidates[0].kind == Candidate::Kind::manifest);
    ManifestResult r = read_manifest(candidates[0].path);
    CheckManifestResult(r);
    // The file and the bytes say the same (the file's size check aside).
    if (text.size() <= udal::file_check::kMaxManifestBytes) {
      ManifestResult same = parse_manifest(candidates[0].path, text);
      CHECK(r.ok == same.ok && r.result == same.result && r.reason == same.reason &&
            r.manifest.name == same.manifest.name &&
            r.manifest.library_path == same.manifest.library_path);
    }
    break;
  }
  case 3: {
    for (char separator : {':', ','})
      for (const std::string& entry : split_list(text, separator))
        CHECK(!entry.empty() && entry.find(separator) == std::string::npos);
    std::string value = WithoutNul(text);
    setenv("UDAL_DRIVERS_SELECT", value.c_str(), 1);
    setenv("XDG_CONFIG_DIRS", value.c_str(), 1);
    setenv("XDG_DATA_DIRS", value.c_str(), 1);
    Environment environment(false, false);
    if (auto select = environment.override_variable("UDAL_DRIVERS_SELECT", quiet))
      CHECK(!split_list(*select, ',').empty());
    std::vector<std::string> dirs = standard_directories(environment, &quiet);
    for (const std::string& d : dirs)
      CHECK(!d.empty() && d.front() == '/');
    (void)driver_name_from_library(text);
    uint32_t version = 0;
    if (parse_version(text, version))
      CHECK(!text.empty() && text.find('.') != std::string::npos);
    break;
  }
  }
  return 0;
}
