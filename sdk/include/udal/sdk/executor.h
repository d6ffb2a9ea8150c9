// executor.h — in-order streams and their events: the ordering, records, waits,
// host-signalled events, host functions, synchronize with timeouts and error reporting of
// a udal_stream_t, with the driver providing only the work.
//
// Link udal::sdk_executor (a static library, position-independent with hidden symbols).
// The CPU driver is built on it. A driver gives each stream a StreamExecutor (one thread
// that runs the stream's operations one after another) and each event an EventState:
//
//   struct Stream { const udal_driver_table_t* dispatch; Device* device;
//                   std::shared_ptr<udal::sdk::StreamExecutor> executor; };
//   struct Event  { const udal_driver_table_t* dispatch; Device* device;
//                   udal::sdk::EventState state; };
//
//   // udal_stream_create (inside guard; std::system_error when no thread can start):
//   stream->executor = std::make_shared<udal::sdk::StreamExecutor>("mydev-stream",
//                                                                  [] { /* bind to cores */ });
//   // an enqueue: check everything first (checks.h), capture what the work needs, submit.
//   // The body runs later on the stream's thread, after all earlier work; it returns
//   // UDAL_SUCCESS or fails with udal::sdk::fail(code, ...) (the message is kept).
//   stream->executor->submit([memory, offset, size]() noexcept -> udal_result_t {
//     return device_copy(memory, offset, size);
//   });
//   // udal_stream_record_event / wait_event / enqueue_host_function / synchronize:
//   return event->state.record_on(kFn, event, *stream->executor);
//   event->state.wait_on(*stream->executor); return UDAL_SUCCESS;
//   stream->executor->host_function(fn, user_data); return UDAL_SUCCESS;
//   return stream->executor->synchronize("udal_stream_synchronize", timeout_ns);
//   // udal_event_create / query / wait / signal / elapsed_ns / destroy:
//   if (udal_result_t r = udal::sdk::check_event_flags(kFn, desc.flags)) return r;
//   event->state.init(desc.flags);
//   return event->state.query();   return event->state.wait(timeout_ns);
//   return event->state.signal(kFn, event);
//   return udal::sdk::EventState::elapsed_ns(kFn, start->state, start, end->state, end, *out);
//   event->state.release_host_signal();   // in destroy, and for events the app left behind
//
// Rules this block keeps for the driver (the CTS checks each):
// - An enqueue returns before its work runs: submit() only queues. A driver that ran work
//   synchronously inside the enqueue would deadlock a stream that waits on a host-signalled
//   event the application signals after the enqueue.
// - Work runs in submission order, one operation at a time; a wait on another stream's
//   event holds only this stream.
// - A failed operation fails the stream: the next synchronize (or query) returns its code
//   and message, once; operations after it still run (as the remote driver does).
// - An event never recorded counts as complete; a HOST_SIGNAL event is pending from its
//   creation until udal_event_signal (or its destroy) completes it.
// - Timeouts: 0 checks once, UINT64_MAX waits for ever, anything between never overflows.
// - Destroying a StreamExecutor runs everything already submitted, then stops its thread.
#ifndef UDAL_SDK_EXECUTOR_H_
#define UDAL_SDK_EXECUTOR_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "udal/sdk/signal.h"
#include "udal/udal_driver.h"

