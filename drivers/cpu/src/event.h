// event.h — events and their records.
#ifndef UDAL_CPU_EVENT_H_
#define UDAL_CPU_EVENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "device.h"
#include "entries.h"
#include "signal.h"
#include "udal/sdk/sdk.h"

namespace udal::cpu {

// One record of an event: completes when the stream reaches it (or, for a HOST_SIGNAL
// event, when the host signals it). Shared by the event (its latest record), the stream
// operation that completes it, and every wait that captured it, so re-recording or
// destroying the event never disturbs work already enqueued.
class EventRecord {
 public:
  explicit EventRecord(bool timing) noexcept : timing_(timing) {}

  // Takes the timestamp when the event times its records, then publishes completion.
  void complete() noexcept {
    if (timing_) timestamp_ns_ = now_ns();
    done_.store(true, std::memory_order_seq_cst);
    signal_.notify();
  }
  bool done() const noexcept { return done_.load(std::memory_order_seq_cst); }
  bool wait(Deadline deadline) {
    return signal_.wait([this] { return done(); }, deadline);
  }
  // Valid once done() is true, for a timing record.
  uint64_t timestamp_ns() const noexcept { return timestamp_ns_; }

 private:
  bool timing_;
  uint64_t timestamp_ns_ = 0;  // written before done_ is set, read after it is seen
  std::atomic<bool> done_{false};
  Signal signal_;
};

// The object behind a udal_event_t.
struct Event {
  const udal_driver_table_t* dispatch;
  Device* device;
  udal_event_flags_t flags;
  std::atomic<bool> signalled;          // HOST_SIGNAL: signalled, or released by destroy
  std::mutex mutex;                     // guards |latest|
  std::shared_ptr<EventRecord> latest;  // null: never recorded (counts as complete)
};
UDAL_SDK_DISPATCHABLE(Event);

inline Event* to_event(udal_event_t handle) noexcept {
  return udal::sdk::from_handle<Event>(handle);
}

// The latest record of |event| (null when never recorded).
std::shared_ptr<EventRecord> latest_record(Event& event) noexcept;
// Makes |record| the latest record of |event|.
void set_latest_record(Event& event, std::shared_ptr<EventRecord> record) noexcept;
// Completes the pending record of a HOST_SIGNAL event not yet signalled, as if it had been
// (its destroy does so; so does driver_destroy for the events left behind).
void release_host_signal(Event& event) noexcept;

}  // namespace udal::cpu

#endif  // UDAL_CPU_EVENT_H_
