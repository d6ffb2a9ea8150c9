// The validation layer. Its entries are generated from UDAL_DRIVER_ENTRIES: validated<E>
// turns every argument into an Arg<T> (a handle is checked to be a live validation object
// of the right kind and unwrapped; an output handle gets a slot for the driver's; a launch
// descriptor is copied with its buffers unwrapped), runs before(Tag<E>) (the checks of that
// entry, below, where it has any), calls the layer below, wraps the outputs and runs
// after(Tag<E>) (bookkeeping). Entries without hooks only check and unwrap their handles.
//
// Findings come in four severities (docs/layers.md):
//   undefined  misuse the ABI leaves undefined (use after destroy, double destroy, a handle
//              of the wrong kind, use after release, a READ argument written while in
//              flight): the call is refused, logged at error level
//   defined    misuse the ABI gives an error code for (a range past a buffer's end, a
//              mapped buffer destroyed): the call is refused with that code, logged at
//              warning level, because programs probe these on purpose
//   note       allowed but probably not meant (leaks, a host-signalled event destroyed
//              while streams wait on it): the call goes on, logged at warning level
//   debug      allowed and usually meant (a buffer destroyed with work pending)
#include "validation.h"

#include "backtrace.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <new>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace udal::hal::layers {
namespace {

constexpr uint64_t kObjectMagic = 0x4a424f4c41445541ull; // "AUDALOBJ"
// Destroyed objects kept per instance, so that a later use of the handle finds a
// destroyed object rather than freed memory (or a new object at the same address).
constexpr size_t kQuarantine = 16384;
// Objects of released instances kept per process, for the same reason.
constexpr size_t kGraveyard = 65536;
// The most bytes of a mapping validation copies to tell whether the host wrote them.
constexpr uint64_t kSnapshotLimit = 64ull << 20;

enum class Kind : uint8_t { device, buffer, event, module, kernel, stream };
enum class Life : uint32_t { live, destroyed, released };
enum class Severity { undefined, defined, note, debug };

const char* noun(Kind kind) {
  switch (kind) {
  case Kind::device:
    return "device";
  case Kind::buffer:
    return "buffer";
  case Kind::event:
    return "event";
  case Kind::module:
    return "module";
  case Kind::kernel:
    return "kernel";
  case Kind::stream:
    return "stream";
  }
  return "object";
}

template <typename H> struct HandleKind {
  static constexpr bool is_handle = false;
};
#define UDAL_LAYERS_HANDLE_KIND_(type, k)                                                          \
  template <> struct HandleKind<type> {                                                            \
    static constexpr bool is_handle = true;                                                        \
    static constexpr Kind kind = Kind::k;                                                          \
  };
UDAL_LAYERS_HANDLE_KIND_(udal_device_t, device)
UDAL_LAYERS_HANDLE_KIND_(udal_buffer_t, buffer)
UDAL_LAYERS_HANDLE_KIND_(udal_event_t, event)
UDAL_LAYERS_HANDLE_KIND_(udal_module_t, module)
UDAL_LAYERS_HANDLE_KIND_(udal_kernel_t, kernel)
UDAL_LAYERS_HANDLE_KIND_(udal_stream_t, stream)
#undef UDAL_LAYERS_HANDLE_KIND_

bool is_destroy(Entry e) {
  return e == Entry::buffer_destroy || e == Entry::event_destroy || e == Entry::module_destroy ||
         e == Entry::kernel_destroy || e == Entry::stream_destroy;
}

/* ==========================================================================================
 * Ordering: what is known to have completed
 * =========================================================================================
 * Every enqueue on a stream gets the next sequence number of that stream. A Clock says, per
 * stream (by serial), up to which sequence number its work is known to have completed
 * before whatever holds the clock runs: the host's clock grows with synchronize and event
 * waits, a stream's with stream_wait_event. An operation of stream T at sequence n is
 * ordered before an operation of stream S when S's clock or the host's has T ≥ n. */
using Clock = std::vector<std::pair<uint64_t, uint64_t>>;

uint64_t clock_get(const Clock& clock, uint64_t stream) {
  for (const auto& [s, seq] : clock) {
    if (s == stream)
      return seq;
  }
  return 0;
}

void clock_raise(Clock& clock, uint64_t stream, uint64_t seq) {
  for (auto& [s, known] : clock) {
    if (s == stream) {
      known = std::max(known, seq);
      return;
    }
  }
  clock.emplace_back(stream, seq);
}

void clock_merge(Clock& into, const Clock& from) {
  for (const auto& [s, seq] : from)
    clock_raise(into, s, seq);
}

void clock_erase(Clock& clock, uint64_t stream) {
  std::erase_if(clock, [stream](const auto& entry) { return entry.first == stream; });
}

// One record of an event: the stream, its sequence number, and everything known complete
// once the record has completed (the record's own stream up to it included).
struct RecordPoint {
  uint64_t stream = 0;
  uint64_t seq = 0;
  Clock clock;
};

// How one stream uses one buffer.
struct BufferUse {
  uint64_t stream = 0;
  uint64_t last_seq = 0;    // the latest operation of the stream that uses the buffer
  uint64_t read_seq = 0;    // the latest launch that takes it as UDAL_ARG_ACCESS_READ
  uint64_t read_offset = 0; // the lowest offset of the READ arguments still pending
  std::string read_kernel;  // the kernel of that launch and the argument, for messages
  uint32_t read_argument = 0;
};

// The bytes of a mapping that pending READ launches may read, as they were at map time.
struct Snapshot {
  uint64_t offset = 0;
  std::vector<unsigned char> bytes;
  std::vector<std::pair<uint64_t, uint64_t>> reads; // (stream, read_seq) pending at map time
};

class State;

// What the application holds instead of the driver's handle.
struct Object {
  // What libudal's dispatch reads: the layered table while the instance lives, the table of
  // released instances afterwards.
  const udal_driver_table_t* table = nullptr;
  uint64_t magic = kObjectMagic;
  Kind kind = Kind::device;
  std::atomic<Life> life{Life::live};
  void* handle = nullptr; // the driver's
  uint64_t serial = 0;    // "#12": the 12th object of its instance
  State* owner = nullptr; // nullptr once released
  Frames created;
  Frames destroyed;
  std::string label;       // a kernel's name; the driver's name once released
  Logger released_logger{std::nullopt}; // the instance's logging, kept past its release

