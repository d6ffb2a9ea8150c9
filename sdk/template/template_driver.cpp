// template_driver.cpp — a complete UDAL driver that certifies: one device that runs
// HOST_NATIVE kernels on the host, built on the SDK's blocks. Copy it, rename it, and
// replace the parts that touch memory and run work with your hardware's:
//
//   memory     Memory (allocate, free)         → your device allocator
//   transfers  the bodies submitted in stream_copy/fill/write/read → your DMA engine
//   kernels    load_host_module + HostLaunch   → your module format and launch queue
//
// The blocks keep what the suite checks: the executor (udal/sdk/executor.h) orders a
// stream's work, its records, waits and host functions, and returns from every enqueue
// before the work runs; the checks (udal/sdk/checks.h) refuse ranges and launches past the
// buffer's end or the device's limits; the host-module loader (udal/sdk/host_module.h)
// checks an image before dlopen and reads what each kernel declares.
//
// The rules this file follows are in docs/driver-guide.md; R1, R2, ... refer to them.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include <udal/sdk/buffer_info.h>
#include <udal/sdk/checks.h>
#include <udal/sdk/executor.h>
#include <udal/sdk/host_module.h>
#include <udal/sdk/live_set.h>
#include <udal/sdk/sdk.h>

namespace {

using udal::sdk::fail;
using udal::sdk::from_handle;
using udal::sdk::LiveSet;
using udal::sdk::to_handle;

// ==========================================================================================
// Objects. R3: each one behind a handle is standard-layout with the table pointer first.
// ==========================================================================================

struct Buffer;
struct Driver;
struct Event;
struct Kernel;
struct Module;
struct Stream;

struct Device {
  const udal_driver_table_t* dispatch;
  Driver* driver;
  udal_device_info_t info;
  std::atomic<uint64_t> allocated{0};  // bytes of live Memory: never more than the device has
};
UDAL_SDK_DISPATCHABLE(Device);

// The objects the application has not destroyed are kept in LiveSets: driver_destroy must
// finish their work and stop their threads before libudal unloads the driver (R16).
struct Driver {
  const udal_driver_table_t* dispatch;
  Device device;  // one device; a real driver enumerates its hardware here
  LiveSet<Buffer> buffers;
  LiveSet<Event> events;
  LiveSet<Module> modules;
  LiveSet<Kernel> kernels;
  LiveSet<Stream> streams;
};
UDAL_SDK_DISPATCHABLE(Driver);

// A buffer's memory. Work in flight holds it by shared_ptr, so a buffer destroyed with work
// enqueued keeps its memory (and its place in |allocated|) until that work completes (R10).
struct Memory {
  Device* device;
  std::byte* bytes;
  uint64_t size;
  uint64_t alignment;
  ~Memory() {
    ::operator delete(bytes, std::align_val_t(alignment));
    device->allocated -= size;
  }
};

struct Buffer {
  const udal_driver_table_t* dispatch;
  Device* device;
  std::shared_ptr<Memory> memory;
  uint64_t size;  // what udal_buffer_get_info reports (get_buffer_info reads these)
  uint64_t alignment;
  udal_buffer_kind_t kind;
  udal_buffer_flags_t flags;
};
UDAL_SDK_DISPATCHABLE(Buffer);

struct Stream {
  const udal_driver_table_t* dispatch;
  Device* device;
  std::unique_ptr<udal::sdk::StreamExecutor> executor;  // its destructor drains and joins
};
UDAL_SDK_DISPATCHABLE(Stream);

struct Event {
  const udal_driver_table_t* dispatch;
  Device* device;
  udal::sdk::EventState state;
};
UDAL_SDK_DISPATCHABLE(Event);

struct Module {
  const udal_driver_table_t* dispatch;
  Device* device;
  std::shared_ptr<udal::sdk::HostLibrary> library;  // kernels and launches share it
  uint32_t image_index;
};
UDAL_SDK_DISPATCHABLE(Module);

struct Kernel {
  const udal_driver_table_t* dispatch;
  Device* device;
  udal::sdk::HostKernel host;
};
UDAL_SDK_DISPATCHABLE(Kernel);

// Registers |object| as live and hands it out.
template <typename Handle, typename T>
Handle publish(std::unique_ptr<T> object, LiveSet<T>& set) {
  set.add(object.get());
  return to_handle<Handle>(object.release());
}

void fill_info(udal_device_info_t& info, const char* driver_name) {
  info = udal::sdk::make_struct<udal_device_info_t>();
  std::strncpy(info.name, "UDAL template device", sizeof(info.name) - 1);
  std::strncpy(info.vendor, "Example Vendor", sizeof(info.vendor) - 1);
  std::strncpy(info.driver_name, driver_name, sizeof(info.driver_name) - 1);
  info.driver_version = UDAL_SDK_DRIVER_VERSION;
  info.abi_version = UDAL_ABI_VERSION;
  info.device_type = UDAL_DEVICE_TYPE_ACCELERATOR;
  const uint8_t uuid[UDAL_UUID_SIZE] = {0x75, 0x64, 0x61, 0x6c, 0x2d, 0x74, 0x65, 0x6d,
                                        0x70, 0x6c, 0x61, 0x74, 0x65, 0x00, 0x00, 0x01};
  std::memcpy(info.uuid, uuid, sizeof(uuid));
  // Size every limit to what the device really takes: the suite launches at each limit and
  // one past it (docs/driver-guide.md, "Limits the suite exercises").
  info.device_memory_bytes = uint64_t{1} << 30;
  info.max_allocation_bytes = uint64_t{1} << 28;
  for (int axis = 0; axis < 3; ++axis) info.max_group_count[axis] = 65535;
  info.max_group_size[0] = info.max_group_size[1] = 1024;
  info.max_group_size[2] = 64;
  info.max_group_invocations = 1024;
  info.max_local_memory_bytes = 32768;
  info.max_kernel_arguments = 64;
  info.max_value_argument_bytes = 4096;
  info.min_buffer_alignment = 64;
  info.buffer_argument_offset_alignment = 16;
  info.compute_unit_count = 1;
  info.preferred_group_size_multiple = 1;
  info.subgroup_size_count = 1;
  info.subgroup_sizes[0] = 1;  // a group's items run one after another
  info.module_format_count = 1;
  info.module_formats[0] = UDAL_MODULE_FORMAT_HOST_NATIVE;
  info.features = UDAL_DEVICE_FEATURE_TIMESTAMPS | UDAL_DEVICE_FEATURE_LOCAL_MEMORY |
                  UDAL_DEVICE_FEATURE_MEMORY_USAGE | UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO |
                  UDAL_DEVICE_FEATURE_FLOAT64 | UDAL_DEVICE_FEATURE_INT64 |
                  UDAL_DEVICE_FEATURE_INT8 | UDAL_DEVICE_FEATURE_INT16;
  info.numa_node = -1;
}

// ==========================================================================================
// Driver and device
// ==========================================================================================

udal_result_t driver_create(const udal_driver_table_t* dispatch,
                            const udal_driver_create_desc_t* desc_in, udal_driver_t* out_driver) {
  *out_driver = nullptr;  // R6: outputs cleared on entry
  // R5: check the struct's type and refuse every chained struct this driver does not know
  // (NULL is allowed here: the defaults).
  udal_driver_create_desc_t desc;
  if (udal_result_t r = udal::sdk::read_optional_desc("driver_create", "desc", desc_in, &desc)) {
    return r;
  }
  auto driver = std::make_unique<Driver>();
  driver->dispatch = dispatch;
  driver->device.dispatch = dispatch;  // R4: children carry the parent's table
  driver->device.driver = driver.get();
  fill_info(driver->device.info,
            desc.driver_name && desc.driver_name[0] ? desc.driver_name : UDAL_DRIVER_NAME);
  *out_driver = to_handle<udal_driver_t>(driver.release());
  return UDAL_SUCCESS;
}

udal_result_t driver_destroy(udal_driver_t handle) {
  std::unique_ptr<Driver> driver(from_handle<Driver>(handle));
  // R16: nothing may run after this returns. Streams held by a host-signalled event are
  // released first, then each stream left behind finishes its work and stops its thread.
  udal::sdk::destroy_left_behind(*driver);
  return UDAL_SUCCESS;
}

udal_result_t driver_get_device_count(udal_driver_t, uint32_t* out_count) {
  *out_count = 1;
  return UDAL_SUCCESS;
}

udal_result_t driver_get_device(udal_driver_t driver, uint32_t index, udal_device_t* out_device) {
  *out_device = nullptr;
  if (index != 0) {
    return fail(UDAL_ERROR_NOT_FOUND, "udal_driver_get_device: index {} is not below 1", index);
  }
  *out_device = to_handle<udal_device_t>(&from_handle<Driver>(driver)->device);
  return UDAL_SUCCESS;
}

udal_result_t device_get_info(udal_device_t device, udal_device_info_t* out_info) {
  // R5: only the bytes inside the caller's struct_size are written.
  return udal::sdk::answer_struct("udal_device_get_info", "out_info", out_info,
                                  from_handle<Device>(device)->info);
}

udal_result_t device_get_memory_usage(udal_device_t handle, udal_memory_usage_t* out_usage) {
  const Device* device = from_handle<Device>(handle);
  auto usage = udal::sdk::make_struct<udal_memory_usage_t>();
  usage.device_allocated_bytes = device->allocated;
  usage.device_budget_bytes = device->info.device_memory_bytes;
  return udal::sdk::answer_struct("udal_device_get_memory_usage", "out_usage", out_usage, usage);
}

// ==========================================================================================
// Buffers: device-local only (HOST and SHARED kinds are features this device lacks)
// ==========================================================================================

udal_result_t buffer_create(udal_device_t handle, const udal_buffer_desc_t* desc_in,
                            udal_buffer_t* out_buffer) {
  constexpr const char* kFn = "udal_buffer_create";
  *out_buffer = nullptr;
  udal_buffer_desc_t desc;
  if (udal_result_t r = udal::sdk::read_desc(kFn, "desc", desc_in, &desc)) return r;
  Device* device = from_handle<Device>(handle);
  const udal_device_info_t& info = device->info;
  if (desc.kind != UDAL_BUFFER_KIND_DEVICE) {
    return fail(UDAL_ERROR_UNSUPPORTED, "{}: device '{}' has DEVICE buffers only, not kind {}",
                kFn, info.name, static_cast<int>(desc.kind));
  }
  if (desc.flags & UDAL_BUFFER_FLAG_DEVICE_ADDRESS) {
    return fail(UDAL_ERROR_UNSUPPORTED, "{}: device '{}' has no device addresses", kFn, info.name);
  }
  if (desc.alignment > info.max_allocation_bytes) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: alignment {} is over max_allocation_bytes {}",
                kFn, desc.alignment, info.max_allocation_bytes);
  }
  if (desc.size > info.max_allocation_bytes) {
    return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, "{}: size {} is over max_allocation_bytes {}",
                kFn, desc.size, info.max_allocation_bytes);
  }
  const uint64_t alignment = std::max(desc.alignment, info.min_buffer_alignment);
  auto memory = std::make_shared<Memory>(device, nullptr, 0, alignment);
  // R9: never hand out more than the device has; a refusal leaves the device working.
  uint64_t allocated = device->allocated.load();
  do {
    if (desc.size > info.device_memory_bytes - allocated) {
      return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                  "{}: {} bytes do not fit: {} of the device's {} bytes are allocated", kFn,
                  desc.size, allocated, info.device_memory_bytes);
    }
  } while (!device->allocated.compare_exchange_weak(allocated, allocated + desc.size));
  memory->size = desc.size;  // from here on, ~Memory gives the bytes back
  memory->bytes = static_cast<std::byte*>(
      ::operator new(desc.size, std::align_val_t(alignment), std::nothrow));
  if (memory->bytes == nullptr) {
    return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, "{}: no memory for {} bytes", kFn, desc.size);
  }
  auto buffer = std::make_unique<Buffer>(device->dispatch, device, std::move(memory), desc.size,
                                         alignment, desc.kind, desc.flags);
  *out_buffer = publish<udal_buffer_t>(std::move(buffer), device->driver->buffers);
  return UDAL_SUCCESS;
}

