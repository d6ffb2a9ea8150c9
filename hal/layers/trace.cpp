#include "trace.h"

#include "trace_writer.h"
#include "udal/sdk/names.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <iterator>
#include <mutex>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace udal::hal::layers {

namespace {

// Operations traced at once, per driver; past this, operations run untraced and the
// trace's last event counts them. Bounds the layer's memory whatever the program does.
constexpr size_t kMaxOperationsInFlight = 8192;
// How long driver teardown waits for traced work still in flight, per stream.
constexpr uint64_t kTeardownWaitNs = 5'000'000'000ull;

/* ==========================================================================================
 * Arguments as JSON
 * ======================================================================================= */

// An output a create entry writes a handle to. One expression rather than a specialization
// per handle type: clang warns of specializations no entry instantiates (nothing outputs a
// udal_device_t).
template <typename T>
inline constexpr bool kIsHandlePointer =
    std::is_same_v<T, udal_device_t*> || std::is_same_v<T, udal_buffer_t*> ||
    std::is_same_v<T, udal_event_t*> || std::is_same_v<T, udal_module_t*> ||
    std::is_same_v<T, udal_kernel_t*> || std::is_same_v<T, udal_stream_t*>;

void append_pointer(Line& out, const void* p) {
  if (p == nullptr)
    out += "null";
  else
    fmt::format_to(out.it(), FMT_COMPILE("\"{}\""), p);
}

void append_string(Line& out, const char* s) {
  if (s == nullptr) {
    out += "null";
    return;
  }
  out += '"';
  append_json_escaped(out, s);
  out += '"';
}

void append_launch(Line& out, const udal_launch_desc_t& d, bool with_args) {
  auto o = out.it();
  fmt::format_to(o, R"({{"group_count":[{},{},{}],"group_size":[{},{},{}],"local_memory_bytes":{})",
                 d.group_count[0], d.group_count[1], d.group_count[2], d.group_size[0],
                 d.group_size[1], d.group_size[2], d.local_memory_bytes);
  if (with_args) {
    out += R"(,"args":[)";
    for (uint32_t i = 0; i < d.arg_count && d.args != nullptr; ++i) {
      const udal_kernel_arg_t& a = d.args[i];
      if (i > 0)
        out += ',';
      if (a.kind == UDAL_ARG_KIND_BUFFER)
        fmt::format_to(o, R"({{"buffer":"{}","offset":{},"access":"{}"}})",
                       static_cast<const void*>(a.buffer), a.offset, udal::sdk::access_name(a.access, "NONE"));
      else
        fmt::format_to(o, R"({{"value_size":{}}})", a.value_size);
    }
    out += ']';
  }
  out += '}';
}

// One argument's value, read after the call (outputs hold what the call wrote).
template <typename T> void append_value(Line& out, T v) {
  auto o = out.it();
  if constexpr (std::is_same_v<T, const char*>) {
    append_string(out, v);
  } else if constexpr (std::is_integral_v<T>) {
    fmt::format_to(o, FMT_COMPILE("{}"), v);
  } else if constexpr (kIsHandlePointer<T>) {
    append_pointer(out, v ? static_cast<const void*>(*v) : nullptr);
  } else if constexpr (std::is_same_v<T, void**>) {
    append_pointer(out, v ? *v : nullptr);
  } else if constexpr (std::is_same_v<T, const udal_buffer_desc_t*>) {
    if (v == nullptr)
      out += "null";
    else
      fmt::format_to(o, R"({{"size":{},"alignment":{},"flags":{},"kind":{}}})", v->size,
                     v->alignment, v->flags, static_cast<uint32_t>(v->kind));
  } else if constexpr (std::is_same_v<T, const udal_event_desc_t*> ||
                       std::is_same_v<T, const udal_stream_desc_t*>) {
    if (v == nullptr)
      out += "null";
    else
      fmt::format_to(o, R"({{"flags":{}}})", v->flags);
  } else if constexpr (std::is_same_v<T, const udal_module_desc_t*>) {
    if (v == nullptr) {
      out += "null";
    } else {
      fmt::format_to(o, R"({{"image_count":{},"formats":[)", v->image_count);
      for (uint32_t i = 0; i < v->image_count && v->images != nullptr; ++i)
        fmt::format_to(o, "{}{}", i ? "," : "", static_cast<uint32_t>(v->images[i].format));
      out += "]}";
    }
  } else if constexpr (std::is_same_v<T, const udal_launch_desc_t*>) {
    if (v == nullptr)
      out += "null";
    else
      append_launch(out, *v, true);
  } else if constexpr (std::is_pointer_v<T>) {
    append_pointer(out, reinterpret_cast<const void*>(v));
  } else {
    out += "null";
  }
}

/* ==========================================================================================
 * The state of one driver's trace
 * ======================================================================================= */

struct DeviceTrack {
  udal_device_t device = nullptr; // the driver's
  int pid = 0;
  bool timing = false; // TIMESTAMPS, and timing events can be made
  std::vector<udal_event_t> free_events;
};

struct Op;

struct StreamTrack {
  udal_stream_t stream = nullptr; // the driver's
  DeviceTrack* device = nullptr;
  uint64_t tid = 0;
  uint64_t last_end_ns = 0;
  // With device timestamps: a timing event recorded when the stream was made, and the host
  // time it stands for; every operation's device times are placed relative to it.
  udal_event_t anchor = nullptr;
  uint64_t anchor_ns = 0;
  // Operations in enqueue order, written out in that order as they complete.
  std::deque<Op*> pending;
};

// One record of an event, for the flow arrows to the waits on it.
struct RecordInfo {
  bool done = false;
  int pid = 0;
  uint64_t tid = 0;
  uint64_t ts_ns = 0;
  struct Waiter {
    int pid;
    uint64_t tid;
    uint64_t ts_ns;
  };
  std::vector<Waiter> waiters;
};

enum class OpKind { transfer, launch, record, wait, host_function };

struct Op {
  TraceState* trace = nullptr;
  OpKind kind = OpKind::transfer;
  StreamTrack* track = nullptr;
  std::string name;
  std::string args; // JSON members, without the braces
  uint64_t enqueue_ns = 0;
  uint64_t enqueue_tid = 0;
  // Device times: a timing event before (copies, fills, transfers, launches) and after.
  udal_event_t start_event = nullptr;
  udal_event_t end_event = nullptr;
  // Host times, when a host function saw the operation complete (no device timestamps) or
  // is the operation (the application's host function).
  bool done = false;
  uint64_t done_start_ns = 0; // 0: not known
  uint64_t done_end_ns = 0;
  std::shared_ptr<RecordInfo> record; // record: the one made; wait: the one waited on
  udal_host_function_t user_fn = nullptr;
  void* user_data = nullptr;
};

} // namespace