namespace udal::sdk {

// ==========================================================================================
// Operations
// ==========================================================================================

// One unit of stream work. Internal to a driver (never behind a handle), so a virtual
// interface is fine here.
class Operation {
public:
  virtual ~Operation() = default;
  // Runs the work: UDAL_SUCCESS, or an error with its message set by udal::sdk::fail on
  // this thread. An exception is caught and turned into an error like guard() does.
  virtual udal_result_t run() = 0;
};

template <typename Body> class BodyOperation final : public Operation {
public:
  explicit BodyOperation(Body body) : body_(std::move(body)) {}
  udal_result_t run() override {
    if constexpr (std::is_void_v<std::invoke_result_t<Body&>>) {
      body_();
      return UDAL_SUCCESS;
    } else {
      return body_();
    }
  }

private:
  Body body_;
};

// An operation from a callable `udal_result_t()` or `void()`; its captures (memory,
// records, copied bytes) live exactly as long as the operation: they are released before
// the stream counts it complete, so once synchronize returns no operation holds them.
template <typename Body> std::unique_ptr<Operation> make_operation(Body body) {
  return std::make_unique<BodyOperation<Body>>(std::move(body));
}

// ==========================================================================================
// Event records
// ==========================================================================================

// One record of an event: completes when the stream reaches it (or, for a HOST_SIGNAL
// event, when the host signals it). Shared by the event (its latest record), the operation
// that completes it and every wait that captured it, so re-recording or destroying the
// event never disturbs work already enqueued.
class EventRecord {
public:
  explicit EventRecord(bool timing) noexcept : timing_(timing) {}

  // Takes the timestamp when the event times its records, then publishes completion.
  void complete() noexcept {
    if (timing_)
      timestamp_ns_ = now_ns();
    done_.store(true, std::memory_order_seq_cst);
    signal_.notify();
  }
  bool done() const noexcept { return done_.load(std::memory_order_seq_cst); }
  bool wait(Deadline deadline) {
    return signal_.wait([this] { return done(); }, deadline);
  }
  // Nanoseconds of the steady clock (now_ns) when it completed; valid once done() is true,
  // for a timing record.
  uint64_t timestamp_ns() const noexcept { return timestamp_ns_; }

private:
  bool timing_;
  uint64_t timestamp_ns_ = 0; // written before done_ is set, read after it is seen
  std::atomic<bool> done_{false};
  Signal signal_;
};

// ==========================================================================================
// Streams
// ==========================================================================================

class StreamExecutor {
public:
  // Starts the stream's thread, named |thread_name| (15 characters at most are shown),
  // which first calls |on_thread_start| (bind it to the device's cores, ...). Throws
  // std::system_error when no thread can be started, and std::bad_alloc.
  explicit StreamExecutor(const char* thread_name = "udal-stream",
                          std::function<void()> on_thread_start = {});
  // Runs everything already submitted, then stops the thread.
  ~StreamExecutor();
  StreamExecutor(const StreamExecutor&) = delete;
  StreamExecutor& operator=(const StreamExecutor&) = delete;

  // Appends |operation|; it runs after everything submitted before. Returns at once.
  // Throws std::bad_alloc.
  void submit(std::unique_ptr<Operation> operation);
  template <typename Body> void submit(Body body) { submit(make_operation(std::move(body))); }

  // Completes |record| when the stream gets there.
  void record(std::shared_ptr<EventRecord> record);
  // Holds the stream's later work until |record| completes (a record some stream will
  // complete, or a HOST_SIGNAL record: its signal or its event's release completes it).
  void wait(std::shared_ptr<EventRecord> record);
  // Calls fn(user_data) on the stream's thread when the stream gets there; the next
  // operation starts when it has returned.
  void host_function(udal_host_function_t fn, void* user_data);

  // Waits until everything submitted before the call has run, or |timeout_ns| passes.
  // Returns UDAL_SUCCESS; UDAL_TIMEOUT (a status: no message is set, libudal gives it its
  // static one); or the first failed operation's code with the message
  // "<function>: an operation of the stream failed: <its message>", which is then cleared.
  udal_result_t synchronize(const char* function, uint64_t timeout_ns);
  // The same without waiting: UDAL_SUCCESS, UDAL_NOT_READY or the failed operation's code.
  udal_result_t query(const char* function);
  // Whether everything submitted has run.
  bool idle() const noexcept;

private:
  void main() noexcept;
  std::unique_ptr<Operation> take(uint64_t taken);
  udal_result_t report(const char* function);
  void run_one(Operation& operation) noexcept;

