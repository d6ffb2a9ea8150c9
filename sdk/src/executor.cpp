// executor.cpp — in-order streams and their events (udal/sdk/executor.h).
#include "udal/sdk/executor.h"

#include <pthread.h>

#include "udal/sdk/error.h"

namespace udal::sdk {

// ==========================================================================================
// Streams
// ==========================================================================================

StreamExecutor::StreamExecutor(const char* thread_name, std::function<void()> on_thread_start)
    : on_thread_start_(std::move(on_thread_start)) {
  thread_ = std::thread([this] { main(); });
  // A name is only a help: pthread_setname_np refuses names over 15 characters.
  (void)pthread_setname_np(thread_.native_handle(), thread_name ? thread_name : "udal-stream");
}

StreamExecutor::~StreamExecutor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_one();
  thread_.join();
}

void StreamExecutor::submit(std::unique_ptr<Operation> operation) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(operation));
    submitted_.fetch_add(1, std::memory_order_seq_cst);
    wake = sleeping_;
  }
  // Only a sleeping executor needs the futex; a spinning one sees submitted_ change.
  if (wake)
    work_cv_.notify_one();
}

void StreamExecutor::record(std::shared_ptr<EventRecord> record) {
  submit([record = std::move(record)]() noexcept { record->complete(); });
}

void StreamExecutor::wait(std::shared_ptr<EventRecord> record) {
  // Each stream has its own thread, so holding this one until the record completes holds
  // only this stream's later work. The record was submitted before this wait was (or is a
  // HOST_SIGNAL record, which its signal, its event's release or the driver's destroy
  // completes): no deadlock.
  submit([record = std::move(record)]() { (void)record->wait(Deadline::after(UINT64_MAX)); });
}

void StreamExecutor::host_function(udal_host_function_t fn, void* user_data) {
  submit([fn, user_data]() { fn(user_data); });
}

bool StreamExecutor::idle() const noexcept {
  return completed_.load(std::memory_order_seq_cst) >= submitted_.load(std::memory_order_seq_cst);
}

udal_result_t StreamExecutor::report(const char* function) {
  std::string message;
  udal_result_t error;
  {
    std::lock_guard<std::mutex> lock(error_mutex_);
    error = std::exchange(error_, UDAL_SUCCESS);
    if (error == UDAL_SUCCESS)
      return UDAL_SUCCESS;
    message.swap(error_message_);
  }
  return fail(error, "{}: an operation of the stream failed: {}", function, message);
}

udal_result_t StreamExecutor::synchronize(const char* function, uint64_t timeout_ns) {
  const uint64_t target = submitted_.load(std::memory_order_seq_cst);
  const bool done =
      completed_signal_.wait([&] { return completed_.load(std::memory_order_seq_cst) >= target; },
                             Deadline::after(timeout_ns));
  if (udal_result_t r = report(function))
    return r;
  return done ? UDAL_SUCCESS : UDAL_TIMEOUT;
}

udal_result_t StreamExecutor::query(const char* function) {
  const bool done = idle();
  if (udal_result_t r = report(function))
    return r;
  return done ? UDAL_SUCCESS : UDAL_NOT_READY;
}

std::unique_ptr<Operation> StreamExecutor::take(uint64_t taken) {
  // The queue has drained: spin a little for the next operation, so a stream that is fed
  // one launch after another starts each without a futex wake-up. Bounded (kSpinTime),
  // and yielding between checks, because the cores may be shared: the thread that will
  // submit may be queued on this core (see Signal::wait).
  if (submitted_.load(std::memory_order_acquire) == taken) {
    const auto spin_end = Clock::now() + kSpinTime;
    for (uint32_t i = 0; submitted_.load(std::memory_order_acquire) == taken; ++i) {
      if ((i & 63) == 63) {
        if (Clock::now() >= spin_end)
          break;
        std::this_thread::yield();
      }
      cpu_relax();
    }
  }
  std::unique_lock<std::mutex> lock(mutex_);
  if (queue_.empty()) {
    if (stopping_)
      return nullptr;
    sleeping_ = true;
    work_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    sleeping_ = false;
    if (queue_.empty())
      return nullptr; // stopping with nothing left to run
  }
  auto operation = std::move(queue_.front());
  queue_.pop_front();
  return operation;
}

void StreamExecutor::run_one(Operation& operation) noexcept {
  const udal_result_t result =
      guard("a stream operation", [&]() -> udal_result_t { return operation.run(); });
  if (result == UDAL_SUCCESS)
    return;
  std::lock_guard<std::mutex> lock(error_mutex_);
  if (error_ != UDAL_SUCCESS)
    return; // the first failure is the one reported
  error_ = result;
  try {
    error_message_ = last_error_message();
  } catch (...) {
    error_message_.clear(); // the code still reaches the caller
  }
}

