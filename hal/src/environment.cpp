#include "environment.h"

#include <cstdlib>
#include <mutex>
#include <set>
#include <string_view>
#include <sys/auxv.h>

namespace udal::hal {

Environment Environment::current(bool ignore) {
  return Environment{ignore, getauxval(AT_SECURE) != 0};
}

std::optional<std::string> Environment::override_variable(const char* name,
                                                          const Logger& logger) const {
  if (ignore_)
    return std::nullopt;
  if (elevated_) {
    // getenv only to learn whether there is something to report; its value is not used.
    if (std::getenv(name) != nullptr) {
      // Process-wide on purpose: the note is about the process, not one instance.
      static std::mutex mutex;
      static std::set<std::string> reported;
      std::lock_guard lock(mutex);
      if (reported.insert(name).second) {
        logger.write(UDAL_LOG_LEVEL_WARNING,
                     fmt::format("{} is ignored: the process is setuid/setgid (AT_SECURE)", name));
      }
    }
    return std::nullopt;
  }
  // Empty counts as unset, as a shell's `VAR= cmd` is the usual way to switch one off.
  const char* value = secure_getenv(name);
  if (value == nullptr || value[0] == '\0')
    return std::nullopt;
  // So does a list with only separators (UDAL_DRIVERS_SELECT=','): it names nothing, and
  // taking it as "select no driver" would silently hide every device.
  if (char separator = list_separator(name); separator != '\0') {
    std::string_view text(value);
    if (text.find_first_not_of(separator) == std::string_view::npos) {
      logger.log(UDAL_LOG_LEVEL_WARNING,
                 "{}='{}' lists nothing (only '{}' separators); it is treated as unset", name,
                 text, separator);
      return std::nullopt;
    }
  }
  return std::string(value);
}

char Environment::list_separator(const char* name) {
  std::string_view n(name);
  if (n == "UDAL_DRIVERS_SELECT" || n == "UDAL_DRIVERS_DISABLE")
    return ',';
  if (n == "UDAL_DRIVER_FILES" || n == "UDAL_ADD_DRIVER_FILES")
    return ':';
  return '\0';
}

std::optional<std::string> Environment::plain_variable(const char* name) const {
  if (ignore_)
    return std::nullopt;
  const char* value = secure_getenv(name);
  if (value == nullptr || value[0] == '\0')
    return std::nullopt;
  return std::string(value);
}

} // namespace udal::hal
