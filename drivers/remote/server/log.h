// log.h — udal-server's log: one line per event on stderr (the journal under systemd).
#ifndef UDAL_REMOTE_SERVER_LOG_H_
#define UDAL_REMOTE_SERVER_LOG_H_

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace udal::remote::server {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

class Log {
 public:
  // "debug", "info", "warning" or "error"; false for another word.
  bool set_level(std::string_view name) {
    if (name == "debug") level_ = Level::kDebug;
    else if (name == "info") level_ = Level::kInfo;
    else if (name == "warning") level_ = Level::kWarning;
    else if (name == "error") level_ = Level::kError;
    else return false;
    return true;
  }
  bool enabled(Level level) const { return level >= level_; }

  template <typename... Args>
  void write(Level level, fmt::format_string<Args...> format, Args&&... args) {
    if (!enabled(level)) return;
    static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
    std::string line = fmt::format("udal-server: {}: ", kNames[static_cast<int>(level)]);
    line += fmt::format(format, std::forward<Args>(args)...);
    line += '\n';
    std::lock_guard lock(mutex_);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }

 private:
  Level level_ = Level::kInfo;
  std::mutex mutex_;
};

}  // namespace udal::remote::server

#endif  // UDAL_REMOTE_SERVER_LOG_H_