udal_result_t buffer_destroy(udal_buffer_t handle) {
  Buffer* buffer = from_handle<Buffer>(handle);
  buffer->device->driver->buffers.remove(buffer);
  std::unique_ptr<Buffer> owned(buffer);  // the memory lives on in work that holds it
  return UDAL_SUCCESS;
}

udal_result_t buffer_get_info(udal_buffer_t handle, udal_buffer_info_t* out_info) {
  return udal::sdk::get_buffer_info(*from_handle<Buffer>(handle), out_info);
}

udal_result_t buffer_map(udal_buffer_t, uint64_t, uint64_t, void** out_ptr) {
  *out_ptr = nullptr;
  return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_buffer_map: DEVICE buffers are not mappable");
}

udal_result_t buffer_unmap(udal_buffer_t) {
  return fail(UDAL_ERROR_INVALID_STATE, "udal_buffer_unmap: DEVICE buffers are never mapped");
}

udal_result_t buffer_get_device_address(udal_buffer_t, uint64_t* out_address) {
  *out_address = 0;
  return fail(UDAL_ERROR_UNSUPPORTED, "udal_buffer_get_device_address: no device addresses");
}

// ==========================================================================================
// Events: the SDK's EventState (records, host signals, timestamps)
// ==========================================================================================

udal_result_t event_create(udal_device_t handle, const udal_event_desc_t* desc_in,
                           udal_event_t* out_event) {
  constexpr const char* kFn = "udal_event_create";
  *out_event = nullptr;
  udal_event_desc_t desc;
  if (udal_result_t r = udal::sdk::read_optional_desc(kFn, "desc", desc_in, &desc)) return r;
  if (udal_result_t r = udal::sdk::check_event_flags(kFn, desc.flags)) return r;
  Device* device = from_handle<Device>(handle);
  auto event = std::make_unique<Event>();
  event->dispatch = device->dispatch;
  event->device = device;
  event->state.init(desc.flags);
  *out_event = publish<udal_event_t>(std::move(event), device->driver->events);
  return UDAL_SUCCESS;
}

