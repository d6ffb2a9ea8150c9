// worker_pool.h — the threads of one device that run the work-groups of big launches and
// the chunks of big copies and fills, bound to the device's cores.
#ifndef UDAL_CPU_WORKER_POOL_H_
#define UDAL_CPU_WORKER_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "local_memory.h"
#include "topology.h"

namespace udal::cpu {

// Binds the calling thread to |cpuset| (best effort: a failure leaves it unbound).
void bind_current_thread(const Topology& topology, hwloc_const_cpuset_t cpuset) noexcept;

// Names |thread| |name| (at most 15 characters: "udal-cpu-..."), so tools and tests can tell
// the driver's threads from the application's. Named by its creator, so the name is there
// as soon as the thread exists.
void name_thread(std::thread& thread, const char* name) noexcept;

// A reference to a callable `void(uint64_t begin, uint64_t end, LocalMemory& local)` that
// runs items [begin, end) of a job on the calling thread with its local memory. It never
// allocates (std::function may, and jobs are started from noexcept operations); the callable
// must outlive the call of parallel_for it is given to.
class BodyRef {
 public:
  // |body| must be noexcept: it runs inside noexcept operations.
  template <typename F>
    requires(!std::is_same_v<std::remove_cv_t<F>, BodyRef> &&
             std::is_nothrow_invocable_v<F&, uint64_t, uint64_t, LocalMemory&>)
  BodyRef(F& body) noexcept  // NOLINT(google-explicit-constructor): a reference, like a view
      : object_(&body),
        call_([](void* object, uint64_t begin, uint64_t end, LocalMemory& local) noexcept {
          (*static_cast<F*>(object))(begin, end, local);
        }) {}
  void operator()(uint64_t begin, uint64_t end, LocalMemory& local) const noexcept {
    call_(object_, begin, end, local);
  }

 private:
  void* object_;
  void (*call_)(void*, uint64_t, uint64_t, LocalMemory&) noexcept;
};

class WorkerPool {
 public:
  // Starts |worker_count| threads bound to |cpuset|, each with its own local memory.
  // Throws std::bad_alloc or std::system_error; no thread is left running then.
  WorkerPool(std::shared_ptr<Topology> topology, hwloc_const_cpuset_t cpuset,
             uint32_t worker_count);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  uint32_t worker_count() const noexcept { return static_cast<uint32_t>(threads_.size()); }

  // Runs |body| over [0, item_count) in chunks of |chunk| items, on the workers and on the
  // calling thread (with |caller_local|), and returns when every item has run. Several
  // threads (streams) may call it at once; their jobs share the workers.
  void parallel_for(uint64_t item_count, uint64_t chunk, BodyRef body,
                    LocalMemory& caller_local) noexcept;

 private:
  struct Job {
    BodyRef body;
    uint64_t item_count;
    uint64_t chunk;
    std::atomic<uint64_t> next{0};      // first item not yet handed out
    std::atomic<uint64_t> finished{0};  // items that have run
    std::atomic<uint32_t> helpers{0};   // workers inside the job (changed under mutex_)
  };

  // Runs chunks of |job| until none is left; returns the items this thread ran.
  static void drain(Job& job, LocalMemory& local) noexcept;
  void worker_main(LocalMemory& local) noexcept;

  std::shared_ptr<Topology> topology_;
  Bitmap cpuset_;
  std::mutex mutex_;
  std::condition_variable work_cv_;  // workers wait for jobs
  std::condition_variable done_cv_;  // callers wait for their workers to leave
  std::vector<Job*> jobs_;           // jobs with chunks left, oldest first
  bool stopping_ = false;
  std::vector<std::unique_ptr<LocalMemory>> locals_;  // one per worker, made before it starts
  std::vector<std::thread> threads_;
};

// What the CPU driver's stream work may use while it runs: the device's worker pool (for
// big work) and the stream thread's own local memory (for groups it runs itself).
struct ExecContext {
  WorkerPool& pool;
  LocalMemory& local;
};

}  // namespace udal::cpu

#endif  // UDAL_CPU_WORKER_POOL_H_
