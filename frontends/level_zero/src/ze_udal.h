// ze_udal.h — libze_udal: a Level Zero implementation on libudal.
//
// The loader (libze_loader.so.1) loads this library through ZE_ENABLE_ALT_DRIVERS and asks
// it for its DDI tables (tables.cpp). Every Level Zero object is a plain C++ object behind
// the handle, tagged with a magic number so a handle of the wrong kind is refused instead
// of misread. Work runs on UDAL streams: a command queue and an immediate command list each
// own one; Level Zero events, fences and kernel timestamps are kept on the host and driven
// by host functions enqueued in stream order (events.cpp).
#ifndef UDAL_ZE_UDAL_H_
#define UDAL_ZE_UDAL_H_

#include <level_zero/ze_api.h>
#include <level_zero/ze_ddi.h>

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "spirv.h"
#include "udal/udal.h"

namespace udal::ze {

// ==========================================================================================
// Results and messages
// ==========================================================================================

// Whether UDAL_ZE_LOG is set: every failure is then written to stderr with its reason.
bool log_enabled() noexcept;
void log_message(const std::string& text) noexcept;

// Returns |code| after logging the formatted reason (when UDAL_ZE_LOG is set). Never throws.
template <typename... Args>
ze_result_t fail(ze_result_t code, fmt::format_string<Args...> format, Args&&... args) noexcept {
  if (log_enabled()) {
    try {
      log_message(fmt::format("{} ({:#x})", fmt::format(format, std::forward<Args>(args)...),
                              static_cast<uint32_t>(code)));
    } catch (...) {
    }
  }
  return code;
}

// The Level Zero result for a UDAL error, logging udal_last_error_message().
ze_result_t from_udal(udal_result_t result, const char* function) noexcept;

// Runs |body| and turns every exception into a result: no exception crosses the C ABI.
template <typename Body>
ze_result_t guard(const char* function, Body&& body) noexcept {
  try {
    return std::forward<Body>(body)();
  } catch (const std::bad_alloc&) {
    return fail(ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY, "{}: out of host memory", function);
  } catch (const std::exception& e) {
    return fail(ZE_RESULT_ERROR_UNKNOWN, "{}: internal error: {}", function, e.what());
  } catch (...) {
    return fail(ZE_RESULT_ERROR_UNKNOWN, "{}: internal error", function);
  }
}

// ==========================================================================================
// Objects
// ==========================================================================================

// Every object begins with its kind's magic number; destroy clears it.
struct Object {
  uint64_t magic;
};

template <typename T, typename Handle>
T* from_handle(Handle handle) noexcept {
  auto* object = reinterpret_cast<T*>(handle);
  if (object == nullptr || object->magic != T::kMagic) return nullptr;
  return object;
}

template <typename Handle, typename T>
Handle to_handle(T* object) noexcept {
  return reinterpret_cast<Handle>(object);
}

// Checks a handle: NULL ⇒ INVALID_NULL_HANDLE; of another kind or destroyed ⇒
// INVALID_ARGUMENT. Usage: ZE_OBJECT(Kernel, kernel, hKernel);
#define ZE_OBJECT(Type, name, handle, function)                                               \
  if ((handle) == nullptr) {                                                                   \
    return ::udal::ze::fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "{}: " #handle " is NULL",   \
                            function);                                                         \
  }                                                                                            \
  Type* name = ::udal::ze::from_handle<Type>(handle);                                          \
  if (name == nullptr) {                                                                       \
    return ::udal::ze::fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,                                  \
                            "{}: " #handle " {} is not a live " #Type " handle", function,     \
                            static_cast<const void*>(handle));                                 \
  }

#define ZE_NOT_NULL(pointer, function)                                                         \
  if ((pointer) == nullptr) {                                                                  \
    return ::udal::ze::fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "{}: " #pointer " is NULL", \
                            function);                                                         \
  }

struct Driver;
struct Device;
struct Context;
struct Event;
struct Lane;

struct Device : Object {
  static constexpr uint64_t kMagic = 0x5a45444556494345ull;  // "ZEDEVICE"
  Driver* driver = nullptr;
  uint32_t index = 0;
  udal_device_t udal = nullptr;
  udal_device_info_t info{};
  uint8_t uuid[16] = {};    // the Level Zero device's own (see driver.cpp)
  bool timestamps = false;  // UDAL_DEVICE_FEATURE_TIMESTAMPS
  bool addresses = false;   // UDAL_DEVICE_FEATURE_DEVICE_ADDRESS
  ze_device_type_t type = ZE_DEVICE_TYPE_GPU;
  // Device time: TIMING events measured from |epoch|, recorded once at initialization.
  std::mutex clock_mutex;
  udal_stream_t clock_stream = nullptr;
  udal_event_t epoch = nullptr;
  uint64_t epoch_host_ns = 0;  // host CLOCK_MONOTONIC when the epoch completed (approx.)