  // Buffers.
  uint64_t size = 0;
  bool mapped = false;
  uint64_t map_offset = 0;
  uint64_t map_size = 0;
  const unsigned char* map_pointer = nullptr;
  Frames mapped_at;
  std::vector<BufferUse> uses;
  std::optional<Snapshot> snapshot;

  // Events.
  udal_event_flags_t event_flags = 0;
  bool signalled = false;
  std::vector<uint64_t> gated; // streams waiting on this unsignalled HOST_SIGNAL event
  std::shared_ptr<const RecordPoint> record;

  // Streams.
  uint64_t seq = 0;
  Clock knows;
  uint32_t gates = 0; // unsignalled HOST_SIGNAL events it waits on: its later work is held
};

// "a buffer", "an event".
std::string a_noun(Kind kind) {
  return fmt::format("{} {}", kind == Kind::event ? "an" : "a", noun(kind));
}

Object* as_object(const void* handle) {
  return static_cast<Object*>(const_cast<void*>(handle));
}

template <typename H> H as_handle(Object* object) {
  return reinterpret_cast<H>(object);
}

const void* shown(const Object* o) {
  return static_cast<const void*>(o);
}

/* ==========================================================================================
 * Objects of released instances
 * ======================================================================================= */

struct Graveyard {
  std::mutex mutex;
  std::deque<std::unique_ptr<Object>> objects;
};

Graveyard& graveyard() {
  static Graveyard g;
  return g;
}

template <Entry E, typename Pfn> struct Released;
template <Entry E, typename... Args> struct Released<E, udal_result_t (*)(Args...)> {
  static udal_result_t call(Args... args) noexcept {
    const Object* o = as_object(first_of(args...));
    const char* fn = entry_info(E).function;
    try {
      std::string message =
          fmt::format("{}: {} {} (#{}) belongs to an instance that was released "
                      "(udal_instance_release ends every object of its drivers): use after "
                      "release. It was created by {}",
                      fn, noun(o->kind), shown(o), o->serial, caller_text(o->created));
      o->released_logger.log(UDAL_LOG_LEVEL_ERROR, "validation: {}", message);
      set_layer_message(message);
    } catch (...) {
      set_layer_message("use of an object of a released instance");
    }
    return UDAL_ERROR_INVALID_HANDLE;
  }
};

// The table of released instances: a TableSlot like any driver's, so libudal's messages
// can name its "driver".
struct ReleasedTable {
  Driver driver;
  TableSlot slot{};

  ReleasedTable() {
    driver.name = "(released instance)";
    std::memset(&slot.table, 0, sizeof(slot.table));
    slot.table.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
    slot.table.struct_size = sizeof(slot.table);
    slot.table.last_error_message = layer_message;
    slot.owner = &driver;
#define UDAL_LAYERS_RELEASED_ENTRY_(name, required, is_public, params, args)                       \
  UDAL_LAYERS_IF_PUBLIC_(is_public, slot.table.name =                                              \
                                        &Released<Entry::name, udal_pfn_##name>::call;)
    UDAL_DRIVER_ENTRIES(UDAL_LAYERS_RELEASED_ENTRY_)
#undef UDAL_LAYERS_RELEASED_ENTRY_
  }
};

const udal_driver_table_t* released_table() {
  static ReleasedTable table;
  return &table.slot.table;
}

/* ==========================================================================================
 * The state of one driver of one instance
 * ======================================================================================= */

struct Call;

class State {
public:
  State(Stack& stack, bool backtraces) : stack_(stack), backtraces_(backtraces) {}
  ~State() { release_all(); }

  Stack& stack() { return stack_; }
  const udal_driver_table_t& next() const { return stack_.validation_next; }
  bool backtraces() const { return backtraces_; }
  std::mutex& mutex() { return mutex_; }

  udal_result_t report(Severity severity, udal_result_t result, const std::string& message) {
    static constexpr udal_log_level_t kLevels[] = {UDAL_LOG_LEVEL_ERROR, UDAL_LOG_LEVEL_WARNING,
                                                   UDAL_LOG_LEVEL_WARNING, UDAL_LOG_LEVEL_DEBUG};
    stack_.logger().log(kLevels[static_cast<int>(severity)], "validation: {}", message);
    if (result != UDAL_SUCCESS)
      set_layer_message(message);
    return result;
  }

  // A new object for the driver's |handle|, registered as live; nullptr when out of memory.
  Object* adopt(Kind kind, void* handle) noexcept {
    try {
      auto object = std::make_unique<Object>();
      object->table = &stack_.driver->slot->table;
      object->kind = kind;
      object->handle = handle;
      object->owner = this;
      object->created = capture_frames(backtraces_);
      std::lock_guard lock(mutex_);
      object->serial = next_serial_++;
      Object* raw = object.get();
      live_.emplace(raw, std::move(object));
      if (kind == Kind::device)
        devices_.emplace(handle, raw);
      if (kind == Kind::stream)
        streams_.emplace(raw->serial, raw);
      return raw;
    } catch (...) {
      return nullptr;
    }
  }

  // |object| was destroyed: it stays, destroyed, in the quarantine. Under the mutex.
  void retire(Object* object, Frames where) {
    object->destroyed = where;
    object->life.store(Life::destroyed, std::memory_order_release);
    object->uses.clear();
    object->uses.shrink_to_fit();
    object->snapshot.reset();
    object->record.reset();
    object->knows.clear();
    if (object->kind == Kind::stream)
      streams_.erase(object->serial);
    auto it = live_.find(object);
    if (it == live_.end())
      return;
    quarantine_.push_back(std::move(it->second));
    live_.erase(it);
    if (quarantine_.size() > kQuarantine)
      quarantine_.pop_front();
  }

  Object* check_handle(Call& call, const void* handle, Kind want, uint32_t index,
                       int64_t element = -1);

  Object* stream(uint64_t serial) {
    auto it = streams_.find(serial);
    return it == streams_.end() ? nullptr : it->second;
  }

  Object* device_wrapper(const void* driver_device) {
    auto it = devices_.find(driver_device);
    return it == devices_.end() ? nullptr : it->second;
  }

  Clock& host_knows() { return host_knows_; }

  // Whether the host knows that |stream|'s work up to |seq| has completed.
  bool host_knows_done(uint64_t stream, uint64_t seq) const {
    return clock_get(host_knows_, stream) >= seq;
  }

