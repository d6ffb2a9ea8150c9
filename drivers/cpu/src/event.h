// event.h — events and their records.
#ifndef UDAL_CPU_EVENT_H_
#define UDAL_CPU_EVENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "device.h"
#include "signal.h"
#include "udal/sdk/sdk.h"

namespace udal::cpu {

// One record of an event: completes when the stream reaches it. Shared by the event (its
// latest record), the stream operation that completes it, and every wait that captured it,
// so re-recording or destroying the event never disturbs work already enqueued.
class EventRecord {
 public:
  explicit EventRecord(Device* device) noexcept : device_(device) {}

  // Called by the stream: takes the timestamp, then publishes completion.
  void complete() noexcept {
    timestamp_ns_ = now_ns();
    done_.store(true, std::memory_order_seq_cst);
    signal_.notify();
  }
  bool done() const noexcept { return done_.load(std::memory_order_seq_cst); }
  bool wait(Deadline deadline) {
    return signal_.wait([this] { return done(); }, deadline);
  }
  // Valid once done() is true.
  uint64_t timestamp_ns() const noexcept { return timestamp_ns_; }
  Device* device() const noexcept { return device_; }

 private:
  Device* device_;
  uint64_t timestamp_ns_ = 0;  // written before done_ is set, read after it is seen
  std::atomic<bool> done_{false};
  Signal signal_;
};

// The object behind a udal_event_t.
struct Event {
  const udal_driver_table_t* dispatch;
  Device* device;
  std::mutex mutex;                     // guards |latest|
  std::shared_ptr<EventRecord> latest;  // null: never recorded (counts as complete)
};
UDAL_SDK_DISPATCHABLE(Event);

inline Event* to_event(udal_event_t handle) noexcept {
  return udal::sdk::from_handle<Event>(handle);
}

// The latest record of |event| (null when never recorded).
std::shared_ptr<EventRecord> latest_record(Event& event);
// Makes |record| the latest record of |event|.
void set_latest_record(Event& event, std::shared_ptr<EventRecord> record);

udal_result_t event_create(udal_device_t device, const udal_event_desc_t* desc,
                           udal_event_t* out_event);
udal_result_t event_destroy(udal_event_t event);
udal_result_t event_query(udal_event_t event);
udal_result_t event_wait(udal_event_t event, uint64_t timeout_ns);
udal_result_t event_elapsed_ns(udal_event_t start, udal_event_t end, uint64_t* out_ns);

}  // namespace udal::cpu

#endif  // UDAL_CPU_EVENT_H_