  // Nanoseconds from the epoch to the completed TIMING event |event| (host time when the
  // device has no timestamps).
  uint64_t device_ns(udal_event_t event) noexcept;
  // Device time now (a record on the clock stream), or host time since the epoch.
  uint64_t now_ns() noexcept;
};

struct Driver : Object {
  static constexpr uint64_t kMagic = 0x5a45445249564552ull;  // "ZEDRIVER"
  std::mutex init_mutex;
  bool initialized = false;
  ze_result_t init_result = ZE_RESULT_ERROR_UNINITIALIZED;
  udal_instance_t instance = nullptr;
  std::vector<std::unique_ptr<Device>> devices;

  // Allocations of every context, by base address.
  std::shared_mutex allocations_mutex;
  std::map<uintptr_t, std::shared_ptr<struct Allocation>> allocations;
  std::atomic<uint64_t> next_allocation_id{1};
};

Driver& driver() noexcept;
uint64_t host_ns() noexcept;

struct Context : Object {
  static constexpr uint64_t kMagic = 0x5a45434f4e544558ull;  // "ZECONTEX"
  Driver* driver = nullptr;
  std::vector<Device*> devices;
  bool has(const Device* device) const noexcept;
};

struct Allocation {
  uintptr_t base = 0;  // the pointer the application sees
  uint64_t size = 0;
  ze_memory_type_t type = ZE_MEMORY_TYPE_UNKNOWN;
  Context* context = nullptr;
  Device* device = nullptr;  // the UDAL device holding the buffer (host memory: the first)
  Device* owner = nullptr;   // what zeMemGetAllocProperties reports (NULL for host memory)
  udal_buffer_t buffer = nullptr;
  void* host = nullptr;         // host mapping (HOST / SHARED), else NULL
  void* reservation = nullptr;  // address range reserved when the device has no addresses
  uint64_t reserved_bytes = 0;
  uint64_t id = 0;
};

// Where a pointer points: into an allocation (buffer + offset), or plain host memory.
struct Resolved {
  std::shared_ptr<Allocation> allocation;  // null: host memory
  uint64_t offset = 0;
  const void* pointer = nullptr;
};
Resolved resolve(const void* pointer) noexcept;

// A UDAL stream with the bookkeeping of Level Zero waits enqueued on it.
struct Waiter {
  udal_event_t signal = nullptr;  // HOST_SIGNAL event the stream waits on
  Event* event = nullptr;         // the Level Zero event it waits for
  Lane* lane = nullptr;
  bool fired = false;
};

struct Lane {
  Device* device = nullptr;
  udal_stream_t stream = nullptr;
  udal_stream_t helper = nullptr;  // indirect launches run here (deferred)

  ~Lane();
  // Enqueues a host function; |fn| runs once on a driver thread in stream order.
  ze_result_t host(std::function<void()> fn, const char* function);
  ze_result_t wait(Event* event, const char* function);
  ze_result_t signal(Event* event, udal_event_t start, const char* function);
  ze_result_t synchronize(uint64_t timeout_ns, const char* function);
  // Work decided when the stream gets there (indirect launches): |issue| runs in stream order
  // on a driver thread and enqueues onto the lane's helper stream; the lane's later work
  // waits until that has completed.
  ze_result_t deferred(std::function<void(udal_stream_t helper)> issue, const char* function);
};
ze_result_t make_lane(Device* device, std::unique_ptr<Lane>* out, const char* function);

// One mutex for every event's state and waiter list: short sections, never held across a
// call that blocks.
std::mutex& event_mutex() noexcept;

struct EventPool : Object {
  static constexpr uint64_t kMagic = 0x5a454556504f4f4cull;  // "ZEEVPOOL"
  Context* context = nullptr;
  ze_event_pool_flags_t flags = 0;
  uint32_t count = 0;
  std::vector<Event*> events;  // every live event of the pool (an index may be reused)
  bool timestamps() const noexcept { return (flags & ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP) != 0; }
};

struct Event : Object {
  static constexpr uint64_t kMagic = 0x5a454556454e5421ull;  // "ZEEVENT!"
  EventPool* pool = nullptr;
  uint32_t index = 0;
  // Guarded by event_mutex():
  bool signaled = false;
  std::vector<Waiter*> waiters;
  ze_kernel_timestamp_result_t timestamp{};
  bool has_timestamp = false;
  std::condition_variable changed;

  void host_signal() noexcept;
  void host_reset() noexcept;
  ze_result_t host_wait(uint64_t timeout_ns) noexcept;
};

struct Queue : Object {
  static constexpr uint64_t kMagic = 0x5a45515545554521ull;  // "ZEQUEUE!"
  Context* context = nullptr;
  Device* device = nullptr;
  ze_command_queue_desc_t desc{};
  std::unique_ptr<Lane> lane;
  std::mutex submit_mutex;
};