  // A stream was destroyed: its work has completed, and it orders nothing any more.
  void forget_stream(uint64_t serial) {
    clock_erase(host_knows_, serial);
    for (auto& [raw, object] : live_) {
      if (object->kind == Kind::buffer)
        std::erase_if(object->uses, [serial](const BufferUse& u) { return u.stream == serial; });
      else if (object->kind == Kind::stream)
        clock_erase(object->knows, serial);
    }
  }

  // The HOST_SIGNAL |event| was signalled or destroyed: the streams waiting on it go on,
  // after everything the host knew then.
  void ungate(Object& event) {
    for (uint64_t serial : event.gated) {
      if (Object* s = stream(serial)) {
        if (s->gates > 0)
          --s->gates;
        clock_merge(s->knows, host_knows_);
      }
    }
    event.gated.clear();
  }

  void report_leaks();

  // The instance's drivers are being destroyed: every object moves to the graveyard,
  // where its table answers every call with a finding.
  void release_all() noexcept;

private:
  Stack& stack_;
  bool backtraces_;
  std::mutex mutex_;
  uint64_t next_serial_ = 1;
  std::unordered_map<const Object*, std::unique_ptr<Object>> live_;
  std::deque<std::unique_ptr<Object>> quarantine_;
  std::unordered_map<const void*, Object*> devices_; // driver device → its object
  std::unordered_map<uint64_t, Object*> streams_;    // serial → live stream
  Clock host_knows_;
  bool released_ = false;
};

struct Call {
  Call(State& state, Entry e) : v(state), entry(e) {}

  State& v;
  Entry entry;
  udal_result_t result = UDAL_SUCCESS;
  // A finding made before the driver's call that must not stop it (buffer_unmap).
  udal_result_t deferred_result = UDAL_SUCCESS;
  std::string deferred_message;
  uint64_t seq = 0; // stream_synchronize: the stream's last operation when the call began

  const char* fn() const { return entry_info(entry).function; }
  bool ok() const { return result == UDAL_SUCCESS; }
  udal_result_t fail(Severity severity, udal_result_t code, const std::string& message) {
    result = v.report(severity, code, message);
    return result;
  }
};

} // namespace

class ValidationState : public State {
public:
  using State::State;
};

namespace {

std::string created_text(const State& v, const Object& o) {
  const char* create = o.kind == Kind::device ? "the instance" : nullptr;
  std::string text =
      create ? std::string(create)
             : fmt::format("udal_{}_create at {}", noun(o.kind), caller_text(o.created));
  if (v.backtraces() && !o.created.empty())
    text += "\n" + stack_text(o.created, "    ");
  return text;
}

std::string destroyed_text(const State& v, const Object& o) {
  std::string text = fmt::format("udal_{}_destroy at {}", noun(o.kind), caller_text(o.destroyed));
  if (v.backtraces() && !o.destroyed.empty())
    text += "\n" + stack_text(o.destroyed, "    ");
  return text;
}

Object* State::check_handle(Call& call, const void* handle, Kind want, uint32_t index,
                            int64_t element) {
  Object* o = as_object(handle);
  if (o->magic == kObjectMagic && o->kind == want && o->owner == this &&
      o->life.load(std::memory_order_acquire) == Life::live) [[likely]]
    return o;
  std::string name = element >= 0 ? fmt::format("desc->args[{}].buffer", element)
                                  : parameter_names(call.entry).at(index);
  if (o->magic != kObjectMagic) {
    call.fail(Severity::undefined, UDAL_ERROR_INVALID_HANDLE,
              fmt::format("{}: {} {} is not a udal_{}_t that libudal handed out (garbage, a "
                          "driver's own handle, or one destroyed long ago)",
                          call.fn(), name, handle, noun(want)));
    return nullptr;
  }
  if (o->kind != want) {
    call.fail(Severity::undefined, UDAL_ERROR_INVALID_HANDLE,
              fmt::format("{}: {} {} is a udal_{}_t (#{}), not a udal_{}_t", call.fn(), name,
                          handle, noun(o->kind), o->serial, noun(want)));
    return nullptr;
  }
  Life life = o->life.load(std::memory_order_acquire);
  std::lock_guard lock(mutex_);
  if (life == Life::destroyed) {
    bool again = is_destroy(call.entry) && index == 0 && element < 0;
    call.fail(Severity::undefined, UDAL_ERROR_INVALID_HANDLE,
              again ? fmt::format("{}: {} {} (#{}) was already destroyed: double destroy. "
                                  "Created by {}; destroyed by {}",
                                  call.fn(), noun(o->kind), handle, o->serial,
                                  created_text(*this, *o), destroyed_text(*this, *o))
                    : fmt::format("{}: {} {} is {} (#{}) that was destroyed: use after "
                                  "destroy. Created by {}; destroyed by {}",
                                  call.fn(), name, handle, a_noun(o->kind), o->serial,
                                  created_text(*this, *o), destroyed_text(*this, *o)));
    return nullptr;
  }
  if (life == Life::released) {
    call.fail(Severity::undefined, UDAL_ERROR_INVALID_HANDLE,
              fmt::format("{}: {} {} is {} (#{}) of an instance that was released: use after "
                          "release",
                          call.fn(), name, handle, a_noun(o->kind), o->serial));
    return nullptr;
  }
  call.fail(Severity::undefined, UDAL_ERROR_INVALID_HANDLE,
            fmt::format("{}: {} {} is {} (#{}) of another instance", call.fn(), name, handle,
                        a_noun(o->kind), o->serial));
  return nullptr;
}

void State::report_leaks() {
  std::lock_guard lock(mutex_);
  std::vector<const Object*> leaked;
  for (const auto& [raw, object] : live_) {
    if (object->kind != Kind::device)
      leaked.push_back(raw);
  }
  if (leaked.empty())
    return;
  std::sort(leaked.begin(), leaked.end(),
            [](const Object* a, const Object* b) { return a->serial < b->serial; });
  for (const Object* o : leaked) {
    std::string detail;
    switch (o->kind) {
    case Kind::buffer:
      detail = fmt::format(", {} bytes{}", o->size, o->mapped ? ", still mapped" : "");
      break;
    case Kind::kernel:
      detail = fmt::format(", '{}'", o->label);
      break;
    case Kind::event:
      if ((o->event_flags & UDAL_EVENT_FLAG_HOST_SIGNAL) && !o->signalled)
        detail = o->gated.empty() ? ", UDAL_EVENT_FLAG_HOST_SIGNAL, never signalled"
                                  : ", UDAL_EVENT_FLAG_HOST_SIGNAL, never signalled while "
                                    "streams wait on it";
      break;
    default:
      break;
    }
    report(Severity::note, UDAL_SUCCESS,
           fmt::format("leak: {} {} (#{}{}) was not destroyed before its instance was "
                       "released; created by {}",
                       noun(o->kind), shown(o), o->serial, detail, created_text(*this, *o)));
  }
  report(Severity::note, UDAL_SUCCESS,
         fmt::format("{} object(s) of driver '{}' leaked{}", leaked.size(), stack_.driver->name,
                     backtraces_ ? "" : " (UDAL_VALIDATION=backtrace shows the whole stack)"));
}

void State::release_all() noexcept {
  std::lock_guard lock(mutex_);
  if (released_)
    return;
  released_ = true;
  const udal_driver_table_t* dead = released_table();
  Logger logger = stack_.logger();
  std::vector<std::unique_ptr<Object>> all;
  try {
    all.reserve(live_.size() + quarantine_.size());
  } catch (...) {
    // Without room to move them, the objects are freed with the state; a later use of
    // their handles is then not caught.
    return;
  }
  for (auto& [raw, object] : live_)
    all.push_back(std::move(object));
  for (auto& object : quarantine_)
    all.push_back(std::move(object));
  live_.clear();
  quarantine_.clear();
  devices_.clear();
  streams_.clear();
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a->serial < b->serial; });
  Graveyard& g = graveyard();
  std::lock_guard grave(g.mutex);
  for (auto& object : all) {
    object->table = dead;
    object->owner = nullptr;
    object->released_logger = logger;
    object->uses.clear();
    object->snapshot.reset();
    object->record.reset();
    object->knows.clear();
    object->gated.clear();
    object->life.store(Life::released, std::memory_order_release);
    try {
      g.objects.push_back(std::move(object));
    } catch (...) {
      break;
    }
    if (g.objects.size() > kGraveyard)
      g.objects.pop_front();
  }
}

