// device.h — a UDAL device: one OpenCL device, its own context, what it can do, and the
// bookkeeping every object of the device shares (live objects, memory usage, device
// addresses, memory whose release waits for work in flight).
#ifndef UDAL_OPENCL_DEVICE_H_
#define UDAL_OPENCL_DEVICE_H_

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "cache.h"
#include "cl.h"
#include "driver.h"

namespace udal::opencl {

struct Stream;
struct Event;
struct Buffer;
struct Module;
struct Kernel;

// How SPIRV_KERNEL images reach the device.
enum class SpirvPath {
  kNone,    // the device takes no SPIR-V (no IL, no cl_khr_spir or no translator)
  kIl,      // clCreateProgramWithIL (the device's CL_DEVICE_IL_VERSION has SPIR-V)
  kLibrary, // cl_khr_spir: translated to LLVM bitcode by the LLVM/SPIR-V translator library
  kTool,    // cl_khr_spir: translated by running the translator tool (llvm-spirv -r)
};

// What the driver learned of the device once, at load.
struct DeviceCaps {
  int version = 0; // the device's OpenCL version, major * 10 + minor (12, 20, 30, ...)
  bool profiling = false;
  bool svm_coarse = false; // coarse-grained SVM buffers (OpenCL 2.0+)
  bool svm_fine = false;   // fine-grained SVM buffers: host and device see one memory
  bool unified_memory = false;
  bool compiler = false;
  bool set_spec_constants = false; // clSetProgramSpecializationConstant (2.2+, IL path)
  SpirvPath spirv = SpirvPath::kNone;
  std::string llvm_spirv_tool; // the tool for SpirvPath::kTool
  cl_uint address_bits = 64;
  uint64_t base_alignment = 128;  // CL_DEVICE_MEM_BASE_ADDR_ALIGN in bytes
  uint64_t svm_max_alignment = 0; // largest alignment clSVMAlloc takes (0: unknown)
  uint64_t global_memory = 0;
  uint64_t host_visible_memory = 0;
  uint64_t local_memory = 0;
  uint64_t max_allocation = 0;
  uint64_t parameter_bytes = 0;
  // Identity of the compiler stack, part of every program cache key.
  CompilerIdentity identity;
};

// The live objects of one kind, so the driver can finish their work and free them when the
// instance is released with objects still alive.
template <typename T> class Registry {
public:
  void add(T* object) { // throws std::bad_alloc
    std::lock_guard lock(mutex_);
    objects_.insert(object);
  }
  void remove(T* object) noexcept {
    std::lock_guard lock(mutex_);
    objects_.erase(object);
  }
  std::vector<T*> snapshot() const { // throws std::bad_alloc
    std::lock_guard lock(mutex_);
    return std::vector<T*>(objects_.begin(), objects_.end());
  }
  // Calls |f| on each object with the registry locked: an object being destroyed meanwhile
  // (by another thread) stays alive until |f| returned, since removal waits for the lock.
  template <typename F> void for_each(F&& f) const {
    std::lock_guard lock(mutex_);
    for (T* object : objects_)
      f(object);
  }

private:
  mutable std::mutex mutex_;
  std::unordered_set<T*> objects_;
};

// Memory behind a buffer object that the OpenCL runtime does not own: an SVM allocation
// (clSVMFree) or host memory for CL_MEM_USE_HOST_PTR (free). Movable, freed with the owner.
class OwnedMemory {
public:
  OwnedMemory() noexcept = default;
  static OwnedMemory svm(cl_context context, void* pointer) noexcept {
    OwnedMemory m;
    m.context_ = context;
    m.pointer_ = pointer;
    return m;
  }
  static OwnedMemory host(void* pointer) noexcept {
    OwnedMemory m;
    m.pointer_ = pointer;
    return m;
  }
  OwnedMemory(OwnedMemory&& other) noexcept
      : context_(std::exchange(other.context_, nullptr)),
        pointer_(std::exchange(other.pointer_, nullptr)) {}
  OwnedMemory& operator=(OwnedMemory&& other) noexcept {
    if (this != &other) {
      reset();
      context_ = std::exchange(other.context_, nullptr);
      pointer_ = std::exchange(other.pointer_, nullptr);
    }
    return *this;
  }
  OwnedMemory(const OwnedMemory&) = delete;
  OwnedMemory& operator=(const OwnedMemory&) = delete;
  ~OwnedMemory() { reset(); }

