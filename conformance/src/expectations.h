// Expected failures of a driver: a file beside the driver, one `<test glob> <reason>` a line
// ('#' starts a comment). A matching test is skipped with its reason, unless the run asks to
// run them anyway, in which case a pass is reported as unexpected.
#pragma once

#include <string>
#include <vector>

namespace cts {

struct Expectation {
  std::string glob;   // matched against "Suite/Test.Case/param" (fnmatch)
  std::string reason;
};

class Expectations {
 public:
  // Reads |path|; returns false with |error| set when the file is malformed or unreadable.
  bool Load(const std::string& path, std::string* error);
  // The reason of the first entry matching |full_name|, or nullptr.
  const Expectation* Match(const std::string& full_name) const;
  const std::string& path() const { return path_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::string path_;
  std::vector<Expectation> entries_;
};

// The process-wide set the fixture consults, and whether to run the matches anyway.
Expectations& expectations();
bool& run_expected_failures();

}  // namespace cts