void StreamExecutor::main() noexcept {
  if (on_thread_start_) {
    // A failed set-up (no binding to the cores) leaves a thread that still runs the work.
    (void)guard("the stream thread's start", [&] {
      on_thread_start_();
      return UDAL_SUCCESS;
    });
  }
  for (uint64_t taken = 0;; ++taken) {
    std::unique_ptr<Operation> operation = take(taken);
    if (!operation)
      return;
    run_one(*operation);
    // Released before completion is published: once synchronize returns, the operation
    // holds no buffer memory, record or library any more.
    operation.reset();
    completed_.fetch_add(1, std::memory_order_seq_cst);
    completed_signal_.notify();
  }
}

// ==========================================================================================
// Events
// ==========================================================================================

udal_result_t check_event_flags(const char* function, udal_event_flags_t flags) noexcept {
  constexpr udal_event_flags_t kKnown = UDAL_EVENT_FLAG_TIMING | UDAL_EVENT_FLAG_HOST_SIGNAL;
  if (flags & ~kKnown) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->flags {:#x} has bits no version defines",
                function, flags & ~kKnown);
  }
  if ((flags & UDAL_EVENT_FLAG_TIMING) && (flags & UDAL_EVENT_FLAG_HOST_SIGNAL)) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc->flags combines UDAL_EVENT_FLAG_TIMING with "
                "UDAL_EVENT_FLAG_HOST_SIGNAL (a host-signalled event has no device time)",
                function);
  }
  return UDAL_SUCCESS;
}

void EventState::init(udal_event_flags_t flags) {
  flags_ = flags;
  signalled_.store(false);
  // Pending from the start: one record that only a signal (or the release) completes.
  if (host_signal())
    set_latest(std::make_shared<EventRecord>(false));
}

std::shared_ptr<EventRecord> EventState::latest() const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  return latest_;
}

void EventState::set_latest(std::shared_ptr<EventRecord> record) noexcept {
  std::shared_ptr<EventRecord> previous; // released outside the lock
  std::lock_guard<std::mutex> lock(mutex_);
  previous = std::exchange(latest_, std::move(record));
}

udal_result_t EventState::record_on(const char* function, const void* event,
                                    StreamExecutor& stream) {
  if (host_signal()) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: event {} is a HOST_SIGNAL event: only udal_event_signal completes it",
                function, fmt::ptr(event));
  }
  auto record = std::make_shared<EventRecord>(timing());
  // Submitted before it becomes the latest record, so a wait that captures it always
  // waits for a record some stream will complete.
  stream.record(record);
  set_latest(std::move(record));
  return UDAL_SUCCESS;
}

void EventState::wait_on(StreamExecutor& stream) {
  auto record = latest();
  if (!record || record->done())
    return; // nothing to wait for
  stream.wait(std::move(record));
}

udal_result_t EventState::query() const noexcept {
  auto record = latest();
  // Statuses carry libudal's static message (they are polled), so none is formatted here.
  return !record || record->done() ? UDAL_SUCCESS : UDAL_NOT_READY;
}

udal_result_t EventState::wait(uint64_t timeout_ns) const {
  auto record = latest();
  if (!record || record->wait(Deadline::after(timeout_ns)))
    return UDAL_SUCCESS;
  return UDAL_TIMEOUT;
}

udal_result_t EventState::signal(const char* function, const void* event) noexcept {
  if (!host_signal()) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: event {} was created without UDAL_EVENT_FLAG_HOST_SIGNAL; it completes "
                "when a stream reaches its record",
                function, fmt::ptr(event));
  }
  if (signalled_.exchange(true, std::memory_order_acq_rel)) {
    return fail(UDAL_ERROR_INVALID_STATE, "{}: event {} was already signalled (it completes once)",
                function, fmt::ptr(event));
  }
  if (auto record = latest())
    record->complete();
  return UDAL_SUCCESS;
}

void EventState::release_host_signal() noexcept {
  if (!host_signal() || signalled_.exchange(true, std::memory_order_acq_rel))
    return;
  if (auto record = latest())
    record->complete();
}

udal_result_t EventState::elapsed_ns(const char* function, const EventState& start,
                                     const void* start_object, const EventState& end,
                                     const void* end_object, uint64_t& out_ns) noexcept {
  out_ns = 0;
  for (const EventState* event : {&start, &end}) {
    if (!event->timing()) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: the {} event {} was created without UDAL_EVENT_FLAG_TIMING, so its "
                  "records take no timestamp",
                  function, event == &start ? "start" : "end",
                  fmt::ptr(event == &start ? start_object : end_object));
    }
  }
  auto start_record = start.latest();
  auto end_record = end.latest();
  if (!start_record || !end_record) {
    return fail(UDAL_ERROR_INVALID_STATE, "{}: the {} event {} was never recorded", function,
                !start_record ? "start" : "end",
                fmt::ptr(!start_record ? start_object : end_object));
  }
  if (!start_record->done() || !end_record->done())
    return UDAL_NOT_READY;
  const uint64_t t0 = start_record->timestamp_ns();
  const uint64_t t1 = end_record->timestamp_ns();
  // An end that completed first (another stream ran it earlier) gives 0, never a wrap.
  out_ns = t1 > t0 ? t1 - t0 : 0;
  return UDAL_SUCCESS;
}

} // namespace udal::sdk