/* ==========================================================================================
 * Arguments
 * ======================================================================================= */

// Anything that is not a handle: passed as it is.
template <typename T, typename = void> struct Arg {
  T value;
  Arg(Call&, T v, uint32_t) : value(v) {}
  T down() const { return value; }
};

// A handle: a live object of the right kind, whose driver handle goes down.
template <typename H> struct Arg<H, std::enable_if_t<HandleKind<H>::is_handle>> {
  H value;
  Object* object = nullptr;
  Arg(Call& call, H h, uint32_t index) : value(h) {
    if (call.ok())
      object = call.v.check_handle(call, h, HandleKind<H>::kind, index);
  }
  H down() const { return object ? static_cast<H>(object->handle) : nullptr; }
};

// An output handle: the driver writes into |driver|; the application gets an object.
template <typename H> struct Arg<H*, std::enable_if_t<HandleKind<H>::is_handle>> {
  H* value;
  H driver = nullptr;
  Object* object = nullptr;
  Arg(Call&, H* p, uint32_t) : value(p) {}
  H* down() { return &driver; }
};

// A launch: a copy of the descriptor whose buffer arguments are the driver's.
template <> struct Arg<const udal_launch_desc_t*> {
  const udal_launch_desc_t* value;
  udal_launch_desc_t copy{};
  std::vector<udal_kernel_arg_t> args;
  std::vector<Object*> buffers;

  Arg(Call& call, const udal_launch_desc_t* desc, uint32_t) : value(desc) {
    if (!call.ok() || desc == nullptr)
      return;
    size_t bytes = std::min<size_t>(desc->struct_size, sizeof(copy));
    std::memcpy(&copy, desc, bytes);
    copy.struct_size = static_cast<uint32_t>(bytes);
    if (desc->arg_count == 0)
      return;
    args.assign(desc->args, desc->args + desc->arg_count);
    buffers.assign(desc->arg_count, nullptr);
    for (uint32_t i = 0; i < desc->arg_count; ++i) {
      if (args[i].kind != UDAL_ARG_KIND_BUFFER)
        continue;
      Object* o = call.v.check_handle(call, args[i].buffer, Kind::buffer, 0, i);
      if (o == nullptr)
        return;
      buffers[i] = o;
      args[i].buffer = static_cast<udal_buffer_t>(o->handle);
    }
  }
  const udal_launch_desc_t* down() {
    if (value == nullptr)
      return nullptr;
    if (!args.empty())
      copy.args = args.data();
    return &copy;
  }
};

template <typename A> void destroy_output(State&, A&) {}
template <typename H>
void destroy_output(State& v, Arg<H*, std::enable_if_t<HandleKind<H>::is_handle>>& out) {
  if (out.driver == nullptr)
    return;
  const udal_driver_table_t& next = v.next();
  if constexpr (HandleKind<H>::kind == Kind::buffer)
    (void)next.buffer_destroy(out.driver);
  else if constexpr (HandleKind<H>::kind == Kind::event)
    (void)next.event_destroy(out.driver);
  else if constexpr (HandleKind<H>::kind == Kind::module)
    (void)next.module_destroy(out.driver);
  else if constexpr (HandleKind<H>::kind == Kind::kernel)
    (void)next.kernel_destroy(out.driver);
  else if constexpr (HandleKind<H>::kind == Kind::stream)
    (void)next.stream_destroy(out.driver);
}

template <typename A> void adopt_output(Call&, A&) {}
template <typename H>
void adopt_output(Call& call, Arg<H*, std::enable_if_t<HandleKind<H>::is_handle>>& out) {
  out.object = call.v.adopt(HandleKind<H>::kind, out.driver);
  if (out.object == nullptr) {
    destroy_output(call.v, out);
    call.result = layer_fail(UDAL_ERROR_OUT_OF_HOST_MEMORY,
                             "{}: out of host memory in the validation layer", call.fn());
    return;
  }
  *out.value = as_handle<H>(out.object);
}

/* ==========================================================================================
 * The checks and bookkeeping of each entry
 * ======================================================================================= */

template <Entry E, typename... A> udal_result_t before(Tag<E>, Call&, A&...) {
  return UDAL_SUCCESS;
}
template <Entry E, typename... A> udal_result_t after(Tag<E>, Call&, udal_result_t r, A&...) {
  return r;
}