udal_result_t event_destroy(udal_event_t handle) {
  Event* event = from_handle<Event>(handle);
  event->state.release_host_signal();  // R10: work waiting on it is released
  event->device->driver->events.remove(event);
  std::unique_ptr<Event> owned(event);
  return UDAL_SUCCESS;
}

udal_result_t event_query(udal_event_t event) { return from_handle<Event>(event)->state.query(); }

udal_result_t event_wait(udal_event_t event, uint64_t timeout_ns) {
  return from_handle<Event>(event)->state.wait(timeout_ns);
}

udal_result_t event_signal(udal_event_t handle) {
  Event* event = from_handle<Event>(handle);
  return event->state.signal("udal_event_signal", event);
}

udal_result_t event_elapsed_ns(udal_event_t start_handle, udal_event_t end_handle,
                               uint64_t* out_ns) {
  *out_ns = 0;
  const Event* start = from_handle<Event>(start_handle);
  const Event* end = from_handle<Event>(end_handle);
  return udal::sdk::EventState::elapsed_ns("udal_event_elapsed_ns", start->state, start,
                                           end->state, end, *out_ns);
}

// ==========================================================================================
// Modules and kernels: HOST_NATIVE through the SDK's host-module loader
// ==========================================================================================

udal_result_t module_create(udal_device_t handle, const udal_module_desc_t* desc_in,
                            udal_module_t* out_module) {
  *out_module = nullptr;
  udal_module_desc_t desc;
  if (udal_result_t r = udal::sdk::read_desc("udal_module_create", "desc", desc_in, &desc)) {
    return r;
  }
  Device* device = from_handle<Device>(handle);
  auto module = std::make_unique<Module>();
  module->dispatch = device->dispatch;
  module->device = device;
  if (udal_result_t r = udal::sdk::load_host_module(desc, device->info.name, module->library,
                                                    module->image_index)) {
    return r;
  }
  *out_module = publish<udal_module_t>(std::move(module), device->driver->modules);
  return UDAL_SUCCESS;
}