  void reset() noexcept {
    if (pointer_ != nullptr) {
      if (context_ != nullptr) {
        clSVMFree(context_, pointer_);
      } else {
        std::free(pointer_);
      }
    }
    context_ = nullptr;
    pointer_ = nullptr;
  }
  void* get() const noexcept { return pointer_; }
  bool is_svm() const noexcept { return context_ != nullptr; }
  explicit operator bool() const noexcept { return pointer_ != nullptr; }

private:
  cl_context context_ = nullptr; // set for SVM
  void* pointer_ = nullptr;
};

// A destroyed buffer whose work may still run: its bytes stay counted (and its SVM or host
// memory, which the OpenCL runtime does not own, stays allocated) until the last command
// every stream had enqueued at the destroy has completed, i.e. all work that may use it.
struct DeferredFree {
  OwnedMemory memory;
  udal_buffer_kind_t kind = UDAL_BUFFER_KIND_DEVICE;
  uint64_t bytes = 0;
  std::vector<ClEvent> pending;
};

struct DeviceState {
  DriverState* driver = nullptr;
  cl_platform_id platform = nullptr;
  cl_device_id id = nullptr;
  ClContext context;
  ClQueue utility_queue; // map/unmap of buffers without fine-grained SVM
  DeviceCaps caps;
  udal_device_info_t info{};
  std::string cache_dir; // the program cache; "" when off

  // Bytes of buffers alive, by kind (device; host-visible).
  std::atomic<uint64_t> device_allocated{0};
  std::atomic<uint64_t> host_allocated{0};

  Registry<Stream> streams;
  Registry<Event> events;
  Registry<Buffer> buffers;
  Registry<Module> modules;
  Registry<Kernel> kernels;

  // SVM pointers of buffers with device addresses: a kernel may reach them through a value
  // argument, so every launch names them (CL_KERNEL_EXEC_INFO_SVM_PTRS).
  std::mutex address_mutex;
  std::vector<void*> address_pointers;
  std::atomic<size_t> address_count{0};

  std::mutex deferred_mutex;
  std::vector<DeferredFree> deferred;

  // Reserves |size| bytes of |kind| against the device's memory, or fails with
  // OUT_OF_DEVICE_MEMORY naming what is left.
  udal_result_t reserve_memory(udal_buffer_kind_t kind, uint64_t size) noexcept;
  void release_memory(udal_buffer_kind_t kind, uint64_t size) noexcept;

  // Releases the destroyed buffers whose work has completed; all of them when |wait|.
  void reap_deferred(bool wait) noexcept;

  void add_address(void* pointer); // throws std::bad_alloc
  void remove_address(void* pointer) noexcept;

  // The device's name for messages: "device 0x... (pthread-skylake...)".
  void log(udal_log_level_t level, std::string_view message) const noexcept {
    if (driver != nullptr)
      driver->log_message(level, message);
  }

  // Finishes all work and frees every object still alive (the instance is being released).
  void shut_down() noexcept;
  ~DeviceState();
};

// The object behind a udal_device_t. Owned by its Driver.
struct Device {
  const udal_driver_table_t* dispatch;
  std::unique_ptr<DeviceState> state;
};
UDAL_SDK_DISPATCHABLE(Device);

inline Device* to_device(udal_device_t handle) noexcept {
  return udal::sdk::from_handle<Device>(handle);
}

// What driver_create gives every device.
struct DeviceSettings {
  const udal_driver_table_t* dispatch = nullptr;
  DriverState* driver = nullptr;
  std::string cache_dir;
  std::string llvm_spirv_tool; // UDAL_OPENCL_LLVM_SPIRV, or the tool found on PATH
  bool have_translator_library = false;
};

// Makes the UDAL device of |device| on |platform|, or nullptr with |*why| when it cannot be
// one (OpenCL older than 1.2, not available, no context). |index_on_platform| makes the
// UUID of identical devices distinct. Throws std::bad_alloc.
std::unique_ptr<Device> make_device(const DeviceSettings& settings, cl_platform_id platform,
                                    cl_device_id device, uint32_t index_on_platform,
                                    std::string* why);

} // namespace udal::opencl

#endif // UDAL_OPENCL_DEVICE_H_
