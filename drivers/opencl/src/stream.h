// stream.h — a UDAL stream: one in-order OpenCL command queue, and the thread that runs its
// host functions.
#ifndef UDAL_OPENCL_STREAM_H_
#define UDAL_OPENCL_STREAM_H_

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "device.h"

namespace udal::opencl {

// Runs a stream's host functions in order on a thread of its own: each waits for the marker
// enqueued before it, runs, then completes the user event that holds the stream's later
// work. A host function may block or call UDAL (OpenCL forbids both in its callbacks).
class HostFunctionWorker {
public:
  struct Item {
    ClEvent after; // the marker: all earlier work of the stream
    udal_host_function_t fn;
    void* user_data;
    ClEvent gate; // the user event later work waits on
  };

  HostFunctionWorker();  // throws std::system_error, std::bad_alloc
  ~HostFunctionWorker(); // runs what is queued, then joins
  HostFunctionWorker(const HostFunctionWorker&) = delete;
  HostFunctionWorker& operator=(const HostFunctionWorker&) = delete;

  void push(Item item); // throws std::bad_alloc

private:
  void run() noexcept;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> items_;
  bool stopping_ = false;
  std::thread thread_;
};

struct Stream {
  const udal_driver_table_t* dispatch;
  Device* device;
  // Replaced (under |mutex|) by a profiling queue at the first record of a TIMING event:
  // profiling costs every command some time, so only streams that time anything pay it.
  ClQueue queue;
  bool profiling;
  // Held for every enqueue: operations made of several commands (a fill in pieces, a host
  // function's marker and barrier) stay contiguous, and order is the order of the calls.
  std::mutex mutex;
  // The event of the last command enqueued (under |mutex|): the queue is in order, so it
  // completes when all work enqueued so far has. Empty while nothing was enqueued.
  ClEvent last;
  std::unique_ptr<HostFunctionWorker> worker; // made at the first host function

  // Where the next command puts its event (with |mutex| held): a temporary that makes the
  // event |last| once the call returned one (a failed enqueue leaves |last| as it was).
  class NextEvent {
  public:
    explicit NextEvent(ClEvent* last) noexcept : last_(last) {}
    ~NextEvent() {
      if (event_ != nullptr)
        *last_ = ClEvent(event_);
    }
    NextEvent(const NextEvent&) = delete;
    NextEvent& operator=(const NextEvent&) = delete;
    operator cl_event*() noexcept { return &event_; }

  private:
    ClEvent* last_;
    cl_event event_ = nullptr;
  };
  NextEvent next_event() noexcept { return NextEvent(&last); }
  // The last command's event (a reference), or empty.
  ClEvent last_work() {
    std::lock_guard lock(mutex);
    return last;
  }
  // The queue now (a reference: it may be replaced meanwhile).
  ClQueue current_queue() {
    std::lock_guard lock(mutex);
    return queue;
  }
};
UDAL_SDK_DISPATCHABLE(Stream);

inline Stream* to_stream(udal_stream_t handle) noexcept {
  return udal::sdk::from_handle<Stream>(handle);
}

// Enqueues a marker (complete once all earlier work of |stream| is) and flushes the queue.
// The marker becomes the stream's last work.
// Takes the stream's lock. An empty reference with |*error| on failure.
ClEvent stream_marker(Stream* stream, cl_int* error) noexcept;

// Finishes the stream's work, stops its thread and frees it (udal_stream_destroy, shutdown).
udal_result_t destroy_stream(Stream* stream) noexcept;

} // namespace udal::opencl

#endif // UDAL_OPENCL_STREAM_H_
