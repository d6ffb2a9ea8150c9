// libudal's own diagnostics on stderr, filtered by UDAL_LOG; also the sink of the log
// callback every driver receives in udal_driver_create_desc_t.
#pragma once

#include <udal/udal_driver.h>

#include <fmt/format.h>

#include <optional>
#include <string_view>

namespace udal::hal {

class Logger {
public:
  // Messages below |threshold| are dropped; std::nullopt silences everything.
  explicit Logger(std::optional<udal_log_level_t> threshold = UDAL_LOG_LEVEL_WARNING)
      : threshold_(threshold) {}

  // Parses a UDAL_LOG value: debug, info, warning, error or none. Unknown text keeps the
  // default and says so.
  static Logger from_setting(const char* setting);

  bool enabled(udal_log_level_t level) const { return threshold_ && level >= *threshold_; }

  void write(udal_log_level_t level, std::string_view message) const noexcept;

  template <typename... Args>
  void log(udal_log_level_t level, fmt::format_string<Args...> format,
           Args&&... args) const noexcept {
    if (!enabled(level))
      return;
    try {
      write(level, fmt::format(format, std::forward<Args>(args)...));
    } catch (...) {
      write(level, "(message lost: out of host memory)");
    }
  }

private:
  std::optional<udal_log_level_t> threshold_;
};

const char* log_level_name(udal_log_level_t level) noexcept;

} // namespace udal::hal
