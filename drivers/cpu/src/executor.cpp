#include "executor.h"

namespace udal::cpu {

Executor::Executor(Device& device) : device_(device) {
  thread_ = std::thread([this] { main(); });
  name_thread(thread_, "udal-cpu-stream");
}

Executor::~Executor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_one();
  thread_.join();
}

void Executor::submit(std::unique_ptr<Operation> operation) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(operation));
    submitted_.fetch_add(1, std::memory_order_seq_cst);
    wake = sleeping_;
  }
  // Only a sleeping executor needs the futex; a spinning one sees submitted_ change.
  if (wake) work_cv_.notify_one();
}

bool Executor::synchronize(Deadline deadline) {
  const uint64_t target = submitted_.load(std::memory_order_seq_cst);
  return completed_signal_.wait(
      [&] { return completed_.load(std::memory_order_seq_cst) >= target; }, deadline);
}

std::unique_ptr<Operation> Executor::take(uint64_t taken) {
  // The queue has drained: spin a little for the next operation, so a stream that is fed
  // one launch after another starts each without a futex wake-up. Bounded (kSpinTime),
  // and yielding between checks, because the cores are shared: the thread that will
  // submit may be queued on this core (see Signal::wait).
  if (submitted_.load(std::memory_order_acquire) == taken) {
    const auto spin_end = Clock::now() + kSpinTime;
    for (uint32_t i = 0; submitted_.load(std::memory_order_acquire) == taken; ++i) {
      if ((i & 63) == 63) {
        if (Clock::now() >= spin_end) break;
        std::this_thread::yield();
      }
      cpu_relax();
    }
  }
  std::unique_lock<std::mutex> lock(mutex_);
  if (queue_.empty()) {
    if (stopping_) return nullptr;
    sleeping_ = true;
    work_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    sleeping_ = false;
    if (queue_.empty()) return nullptr;  // stopping with nothing left to run
  }
  auto operation = std::move(queue_.front());
  queue_.pop_front();
  return operation;
}

void Executor::main() noexcept {
  bind_current_thread(*device_.topology, device_.node->node.cpuset.get());
  ExecContext context{*device_.node->pool, local_};
  for (uint64_t taken = 0;; ++taken) {
    std::unique_ptr<Operation> operation = take(taken);
    if (!operation) return;
    operation->run(context);
    // Released before completion is published: once synchronize returns, the operation
    // holds no buffer memory, record or library any more.
    operation.reset();
    completed_.fetch_add(1, std::memory_order_seq_cst);
    completed_signal_.notify();
  }
}

}  // namespace udal::cpu