using BufferArg = Arg<udal_buffer_t>;
using StreamArg = Arg<udal_stream_t>;
using EventArg = Arg<udal_event_t>;
using U64 = Arg<uint64_t>;

// Bytes [offset, offset + size) of |buffer| for |what| ("source", "destination", ...).
udal_result_t check_range(Call& call, const Object& buffer, uint64_t offset, uint64_t size,
                          const char* what) {
  if (offset <= buffer.size && size <= buffer.size - offset)
    return UDAL_SUCCESS;
  return call.fail(Severity::defined, UDAL_ERROR_OUT_OF_RANGE,
                   fmt::format("{}: {} bytes at {} offset {} run past the end of buffer {} (#{}, "
                               "{} bytes)",
                               call.fn(), size, what, offset, shown(&buffer), buffer.serial,
                               buffer.size));
}

BufferUse& use_of(Object& buffer, uint64_t stream) {
  for (BufferUse& u : buffer.uses) {
    if (u.stream == stream)
      return u;
  }
  buffer.uses.push_back(BufferUse{});
  buffer.uses.back().stream = stream;
  return buffer.uses.back();
}

// Bytes [lo, hi) of |buffer| are about to be written by an operation on |stream|: refused
// when a launch on another stream that takes them as READ may still be running and nothing
// orders |stream| after it. Under the mutex.
udal_result_t check_write(Call& call, const Object& stream, const Object& buffer, uint64_t lo,
                          uint64_t hi, const char* what) {
  if (stream.gates > 0)
    return UDAL_SUCCESS; // its later work waits for a host signal: the order is not known yet
  State& v = call.v;
  for (const BufferUse& u : buffer.uses) {
    if (u.read_seq == 0 || u.stream == stream.serial)
      continue;
    uint64_t known = std::max(clock_get(stream.knows, u.stream), clock_get(v.host_knows(), u.stream));
    if (known >= u.read_seq || hi <= u.read_offset)
      continue;
    const Object* reader = v.stream(u.stream);
    return call.fail(
        Severity::undefined, UDAL_ERROR_INVALID_STATE,
        fmt::format("{}: {} writes bytes [{}, {}) of buffer {} (#{}) on stream {} (#{}) while "
                    "a launch of kernel '{}' on stream {} (#{}) that takes the buffer as "
                    "UDAL_ARG_ACCESS_READ (argument {}, from offset {}) may still be running, "
                    "and nothing orders this stream after it: synchronize that stream, or "
                    "record an event after the launch and wait on it first",
                    call.fn(), what, lo, hi, shown(&buffer), buffer.serial, shown(&stream),
                    stream.serial, u.read_kernel, static_cast<const void*>(reader), u.stream,
                    u.read_argument, u.read_offset));
  }
  return UDAL_SUCCESS;
}

// Work of |stream| at |seq| uses |buffer|. Under the mutex.
void note_use(State& v, Object& buffer, const Object& stream, uint64_t seq) {
  std::erase_if(buffer.uses, [&v](const BufferUse& u) { return v.host_knows_done(u.stream, u.last_seq); });
  use_of(buffer, stream.serial).last_seq = seq;
}

uint64_t next_seq(Object& stream) {
  return ++stream.seq;
}

// Buffers

udal_result_t after(Tag<Entry::buffer_create>, Call&, udal_result_t r, Arg<udal_device_t>&,
                    Arg<const udal_buffer_desc_t*>& desc, Arg<udal_buffer_t*>& out) {
  if (r == UDAL_SUCCESS)
    out.object->size = desc.value->size;
  return r;
}

udal_result_t before(Tag<Entry::buffer_destroy>, Call& c, BufferArg& buffer) {
  Object& b = *buffer.object;
  std::lock_guard lock(c.v.mutex());
  if (b.mapped)
    return c.fail(Severity::defined, UDAL_ERROR_INVALID_STATE,
                  fmt::format("{}: buffer {} (#{}) is still mapped (bytes [{}, {}), mapped at "
                              "{}); unmap it first",
                              c.fn(), shown(&b), b.serial, b.map_offset,
                              b.map_offset + b.map_size, caller_text(b.mapped_at)));
  for (const BufferUse& u : b.uses) {
    if (!c.v.host_knows_done(u.stream, u.last_seq)) {
      c.v.report(Severity::debug, UDAL_SUCCESS,
                 fmt::format("{}: buffer {} (#{}) is destroyed while work of stream #{} that "
                             "uses it may be pending (allowed: its memory lives until that work "
                             "completes)",
                             c.fn(), shown(&b), b.serial, u.stream));
      break;
    }
  }
  return UDAL_SUCCESS;
}

template <typename H> udal_result_t retire_on_success(Call& c, udal_result_t r, Arg<H>& arg) {
  if (r != UDAL_SUCCESS)
    return r;
  Frames where = capture_frames(c.v.backtraces());
  std::lock_guard lock(c.v.mutex());
  c.v.retire(arg.object, where);
  return r;
}

udal_result_t after(Tag<Entry::buffer_destroy>, Call& c, udal_result_t r, BufferArg& buffer) {
  return retire_on_success(c, r, buffer);
}

udal_result_t after(Tag<Entry::buffer_get_info>, Call& c, udal_result_t r, BufferArg&,
                    Arg<udal_buffer_info_t*>& out) {
  if (r != UDAL_SUCCESS)
    return r;
  std::lock_guard lock(c.v.mutex());
  if (Object* device = c.v.device_wrapper(out.value->device))
    out.value->device = as_handle<udal_device_t>(device);
  return r;
}

udal_result_t before(Tag<Entry::buffer_map>, Call& c, BufferArg& buffer, U64& offset, U64& size,
                     Arg<void**>&) {
  Object& b = *buffer.object;
  if (check_range(c, b, offset.value, size.value, "map") != UDAL_SUCCESS)
    return c.result;
  std::lock_guard lock(c.v.mutex());
  if (b.mapped)
    return c.fail(Severity::defined, UDAL_ERROR_INVALID_STATE,
                  fmt::format("{}: buffer {} (#{}) is already mapped (bytes [{}, {}), mapped at "
                              "{}); one mapping at a time",
                              c.fn(), shown(&b), b.serial, b.map_offset,
                              b.map_offset + b.map_size, caller_text(b.mapped_at)));
  return UDAL_SUCCESS;
}