class TraceState {
public:
  TraceState(Stack& stack, std::shared_ptr<TraceWriter> writer)
      : stack_(stack), writer_(std::move(writer)) {}

  Stack& stack() { return stack_; }
  TraceWriter& writer() { return *writer_; }
  const udal_driver_table_t& next() const { return stack_.trace_ops_next; }

  template <typename AppendArgs>
  void emit_call(Entry e, uint64_t start, uint64_t end, udal_result_t r, AppendArgs&& append) noexcept {
    try {
      thread_local Line line;
      line.clear();
      fmt::format_to(line.it(),
                     FMT_COMPILE(R"({{"ph":"X","cat":"api","name":"{}","pid":{},"tid":{},"ts":{},"dur":{},"args":{{)"),
                     entry_info(e).function, writer_->pid(), writer_->thread_id(),
                     writer_->ts(start), Micros{end - start});
      append(line);
      fmt::format_to(line.it(), FMT_COMPILE(R"("result":"{}"}}}})"), udal_result_name(r));
      writer_->emit(line.view());
    } catch (...) {
      // Out of memory: the event is lost.
    }
  }

  void add_device(udal_device_t device) {
    auto track = std::make_unique<DeviceTrack>();
    track->device = device;
    track->pid = writer_->next_device_pid();
    udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
    std::string name = "device";
    if (next().device_get_info != nullptr && next().device_get_info(device, &info) == UDAL_SUCCESS) {
      name = info.name;
      track->timing = (info.features & UDAL_DEVICE_FEATURE_TIMESTAMPS) != 0 &&
                      next().event_create != nullptr && next().event_destroy != nullptr &&
                      next().event_query != nullptr && next().event_elapsed_ns != nullptr &&
                      next().stream_record_event != nullptr &&
                      next().stream_synchronize != nullptr;
    }
    std::string label;
    append_json_escaped(label, fmt::format("{} (driver '{}', {})", name, stack_.driver->name,
                                           track->timing ? "device timestamps" : "host times"));
    writer_->emit(fmt::format(R"({{"ph":"M","name":"process_name","pid":{},"tid":0,"args":{{"name":"{}"}}}})",
                              track->pid, label));
    writer_->emit(fmt::format(R"({{"ph":"M","name":"process_sort_index","pid":{},"tid":0,"args":{{"sort_index":{}}}}})",
                              track->pid, track->pid));
    std::lock_guard lock(mutex_);
    devices_.emplace(device, std::move(track));
  }

  void add_stream(udal_device_t device, udal_stream_t stream) {
    DeviceTrack* d = nullptr;
    {
      std::lock_guard lock(mutex_);
      auto it = devices_.find(device);
      if (it == devices_.end())
        return;
      d = it->second.get();
    }
    auto track = std::make_unique<StreamTrack>();
    track->stream = stream;
    track->device = d;
    track->tid = writer_->next_track_tid();
    anchor(*track);
    writer_->emit(fmt::format(R"({{"ph":"M","name":"thread_name","pid":{},"tid":{},"args":{{"name":"stream {}"}}}})",
                              d->pid, track->tid, track->tid));
    writer_->emit(fmt::format(R"({{"ph":"M","name":"thread_sort_index","pid":{},"tid":{},"args":{{"sort_index":{}}}}})",
                              d->pid, track->tid, track->tid));
    std::lock_guard lock(mutex_);
    streams_[stream] = std::move(track);
  }