udal_result_t module_destroy(udal_module_t handle) {
  Module* module = from_handle<Module>(handle);
  module->device->driver->modules.remove(module);
  std::unique_ptr<Module> owned(module);  // kernels keep the library loaded
  return UDAL_SUCCESS;
}

udal_result_t module_get_info(udal_module_t handle, udal_module_info_t* out_info) {
  auto info = udal::sdk::make_struct<udal_module_info_t>();
  info.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  info.image_index = from_handle<Module>(handle)->image_index;
  return udal::sdk::answer_struct("udal_module_get_info", "out_info", out_info, info);
}

udal_result_t kernel_create(udal_module_t module_handle, const char* name,
                            udal_kernel_t* out_kernel) {
  *out_kernel = nullptr;
  Module* module = from_handle<Module>(module_handle);
  auto kernel = std::make_unique<Kernel>();
  kernel->dispatch = module->dispatch;
  kernel->device = module->device;
  if (udal_result_t r = udal::sdk::find_host_kernel(module->library, name,
                                                    module->device->info.max_kernel_arguments,
                                                    module, kernel->host)) {
    return r;
  }
  *out_kernel = publish<udal_kernel_t>(std::move(kernel), module->device->driver->kernels);
  return UDAL_SUCCESS;
}

udal_result_t kernel_destroy(udal_kernel_t handle) {
  Kernel* kernel = from_handle<Kernel>(handle);
  kernel->device->driver->kernels.remove(kernel);
  std::unique_ptr<Kernel> owned(kernel);  // launches in flight hold what they run
  return UDAL_SUCCESS;
}

