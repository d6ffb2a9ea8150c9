#include "host_team.h"

#include <pthread.h>

#include <chrono>
#include <cstdio>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define UDAL_BENCH_PAUSE() _mm_pause()
#else
#define UDAL_BENCH_PAUSE() std::this_thread::yield()
#endif

namespace udal_bench {
namespace {

// How long a member spins for the next job before it sleeps: longer than the gap between
// two jobs of one benchmark, short enough that an idle team costs nothing to the others.
constexpr auto kSpin = std::chrono::microseconds(200);

bool pin(pthread_t thread, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(thread, sizeof set, &set) == 0;
}

} // namespace

HostTeam& HostTeam::get() {
  static HostTeam team;
  return team;
}

HostTeam::HostTeam() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set))
        cpus_.push_back(cpu);
    }
  }
  if (cpus_.empty())
    cpus_.push_back(0);
  for (unsigned member = 1; member < cpus_.size(); ++member) {
    threads_.emplace_back([this, member] { worker(member); });
    if (!pin(threads_.back().native_handle(), cpus_[member])) {
      std::fprintf(stderr, "udal-bench: host limits: cannot pin a thread to CPU %d\n",
                   cpus_[member]);
    }
  }
}

HostTeam::~HostTeam() {
  stopping_.store(true, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void HostTeam::part(unsigned member, uint64_t count, uint64_t granule, uint64_t& begin,
                    uint64_t& end) const {
  const uint64_t granules = (count + granule - 1) / granule;
  const uint64_t n = size();
  begin = std::min(count, granules * member / n * granule);
  end = std::min(count, granules * (member + 1) / n * granule);
}

void HostTeam::run_job(Call call, void* object) {
  if (threads_.empty()) {
    call(object, 0);
    return;
  }
  call_ = call;
  object_ = object;
  pending_.store(static_cast<unsigned>(threads_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  call(object, 0);
  // The others' parts are as long as the caller's: they finish about now.
  unsigned spins = 0;
  while (pending_.load(std::memory_order_acquire) != 0) {
    if (++spins < 4096)
      UDAL_BENCH_PAUSE();
    else
      std::this_thread::yield();
  }
}

void HostTeam::worker(unsigned member) {
  uint64_t seen = 0;
  for (;;) {
    const auto spin_end = std::chrono::steady_clock::now() + kSpin;
    uint64_t now = generation_.load(std::memory_order_acquire);
    unsigned checks = 0;
    while (now == seen) {
      if (++checks % 64 == 0 && std::chrono::steady_clock::now() > spin_end) {
        generation_.wait(seen, std::memory_order_acquire);
      } else {
        UDAL_BENCH_PAUSE();
      }
      now = generation_.load(std::memory_order_acquire);
    }
    seen = now;
    if (stopping_.load(std::memory_order_relaxed))
      return;
    call_(object_, member);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

HostTeam::CallerPin::CallerPin(const HostTeam& team) {
  CPU_ZERO(&saved_);
  if (pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_) == 0)
    restore_ = pin(pthread_self(), team.cpus_.front());
}

HostTeam::CallerPin::~CallerPin() {
  if (restore_)
    pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_);
}

} // namespace udal_bench