  // After the driver destroyed |stream| (its work has completed): the rest of its
  // operations are written, and its track goes.
  void remove_stream(udal_stream_t stream) {
    std::unique_ptr<StreamTrack> track;
    {
      std::lock_guard lock(mutex_);
      auto it = streams_.find(stream);
      if (it == streams_.end())
        return;
      drain_locked(*it->second);
      if (!it->second->pending.empty()) {
        // A driver that returned before the stream's host functions ran: keep the track for
        // them.
        retired_streams_.push_back(std::move(it->second));
        streams_.erase(it);
        return;
      }
      track = std::move(it->second);
      streams_.erase(it);
    }
    if (track->anchor != nullptr)
      (void)next().event_destroy(track->anchor);
  }

  void set_kernel_name(udal_kernel_t kernel, const char* name) {
    std::lock_guard lock(mutex_);
    kernels_[kernel] = name;
  }
  void remove_kernel(udal_kernel_t kernel) {
    std::lock_guard lock(mutex_);
    kernels_.erase(kernel);
  }
  std::string kernel_name(udal_kernel_t kernel) {
    std::lock_guard lock(mutex_);
    auto it = kernels_.find(kernel);
    return it == kernels_.end() ? std::string("?") : it->second;
  }

  void remove_event(udal_event_t event) {
    std::lock_guard lock(mutex_);
    events_.erase(event);
  }
  std::shared_ptr<RecordInfo> latest_record(udal_event_t event) {
    std::lock_guard lock(mutex_);
    auto it = events_.find(event);
    return it == events_.end() ? nullptr : it->second;
  }
  void set_latest_record(udal_event_t event, std::shared_ptr<RecordInfo> record) {
    std::lock_guard lock(mutex_);
    events_[event] = std::move(record);
  }

  // A new operation on |stream|, or nullptr when it is not traced (unknown stream, too many
  // in flight).
  Op* begin(udal_stream_t stream, OpKind kind, std::string name, std::string args) {
    uint64_t tid = writer_->thread_id();
    uint64_t now = TraceWriter::now_ns();
    std::lock_guard lock(mutex_);
    auto it = streams_.find(stream);
    if (it == streams_.end() || closing_)
      return nullptr;
    if (ops_.size() >= kMaxOperationsInFlight) {
      writer_->count_dropped_operation();
      return nullptr;
    }
    auto op = std::make_unique<Op>();
    op->trace = this;
    op->kind = kind;
    op->track = it->second.get();
    op->name = std::move(name);
    op->args = std::move(args);
    op->enqueue_ns = now;
    op->enqueue_tid = tid;
    Op* raw = op.get();
    raw->track->pending.push_back(raw);
    ops_.emplace(raw, std::move(op));
    return raw;
  }

  // Whether |op|'s times come from timing events (its device has timestamps and its stream
  // an anchor).
  bool device_timed(const Op& op) const { return op.track->anchor != nullptr; }

  // Records a timing event of the pool on |stream| into |slot|; false when there is none.
  bool record_timing(Op& op, udal_stream_t stream, udal_event_t& slot) {
    DeviceTrack& device = *op.track->device;
    udal_event_t e = take_event(device);
    if (e == nullptr)
      return false;
    if (next().stream_record_event(stream, e) != UDAL_SUCCESS) {
      give_back(device, e);
      return false;
    }
    std::lock_guard lock(mutex_); // another thread may be writing out the stream's operations
    slot = e;
    return true;
  }

  // The operation was not enqueued after all.
  void abandon(Op* op) {
    std::lock_guard lock(mutex_);
    give_back_locked(*op->track->device, op->start_event);
    give_back_locked(*op->track->device, op->end_event);
    std::deque<Op*>& pending = op->track->pending;
    pending.erase(std::find(pending.begin(), pending.end(), op));
    ops_.erase(op);
  }

  // A host function saw |op| complete (|start| 0 when it does not know when it began).
  void host_done(Op* op, uint64_t start, uint64_t end) noexcept {
    try {
      std::lock_guard lock(mutex_);
      op->done = true;
      op->done_start_ns = start;
      op->done_end_ns = end;
      drain_locked(*op->track);
    } catch (...) {
    }
  }

  // Writes the operations that have completed, of every stream.
  void poll() noexcept {
    try {
      std::lock_guard lock(mutex_);
      for (auto& [handle, track] : streams_)
        drain_locked(*track);
    } catch (...) {
    }
  }

  void poll(udal_stream_t stream) noexcept {
    try {
      std::lock_guard lock(mutex_);
      auto it = streams_.find(stream);
      if (it != streams_.end())
        drain_locked(*it->second);
    } catch (...) {
    }
  }

