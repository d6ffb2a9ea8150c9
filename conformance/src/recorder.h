// Records every test's outcome as GoogleTest runs (the one source of the JSON report, the
// JUnit XML, the summary and the log), and keeps the watchdog that turns a hung test into
// a failure.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cts {

struct TestResult {
  std::string full_name;  // "Devices/BufferTest.CreateEachKind/cpu_0_name"
  std::string suite;      // "Devices/BufferTest"
  std::string name;       // "CreateEachKind/cpu_0_name"
  std::string device;     // the parameter's name
  // "passed", "failed", "skipped" (a feature or format the device lacks), "waived"
  // (declared an expected failure by the driver, not run), "expected_failure" (declared
  // and failed when run anyway), "unexpected_pass" (declared but passed).
  std::string status;
  double seconds = 0;
  std::string message;  // failure text or skip reason
};

class Recorder : public testing::EmptyTestEventListener {
 public:
  // |log_path| empty: no log file.
  explicit Recorder(const std::string& log_path);
  ~Recorder() override;

  void OnTestStart(const testing::TestInfo& test) override;
  void OnTestPartResult(const testing::TestPartResult& result) override;
  void OnTestEnd(const testing::TestInfo& test) override;

  void Log(const std::string& line);
  std::vector<TestResult> Results() const;

  // Starts the watchdog. When one test runs longer than |timeout_s|, the watchdog records
  // it as failed ("timed out after N s"), calls |on_timeout| with every result so far (it
  // writes the reports), and ends the process with _exit(2): a hung driver thread cannot
  // be cancelled, so the process is the unit of recovery.
  void StartWatchdog(double timeout_s,
                     std::function<void(const std::vector<TestResult>&)> on_timeout);
  void StopWatchdog();
  // Lets the running test take up to |seconds| (never less than the run's limit); the next
  // test has the run's limit again.
  void AllowTestSeconds(double seconds);

  // On a fatal signal in a test, records it as failed ("crashed with signal N"), writes
  // the partial report through the watchdog's callback, and lets the signal end the
  // process. Not installed under AddressSanitizer/ThreadSanitizer, whose reports are better.
  void InstallCrashHandler();
  // Records the running test as failed with |why| and writes the partial report.
  void Abandon(const std::string& why);

 private:
  void WatchdogLoop();
  void LogLocked(const std::string& line);
  void AbandonLocked(const std::string& why, std::chrono::steady_clock::time_point now);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::ofstream log_;
  std::vector<TestResult> results_;
  bool running_test_ = false;
  TestResult current_;
  std::chrono::steady_clock::time_point current_start_;
  double timeout_s_ = 0;
  double test_limit_s_ = 0;  // the running test's limit: timeout_s_ unless it asked for more
  std::function<void(const std::vector<TestResult>&)> on_timeout_;
  bool stop_ = false;
  std::thread watchdog_;
};

// The running test may take up to |seconds| (for work that is slow on software devices,
// such as a grid of 2^32 items); the limit of the run applies again from the next test.
// Returns the limit now in force (the run's when no recorder watches).
double AllowTestSeconds(double seconds);

}  // namespace cts
