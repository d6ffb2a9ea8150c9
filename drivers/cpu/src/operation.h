// operation.h — one unit of stream work, run by the stream's executor thread.
#ifndef UDAL_CPU_OPERATION_H_
#define UDAL_CPU_OPERATION_H_

#include <memory>
#include <utility>

#include "local_memory.h"
#include "worker_pool.h"

namespace udal::cpu {

// What an operation may use while it runs: the device's worker pool (for big work) and
// the executor's own local memory (for groups it runs itself).
struct ExecContext {
  WorkerPool& pool;
  LocalMemory& local;
};

// Internal only (never behind a handle), so a virtual interface is fine here.
class Operation {
 public:
  virtual ~Operation() = default;
  // Runs the operation. Never throws: everything that can fail is checked at enqueue.
  virtual void run(ExecContext& context) noexcept = 0;
};

template <typename Body>
class BodyOperation final : public Operation {
 public:
  explicit BodyOperation(Body body) : body_(std::move(body)) {}
  void run(ExecContext& context) noexcept override { body_(context); }

 private:
  Body body_;
};

// An operation from a callable `void(ExecContext&) noexcept`; its captures (shared memory,
// records, copied bytes) live exactly as long as the operation.
template <typename Body>
std::unique_ptr<Operation> make_operation(Body body) {
  return std::make_unique<BodyOperation<Body>>(std::move(body));
}

}  // namespace udal::cpu

#endif  // UDAL_CPU_OPERATION_H_