  // A wait at (pid, tid, ts) returned after |record|: the arrow now, or when it is written.
  void waited(RecordInfo& record, int pid, uint64_t tid, uint64_t ts_ns) {
    std::lock_guard lock(mutex_);
    add_waiter_locked(record, pid, tid, ts_ns);
  }

  // Before the driver is destroyed: lets traced work finish while the driver still answers,
  // writes it, then hands back the timing events.
  void close() {
    std::vector<udal_stream_t> busy;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [stream, track] : streams_) {
        if (!track->pending.empty())
          busy.push_back(track->stream);
      }
    }
    for (udal_stream_t s : busy)
      (void)next().stream_synchronize(s, kTeardownWaitNs);
    std::vector<udal_event_t> events;
    {
      std::lock_guard lock(mutex_);
      for (auto& [stream, track] : streams_) {
        drain_locked(*track);
        if (track->anchor != nullptr && track->pending.empty()) {
          events.push_back(track->anchor);
          track->anchor = nullptr;
        }
      }
      closing_ = true;
      for (auto& [handle, device] : devices_) {
        events.insert(events.end(), device->free_events.begin(), device->free_events.end());
        device->free_events.clear();
      }
    }
    for (udal_event_t e : events)
      (void)next().event_destroy(e);
  }

  // After the driver was destroyed: what never completed is counted, not traced.
  void closed() {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < ops_.size(); ++i)
      writer_->count_dropped_operation();
    ops_.clear();
    for (auto& [stream, track] : streams_)
      track->pending.clear();
    for (auto& track : retired_streams_)
      track->pending.clear();
    writer_->flush();
  }