udal_result_t after(Tag<Entry::buffer_map>, Call& c, udal_result_t r, BufferArg& buffer,
                    U64& offset, U64& size, Arg<void**>& out) {
  if (r != UDAL_SUCCESS)
    return r;
  Object& b = *buffer.object;
  Frames where = capture_frames(false);
  std::lock_guard lock(c.v.mutex());
  b.mapped = true;
  b.map_offset = offset.value;
  b.map_size = size.value;
  b.map_pointer = static_cast<const unsigned char*>(*out.value);
  b.mapped_at = where;
  // What pending READ launches read of the mapped range, to compare at unmap.
  uint64_t hi = offset.value + size.value;
  uint64_t lo = hi;
  Snapshot snapshot;
  for (const BufferUse& u : b.uses) {
    if (u.read_seq == 0 || c.v.host_knows_done(u.stream, u.read_seq) || u.read_offset >= hi)
      continue;
    lo = std::min(lo, std::max(offset.value, u.read_offset));
    snapshot.reads.emplace_back(u.stream, u.read_seq);
  }
  if (lo < hi && hi - lo <= kSnapshotLimit && b.map_pointer != nullptr) {
    snapshot.offset = lo;
    snapshot.bytes.assign(b.map_pointer + (lo - offset.value), b.map_pointer + (hi - offset.value));
    b.snapshot = std::move(snapshot);
  }
  return r;
}

udal_result_t before(Tag<Entry::buffer_unmap>, Call& c, BufferArg& buffer) {
  Object& b = *buffer.object;
  std::lock_guard lock(c.v.mutex());
  if (!b.mapped)
    return c.fail(Severity::defined, UDAL_ERROR_INVALID_STATE,
                  fmt::format("{}: buffer {} (#{}) is not mapped", c.fn(), shown(&b), b.serial));
  if (!b.snapshot)
    return UDAL_SUCCESS;
  // Only a launch that is still pending now certainly overlapped the host's writes.
  const Snapshot& s = *b.snapshot;
  const std::pair<uint64_t, uint64_t>* pending = nullptr;
  for (const auto& read : s.reads) {
    if (!c.v.host_knows_done(read.first, read.second)) {
      pending = &read;
      break;
    }
  }
  if (pending == nullptr)
    return UDAL_SUCCESS;
  const unsigned char* now = b.map_pointer + (s.offset - b.map_offset);
  auto diff = std::mismatch(s.bytes.begin(), s.bytes.end(), now);
  if (diff.first == s.bytes.end())
    return UDAL_SUCCESS;
  uint64_t at = s.offset + static_cast<uint64_t>(diff.first - s.bytes.begin());
  std::string kernel;
  for (const BufferUse& u : b.uses) {
    if (u.stream == pending->first)
      kernel = u.read_kernel;
  }
  c.deferred_result = UDAL_ERROR_INVALID_STATE;
  c.deferred_message = fmt::format(
      "{}: the host wrote byte {} of buffer {} (#{}) through its mapping (mapped at {}) while "
      "a launch of kernel '{}' on stream #{} that takes the buffer as UDAL_ARG_ACCESS_READ may "
      "still be running; the buffer is unmapped, but that launch may have read either value",
      c.fn(), at, shown(&b), b.serial, caller_text(b.mapped_at), kernel, pending->first);
  return UDAL_SUCCESS;
}

udal_result_t after(Tag<Entry::buffer_unmap>, Call& c, udal_result_t r, BufferArg& buffer) {
  if (r != UDAL_SUCCESS)
    return r;
  {
    std::lock_guard lock(c.v.mutex());
    buffer.object->mapped = false;
    buffer.object->map_pointer = nullptr;
    buffer.object->snapshot.reset();
  }
  if (c.deferred_result != UDAL_SUCCESS)
    return c.v.report(Severity::undefined, c.deferred_result, c.deferred_message);
  return r;
}

// Events

udal_result_t after(Tag<Entry::event_create>, Call&, udal_result_t r, Arg<udal_device_t>&,
                    Arg<const udal_event_desc_t*>& desc, Arg<udal_event_t*>& out) {
  if (r == UDAL_SUCCESS)
    out.object->event_flags = desc.value ? desc.value->flags : 0;
  return r;
}

udal_result_t before(Tag<Entry::event_destroy>, Call& c, EventArg& event) {
  Object& e = *event.object;
  std::lock_guard lock(c.v.mutex());
  if ((e.event_flags & UDAL_EVENT_FLAG_HOST_SIGNAL) && !e.signalled && !e.gated.empty())
    c.v.report(Severity::note, UDAL_SUCCESS,
               fmt::format("{}: event {} (#{}, UDAL_EVENT_FLAG_HOST_SIGNAL) is destroyed without "
                           "having been signalled while {} stream(s) wait on it: they go on as if "
                           "it had been signalled (udal.h), without whatever the signal stood for",
                           c.fn(), shown(&e), e.serial, e.gated.size()));
  return UDAL_SUCCESS;
}

udal_result_t after(Tag<Entry::event_destroy>, Call& c, udal_result_t r, EventArg& event) {
  if (r != UDAL_SUCCESS)
    return r;
  {
    std::lock_guard lock(c.v.mutex());
    c.v.ungate(*event.object);
  }
  return retire_on_success(c, r, event);
}

// The host saw |event|'s latest record complete.
udal_result_t host_learns(Call& c, udal_result_t r, EventArg& event) {
  if (r != UDAL_SUCCESS)
    return r;
  std::lock_guard lock(c.v.mutex());
  if (event.object->record)
    clock_merge(c.v.host_knows(), event.object->record->clock);
  return r;
}

udal_result_t after(Tag<Entry::event_query>, Call& c, udal_result_t r, EventArg& event) {
  return host_learns(c, r, event);
}

udal_result_t after(Tag<Entry::event_wait>, Call& c, udal_result_t r, EventArg& event, U64&) {
  return host_learns(c, r, event);
}

udal_result_t after(Tag<Entry::event_signal>, Call& c, udal_result_t r, EventArg& event) {
  if (r != UDAL_SUCCESS)
    return r;
  std::lock_guard lock(c.v.mutex());
  event.object->signalled = true;
  c.v.ungate(*event.object);
  return r;
}

// Modules and kernels

udal_result_t after(Tag<Entry::module_destroy>, Call& c, udal_result_t r, Arg<udal_module_t>& m) {
  return retire_on_success(c, r, m);
}