  std::function<void()> on_thread_start_;
  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::deque<std::unique_ptr<Operation>> queue_; // guarded by mutex_
  bool sleeping_ = false;                        // guarded by mutex_
  bool stopping_ = false;                        // guarded by mutex_
  std::mutex error_mutex_;
  udal_result_t error_ = UDAL_SUCCESS; // guarded by error_mutex_: first unreported failure
  std::string error_message_;          // guarded by error_mutex_
  std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> completed_{0};
  Signal completed_signal_;
  std::thread thread_; // last: started once everything above exists
};

// ==========================================================================================
// Events
// ==========================================================================================

// Refuses flags no version defines and TIMING with HOST_SIGNAL (INVALID_ARGUMENT).
udal_result_t check_event_flags(const char* function, udal_event_flags_t flags) noexcept;

// The state of one udal_event_t: its flags and latest record. Standard-layout, so it may
// be a member of the object behind the handle.
class EventState {
public:
  EventState() = default;
  EventState(const EventState&) = delete;
  EventState& operator=(const EventState&) = delete;

  // Sets the flags (checked with check_event_flags). A HOST_SIGNAL event is pending from
  // here on. Throws std::bad_alloc.
  void init(udal_event_flags_t flags);
  udal_event_flags_t flags() const noexcept { return flags_; }
  bool timing() const noexcept { return (flags_ & UDAL_EVENT_FLAG_TIMING) != 0; }
  bool host_signal() const noexcept { return (flags_ & UDAL_EVENT_FLAG_HOST_SIGNAL) != 0; }

  // The latest record (null when never recorded).
  std::shared_ptr<EventRecord> latest() const noexcept;

  // udal_stream_record_event: a new record, completed when |stream| gets there, becomes
  // the latest. INVALID_ARGUMENT for a HOST_SIGNAL event. |event| is for messages.
  // Throws std::bad_alloc.
  udal_result_t record_on(const char* function, const void* event, StreamExecutor& stream);
  // udal_stream_wait_event: |stream|'s later work waits for the latest record; nothing is
  // enqueued when there is none or it is complete. Throws std::bad_alloc.
  void wait_on(StreamExecutor& stream);

  // udal_event_query: UDAL_SUCCESS (complete, or never recorded) or UDAL_NOT_READY.
  udal_result_t query() const noexcept;
  // udal_event_wait: UDAL_SUCCESS or UDAL_TIMEOUT (statuses: no message).
  udal_result_t wait(uint64_t timeout_ns) const;
  // udal_event_signal: INVALID_ARGUMENT for an event without HOST_SIGNAL, INVALID_STATE
  // for one already signalled.
  udal_result_t signal(const char* function, const void* event) noexcept;
  // Completes the pending record of a HOST_SIGNAL event not yet signalled, as if it had
  // been, so no stream waits for ever on it: call it when the event is destroyed, and for
  // the events the application left behind when the driver is destroyed (before the
  // streams).
  void release_host_signal() noexcept;

  // udal_event_elapsed_ns between the latest records of |start| and |end| (|start_object|,
  // |end_object| for messages): INVALID_ARGUMENT for an event without TIMING,
  // INVALID_STATE for one never recorded, UDAL_NOT_READY while either is pending; an end
  // that completed first gives 0.
  static udal_result_t elapsed_ns(const char* function, const EventState& start,
                                  const void* start_object, const EventState& end,
                                  const void* end_object, uint64_t& out_ns) noexcept;

private:
  void set_latest(std::shared_ptr<EventRecord> record) noexcept;

  udal_event_flags_t flags_ = 0;
  std::atomic<bool> signalled_{false}; // HOST_SIGNAL: signalled, or released
  mutable std::mutex mutex_;           // guards latest_
  std::shared_ptr<EventRecord> latest_;
};

} // namespace udal::sdk

#endif // UDAL_SDK_EXECUTOR_H_
