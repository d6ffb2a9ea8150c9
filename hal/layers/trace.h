// The trace layer (UDAL_TRACE=file.json, docs/layers.md), in two parts of the stack:
//   calls  (outermost) every API call on the calling thread's track: its arguments, result
//          and duration, as the application made it;
//   ops    (innermost) every device operation on a track per stream: copies, fills, host
//          writes and reads, launches with their shape, event records and waits, host
//          functions; with flow arrows from each enqueue to its execution and from each
//          record to the waits on it.
// An operation's end is the host time at which a host function enqueued after it ran (the
// host's clock: the trace has one timeline); on a device with UDAL_DEVICE_FEATURE_TIMESTAMPS
// its duration comes from a pair of UDAL_EVENT_FLAG_TIMING events recorded around it.
#pragma once

#include "layers.h"

#include <memory>
#include <vector>

namespace udal::hal::layers {

class TraceWriter;
class TraceState;

class Trace {
public:
  Trace(Stack& stack, std::shared_ptr<TraceWriter> writer);
  ~Trace();
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  // The entries of each part (those |table| has non-NULL); they call stack.trace_calls_next
  // and stack.trace_ops_next.
  static void fill_calls(udal_driver_table_t& table);
  static void fill_ops(udal_driver_table_t& table);

  // Gives each of the driver's devices (its own handles) a group of tracks.
  void add_devices(const std::vector<udal_device_t>& devices);

  TraceState& state() { return *state_; }

private:
  std::unique_ptr<TraceState> state_;
};

} // namespace udal::hal::layers
