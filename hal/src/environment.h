// Every environment variable libudal reads goes through here: secure_getenv, the
// UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT switch, and the once-per-process note that an
// override was ignored in an elevated (setuid/setgid) process.
#pragma once

#include "log.h"

#include <optional>
#include <string>

namespace udal::hal {

class Environment {
public:
  // |ignore|: answer "unset" for every variable (UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT).
  // |elevated|: the process runs with AT_SECURE; overrides are then not honoured.
  Environment(bool ignore, bool elevated) : ignore_(ignore), elevated_(elevated) {}

  // The process as it is: AT_SECURE from the auxiliary vector.
  static Environment current(bool ignore);

  // The value of a variable that overrides libudal's behaviour; an elevated process never
  // sees one, and a set-but-ignored override is reported once per process and name. Empty
  // counts as unset, and so does a list variable (list_separator) holding only separators,
  // with a warning.
  std::optional<std::string> override_variable(const char* name, const Logger& logger) const;

  // The separator of a list variable (',' for UDAL_DRIVERS_SELECT/DISABLE, ':' for
  // UDAL_DRIVER_FILES/UDAL_ADD_DRIVER_FILES), '\0' for any other.
  static char list_separator(const char* name);

  // A variable that only supplies standard locations (XDG_*): secure_getenv, no note.
  std::optional<std::string> plain_variable(const char* name) const;

  bool ignored() const { return ignore_; }
  bool elevated() const { return elevated_; }

private:
  bool ignore_;
  bool elevated_;
};

} // namespace udal::hal