private:
  // With device timestamps: a timing event recorded on the new, idle stream and waited for.
  // Its device time lies between the record and the end of the wait; the end is taken, so
  // that an operation is never placed before the call that enqueued it (late by at most
  // that window instead). The record is made twice: the first wakes the stream (a driver
  // may start its thread then), the second, on a warm and idle stream, gives a short window.
  void anchor(StreamTrack& track) {
    DeviceTrack& device = *track.device;
    if (!device.timing)
      return;
    udal_event_t e = take_event(device);
    if (e == nullptr)
      return;
    uint64_t after = 0;
    for (int round = 0; round < 2; ++round) {
      if (next().stream_record_event(track.stream, e) != UDAL_SUCCESS ||
          next().stream_synchronize(track.stream, kTeardownWaitNs) != UDAL_SUCCESS) {
        (void)next().event_destroy(e);
        return;
      }
      after = TraceWriter::now_ns();
    }
    track.anchor = e;
    track.anchor_ns = after;
  }

  udal_event_t take_event(DeviceTrack& device) {
    {
      std::lock_guard lock(mutex_);
      if (!device.timing || closing_)
        return nullptr;
      if (!device.free_events.empty()) {
        udal_event_t e = device.free_events.back();
        device.free_events.pop_back();
        return e;
      }
    }
    udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
    desc.flags = UDAL_EVENT_FLAG_TIMING;
    udal_event_t e = nullptr;
    if (next().event_create(device.device, &desc, &e) != UDAL_SUCCESS) {
      std::lock_guard lock(mutex_);
      device.timing = false; // the layer falls back to host times for this device
      return nullptr;
    }
    return e;
  }

  void give_back(DeviceTrack& device, udal_event_t e) {
    std::lock_guard lock(mutex_);
    give_back_locked(device, e);
  }
  void give_back_locked(DeviceTrack& device, udal_event_t e) {
    if (e == nullptr || closing_)
      return; // while closing, what is still in use is destroyed with the driver
    device.free_events.push_back(e);
  }

  // The host time of a timing event of |track|'s stream that has completed.
  bool device_time(StreamTrack& track, udal_event_t e, uint64_t& out_ns) {
    uint64_t since = 0;
    if (next().event_elapsed_ns(track.anchor, e, &since) != UDAL_SUCCESS)
      return false;
    out_ns = track.anchor_ns + since;
    return true;
  }

  // Writes |track|'s operations that have completed, in order, up to the first that has not.
  void drain_locked(StreamTrack& track) {
    while (!track.pending.empty()) {
      Op* op = track.pending.front();
      uint64_t start = 0, end = 0;
      int64_t device_ns = -1;
      if (op->done) {
        start = op->done_start_ns;
        end = op->done_end_ns;
      } else if (op->end_event != nullptr && track.anchor != nullptr && !closing_) {
        if (next().event_query(op->end_event) != UDAL_SUCCESS)
          return;
        uint64_t observed = TraceWriter::now_ns();
        if (!device_time(track, op->end_event, end))
          end = observed;
        bool timed = op->start_event != nullptr && device_time(track, op->start_event, start);
        if (timed)
          device_ns = static_cast<int64_t>(end >= start ? end - start : 0);
        else
          start = 0;
        // The operation ended before the host saw it complete, and before a host function
        // after it began: where the anchor put it later, the anchor was late (it can only be
        // late, see anchor()), and moves back by as much for the stream's later operations.
        uint64_t bound = observed;
        if (track.pending.size() > 1 && track.pending[1]->done && track.pending[1]->done_start_ns != 0)
          bound = std::min(bound, track.pending[1]->done_start_ns);
        if (end > bound) {
          uint64_t shift = std::min(end - bound, track.anchor_ns);
          track.anchor_ns -= shift;
          end -= shift;
          if (timed)
            start -= std::min(shift, start);
        }
      } else {
        return; // its host function has not run yet
      }
      track.pending.pop_front();
      write_locked(op, start, end, device_ns);
    }
  }

  // |op| ran until |end|, from |start| (0 when not known: then from when its stream was
  // free for it).
  void write_locked(Op* op, uint64_t start, uint64_t end, int64_t device_ns) {
    StreamTrack& track = *op->track;
    int pid = track.device->pid;
    // Not before its enqueue nor the stream's previous operation. An operation whose start
    // is known keeps its length and moves later (an anchor corrected after the previous
    // operation was written placed it too early); one whose start is not known begins
    // when the stream was free for it.
    uint64_t earliest = std::max(op->enqueue_ns, track.last_end_ns);
    if (start != 0 && start < earliest) {
      end += earliest - start;
      start = earliest;
    }
    start = std::max(start, earliest);
    end = std::max(end, start);
    track.last_end_ns = end;
    uint64_t middle = start + (end - start) / 2;

    Line line;
    auto o = line.it();
    fmt::format_to(o,
                   FMT_COMPILE(R"({{"ph":"X","cat":"device","name":"{}","pid":{},"tid":{},"ts":{},"dur":{},"args":{{)"),
                   op->name, pid, track.tid, writer_->ts(start), Micros{end - start});
    if (!op->args.empty()) {
      line += op->args;
      line += ',';
    }
    const char* clock = op->kind == OpKind::host_function ? "host function"
                        : track.anchor != nullptr && op->end_event != nullptr
                            ? "device timestamps"
                            : "host completion";
    if (device_ns >= 0)
      fmt::format_to(o, FMT_COMPILE(R"("device_ns":{},)"), device_ns);
    fmt::format_to(o, FMT_COMPILE(R"("clock":"{}"}}}})"), clock);
    writer_->emit(line.view());
    flow("enqueue", writer_->pid(), op->enqueue_tid, op->enqueue_ns, pid, track.tid, middle);

    if (op->kind == OpKind::record && op->record) {
      RecordInfo& r = *op->record;
      r.done = true;
      r.pid = pid;
      r.tid = track.tid;
      r.ts_ns = middle;
      for (const RecordInfo::Waiter& w : r.waiters)
        flow("record to wait", r.pid, r.tid, r.ts_ns, w.pid, w.tid, w.ts_ns);
      r.waiters.clear();
    } else if (op->kind == OpKind::wait && op->record) {
      add_waiter_locked(*op->record, pid, track.tid, middle);
    }
    give_back_locked(*track.device, op->start_event);
    give_back_locked(*track.device, op->end_event);
    ops_.erase(op);
  }

  void add_waiter_locked(RecordInfo& record, int pid, uint64_t tid, uint64_t ts_ns) {
    if (record.done)
      flow("record to wait", record.pid, record.tid, record.ts_ns, pid, tid, ts_ns);
    else if (record.waiters.size() < 64)
      record.waiters.push_back({pid, tid, ts_ns});
  }

  // An arrow from the slice at (from_pid, from_tid, from_ns) to the one at (to_…).
  void flow(const char* name, int from_pid, uint64_t from_tid, uint64_t from_ns, int to_pid,
            uint64_t to_tid, uint64_t to_ns) {
    uint64_t id = writer_->next_flow_id();
    Line line;
    fmt::format_to(line.it(),
                   FMT_COMPILE(R"({{"ph":"s","id":{},"cat":"flow","name":"{}","pid":{},"tid":{},"ts":{}}})"),
                   id, name, from_pid, from_tid, writer_->ts(from_ns));
    writer_->emit(line.view());
    line.clear();
    fmt::format_to(line.it(),
                   FMT_COMPILE(R"({{"ph":"f","bp":"e","id":{},"cat":"flow","name":"{}","pid":{},"tid":{},"ts":{}}})"),
                   id, name, to_pid, to_tid, writer_->ts(to_ns));
    writer_->emit(line.view());
  }

  Stack& stack_;
  std::shared_ptr<TraceWriter> writer_;
  std::mutex mutex_;
  bool closing_ = false;
  std::unordered_map<const void*, std::unique_ptr<DeviceTrack>> devices_;
  std::unordered_map<const void*, std::unique_ptr<StreamTrack>> streams_;
  std::vector<std::unique_ptr<StreamTrack>> retired_streams_;
  std::unordered_map<const void*, std::shared_ptr<RecordInfo>> events_;
  std::unordered_map<const void*, std::string> kernels_;
  std::unordered_map<const Op*, std::unique_ptr<Op>> ops_;
};

