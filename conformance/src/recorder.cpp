#include "recorder.h"

#include "expectations.h"

#include <fmt/format.h>

#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#include <sanitizer/common_interface_defs.h>
#endif

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#include <sanitizer/common_interface_defs.h>
#endif
#include <iostream>

namespace cts {
namespace {
// The running test's name, kept where a signal handler can read it without allocating: a
// crash may come from a corrupted heap, on which the fuller report can fail.
char running_test_name[1024];
}  // namespace

namespace {
std::atomic<Recorder*> watching{nullptr};
}  // namespace

Recorder::Recorder(const std::string& log_path) {
  if (!log_path.empty()) log_.open(log_path);
}

Recorder::~Recorder() {
  StopWatchdog();
  Recorder* self = this;
  watching.compare_exchange_strong(self, nullptr);
}

void Recorder::AllowTestSeconds(double seconds) {
  std::lock_guard lock(mutex_);
  test_limit_s_ = std::max(test_limit_s_, seconds);
}

double AllowTestSeconds(double seconds) {
  Recorder* recorder = watching.load();
  if (recorder == nullptr) return seconds;
  recorder->AllowTestSeconds(seconds);
  return seconds;
}

void Recorder::LogLocked(const std::string& line) {
  if (!log_.is_open()) return;
  log_ << line << '\n';
  log_.flush();  // the watchdog may end the process at any moment
}

void Recorder::Log(const std::string& line) {
  std::lock_guard lock(mutex_);
  LogLocked(line);
}

void Recorder::OnTestStart(const testing::TestInfo& test) {
  std::lock_guard lock(mutex_);
  current_ = TestResult{};
  current_.suite = test.test_suite_name();
  current_.name = test.name();
  current_.full_name = current_.suite + "." + current_.name;
  current_.device = test.value_param() != nullptr ? current_.name.substr(current_.name.rfind('/') + 1) : "";
  current_start_ = std::chrono::steady_clock::now();
  test_limit_s_ = timeout_s_;
  running_test_ = true;
  std::snprintf(running_test_name, sizeof running_test_name, "%s", current_.full_name.c_str());
  LogLocked("[ RUN      ] " + current_.full_name);
}

void Recorder::OnTestPartResult(const testing::TestPartResult& result) {
  std::lock_guard lock(mutex_);
  if (result.failed()) {
    std::string where = result.file_name() != nullptr
                            ? fmt::format("{}:{}: ", result.file_name(), result.line_number())
                            : "";
    if (!current_.message.empty()) current_.message += "\n";
    current_.message += where + result.message();
    LogLocked(where + result.message());
  } else if (result.skipped()) {
    current_.message = result.message();
  }
}

void Recorder::OnTestEnd(const testing::TestInfo& test) {
  std::lock_guard lock(mutex_);
  const testing::TestResult& outcome = *test.result();
  current_.seconds = static_cast<double>(outcome.elapsed_time()) / 1000.0;
  const Expectation* expected = expectations().Match(current_.full_name);
  if (outcome.Skipped()) {
    current_.status = expected != nullptr && !run_expected_failures() ? "waived" : "skipped";
  } else if (outcome.Failed()) {
    current_.status = expected != nullptr ? "expected_failure" : "failed";
  } else {
    current_.status = expected != nullptr ? "unexpected_pass" : "passed";
  }
  if (expected != nullptr && current_.status != "skipped" && current_.status != "waived") {
    current_.message = fmt::format("declared expected failure ({}): {}{}{}", expected->glob,
                                   expected->reason, current_.message.empty() ? "" : "\n",
                                   current_.message);
  }
  LogLocked(fmt::format("[ {:>8} ] {} ({:.3f} s){}", current_.status, current_.full_name,
                        current_.seconds,
                        current_.status == "skipped" || current_.status == "waived"
                            ? ": " + current_.message
                            : ""));
  results_.push_back(current_);
  running_test_ = false;
  running_test_name[0] = 0;
}

std::vector<TestResult> Recorder::Results() const {
  std::lock_guard lock(mutex_);
  return results_;
}

void Recorder::StartWatchdog(double timeout_s,
                             std::function<void(const std::vector<TestResult>&)> on_timeout) {
  timeout_s_ = timeout_s;
  test_limit_s_ = timeout_s;
  on_timeout_ = std::move(on_timeout);
  watching = this;
  watchdog_ = std::thread([this] { WatchdogLoop(); });
}

void Recorder::StopWatchdog() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

namespace {

[[maybe_unused]] Recorder* crash_recorder = nullptr;

void WriteRaw(const char* text) {
  ssize_t ignored = write(STDERR_FILENO, text, strlen(text));
  (void)ignored;
}

[[maybe_unused]] void OnFatalSignal(int signal_number) {
  static std::atomic<bool> entered{false};
  bool first = !entered.exchange(true);
  // The fuller report below allocates; after a crash in malloc (a corrupted heap) that can
  // deadlock. SIGALRM's default action ends the process if it does not finish in time.
  if (first) alarm(5);
  if (first) {
    char number[16];
    int length = 0;
    for (int n = signal_number; n > 0 && length < 15; n /= 10) number[length++] = static_cast<char>('0' + n % 10);
    char text[16];
    for (int k = 0; k < length; ++k) text[k] = number[length - 1 - k];
    text[length] = 0;
    WriteRaw("\nudal-cts: ");
    WriteRaw(running_test_name[0] != 0 ? running_test_name : "(between tests)");
    WriteRaw(" crashed with signal ");
    WriteRaw(text);
    WriteRaw("\n");
  }
  if (first && crash_recorder != nullptr) {
    crash_recorder->Abandon(fmt::format("crashed with signal {} ({})", signal_number,
                                        strsignal(signal_number)));
  }
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
void OnSanitizerDeath() {
  WriteRaw("\nudal-cts: ");
  WriteRaw(running_test_name[0] != 0 ? running_test_name : "(between tests)");
  WriteRaw(" crashed with a sanitizer report (above)\n");
}
#endif

}  // namespace

void Recorder::InstallCrashHandler() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' own handlers report a crash better than a partial report would; the
  // test's name is all that is added.
  __sanitizer_set_death_callback(OnSanitizerDeath);
#else
  crash_recorder = this;
  for (int signal_number : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) {
    std::signal(signal_number, OnFatalSignal);
  }
#endif
}

void Recorder::Abandon(const std::string& why) {
  // A crashing thread may hold the lock (it is the recorder's own thread only when the
  // crash is in the recorder, and then nothing can be saved anyway).
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  AbandonLocked(why, std::chrono::steady_clock::now());
}

void Recorder::AbandonLocked(const std::string& why, std::chrono::steady_clock::time_point now) {
  std::vector<TestResult> so_far = results_;
  if (running_test_) {
    TestResult hung = current_;
    hung.status = "failed";
    hung.seconds = std::chrono::duration<double>(now - current_start_).count();
    hung.message = why + (hung.message.empty() ? "" : "\n" + hung.message);
    so_far.push_back(hung);
    LogLocked(fmt::format("[  ABANDON ] {} ({:.3f} s): {}; the run stops here", hung.full_name,
                          hung.seconds, why));
    std::cerr << "\nudal-cts: " << hung.full_name << " " << why
              << "; writing the partial report and exiting\n";
  } else {
    LogLocked("[  ABANDON ] between tests: " + why);
    std::cerr << "\nudal-cts: " << why << " between tests\n";
  }
  std::cerr.flush();
  if (on_timeout_) on_timeout_(so_far);
  std::fflush(nullptr);
}

void Recorder::WatchdogLoop() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::milliseconds(100));
    if (stop_ || !running_test_) continue;
    auto limit = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(test_limit_s_));
    auto now = std::chrono::steady_clock::now();
    if (now - current_start_ < limit) continue;

    AbandonLocked(fmt::format("timed out after {} s", test_limit_s_), now);
    // Threads of the driver may still run the hung work: exiting without running static
    // destructors or the instance's teardown is the only end that cannot hang.
    _exit(2);
  }
}

}  // namespace cts