udal_result_t after(Tag<Entry::kernel_create>, Call& c, udal_result_t r, Arg<udal_module_t>&,
                    Arg<const char*>& name, Arg<udal_kernel_t*>& out) {
  if (r != UDAL_SUCCESS)
    return r;
  std::lock_guard lock(c.v.mutex());
  out.object->label = name.value;
  return r;
}

udal_result_t after(Tag<Entry::kernel_destroy>, Call& c, udal_result_t r, Arg<udal_kernel_t>& k) {
  return retire_on_success(c, r, k);
}

// Streams

udal_result_t after(Tag<Entry::stream_destroy>, Call& c, udal_result_t r, StreamArg& stream) {
  if (r != UDAL_SUCCESS)
    return r;
  {
    std::lock_guard lock(c.v.mutex());
    c.v.forget_stream(stream.object->serial);
  }
  return retire_on_success(c, r, stream);
}

udal_result_t before(Tag<Entry::stream_copy_buffer>, Call& c, StreamArg& stream, BufferArg& src,
                     U64& src_offset, BufferArg& dst, U64& dst_offset, U64& size) {
  if (check_range(c, *src.object, src_offset.value, size.value, "source") != UDAL_SUCCESS ||
      check_range(c, *dst.object, dst_offset.value, size.value, "destination") != UDAL_SUCCESS)
    return c.result;
  std::lock_guard lock(c.v.mutex());
  return check_write(c, *stream.object, *dst.object, dst_offset.value,
                     dst_offset.value + size.value, "the copy");
}

udal_result_t after(Tag<Entry::stream_copy_buffer>, Call& c, udal_result_t r, StreamArg& stream,
                    BufferArg& src, U64&, BufferArg& dst, U64&, U64&) {
  if (r != UDAL_SUCCESS)
    return r;
  std::lock_guard lock(c.v.mutex());
  uint64_t seq = next_seq(*stream.object);
  note_use(c.v, *src.object, *stream.object, seq);
  note_use(c.v, *dst.object, *stream.object, seq);
  return r;
}

udal_result_t before(Tag<Entry::stream_fill_buffer>, Call& c, StreamArg& stream, BufferArg& dst,
                     U64& offset, U64& size, Arg<const void*>&, Arg<uint32_t>&) {
  if (check_range(c, *dst.object, offset.value, size.value, "fill") != UDAL_SUCCESS)
    return c.result;
  std::lock_guard lock(c.v.mutex());
  return check_write(c, *stream.object, *dst.object, offset.value, offset.value + size.value,
                     "the fill");
}

udal_result_t after(Tag<Entry::stream_fill_buffer>, Call& c, udal_result_t r, StreamArg& stream,
                    BufferArg& dst, U64&, U64&, Arg<const void*>&, Arg<uint32_t>&) {
  if (r != UDAL_SUCCESS)
    return r;
  std::lock_guard lock(c.v.mutex());
  note_use(c.v, *dst.object, *stream.object, next_seq(*stream.object));
  return r;
}

udal_result_t before(Tag<Entry::stream_write_buffer>, Call& c, StreamArg& stream, BufferArg& dst,
                     U64& offset, Arg<const void*>&, U64& size) {
  if (check_range(c, *dst.object, offset.value, size.value, "destination") != UDAL_SUCCESS)
    return c.result;
  std::lock_guard lock(c.v.mutex());
  return check_write(c, *stream.object, *dst.object, offset.value, offset.value + size.value,
                     "the host write");
}

udal_result_t after(Tag<Entry::stream_write_buffer>, Call& c, udal_result_t r, StreamArg& stream,
                    BufferArg& dst, U64&, Arg<const void*>&, U64&) {
  if (r != UDAL_SUCCESS)
    return r;
  std::lock_guard lock(c.v.mutex());
  note_use(c.v, *dst.object, *stream.object, next_seq(*stream.object));
  return r;
}

udal_result_t before(Tag<Entry::stream_read_buffer>, Call& c, StreamArg&, BufferArg& src,
                     U64& offset, Arg<void*>&, U64& size) {
  return check_range(c, *src.object, offset.value, size.value, "source");
}

udal_result_t after(Tag<Entry::stream_read_buffer>, Call& c, udal_result_t r, StreamArg& stream,
                    BufferArg& src, U64&, Arg<void*>&, U64&) {
  if (r != UDAL_SUCCESS)
    return r;
  std::lock_guard lock(c.v.mutex());
  note_use(c.v, *src.object, *stream.object, next_seq(*stream.object));
  return r;
}

using LaunchArg = Arg<const udal_launch_desc_t*>;

udal_result_t before(Tag<Entry::stream_launch>, Call& c, StreamArg& stream, Arg<udal_kernel_t>&,
                     LaunchArg& desc) {
  const udal_launch_desc_t& d = *desc.value;
  for (uint32_t i = 0; i < d.arg_count; ++i) {
    const Object* b = desc.buffers[i];
    if (b == nullptr)
      continue;
    if (d.args[i].offset >= b->size)
      return c.fail(Severity::defined, UDAL_ERROR_OUT_OF_RANGE,
                    fmt::format("{}: desc->args[{}].offset {} is past the end of buffer {} (#{}, "
                                "{} bytes)",
                                c.fn(), i, d.args[i].offset, shown(b), b->serial, b->size));
  }
  std::lock_guard lock(c.v.mutex());
  for (uint32_t i = 0; i < d.arg_count; ++i) {
    const Object* b = desc.buffers[i];
    if (b == nullptr || !(d.args[i].access & UDAL_ARG_ACCESS_WRITE))
      continue;
    std::string what = fmt::format("argument {} ({})", i,
                                   d.args[i].access == UDAL_ARG_ACCESS_WRITE
                                       ? "UDAL_ARG_ACCESS_WRITE"
                                       : "UDAL_ARG_ACCESS_READ_WRITE");
    if (check_write(c, *stream.object, *b, d.args[i].offset, b->size, what.c_str()) !=
        UDAL_SUCCESS)
      return c.result;
  }
  return UDAL_SUCCESS;
}