namespace {

/* ==========================================================================================
 * The calls part: generated from UDAL_DRIVER_ENTRIES
 * ======================================================================================= */

constexpr bool blocks(Entry e) {
  return e == Entry::stream_synchronize || e == Entry::event_wait || e == Entry::stream_destroy;
}

template <Entry E, auto Member, typename... Args, size_t... I>
udal_result_t traced_call(std::index_sequence<I...>, Args... args) noexcept {
  Stack& stack = stack_of(first_of(args...));
  TraceState& t = stack.trace->state();
  uint64_t start = TraceWriter::now_ns();
  udal_result_t r = (stack.trace_calls_next.*Member)(args...);
  r = pass_result<Member>(stack, stack.trace_calls_next, r);
  uint64_t end = TraceWriter::now_ns();
  t.emit_call(E, start, end, r, [&](Line& out) {
    const std::vector<std::string>& names = parameter_names(E);
    auto one = [&](size_t i, auto value) {
      out += '"';
      out += names[i];
      out += "\":";
      append_value(out, value);
      out += ',';
    };
    (one(I, args), ...);
  });
  if constexpr (blocks(E)) {
    t.poll();
    t.writer().flush();
  }
  return r;
}

template <Entry E, auto Member, typename Pfn> struct Traced;
template <Entry E, auto Member, typename... Args> struct Traced<E, Member, udal_result_t (*)(Args...)> {
  static udal_result_t call(Args... args) noexcept {
    return traced_call<E, Member, Args...>(std::index_sequence_for<Args...>{}, args...);
  }
};

/* ==========================================================================================
 * The operations part
 * ======================================================================================= */

void op_done(void* user_data) noexcept {
  Op* op = static_cast<Op*>(user_data);
  op->trace->host_done(op, 0, TraceWriter::now_ns());
}

void host_function_trampoline(void* user_data) noexcept {
  Op* op = static_cast<Op*>(user_data);
  uint64_t start = TraceWriter::now_ns();
  op->user_fn(op->user_data);
  op->trace->host_done(op, start, TraceWriter::now_ns());
}

// Traces one operation: begin; on a stream with device timestamps, timing events around it
// (|timed|: before it too), else a host function after it that notes when it completed.
template <auto Member, typename Enqueue>
udal_result_t instrument(Stack& stack, udal_stream_t stream, OpKind kind, bool timed,
                         std::string name, std::string args, Enqueue&& enqueue,
                         std::shared_ptr<RecordInfo> record = nullptr) noexcept {
  TraceState& t = stack.trace->state();
  const udal_driver_table_t& next = t.next();
  Op* op = nullptr;
  try {
    op = t.begin(stream, kind, std::move(name), std::move(args));
  } catch (...) {
    op = nullptr;
  }
  if (op == nullptr)
    return pass_result<Member>(stack, next, enqueue());
  op->record = std::move(record);
  bool device_timed = t.device_timed(*op);
  if (device_timed && timed)
    t.record_timing(*op, stream, op->start_event);
  udal_result_t r = pass_result<Member>(stack, next, enqueue());
  if (r != UDAL_SUCCESS) {
    t.abandon(op);
    return r;
  }
  if (!(device_timed && t.record_timing(*op, stream, op->end_event))) {
    if (next.stream_enqueue_host_function == nullptr ||
        next.stream_enqueue_host_function(stream, op_done, op) != UDAL_SUCCESS) {
      t.writer().count_dropped_operation();
      t.abandon(op);
      return r;
    }
  }
  t.poll(stream); // what earlier work of the stream has completed meanwhile
  return r;
}

udal_result_t ops_stream_create(udal_device_t device, const udal_stream_desc_t* desc,
                                udal_stream_t* out) noexcept {
  Stack& stack = stack_of(device);
  udal_result_t r = stack.trace_ops_next.stream_create(device, desc, out);
  r = pass_result<&udal_driver_table_t::stream_create>(stack, stack.trace_ops_next, r);
  if (r == UDAL_SUCCESS) {
    try {
      stack.trace->state().add_stream(device, *out);
    } catch (...) {
      // Untraced stream.
    }
  }
  return r;
}

udal_result_t ops_stream_destroy(udal_stream_t stream) noexcept {
  Stack& stack = stack_of(stream);
  udal_result_t r = stack.trace_ops_next.stream_destroy(stream);
  r = pass_result<&udal_driver_table_t::stream_destroy>(stack, stack.trace_ops_next, r);
  if (r == UDAL_SUCCESS)
    stack.trace->state().remove_stream(stream);
  return r;
}

udal_result_t ops_kernel_create(udal_module_t module, const char* name, udal_kernel_t* out) noexcept {
  Stack& stack = stack_of(module);
  udal_result_t r = stack.trace_ops_next.kernel_create(module, name, out);
  r = pass_result<&udal_driver_table_t::kernel_create>(stack, stack.trace_ops_next, r);
  if (r == UDAL_SUCCESS) {
    try {
      stack.trace->state().set_kernel_name(*out, name);
    } catch (...) {
    }
  }
  return r;
}

udal_result_t ops_kernel_destroy(udal_kernel_t kernel) noexcept {
  Stack& stack = stack_of(kernel);
  udal_result_t r = stack.trace_ops_next.kernel_destroy(kernel);
  r = pass_result<&udal_driver_table_t::kernel_destroy>(stack, stack.trace_ops_next, r);
  if (r == UDAL_SUCCESS)
    stack.trace->state().remove_kernel(kernel);
  return r;
}

udal_result_t ops_event_destroy(udal_event_t event) noexcept {
  Stack& stack = stack_of(event);
  udal_result_t r = stack.trace_ops_next.event_destroy(event);
  r = pass_result<&udal_driver_table_t::event_destroy>(stack, stack.trace_ops_next, r);
  if (r == UDAL_SUCCESS)
    stack.trace->state().remove_event(event);
  return r;
}

udal_result_t ops_event_wait(udal_event_t event, uint64_t timeout_ns) noexcept {
  Stack& stack = stack_of(event);
  TraceState& t = stack.trace->state();
  udal_result_t r = stack.trace_ops_next.event_wait(event, timeout_ns);
  r = pass_result<&udal_driver_table_t::event_wait>(stack, stack.trace_ops_next, r);
  if (r == UDAL_SUCCESS) {
    try {
      if (std::shared_ptr<RecordInfo> record = t.latest_record(event))
        t.waited(*record, t.writer().pid(), t.writer().thread_id(), TraceWriter::now_ns());
    } catch (...) {
    }
  }
  return r;
}

udal_result_t ops_copy(udal_stream_t stream, udal_buffer_t src, uint64_t src_offset,
                       udal_buffer_t dst, uint64_t dst_offset, uint64_t size) noexcept {
  Stack& stack = stack_of(stream);
  return instrument<&udal_driver_table_t::stream_copy_buffer>(
      stack, stream, OpKind::transfer, true, "copy",
      fmt::format(R"("bytes":{},"src":"{}","src_offset":{},"dst":"{}","dst_offset":{})", size,
                  static_cast<const void*>(src), src_offset, static_cast<const void*>(dst),
                  dst_offset),
      [&] {
        return stack.trace_ops_next.stream_copy_buffer(stream, src, src_offset, dst, dst_offset,
                                                       size);
      });
}

udal_result_t ops_fill(udal_stream_t stream, udal_buffer_t dst, uint64_t offset, uint64_t size,
                       const void* pattern, uint32_t pattern_size) noexcept {
  Stack& stack = stack_of(stream);
  return instrument<&udal_driver_table_t::stream_fill_buffer>(
      stack, stream, OpKind::transfer, true, "fill",
      fmt::format(R"("bytes":{},"dst":"{}","offset":{},"pattern_size":{})", size,
                  static_cast<const void*>(dst), offset, pattern_size),
      [&] {
        return stack.trace_ops_next.stream_fill_buffer(stream, dst, offset, size, pattern,
                                                       pattern_size);
      });
}

udal_result_t ops_write(udal_stream_t stream, udal_buffer_t dst, uint64_t dst_offset,
                        const void* src, uint64_t size) noexcept {
  Stack& stack = stack_of(stream);
  return instrument<&udal_driver_table_t::stream_write_buffer>(
      stack, stream, OpKind::transfer, true, "host write",
      fmt::format(R"("bytes":{},"dst":"{}","dst_offset":{})", size, static_cast<const void*>(dst),
                  dst_offset),
      [&] { return stack.trace_ops_next.stream_write_buffer(stream, dst, dst_offset, src, size); });
}

udal_result_t ops_read(udal_stream_t stream, udal_buffer_t src, uint64_t src_offset, void* dst,
                       uint64_t size) noexcept {
  Stack& stack = stack_of(stream);
  return instrument<&udal_driver_table_t::stream_read_buffer>(
      stack, stream, OpKind::transfer, true, "host read",
      fmt::format(R"("bytes":{},"src":"{}","src_offset":{})", size, static_cast<const void*>(src),
                  src_offset),
      [&] { return stack.trace_ops_next.stream_read_buffer(stream, src, src_offset, dst, size); });
}

udal_result_t ops_launch(udal_stream_t stream, udal_kernel_t kernel,
                         const udal_launch_desc_t* desc) noexcept {
  Stack& stack = stack_of(stream);
  std::string name = "launch";
  std::string args;
  try {
    std::string kernel_name = stack.trace->state().kernel_name(kernel);
    std::string escaped;
    append_json_escaped(escaped, kernel_name);
    name = "launch " + escaped;
    Line shape;
    append_launch(shape, *desc, false);
    // The shape's members, inline: {"group_count":…} without its braces.
    std::string_view members = shape.view().substr(1, shape.view().size() - 2);
    args = std::string(members) + fmt::format(R"(,"arg_count":{})", desc->arg_count);
  } catch (...) {
  }
  return instrument<&udal_driver_table_t::stream_launch>(
      stack, stream, OpKind::launch, true, std::move(name), std::move(args),
      [&] { return stack.trace_ops_next.stream_launch(stream, kernel, desc); });
}

udal_result_t ops_record(udal_stream_t stream, udal_event_t event) noexcept {
  Stack& stack = stack_of(stream);
  TraceState& t = stack.trace->state();
  std::shared_ptr<RecordInfo> record;
  try {
    record = std::make_shared<RecordInfo>();
  } catch (...) {
  }
  udal_result_t r = instrument<&udal_driver_table_t::stream_record_event>(
      stack, stream, OpKind::record, false,
      fmt::format("record event {}", static_cast<const void*>(event)), "",
      [&] { return stack.trace_ops_next.stream_record_event(stream, event); }, record);
  if (r == UDAL_SUCCESS) {
    try {
      t.set_latest_record(event, std::move(record));
    } catch (...) {
    }
  }
  return r;
}

udal_result_t ops_wait(udal_stream_t stream, udal_event_t event) noexcept {
  Stack& stack = stack_of(stream);
  TraceState& t = stack.trace->state();
  std::shared_ptr<RecordInfo> record;
  try {
    record = t.latest_record(event);
  } catch (...) {
  }
  return instrument<&udal_driver_table_t::stream_wait_event>(
      stack, stream, OpKind::wait, false,
      fmt::format("wait event {}", static_cast<const void*>(event)),
      record ? "" : R"x("record":"none (never recorded, or host-signalled)")x",
      [&] { return stack.trace_ops_next.stream_wait_event(stream, event); }, record);
}

udal_result_t ops_host_function(udal_stream_t stream, udal_host_function_t fn,
                                void* user_data) noexcept {
  Stack& stack = stack_of(stream);
  TraceState& t = stack.trace->state();
  const udal_driver_table_t& next = t.next();
  Op* op = nullptr;
  try {
    op = t.begin(stream, OpKind::host_function, "host function",
                 fmt::format(R"("fn":"{}","user_data":"{}")", reinterpret_cast<const void*>(fn),
                             user_data));
  } catch (...) {
  }
  if (op == nullptr)
    return pass_result<&udal_driver_table_t::stream_enqueue_host_function>(
        stack, next, next.stream_enqueue_host_function(stream, fn, user_data));
  op->user_fn = fn;
  op->user_data = user_data;
  udal_result_t r = next.stream_enqueue_host_function(stream, host_function_trampoline, op);
  r = pass_result<&udal_driver_table_t::stream_enqueue_host_function>(stack, next, r);
  if (r != UDAL_SUCCESS)
    t.abandon(op);
  return r;
}

udal_result_t ops_driver_destroy(udal_driver_t driver) noexcept {
  Stack& stack = stack_of(driver);
  TraceState& t = stack.trace->state();
  try {
    t.close();
  } catch (...) {
  }
  udal_result_t r = stack.trace_ops_next.driver_destroy(driver);
  r = pass_result<&udal_driver_table_t::driver_destroy>(stack, stack.trace_ops_next, r);
  t.closed();
  return r;
}

} // namespace

