// The file of the trace layer: Chrome trace-event JSON (the "JSON Array Format" that
// Perfetto and chrome://tracing open), written incrementally so that a program that dies
// still leaves a trace: "[" first, then one event per line, each followed by a comma (the
// format allows the closing "]" to be missing, and the viewers accept it). Events are
// buffered up to 64 KiB and written with one write(2) of whole lines when the buffer is
// full, when 100 ms have passed, or when flush() is called (the layer calls it after every
// call that blocks), so memory stays bounded and a killed program loses at most the last
// unflushed lines.
#pragma once

#include "log.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace udal::hal::layers {

// A time or duration in nanoseconds, written as microseconds with three decimals (the
// trace-event format's unit), without floating point.
struct Micros {
  uint64_t ns;
};

class TraceWriter {
public:
  // The writer of |path| (each "%p" replaced by the process id), shared by every instance
  // that traces to it in this process; nullptr, with a warning through |logger| and the
  // reason in |failure| (when given), when the file cannot be created. A path closed
  // earlier in this process is continued, not truncated.
  static std::shared_ptr<TraceWriter> open(const std::string& path, const Logger& logger,
                                           std::string* failure = nullptr);
  // |path| with each "%p" replaced by the process id: the file open() writes.
  static std::string expand_path(const std::string& path);

  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;
  // Writes a last event and the closing "]".
  ~TraceWriter();

  // Appends one event: a JSON object, without a trailing comma or newline.
  void emit(std::string_view event);
  // Writes what is buffered.
  void flush();

  // CLOCK_MONOTONIC in nanoseconds; the trace's "ts" is microseconds since the trace began.
  static uint64_t now_ns() noexcept;
  Micros ts(uint64_t ns) const noexcept { return Micros{ns >= epoch_ns_ ? ns - epoch_ns_ : 0}; }

  int pid() const noexcept { return pid_; }
  // A fresh id for a pair of flow events.
  uint64_t next_flow_id() noexcept { return next_flow_id_.fetch_add(1, std::memory_order_relaxed); }
  // A fresh pid for the pseudo-process of a device's tracks, and tid for a stream's track.
  int next_device_pid() noexcept;
  uint64_t next_track_tid() noexcept { return next_track_tid_.fetch_add(1, std::memory_order_relaxed); }

  // The calling thread's id; the first time per thread also writes its name.
  uint64_t thread_id();

  // Counts of what this trace left out, written in its last event.
  void count_dropped_operation() noexcept { dropped_operations_.fetch_add(1, std::memory_order_relaxed); }

  const std::string& path() const { return path_; }

  struct Private; // for the registry in trace_writer.cpp
  class Key {     // only open() makes writers
    friend class TraceWriter;
    Key() = default;
  };
  TraceWriter(Key, std::string path, int fd, uint64_t epoch_ns, const Logger& logger);

private:
  void flush_locked();
  void write_all_locked(std::string_view bytes);

  std::string path_;
  int fd_;
  uint64_t epoch_ns_;
  int pid_;
  Logger logger_;
  std::mutex mutex_;
  std::string buffer_;           // whole lines waiting to be written
  uint64_t last_flush_ns_ = 0;
  uint64_t events_ = 0;
  bool failed_ = false;          // a write failed: the trace stopped there
  std::atomic<bool> inherited_{false}; // we are a fork() child: the file is the parent's
  std::unordered_set<uint64_t> named_threads_;
  uint64_t generation_; // unique per writer of the process, for thread_id()'s cache
  std::atomic<uint64_t> next_flow_id_{1};
  std::atomic<uint64_t> next_track_tid_{1};
  std::atomic<uint64_t> dropped_operations_{0};

  friend struct Private;
};

// One event being written: a growable buffer fmt writes into directly.
class Line {
public:
  void clear() { buffer_.clear(); }
  Line& operator+=(std::string_view s) {
    buffer_.append(s.data(), s.data() + s.size());
    return *this;
  }
  Line& operator+=(char c) {
    buffer_.push_back(c);
    return *this;
  }
  fmt::appender it() { return fmt::appender(buffer_); }
  std::string_view view() const { return {buffer_.data(), buffer_.size()}; }
  std::string str() const { return std::string(view()); }

private:
  fmt::memory_buffer buffer_;
};

// Appends |text| to |out| (a std::string or a Line) as the inside of a JSON string.
template <typename Out> void append_json_escaped(Out& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (c < 0x20) {
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      } else {
        out += ch;
      }
    }
  }
}

} // namespace udal::hal::layers

template <> struct fmt::formatter<udal::hal::layers::Micros> {
  constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
  template <typename Context> auto format(udal::hal::layers::Micros m, Context& ctx) const {
    return fmt::format_to(ctx.out(), "{}.{:03}", m.ns / 1000, m.ns % 1000);
  }
};
