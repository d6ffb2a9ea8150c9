// Where drivers are looked for: the ordered, deduplicated list of manifests and libraries
// an instance will try. The order is the order of udal_instance_get_driver_status.
#pragma once

#include "environment.h"
#include "log.h"

#include <string>
#include <vector>

namespace udal::hal {

struct Candidate {
  enum class Kind {
    manifest, // a .json file to read
    library,  // a driver library given directly (driver_paths, UDAL_DRIVER_FILES)
    missing,  // an explicitly named file that does not exist: listed as FAILED
  };
  Kind kind;
  std::string path;
};

// The search of DESIGN.md "Discovery": |explicit_paths| (udal_instance_desc_t::driver_paths)
// when not empty, else UDAL_DRIVER_FILES, else UDAL_ADD_DRIVER_FILES + the standard
// directories. Files are deduplicated by realpath.
std::vector<Candidate> find_drivers(const std::vector<std::string>& explicit_paths,
                                    const Environment& environment, const Logger& logger);

// The standard directories, in order (each ".../udal/drivers.d"); exposed for udal-info-like
// diagnostics and for tests. Relative XDG_CONFIG_DIRS / XDG_DATA_DIRS entries are ignored
// (the XDG spec), each with a warning on |logger| when given; a variable with no absolute
// entry counts as unset.
std::vector<std::string> standard_directories(const Environment& environment,
                                              const Logger* logger = nullptr);

// "libudal_driver_cpu.so.1" → "cpu"; "libfoo.so" → "foo"; the name given to a driver
// loaded from a library without a manifest.
std::string driver_name_from_library(const std::string& path);

// "a:b::c" → {"a", "b", "c"}: empty entries are dropped.
std::vector<std::string> split_list(const std::string& text, char separator);

} // namespace udal::hal