Trace::Trace(Stack& stack, std::shared_ptr<TraceWriter> writer)
    : state_(std::make_unique<TraceState>(stack, std::move(writer))) {}

Trace::~Trace() {
  state_->writer().flush();
}

void Trace::fill_calls(udal_driver_table_t& t) {
#define UDAL_LAYERS_TRACED_ENTRY_(name, required, is_public, params, args)                         \
  UDAL_LAYERS_IF_PUBLIC_(is_public,                                                                \
                         if (t.name != nullptr) t.name =                                           \
                             &Traced<Entry::name, &udal_driver_table_t::name,                      \
                                     udal_pfn_##name>::call;)
  UDAL_DRIVER_ENTRIES(UDAL_LAYERS_TRACED_ENTRY_)
#undef UDAL_LAYERS_TRACED_ENTRY_
}

void Trace::fill_ops(udal_driver_table_t& t) {
  auto set = [](auto& entry, auto function) {
    if (entry != nullptr)
      entry = function;
  };
  set(t.stream_create, ops_stream_create);
  set(t.stream_destroy, ops_stream_destroy);
  set(t.kernel_create, ops_kernel_create);
  set(t.kernel_destroy, ops_kernel_destroy);
  set(t.event_destroy, ops_event_destroy);
  set(t.event_wait, ops_event_wait);
  set(t.stream_copy_buffer, ops_copy);
  set(t.stream_fill_buffer, ops_fill);
  set(t.stream_write_buffer, ops_write);
  set(t.stream_read_buffer, ops_read);
  set(t.stream_launch, ops_launch);
  set(t.stream_record_event, ops_record);
  set(t.stream_wait_event, ops_wait);
  set(t.stream_enqueue_host_function, ops_host_function);
  set(t.driver_destroy, ops_driver_destroy);
}

void Trace::add_devices(const std::vector<udal_device_t>& devices) {
  for (udal_device_t d : devices)
    state_->add_device(d);
}

} // namespace udal::hal::layers
