// worker_pool.h — the threads of one device that run the work-groups of big launches and
// the chunks of big copies and fills, bound to the device's cores.
#ifndef UDAL_CPU_WORKER_POOL_H_
#define UDAL_CPU_WORKER_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "local_memory.h"
#include "topology.h"

namespace udal::cpu {

// Binds the calling thread to |cpuset| (best effort: a failure leaves it unbound).
void bind_current_thread(const Topology& topology, hwloc_const_cpuset_t cpuset) noexcept;

class WorkerPool {
 public:
  // Runs items [begin, end) of a job on the calling thread with its local memory.
  using Body = std::function<void(uint64_t begin, uint64_t end, LocalMemory& local)>;

  WorkerPool(std::shared_ptr<Topology> topology, hwloc_const_cpuset_t cpuset,
             uint32_t worker_count);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  uint32_t worker_count() const noexcept { return static_cast<uint32_t>(threads_.size()); }

  // Runs |body| over [0, item_count) in chunks of |chunk| items, on the workers and on the
  // calling thread (with |caller_local|), and returns when every item has run. Several
  // threads (streams) may call it at once; their jobs share the workers.
  void parallel_for(uint64_t item_count, uint64_t chunk, const Body& body,
                    LocalMemory& caller_local);

 private:
  struct Job {
    const Body* body;
    uint64_t item_count;
    uint64_t chunk;
    std::atomic<uint64_t> next{0};      // first item not yet handed out
    std::atomic<uint64_t> finished{0};  // items that have run
    std::atomic<uint32_t> helpers{0};   // workers inside the job (changed under mutex_)
  };

  // Runs chunks of |job| until none is left; returns the items this thread ran.
  static void drain(Job& job, LocalMemory& local);
  void worker_main(LocalMemory& local);

  std::shared_ptr<Topology> topology_;
  Bitmap cpuset_;
  std::mutex mutex_;
  std::condition_variable work_cv_;  // workers wait for jobs
  std::condition_variable done_cv_;  // callers wait for their workers to leave
  std::vector<Job*> jobs_;           // jobs with chunks left, oldest first
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace udal::cpu

#endif  // UDAL_CPU_WORKER_POOL_H_
