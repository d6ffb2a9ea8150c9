#include "log.h"

#include <cstdio>
#include <cstring>

namespace udal::hal {

const char* log_level_name(udal_log_level_t level) noexcept {
  switch (level) {
  case UDAL_LOG_LEVEL_DEBUG:
    return "debug";
  case UDAL_LOG_LEVEL_INFO:
    return "info";
  case UDAL_LOG_LEVEL_WARNING:
    return "warning";
  case UDAL_LOG_LEVEL_ERROR:
    return "error";
  default:
    return "log";
  }
}

Logger Logger::from_setting(const char* setting) {
  if (setting == nullptr || setting[0] == '\0')
    return Logger{};
  struct Choice {
    const char* text;
    std::optional<udal_log_level_t> level;
  };
  static const Choice choices[] = {{"debug", UDAL_LOG_LEVEL_DEBUG},
                                   {"info", UDAL_LOG_LEVEL_INFO},
                                   {"warning", UDAL_LOG_LEVEL_WARNING},
                                   {"error", UDAL_LOG_LEVEL_ERROR},
                                   {"none", std::nullopt}};
  for (const Choice& c : choices) {
    if (strcasecmp(setting, c.text) == 0)
      return Logger{c.level};
  }
  Logger fallback{};
  fallback.log(UDAL_LOG_LEVEL_WARNING,
               "UDAL_LOG='{}' is not one of debug, info, warning, error, none; using warning",
               setting);
  return fallback;
}

void Logger::write(udal_log_level_t level, std::string_view message) const noexcept {
  // One fprintf per line keeps lines of concurrent threads whole.
  std::fprintf(stderr, "udal: %s: %.*s\n", log_level_name(level), static_cast<int>(message.size()),
               message.data());
}

} // namespace udal::hal