udal_result_t kernel_get_info(udal_kernel_t handle, udal_kernel_info_t* out_info) {
  const Kernel* kernel = from_handle<Kernel>(handle);
  return udal::sdk::get_host_kernel_info(kernel->host, kernel->device->info.max_group_invocations,
                                         out_info);
}

udal_result_t kernel_get_argument_info(udal_kernel_t handle, uint32_t index,
                                       udal_kernel_arg_info_t* out_info) {
  return udal::sdk::get_host_kernel_argument_info(from_handle<Kernel>(handle)->host, index,
                                                  out_info);
}

// ==========================================================================================
// Streams: the SDK's StreamExecutor runs each stream's work in order, on its own thread
// ==========================================================================================

udal_result_t stream_create(udal_device_t handle, const udal_stream_desc_t* desc_in,
                            udal_stream_t* out_stream) {
  constexpr const char* kFn = "udal_stream_create";
  *out_stream = nullptr;
  udal_stream_desc_t desc;
  if (udal_result_t r = udal::sdk::read_optional_desc(kFn, "desc", desc_in, &desc)) return r;
  if (desc.flags != 0) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->flags {:#x} are unknown", kFn, desc.flags);
  }
  Device* device = from_handle<Device>(handle);
  auto stream = std::make_unique<Stream>();
  stream->dispatch = device->dispatch;
  stream->device = device;
  stream->executor = std::make_unique<udal::sdk::StreamExecutor>("template-stream");
  *out_stream = publish<udal_stream_t>(std::move(stream), device->driver->streams);
  return UDAL_SUCCESS;
}

udal_result_t stream_destroy(udal_stream_t handle) {
  Stream* stream = from_handle<Stream>(handle);
  stream->device->driver->streams.remove(stream);
  std::unique_ptr<Stream> owned(stream);  // waits for the stream's work (R10)
  return UDAL_SUCCESS;
}

// R9: a buffer (or event) of another device given to a stream is INVALID_HANDLE.
udal_result_t check_same_device(const char* fn, const char* what, const Stream* stream,
                                const Device* device) {
  if (device != stream->device) {
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: the {} belongs to another device", fn, what);
  }
  return UDAL_SUCCESS;
}

