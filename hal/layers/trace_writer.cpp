#include "trace_writer.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace udal::hal::layers {

namespace {

constexpr size_t kFlushBytes = 64 * 1024;
constexpr uint64_t kFlushIntervalNs = 100'000'000;
// Device pseudo-processes get pids no real process has (pid_max is at most 2^22).
constexpr int kFirstDevicePid = 10'000'000;

std::string program_name() {
  char buffer[4096];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n <= 0)
    return "process";
  std::string path(buffer, static_cast<size_t>(n));
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

// The writers of this process by path, and where a closed one ended so that a later
// instance continues its file.
struct TraceWriter::Private {
  struct Entry {
    std::weak_ptr<TraceWriter> writer;
    int64_t reopen_offset = -1; // where the closing bytes begin; -1 while open or never closed
    uint64_t epoch_ns = 0;
  };
  std::mutex mutex;
  std::map<std::string, Entry> entries;

  static Private& get() {
    static Private registry;
    return registry;
  }

  static void prepare() noexcept { get().mutex.lock(); }
  static void parent() noexcept { get().mutex.unlock(); }
  // A fork() child shares the parent's files: its copies of the writers must not write.
  static void child() noexcept {
    Private& r = get();
    for (auto& [path, entry] : r.entries) {
      if (std::shared_ptr<TraceWriter> w = entry.writer.lock())
        w->inherited_.store(true, std::memory_order_relaxed);
    }
    r.entries.clear();
    r.mutex.unlock();
  }
};

std::string TraceWriter::expand_path(const std::string& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 1 < path.size() && path[i + 1] == 'p') {
      out += std::to_string(getpid());
      ++i;
    } else {
      out += path[i];
    }
  }
  return out;
}

uint64_t TraceWriter::now_ns() noexcept {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(t.tv_nsec);
}

std::shared_ptr<TraceWriter> TraceWriter::open(const std::string& requested, const Logger& logger,
                                               std::string* failure) {
  static const int atfork = pthread_atfork(Private::prepare, Private::parent, Private::child);
  (void)atfork;
  std::string path = expand_path(requested);
  Private& registry = Private::get();
  std::lock_guard lock(registry.mutex);
  Private::Entry& entry = registry.entries[path];
  if (std::shared_ptr<TraceWriter> live = entry.writer.lock())
    return live;

  int fd = -1;
  uint64_t epoch = now_ns();
  bool continued = false;
  if (entry.reopen_offset >= 0) {
    // Continue the file this process closed: drop its closing bytes.
    fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, entry.reopen_offset) == 0 &&
        lseek(fd, 0, SEEK_END) == entry.reopen_offset) {
      epoch = entry.epoch_ns;
      continued = true;
    } else if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
  if (fd < 0)
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::string why =
        fmt::format("cannot create UDAL_TRACE file '{}': {}", path, std::strerror(errno));
    logger.log(UDAL_LOG_LEVEL_WARNING, "trace: {}; tracing is off", why);
    if (failure != nullptr)
      *failure = std::move(why);
    return nullptr;
  }
  auto writer = std::make_shared<TraceWriter>(Key{}, path, fd, epoch, logger);
  {
    std::lock_guard w(writer->mutex_);
    writer->write_all_locked(continued ? ",\n" : "[\n");
  }
  entry.writer = writer;
  entry.reopen_offset = -1;
  entry.epoch_ns = epoch;
  std::string name;
  append_json_escaped(name, program_name());
  writer->emit(fmt::format(R"j({{"ph":"M","name":"process_name","pid":{},"tid":0,"args":{{"name":"{} (pid {})"}}}})j",
                           writer->pid_, name, writer->pid_));
  writer->emit(fmt::format(R"({{"ph":"M","name":"process_sort_index","pid":{},"tid":0,"args":{{"sort_index":0}}}})",
                           writer->pid_));
  return writer;
}

