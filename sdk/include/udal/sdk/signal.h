// signal.h — waiting for a condition that another thread makes true, cheaply, with
// timeouts safe at UINT64_MAX. Header-only; the stream executor (executor.h) is built on it,
// and a driver's own worker threads may use it too.
//
// Waiters spin for a bounded time first (a completion often arrives within microseconds,
// and a futex sleep + wake costs tens), then sleep on a condition variable. Notifiers take
// the mutex only when someone sleeps, so the common case costs one atomic load.
#ifndef UDAL_SDK_SIGNAL_H_
#define UDAL_SDK_SIGNAL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace udal::sdk {

using Clock = std::chrono::steady_clock;

// Nanoseconds of the steady clock: the time base of event timestamps.
inline uint64_t now_ns() noexcept {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

// One pause of a spin loop: lets the sibling hyper-thread run and saves power.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// How long waiters spin before they sleep. Bounded because a machine may have two cores
// shared by the application, the stream executors and a driver's worker threads.
inline constexpr std::chrono::microseconds kSpinTime{50};

// Deadline for a wait of |timeout_ns|: UINT64_MAX waits for ever, 0 only checks, and any
// other value, however large, never overflows the clock.
struct Deadline {
  bool infinite;
  Clock::time_point at;
  static Deadline after(uint64_t timeout_ns) noexcept {
    if (timeout_ns == UINT64_MAX) return {true, {}};
    // Clamp: a huge finite timeout must not overflow the clock's representation.
    constexpr uint64_t kMax = uint64_t{1} << 62;
    auto ns = std::chrono::nanoseconds(static_cast<int64_t>(timeout_ns < kMax ? timeout_ns : kMax));
    return {false, Clock::now() + ns};
  }
};

class Signal {
 public:
  // Wakes every sleeping waiter. Call after making the condition true.
  void notify() noexcept {
    if (sleepers_.load(std::memory_order_seq_cst) != 0) {
      // Taking the mutex orders this notify after a waiter's check of the condition.
      { std::lock_guard<std::mutex> lock(mutex_); }
      cv_.notify_all();
    }
  }

  // Waits until |ready()| is true or |deadline| passes; returns ready(). |spin| allows the
  // caller to skip spinning (a wait that is known to be long).
  template <typename Ready>
  bool wait(Ready&& ready, Deadline deadline, bool spin = true) {
    if (ready()) return true;
    if (spin) {
      const auto spin_end = Clock::now() + kSpinTime;
      for (uint32_t i = 0;; ++i) {
        if (ready()) return true;
        if ((i & 63) == 63) {
          auto now = Clock::now();
          if (now >= spin_end || (!deadline.infinite && now >= deadline.at)) break;
          // Give the core away between checks from the start: when the cores are busy the
          // thread we wait for may be queued on ours, and holding it for half the spin
          // cost ~50 us per launch (measured with udal-bench on the CPU driver, loaded).
          // With a free core the yield returns at once.
          std::this_thread::yield();
        }
        cpu_relax();
      }
    }
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    bool result;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (deadline.infinite) {
        cv_.wait(lock, [&] { return ready(); });
        result = true;
      } else {
        result = cv_.wait_until(lock, deadline.at, [&] { return ready(); });
      }
    }
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
    return result;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<uint32_t> sleepers_{0};
};

}  // namespace udal::sdk

#endif  // UDAL_SDK_SIGNAL_H_