udal_result_t stream_copy_buffer(udal_stream_t handle, udal_buffer_t src_handle,
                                 uint64_t src_offset, udal_buffer_t dst_handle,
                                 uint64_t dst_offset, uint64_t size) {
  constexpr const char* kFn = "udal_stream_copy_buffer";
  Stream* stream = from_handle<Stream>(handle);
  const Buffer* src = from_handle<Buffer>(src_handle);
  const Buffer* dst = from_handle<Buffer>(dst_handle);
  if (udal_result_t r = check_same_device(kFn, "source buffer", stream, src->device)) return r;
  if (udal_result_t r = check_same_device(kFn, "destination buffer", stream, dst->device)) return r;
  if (udal_result_t r = udal::sdk::check_copy(kFn, src, src->size, src_offset, dst,
                                               dst->size, dst_offset, size)) {
    return r;
  }
  // R17: capture what the work needs and return; the executor runs it later, in order.
  stream->executor->submit([from = src->memory, to = dst->memory, src_offset, dst_offset, size] {
    std::memcpy(to->bytes + dst_offset, from->bytes + src_offset, size);
  });
  return UDAL_SUCCESS;
}

udal_result_t stream_fill_buffer(udal_stream_t handle, udal_buffer_t dst_handle, uint64_t offset,
                                 uint64_t size, const void* pattern, uint32_t pattern_size) {
  constexpr const char* kFn = "udal_stream_fill_buffer";
  Stream* stream = from_handle<Stream>(handle);
  const Buffer* dst = from_handle<Buffer>(dst_handle);
  if (udal_result_t r = check_same_device(kFn, "buffer", stream, dst->device)) return r;
  if (udal_result_t r = udal::sdk::check_fill_pattern(kFn, pattern, pattern_size)) return r;
  if (udal_result_t r = udal::sdk::check_range(kFn, "fill", dst, dst->size, offset, size)) {
    return r;
  }
  std::array<std::byte, 16> bytes{};
  std::memcpy(bytes.data(), pattern, pattern_size);
  stream->executor->submit([to = dst->memory, offset, size, bytes, pattern_size] {
    for (uint64_t i = 0; i < size; ++i) to->bytes[offset + i] = bytes[i % pattern_size];
  });
  return UDAL_SUCCESS;
}

udal_result_t stream_write_buffer(udal_stream_t handle, udal_buffer_t dst_handle,
                                  uint64_t dst_offset, const void* src, uint64_t size) {
  constexpr const char* kFn = "udal_stream_write_buffer";
  Stream* stream = from_handle<Stream>(handle);
  const Buffer* dst = from_handle<Buffer>(dst_handle);
  if (udal_result_t r = check_same_device(kFn, "buffer", stream, dst->device)) return r;
  if (udal_result_t r = udal::sdk::check_range(kFn, "write", dst, dst->size, dst_offset,
                                                size)) {
    return r;
  }
  // The host memory is the caller's until the work completes (udal.h): read it then.
  stream->executor->submit([to = dst->memory, dst_offset, src, size] {
    std::memcpy(to->bytes + dst_offset, src, size);
  });
  return UDAL_SUCCESS;
}

udal_result_t stream_read_buffer(udal_stream_t handle, udal_buffer_t src_handle,
                                 uint64_t src_offset, void* dst, uint64_t size) {
  constexpr const char* kFn = "udal_stream_read_buffer";
  Stream* stream = from_handle<Stream>(handle);
  const Buffer* src = from_handle<Buffer>(src_handle);
  if (udal_result_t r = check_same_device(kFn, "buffer", stream, src->device)) return r;
  if (udal_result_t r = udal::sdk::check_range(kFn, "read", src, src->size, src_offset,
                                                size)) {
    return r;
  }
  stream->executor->submit([from = src->memory, src_offset, dst, size] {
    std::memcpy(dst, from->bytes + src_offset, size);
  });
  return UDAL_SUCCESS;
}