TraceWriter::TraceWriter(Key, std::string path, int fd, uint64_t epoch_ns, const Logger& logger)
    : path_(std::move(path)), fd_(fd), epoch_ns_(epoch_ns), pid_(static_cast<int>(getpid())),
      logger_(logger) {
  static std::atomic<uint64_t> generations{1};
  generation_ = generations.fetch_add(1, std::memory_order_relaxed);
  last_flush_ns_ = now_ns();
}

TraceWriter::~TraceWriter() {
  if (inherited_.load(std::memory_order_relaxed)) {
    ::close(fd_);
    return;
  }
  Private& registry = Private::get();
  std::lock_guard reg(registry.mutex);
  std::lock_guard lock(mutex_);
  int64_t end = -1;
  if (!failed_) {
    buffer_ += fmt::format(
        R"({{"ph":"i","s":"g","name":"udal trace end","cat":"udal","pid":{},"tid":0,"ts":{},"args":{{"events":{},"dropped_operations":{}}}}})",
        pid_, ts(now_ns()), events_, dropped_operations_.load());
    flush_locked();
    off_t here = lseek(fd_, 0, SEEK_CUR);
    write_all_locked("\n]\n");
    if (!failed_ && here >= 0)
      end = here;
  }
  ::close(fd_);
  auto it = registry.entries.find(path_);
  if (it != registry.entries.end() && it->second.writer.expired()) {
    it->second.reopen_offset = end;
    it->second.epoch_ns = epoch_ns_;
    if (end < 0)
      registry.entries.erase(it);
  }
}

void TraceWriter::emit(std::string_view event) {
  if (inherited_.load(std::memory_order_relaxed))
    return;
  std::lock_guard lock(mutex_);
  if (failed_)
    return;
  try {
    buffer_.append(event);
    buffer_.append(",\n");
  } catch (...) {
    return; // out of memory: the event is lost, the trace stays well-formed
  }
  // The clock is read every 64 events only: the 100 ms are a bound for programs that never
  // block, not a schedule.
  ++events_;
  if (buffer_.size() >= kFlushBytes ||
      ((events_ & 63) == 0 && now_ns() - last_flush_ns_ >= kFlushIntervalNs))
    flush_locked();
}

void TraceWriter::flush() {
  if (inherited_.load(std::memory_order_relaxed))
    return;
  std::lock_guard lock(mutex_);
  flush_locked();
}

void TraceWriter::flush_locked() {
  last_flush_ns_ = now_ns();
  if (buffer_.empty() || failed_)
    return;
  write_all_locked(buffer_);
  buffer_.clear();
  if (buffer_.capacity() > 4 * kFlushBytes)
    buffer_.shrink_to_fit();
}

void TraceWriter::write_all_locked(std::string_view bytes) {
  while (!bytes.empty() && !failed_) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      failed_ = true;
      logger_.log(UDAL_LOG_LEVEL_WARNING, "trace: writing '{}' failed: {}; the trace stops here",
                  path_, n < 0 ? std::strerror(errno) : "nothing written");
      return;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

int TraceWriter::next_device_pid() noexcept {
  static std::atomic<int> next{kFirstDevicePid};
  return next.fetch_add(1, std::memory_order_relaxed);
}

uint64_t TraceWriter::thread_id() {
  thread_local const uint64_t tid = static_cast<uint64_t>(syscall(SYS_gettid));
  thread_local uint64_t named_for = 0; // the last writer this thread was named in
  if (named_for == generation_)
    return tid;
  named_for = generation_;
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    first = named_threads_.insert(tid).second;
  }
  if (first) {
    char name[64] = "";
    pthread_getname_np(pthread_self(), name, sizeof(name));
    std::string escaped;
    append_json_escaped(escaped, name);
    emit(fmt::format(R"j({{"ph":"M","name":"thread_name","pid":{},"tid":{},"args":{{"name":"{} ({})"}}}})j",
                     pid_, tid, escaped, tid));
  }
  return tid;
}

} // namespace udal::hal::layers
