// executor.h — the thread behind a stream: runs its operations in order.
#ifndef UDAL_CPU_EXECUTOR_H_
#define UDAL_CPU_EXECUTOR_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "device.h"
#include "local_memory.h"
#include "operation.h"
#include "signal.h"

namespace udal::cpu {

class Executor {
 public:
  // Starts the thread. Throws std::system_error when no thread can be started, and
  // std::bad_alloc.
  explicit Executor(Device& device);
  // Runs everything already submitted, then stops the thread.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Appends |operation|; it runs after everything submitted before. Throws bad_alloc.
  void submit(std::unique_ptr<Operation> operation);

  // Waits until everything submitted before the call has run or |deadline| passes.
  bool synchronize(Deadline deadline);

 private:
  void main() noexcept;
  std::unique_ptr<Operation> take(uint64_t taken);

  Device& device_;
  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::deque<std::unique_ptr<Operation>> queue_;  // guarded by mutex_
  bool sleeping_ = false;                         // guarded by mutex_
  bool stopping_ = false;                         // guarded by mutex_
  std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> completed_{0};
  Signal completed_signal_;
  LocalMemory local_;  // used by the executor thread only; made before it starts
  std::thread thread_;
};

}  // namespace udal::cpu

#endif  // UDAL_CPU_EXECUTOR_H_
