// ze_driver.h — the UDAL driver over the Level Zero loader.
//
// One UDAL device per Level Zero device. A stream is an immediate command list with a
// barrier before each command (Level Zero orders commands only through barriers and events)
// and a worker thread that runs host functions and releases what finished work no longer
// needs. Level Zero events come from per-device pools as "slots" with a reference count:
// a slot returns to its pool only when no enqueued command can still signal or wait on it.
#ifndef UDAL_ZE_DRIVER_H_
#define UDAL_ZE_DRIVER_H_

#include <level_zero/ze_api.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "spirv.h"
#include "udal/sdk/sdk.h"
#include "udal/udal_level_zero.h"

namespace udal::level_zero {

UDAL_SDK_DECLARE_ENTRIES();

// "ZE_RESULT_ERROR_DEVICE_LOST (0x70000001)".
std::string ze_name(ze_result_t result);

// Fails with |code| and "<fn>: <call> failed with <result>".
udal_result_t fail_ze(const char* function, const char* call, ze_result_t result,
                      udal_result_t code = UDAL_ERROR_INTERNAL) noexcept;

// The UDAL code for a Level Zero failure (OUT_OF_*_MEMORY, DEVICE_LOST, else |otherwise|).
udal_result_t code_of(ze_result_t result, udal_result_t otherwise) noexcept;

template <typename T>
class Registry {
 public:
  void add(T* object) {
    std::lock_guard lock(mutex_);
    objects_.insert(object);
  }
  void remove(T* object) noexcept {
    std::lock_guard lock(mutex_);
    objects_.erase(object);
  }
  std::vector<T*> snapshot() const {
    std::lock_guard lock(mutex_);
    return std::vector<T*>(objects_.begin(), objects_.end());
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_set<T*> objects_;
};

struct DeviceState;

// ----- event slots ------------------------------------------------------------------------

// One Level Zero event of a device's pools (host-visible). TIMING slots also own an 8-byte
// cell of host memory the device writes its global timestamp into.
struct Slot {
  DeviceState* device = nullptr;
  ze_event_handle_t event = nullptr;
  uint64_t* stamp = nullptr;  // TIMING slots
  bool timing = false;
  ~Slot();  // resets the event and returns it to its pool
};
using SlotRef = std::shared_ptr<Slot>;

class SlotPool {
 public:
  explicit SlotPool(DeviceState* device) : device_(device) {}
  ~SlotPool();
  // A fresh, unsignalled slot. Throws std::bad_alloc; NULL with |*result| on a Level Zero
  // failure.
  SlotRef take(bool timing, ze_result_t* result);
  void give_back(Slot* slot) noexcept;  // from ~Slot

 private:
  struct Block {
    ze_event_pool_handle_t pool = nullptr;
    uint64_t* stamps = nullptr;  // host memory, one cell per event (timing blocks)
  };
  DeviceState* device_;
  std::mutex mutex_;
  std::vector<Block> blocks_;
  std::vector<std::pair<ze_event_handle_t, uint64_t*>> free_[2];  // [timing]
};

// ----- device -----------------------------------------------------------------------------

struct Stream;
struct Event;
struct Buffer;
struct Module;
struct Kernel;

// Memory a buffer got from zeMemAlloc*; freed (and uncounted) when the last reference goes:
// the buffer's own and those of enqueued work that uses it.
struct Allocation {
  DeviceState* device = nullptr;
  void* pointer = nullptr;
  uint64_t size = 0;
  udal_buffer_kind_t kind = UDAL_BUFFER_KIND_DEVICE;
  ~Allocation();
};

struct DeviceState {
  udal_log_fn log = nullptr;
  void* log_user_data = nullptr;
  ze_driver_handle_t driver = nullptr;
  ze_device_handle_t device = nullptr;
  ze_context_handle_t context = nullptr;  // shared by the devices of one Level Zero driver
  bool owns_context = false;
  udal_device_info_t info{};
  size_t fill_pattern_max = 16;  // maxMemoryFillPatternSize of queue group 0
  uint32_t compute_ordinal = 0;  // the queue group with COMPUTE
  double ns_per_tick = 1.0;      // global timestamps
  uint64_t timestamp_mask = ~uint64_t{0};
  std::unique_ptr<SlotPool> slots;

  std::atomic<uint64_t> device_allocated{0};
  std::atomic<uint64_t> host_allocated{0};

  Registry<Stream> streams;
  Registry<Event> events;
  Registry<Buffer> buffers;
  Registry<Module> modules;
  Registry<Kernel> kernels;