udal_result_t after(Tag<Entry::stream_launch>, Call& c, udal_result_t r, StreamArg& stream,
                    Arg<udal_kernel_t>& kernel, LaunchArg& desc) {
  if (r != UDAL_SUCCESS)
    return r;
  const udal_launch_desc_t& d = *desc.value;
  std::lock_guard lock(c.v.mutex());
  uint64_t seq = next_seq(*stream.object);
  for (uint32_t i = 0; i < d.arg_count; ++i) {
    Object* b = desc.buffers[i];
    if (b == nullptr)
      continue;
    note_use(c.v, *b, *stream.object, seq);
    if (d.args[i].access != UDAL_ARG_ACCESS_READ)
      continue;
    BufferUse& u = use_of(*b, stream.object->serial);
    bool still_pending = u.read_seq != 0 && !c.v.host_knows_done(u.stream, u.read_seq);
    u.read_offset = still_pending ? std::min(u.read_offset, d.args[i].offset) : d.args[i].offset;
    u.read_seq = seq;
    u.read_kernel = kernel.object->label;
    u.read_argument = i;
  }
  return r;
}

udal_result_t after(Tag<Entry::stream_record_event>, Call& c, udal_result_t r, StreamArg& stream,
                    EventArg& event) {
  if (r != UDAL_SUCCESS)
    return r;
  std::lock_guard lock(c.v.mutex());
  Object& s = *stream.object;
  auto point = std::make_shared<RecordPoint>();
  point->stream = s.serial;
  point->seq = next_seq(s);
  point->clock = s.knows;
  clock_merge(point->clock, c.v.host_knows());
  clock_raise(point->clock, s.serial, point->seq);
  event.object->record = std::move(point);
  return r;
}

udal_result_t after(Tag<Entry::stream_wait_event>, Call& c, udal_result_t r, StreamArg& stream,
                    EventArg& event) {
  if (r != UDAL_SUCCESS)
    return r;
  std::lock_guard lock(c.v.mutex());
  Object& s = *stream.object;
  Object& e = *event.object;
  next_seq(s);
  if (e.record)
    clock_merge(s.knows, e.record->clock);
  if ((e.event_flags & UDAL_EVENT_FLAG_HOST_SIGNAL) && !e.signalled) {
    ++s.gates;
    e.gated.push_back(s.serial);
  }
  return r;
}

udal_result_t before(Tag<Entry::stream_synchronize>, Call& c, StreamArg& stream, U64&) {
  std::lock_guard lock(c.v.mutex());
  c.seq = stream.object->seq;
  return UDAL_SUCCESS;
}

udal_result_t after(Tag<Entry::stream_synchronize>, Call& c, udal_result_t r, StreamArg& stream,
                    U64&) {
  if (r != UDAL_SUCCESS)
    return r;
  std::lock_guard lock(c.v.mutex());
  clock_raise(c.v.host_knows(), stream.object->serial, c.seq);
  clock_merge(c.v.host_knows(), stream.object->knows);
  return r;
}

udal_result_t after(Tag<Entry::stream_enqueue_host_function>, Call& c, udal_result_t r,
                    StreamArg& stream, Arg<udal_host_function_t>&, Arg<void*>&) {
  if (r != UDAL_SUCCESS)
    return r;
  std::lock_guard lock(c.v.mutex());
  next_seq(*stream.object);
  return r;
}

/* ==========================================================================================
 * The generated entries
 * ======================================================================================= */

template <Entry E, auto Member, typename... Args, size_t... I>
udal_result_t validated(std::index_sequence<I...>, Args... args) noexcept {
  State& v = stack_of(first_of(args...)).validation->state();
  Call c{v, E};
  try {
    std::tuple<Arg<Args>...> a{Arg<Args>(c, args, static_cast<uint32_t>(I))...};
    if (!c.ok())
      return c.result;
    if (before(Tag<E>{}, c, std::get<I>(a)...) != UDAL_SUCCESS)
      return c.result;
    const udal_driver_table_t& next = v.next();
    udal_result_t r = (next.*Member)(std::get<I>(a).down()...);
    r = pass_result<Member>(v.stack(), next, r);
    if (r == UDAL_SUCCESS) {
      (adopt_output(c, std::get<I>(a)), ...);
      if (!c.ok())
        return c.result;
    }
    return after(Tag<E>{}, c, r, std::get<I>(a)...);
  } catch (const std::bad_alloc&) {
    return layer_fail(UDAL_ERROR_OUT_OF_HOST_MEMORY, "{}: out of host memory in the validation layer",
                      c.fn());
  } catch (const std::exception& e) {
    return layer_fail(UDAL_ERROR_INTERNAL, "{}: the validation layer failed: {}", c.fn(), e.what());
  }
}

template <Entry E, auto Member, typename Pfn> struct Validated;
template <Entry E, auto Member, typename... Args>
struct Validated<E, Member, udal_result_t (*)(Args...)> {
  static udal_result_t call(Args... args) noexcept {
    return validated<E, Member, Args...>(std::index_sequence_for<Args...>{}, args...);
  }
};

udal_result_t validation_driver_destroy(udal_driver_t driver) noexcept {
  Stack& stack = stack_of(driver);
  State& v = stack.validation->state();
  try {
    v.report_leaks();
  } catch (...) {
    // The report is advice; the driver is destroyed regardless.
  }
  udal_result_t r = stack.validation_next.driver_destroy(driver);
  r = pass_result<&udal_driver_table_t::driver_destroy>(stack, stack.validation_next, r);
  v.release_all();
  return r;
}

} // namespace

Validation::Validation(Stack& stack, bool backtraces)
    : state_(std::make_unique<ValidationState>(stack, backtraces)) {}

Validation::~Validation() = default;

void Validation::fill(udal_driver_table_t& t) {
#define UDAL_LAYERS_VALIDATED_ENTRY_(name, required, is_public, params, args)                      \
  UDAL_LAYERS_IF_PUBLIC_(is_public,                                                                \
                         if (t.name != nullptr) t.name =                                           \
                             &Validated<Entry::name, &udal_driver_table_t::name,                   \
                                        udal_pfn_##name>::call;)
  UDAL_DRIVER_ENTRIES(UDAL_LAYERS_VALIDATED_ENTRY_)
#undef UDAL_LAYERS_VALIDATED_ENTRY_
  if (t.driver_destroy != nullptr)
    t.driver_destroy = validation_driver_destroy;
}

udal_device_t Validation::wrap_device(udal_device_t device) {
  Object* object = state_->adopt(Kind::device, device);
  if (object == nullptr)
    throw std::bad_alloc();
  return as_handle<udal_device_t>(object);
}

} // namespace udal::hal::layers