struct Fence : Object {
  static constexpr uint64_t kMagic = 0x5a4546454e434521ull;  // "ZEFENCE!"
  Queue* queue = nullptr;
  std::mutex mutex;
  std::condition_variable changed;
  bool signaled = false;
  uint64_t pending = 0;  // submissions not yet completed
};

struct Module;
struct Kernel;

// One recorded (or immediate) command: enqueues its work on a lane.
using Command = std::function<ze_result_t(Lane&)>;

struct CommandList : Object {
  static constexpr uint64_t kMagic = 0x5a45434d444c4953ull;  // "ZECMDLIS"
  Context* context = nullptr;
  Device* device = nullptr;
  uint32_t ordinal = 0;
  ze_command_list_flags_t flags = 0;
  bool immediate = false;
  ze_command_queue_mode_t mode = ZE_COMMAND_QUEUE_MODE_DEFAULT;
  std::unique_ptr<Lane> lane;  // immediate lists only
  std::mutex mutex;
  bool closed = false;
  std::vector<Command> commands;
};

struct BuildLog : Object {
  static constexpr uint64_t kMagic = 0x5a454255494c444cull;  // "ZEBUILDL"
  std::string text;
};

struct Module : Object {
  static constexpr uint64_t kMagic = 0x5a454d4f44554c45ull;  // "ZEMODULE"
  Context* context = nullptr;
  Device* device = nullptr;
  udal_module_t udal = nullptr;
  std::vector<uint32_t> spirv;
  std::string flags;  // the build flags as given (kept in the native binary)
  spirv::Info info;
  std::vector<const char*> kernel_names;
  std::string options;  // build options UDAL gets
  std::vector<udal_specialization_constant_t> constants;
  std::vector<std::vector<uint8_t>> constant_values;  // what |constants| point into
  // A second build where every global pointer argument is a buffer at offset 0 plus a byte
  // offset: for launches whose pointers are not at offsets the UDAL device takes as buffer
  // arguments. Made at the first such launch.
  std::mutex variant_mutex;
  udal_module_t variant = nullptr;
  spirv::Info variant_info;
  std::string variant_error;
  ~Module();
};

// A Level Zero argument as it was last set.
struct ArgValue {
  bool set = false;
  std::vector<uint8_t> bytes;     // VALUE
  udal_buffer_t buffer = nullptr; // BUFFER (NULL pointer: no buffer)
  uint64_t offset = 0;
  uint64_t local_bytes = 0;       // LOCAL
};

struct Kernel : Object {
  static constexpr uint64_t kMagic = 0x5a454b45524e454cull;  // "ZEKERNEL"
  Module* module = nullptr;
  Device* device = nullptr;
  std::string name;
  spirv::Kernel sig;
  udal_kernel_t udal = nullptr;
  udal_kernel_info_t udal_info{};
  std::vector<ArgValue> args;
  uint32_t group_size[3] = {1, 1, 1};
  bool group_size_set = false;
  ze_kernel_indirect_access_flags_t indirect = 0;
  udal_kernel_t variant = nullptr;  // the kernel of the module's variant, once needed
  spirv::Kernel variant_sig;
  ~Kernel();
};

// A launch as appended: the kernel's arguments and group size captured at that moment.
struct LaunchCapture {
  udal_kernel_t kernel = nullptr;
  Device* device = nullptr;
  std::string name;
  udal_launch_desc_t desc{};
  std::vector<udal_kernel_arg_t> args;
  std::vector<std::vector<uint8_t>> values;  // storage the VALUE args point into
};

// Captures |kernel|'s state for a launch of |groups| groups (module.cpp).
ze_result_t capture_launch(Kernel* kernel, const ze_group_count_t& groups,
                           std::shared_ptr<LaunchCapture>* out, const char* function);

// ==========================================================================================
// Entries (the implemented ones; tables.cpp puts them into the DDI tables)
// ==========================================================================================

void fill(ze_global_dditable_t* t) noexcept;
void fill(ze_driver_dditable_t* t) noexcept;
void fill(ze_device_dditable_t* t) noexcept;
void fill(ze_context_dditable_t* t) noexcept;
void fill(ze_command_queue_dditable_t* t) noexcept;
void fill(ze_command_list_dditable_t* t) noexcept;
void fill(ze_fence_dditable_t* t) noexcept;
void fill(ze_event_pool_dditable_t* t) noexcept;
void fill(ze_event_dditable_t* t) noexcept;
void fill(ze_module_dditable_t* t) noexcept;
void fill(ze_module_build_log_dditable_t* t) noexcept;
void fill(ze_kernel_dditable_t* t) noexcept;
void fill(ze_mem_dditable_t* t) noexcept;

}  // namespace udal::ze

#endif  // UDAL_ZE_UDAL_H_