  void log_message(udal_log_level_t level, const std::string& message) const noexcept;
  void shut_down() noexcept;  // finishes all work and frees every object still alive
  ~DeviceState();
};

struct Device {
  const udal_driver_table_t* dispatch;
  std::unique_ptr<DeviceState> state;
};
UDAL_SDK_DISPATCHABLE(Device);

struct Driver {
  const udal_driver_table_t* dispatch;
  std::vector<std::unique_ptr<Device>> devices;
  std::vector<ze_context_handle_t> contexts;
};
UDAL_SDK_DISPATCHABLE(Driver);

inline Device* to_device(udal_device_t h) noexcept { return udal::sdk::from_handle<Device>(h); }

// ----- buffers ----------------------------------------------------------------------------

struct Buffer {
  const udal_driver_table_t* dispatch;
  Device* device;
  std::shared_ptr<Allocation> memory;
  uint64_t size;
  uint64_t alignment;
  udal_buffer_flags_t flags;
  udal_buffer_kind_t kind;
  std::atomic<bool> mapped;
  char* base() const noexcept { return static_cast<char*>(memory->pointer); }
};
UDAL_SDK_DISPATCHABLE(Buffer);
inline Buffer* to_buffer(udal_buffer_t h) noexcept { return udal::sdk::from_handle<Buffer>(h); }
void destroy_buffer(Buffer* buffer) noexcept;

// ----- streams ----------------------------------------------------------------------------

struct Stream {
  const udal_driver_table_t* dispatch;
  Device* device;
  ze_command_list_handle_t list = nullptr;
  std::mutex mutex;  // appends (a command list is not thread-safe)
  // What enqueued work still uses: released once a later checkpoint of the stream has
  // completed. Guarded by |mutex|.
  std::vector<std::shared_ptr<void>> pending;
  uint32_t since_checkpoint = 0;
  uint64_t submitted = 0;  // enqueues so far
  uint64_t completed = 0;  // enqueues a synchronize saw complete

  // The worker: waits for each task's marker, runs its action, signals its gate.
  struct Task {
    SlotRef marker;
    std::function<void()> action;
    SlotRef gate;
    std::vector<std::shared_ptr<void>> release;
  };
  std::mutex task_mutex;
  std::condition_variable task_cv;
  std::deque<Task> tasks;
  uint64_t tasks_pushed = 0;  // guarded by task_mutex
  uint64_t tasks_done = 0;    // guarded by task_mutex; task_cv announces progress
  bool stopping = false;
  std::thread worker;

  // Appends a barrier (every command waits for the ones before it). Caller holds |mutex|.
  ze_result_t barrier() noexcept;
  // Hands |pending| to the worker behind a marker the stream signals now. Caller holds |mutex|.
  udal_result_t checkpoint(const char* function, std::function<void()> action = nullptr,
                           SlotRef gate = nullptr);
  // Called after each enqueue (caller holds |mutex|): a checkpoint every so often, so what
  // finished work used is released even on a stream that is never synchronized.
  void after_enqueue(const char* function) noexcept;
  udal_result_t synchronize(uint64_t timeout_ns, const char* function);
  void run_worker() noexcept;
};
UDAL_SDK_DISPATCHABLE(Stream);
inline Stream* to_stream(udal_stream_t h) noexcept { return udal::sdk::from_handle<Stream>(h); }
void destroy_stream(Stream* stream) noexcept;

// ----- events -----------------------------------------------------------------------------

struct Event {
  const udal_driver_table_t* dispatch;
  Device* device;
  udal_event_flags_t flags;
  std::mutex mutex;
  SlotRef current;  // the latest record (HOST_SIGNAL: the event's own slot)
  bool signalled = false;
  bool host_signal() const noexcept { return (flags & UDAL_EVENT_FLAG_HOST_SIGNAL) != 0; }
  SlotRef latest() {
    std::lock_guard lock(mutex);
    return current;
  }
};
UDAL_SDK_DISPATCHABLE(Event);
inline Event* to_event(udal_event_t h) noexcept { return udal::sdk::from_handle<Event>(h); }
void destroy_event(Event* event) noexcept;

// ----- modules and kernels ----------------------------------------------------------------

struct ModuleCore {  // shared by a module and the kernels made from it
  DeviceState* device = nullptr;
  ze_module_handle_t module = nullptr;
  bool reflected = false;  // SPIRV_KERNEL: the SPIR-V describes every kernel
  udal::ze::spirv::Info info;
  ~ModuleCore();
};

struct Module {
  const udal_driver_table_t* dispatch;
  Device* device;
  std::shared_ptr<ModuleCore> core;
  udal_module_format_t format;
  uint32_t image_index;
};
UDAL_SDK_DISPATCHABLE(Module);
inline Module* to_module(udal_module_t h) noexcept { return udal::sdk::from_handle<Module>(h); }
void destroy_module(Module* module) noexcept;

struct KernelArg {
  udal_arg_kind_t kind = UDAL_ARG_KIND_UNKNOWN;
  uint32_t value_size = 0;
  udal_arg_access_t access = UDAL_ARG_ACCESS_NONE;
};

struct Kernel {
  const udal_driver_table_t* dispatch;
  Device* device;
  std::shared_ptr<ModuleCore> core;
  std::string name;
  bool described = false;          // |args| is exact (SPIR-V)
  bool uses_local_memory = false;  // a trailing local pointer parameter
  uint32_t parameter_count = 0;    // the kernel's own parameters (the local one included)
  std::vector<KernelArg> args;     // without the trailing local pointer
  uint32_t required_group_size[3] = {0, 0, 0};
  uint32_t max_group_invocations = 0;
  std::mutex pool_mutex;
  std::vector<ze_kernel_handle_t> pool;  // kernel objects no launch is setting up now
  ze_kernel_handle_t take(ze_result_t* result);
  void give_back(ze_kernel_handle_t kernel) noexcept;
  ~Kernel();
};
UDAL_SDK_DISPATCHABLE(Kernel);
inline Kernel* to_kernel(udal_kernel_t h) noexcept { return udal::sdk::from_handle<Kernel>(h); }
void destroy_kernel(Kernel* kernel) noexcept;

}  // namespace udal::level_zero

#endif  // UDAL_ZE_DRIVER_H_
