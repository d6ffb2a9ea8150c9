#include "expectations.h"

#include <fnmatch.h>

#include <fstream>
#include <sstream>

namespace cts {

bool Expectations::Load(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read expectations file " + path;
    return false;
  }
  path_ = path;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    Expectation entry;
    if (!(words >> entry.glob)) continue;
    std::getline(words, entry.reason);
    entry.reason.erase(0, entry.reason.find_first_not_of(" \t"));
    if (entry.reason.empty()) {
      // A waiver without a reason cannot be reviewed: refuse it.
      *error = path + ":" + std::to_string(number) + ": `" + entry.glob + "` has no reason";
      return false;
    }
    entries_.push_back(std::move(entry));
  }
  return true;
}

const Expectation* Expectations::Match(const std::string& full_name) const {
  for (const Expectation& entry : entries_) {
    if (fnmatch(entry.glob.c_str(), full_name.c_str(), 0) == 0) return &entry;
  }
  return nullptr;
}

Expectations& expectations() {
  static Expectations instance;
  return instance;
}

bool& run_expected_failures() {
  static bool value = false;
  return value;
}

}  // namespace cts
