// host_team.h — the threads the host limits run on: one per CPU this process may use, each
// pinned to its CPU, started once for the whole run (STREAM's OpenMP team, by hand). The
// calling thread is member 0, as the CPU driver's caller takes part in its own copies.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace udal_bench {

class HostTeam {
public:
  // The team of this process, started on first use and stopped at exit.
  static HostTeam& get();

  // Threads in the team, the caller included (the CPUs of the process's affinity mask).
  unsigned size() const { return static_cast<unsigned>(cpus_.size()); }

  // Runs |body|(member) on every member at once — member 0 on the caller — and returns when
  // all have returned. |body| must not throw. Members 1.. spin briefly for the next job, then
  // sleep, so back-to-back jobs cost a cache line, not a wake-up.
  template <typename F> void run(F& body) {
    run_job([](void* object, unsigned member) { (*static_cast<F*>(object))(member); }, &body);
  }

  // Member |member|'s part [begin, end) of |count| units, in whole |granule|s.
  void part(unsigned member, uint64_t count, uint64_t granule, uint64_t& begin,
            uint64_t& end) const;

  // Pins the calling thread to member 0's CPU for as long as it lives, then restores its
  // mask (the caller is udal-bench's main thread, which the other backends also use).
  class CallerPin {
  public:
    explicit CallerPin(const HostTeam& team);
    ~CallerPin();
    CallerPin(const CallerPin&) = delete;
    CallerPin& operator=(const CallerPin&) = delete;

  private:
    cpu_set_t saved_;
    bool restore_ = false;
  };

  ~HostTeam();
  HostTeam(const HostTeam&) = delete;
  HostTeam& operator=(const HostTeam&) = delete;

private:
  HostTeam();
  using Call = void (*)(void*, unsigned);
  void run_job(Call call, void* object);
  void worker(unsigned member);

  std::vector<int> cpus_; // member i runs on cpus_[i]
  std::vector<std::thread> threads_;
  Call call_ = nullptr;
  void* object_ = nullptr;
  std::atomic<uint64_t> generation_{0}; // bumped once per job, and to stop
  std::atomic<bool> stopping_{false};
  std::atomic<unsigned> pending_{0}; // members 1.. still running the current job
};

} // namespace udal_bench
