#include "worker_pool.h"

#include <pthread.h>

#include <algorithm>
#include <new>

#include "udal/sdk/signal.h"

namespace udal::cpu {

using udal::sdk::Clock;
using udal::sdk::cpu_relax;
using udal::sdk::kSpinTime;

void bind_current_thread(const Topology& topology, hwloc_const_cpuset_t cpuset) noexcept {
  // Binding is an optimisation (locality with the node's memory); a container that forbids
  // it still runs correctly, so the result is ignored.
  (void)hwloc_set_cpubind(topology.get(), cpuset, HWLOC_CPUBIND_THREAD);
}

void name_thread(std::thread& thread, const char* name) noexcept {
  (void)pthread_setname_np(thread.native_handle(), name);  // a name is only a help
}

WorkerPool::WorkerPool(std::shared_ptr<Topology> topology, hwloc_const_cpuset_t cpuset,
                       uint32_t worker_count)
    : topology_(std::move(topology)), cpuset_(hwloc_bitmap_dup(cpuset)) {
  if (!cpuset_) throw std::bad_alloc();
  locals_.reserve(worker_count);
  for (uint32_t i = 0; i < worker_count; ++i) locals_.push_back(std::make_unique<LocalMemory>());
  threads_.reserve(worker_count);
  try {
    for (uint32_t i = 0; i < worker_count; ++i) {
      threads_.emplace_back([this, local = locals_[i].get()] {
        bind_current_thread(*topology_, cpuset_.get());
        worker_main(*local);
      });
      name_thread(threads_.back(), "udal-cpu-worker");
    }
  } catch (...) {
    // Threads already started must be joined before the members they use go away.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    for (auto& thread : threads_) thread.join();
    throw;
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void WorkerPool::drain(Job& job, LocalMemory& local) noexcept {
  for (;;) {
    const uint64_t begin = job.next.fetch_add(job.chunk, std::memory_order_relaxed);
    if (begin >= job.item_count) return;
    const uint64_t end = std::min(job.item_count, begin + job.chunk);
    job.body(begin, end, local);
    job.finished.fetch_add(end - begin, std::memory_order_acq_rel);
  }
}

void WorkerPool::worker_main(LocalMemory& local) noexcept {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    Job* job = jobs_.front();
    if (job->next.load(std::memory_order_relaxed) >= job->item_count) {
      // Everything handed out: no one else needs to look at it.
      jobs_.erase(jobs_.begin());
      continue;
    }
    job->helpers.fetch_add(1, std::memory_order_relaxed);
    lock.unlock();
    drain(*job, local);
    lock.lock();
    // The last touch of |job|: its owner may free it as soon as helpers is 0 and the
    // mutex is released.
    job->helpers.fetch_sub(1, std::memory_order_relaxed);
    done_cv_.notify_all();
  }
}

void WorkerPool::parallel_for(uint64_t item_count, uint64_t chunk, BodyRef body,
                              LocalMemory& caller_local) noexcept {
  if (item_count == 0) return;
  chunk = std::max<uint64_t>(chunk, 1);
  if (threads_.empty() || item_count <= chunk) {
    body(0, item_count, caller_local);
    return;
  }
  Job job{body, item_count, chunk};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Growing the list may fail to allocate; the caller then runs every chunk itself.
    try {
      jobs_.push_back(&job);
    } catch (const std::bad_alloc&) {
      body(0, item_count, caller_local);
      return;
    }
  }
  work_cv_.notify_all();
  drain(job, caller_local);

  // Every chunk is handed out; wait for the helpers that still run one. Spin first: their
  // chunks are about as long as ours.
  const auto spin_end = Clock::now() + kSpinTime;
  for (uint32_t i = 0; job.finished.load(std::memory_order_acquire) != item_count; ++i) {
    if ((i & 63) == 63) {
      if (Clock::now() >= spin_end) break;
      std::this_thread::yield();  // a helper still running may be queued on this core
    }
    cpu_relax();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  auto it = std::find(jobs_.begin(), jobs_.end(), &job);
  if (it != jobs_.end()) jobs_.erase(it);
  done_cv_.wait(lock, [&] {
    return job.helpers.load(std::memory_order_relaxed) == 0 &&
           job.finished.load(std::memory_order_acquire) == item_count;
  });
}

}  // namespace udal::cpu