udal_result_t stream_launch(udal_stream_t handle, udal_kernel_t kernel_handle,
                            const udal_launch_desc_t* desc_in) {
  constexpr const char* kFn = "udal_stream_launch";
  udal_launch_desc_t desc;
  if (udal_result_t r = udal::sdk::read_desc(kFn, "desc", desc_in, &desc)) return r;
  Stream* stream = from_handle<Stream>(handle);
  const Kernel* kernel = from_handle<Kernel>(kernel_handle);
  if (udal_result_t r = check_same_device(kFn, "kernel", stream, kernel->device)) return r;
  auto resolve = [&](uint32_t i, udal_buffer_t buffer_handle, udal::sdk::BufferView& view) {
    const Buffer* buffer = from_handle<Buffer>(buffer_handle);
    if (buffer->device != stream->device) {
      return fail(UDAL_ERROR_INVALID_HANDLE, "{}: args[{}] is a buffer of another device", kFn, i);
    }
    view = {buffer, buffer->size};
    return UDAL_SUCCESS;
  };
  // R9, R18: the device's limits and what the kernel declares, before anything is queued.
  if (udal_result_t r = udal::sdk::check_launch(kFn, stream->device->info, kernel->host.signature(),
                                                desc, resolve)) {
    return r;
  }
  // The launch is captured now (values copied, memory held), so the caller may reuse its
  // arguments and destroy the buffers and the kernel at once.
  auto launch = std::make_shared<udal::sdk::HostLaunch>(kernel->host, desc);
  std::vector<std::shared_ptr<Memory>> held;
  for (uint32_t i = 0; i < desc.arg_count; ++i) {
    if (desc.args[i].kind != UDAL_ARG_KIND_BUFFER) continue;
    const Buffer* buffer = from_handle<Buffer>(desc.args[i].buffer);
    const uint64_t offset = desc.args[i].offset;
    launch->set_buffer(i, buffer->memory->bytes + offset, buffer->size - offset);
    held.push_back(buffer->memory);
  }
  stream->executor->submit([launch, held = std::move(held)] {
    struct alignas(64) Line { std::byte bytes[64]; };  // local memory is 64-byte aligned
    std::vector<Line> local((launch->local_memory_bytes() + 63) / 64);
    launch->run_groups(0, launch->group_total(), local.empty() ? nullptr : local.data());
  });
  return UDAL_SUCCESS;
}

udal_result_t stream_record_event(udal_stream_t handle, udal_event_t event_handle) {
  constexpr const char* kFn = "udal_stream_record_event";
  Stream* stream = from_handle<Stream>(handle);
  Event* event = from_handle<Event>(event_handle);
  if (udal_result_t r = check_same_device(kFn, "event", stream, event->device)) return r;
  return event->state.record_on(kFn, event, *stream->executor);
}

udal_result_t stream_wait_event(udal_stream_t handle, udal_event_t event_handle) {
  Stream* stream = from_handle<Stream>(handle);
  Event* event = from_handle<Event>(event_handle);
  if (udal_result_t r = check_same_device("udal_stream_wait_event", "event", stream,
                                          event->device)) {
    return r;
  }
  event->state.wait_on(*stream->executor);
  return UDAL_SUCCESS;
}

udal_result_t stream_synchronize(udal_stream_t handle, uint64_t timeout_ns) {
  return from_handle<Stream>(handle)->executor->synchronize("udal_stream_synchronize", timeout_ns);
}

udal_result_t stream_enqueue_host_function(udal_stream_t handle, udal_host_function_t fn,
                                           void* user_data) {
  from_handle<Stream>(handle)->executor->host_function(fn, user_data);
  return UDAL_SUCCESS;
}

// Every entry of UDAL_DRIVER_ENTRIES (udal_driver.h), found by name (R15); each runs inside
// udal::sdk::guard, so std::bad_alloc and friends become an error with a message (R8).
udal_driver_table_t full_table() noexcept { return UDAL_SDK_GUARDED_FULL_TABLE(); }

}  // namespace

// R1: the one exported symbol (udal_add_driver's version script hides everything else).
extern "C" UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(uint32_t loader_abi_version,
                                                                  udal_driver_table_t* table) {
  return udal::sdk::negotiate(loader_abi_version, table, full_table(), UDAL_SDK_DRIVER_VERSION);
}
