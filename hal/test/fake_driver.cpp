// A small driver for libudal's own tests. One source, built several times with different
// FAKE_* definitions into the broken and odd drivers the loader must survive.
//   FAKE_NAME            device names say which build this is
//   FAKE_DEVICE_COUNT    devices it reports (default 1)
//   FAKE_ABI_MAJOR/MINOR the ABI version it states (default 1.0)
//   FAKE_TABLE_BYTES     how much of its table it has (default the whole 1.0 table);
//                        with FAKE_LARGE_TABLE, a table with entries of a future 1.1
//   FAKE_NEGOTIATE_FAILS negotiate returns an error
//   FAKE_CREATE_FAILS    driver_create returns an error
//   FAKE_MISSING_REQUIRED device_get_info is left NULL
//   FAKE_BAD_LAYOUT      the driver object does not begin with the table pointer
//   FAKE_IGNORES_STRUCT_SIZE  writes its whole (larger) table whatever struct_size says
//
// The table is filled from UDAL_DRIVER_ENTRIES: every entry that struct Fake below defines
// (a static member named like the entry) goes in, and every other entry gets a stub that
// answers UDAL_ERROR_UNSUPPORTED with a message. So a new entry in the list needs no change
// here, only a member of Fake when a test wants it to do something.
//
// Work runs synchronously at enqueue time; recorded events only pretend to be pending for
// one query so that the positive statuses can be observed.
#include <udal/udal_driver.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#ifndef FAKE_NAME
#define FAKE_NAME "fake"
#endif
#ifndef FAKE_DEVICE_COUNT
#define FAKE_DEVICE_COUNT 1
#endif
#ifndef FAKE_ABI_MAJOR
#define FAKE_ABI_MAJOR 1
#endif
#ifndef FAKE_ABI_MINOR
#define FAKE_ABI_MINOR 0
#endif

namespace {

constexpr uint64_t kDeviceMemory = 1u << 20;
// The one vendor extension struct this driver knows (the tests chain it); it refuses
// every other vendor type, as drivers must.
constexpr uint32_t kFakeExtensionType = UDAL_STRUCTURE_TYPE_VENDOR_BEGIN + 0x42;

thread_local std::string g_message;

udal_result_t error(udal_result_t result, std::string message) {
  g_message = std::move(message);
  return result;
}

const char* last_error_message() {
  return g_message.c_str();
}

// Refuses chained vendor structs other than kFakeExtensionType (libudal already refused
// core types).
udal_result_t check_chain(const void* next, const char* what) {
  for (auto* link = static_cast<const udal_base_in_t*>(next); link != nullptr; link = link->next) {
    uint32_t type = static_cast<uint32_t>(link->type);
    if (type != kFakeExtensionType) {
      char text[160];
      std::snprintf(text, sizeof(text),
                    "the fake driver does not know struct type %#x chained on %s", type, what);
      return error(UDAL_ERROR_INVALID_ARGUMENT, text);
    }
  }
  return UDAL_SUCCESS;
}

struct Device {
  const udal_driver_table_t* table;
  uint32_t index;
  std::atomic<uint64_t> allocated{0};
};

struct Driver {
#ifdef FAKE_BAD_LAYOUT
  uint64_t cookie = 0x1234; // breaks the rule: the table pointer must come first
#endif
  const udal_driver_table_t* table;
  Device devices[FAKE_DEVICE_COUNT];
};

struct Buffer {
  const udal_driver_table_t* table;
  Device* device;
  udal_buffer_kind_t kind;
  udal_buffer_flags_t flags;
  uint64_t alignment;
  std::vector<unsigned char> bytes;
  bool mapped;
};

struct Event {
  const udal_driver_table_t* table;
  udal_event_flags_t flags;
  bool recorded;
  bool pending;
  bool signalled;
};

struct Stream {
  const udal_driver_table_t* table;
};

struct Module {
  const udal_driver_table_t* table;
  udal_module_format_t format;
  uint32_t image_index;
};

struct Kernel {
  const udal_driver_table_t* table;
  uint32_t argument_count;
};

template <typename T> T* from(void* handle) {
  return static_cast<T*>(handle);
}
template <typename Handle, typename T> Handle to_handle(std::unique_ptr<T> object) {
  return reinterpret_cast<Handle>(object.release());
}

bool in_range(const Buffer* b, uint64_t offset, uint64_t size) {
  return offset <= b->bytes.size() && size <= b->bytes.size() - offset;
}

// The fake's entries, named like the table's. Entries missing here are stubbed (below).
struct Fake {
  static udal_result_t driver_create(const udal_driver_table_t* dispatch,
                                     const udal_driver_create_desc_t* desc,
                                     udal_driver_t* out_driver) {
    *out_driver = nullptr;
#ifdef FAKE_CREATE_FAILS
    (void)dispatch;
    (void)desc;
    return error(UDAL_ERROR_DEVICE_LOST, "the fake device refuses to start");
#else
    if (desc->type != UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC)
      return error(UDAL_ERROR_INVALID_ARGUMENT, "driver_create: desc has the wrong type");
    if (desc->log)
      desc->log(desc->log_user_data, UDAL_LOG_LEVEL_DEBUG, "fake driver created");
    auto driver = std::make_unique<Driver>();
    driver->table = dispatch;
    for (uint32_t i = 0; i < FAKE_DEVICE_COUNT; ++i) {
      driver->devices[i].table = dispatch;
      driver->devices[i].index = i;
    }
    *out_driver = to_handle<udal_driver_t>(std::move(driver));
    return UDAL_SUCCESS;
#endif
  }

  static udal_result_t driver_destroy(udal_driver_t driver) {
    std::unique_ptr<Driver>{from<Driver>(driver)};
    return UDAL_SUCCESS;
  }

  static udal_result_t driver_get_device_count(udal_driver_t, uint32_t* out_count) {
    *out_count = FAKE_DEVICE_COUNT;
    return UDAL_SUCCESS;
  }

  static udal_result_t driver_get_device(udal_driver_t driver, uint32_t index,
                                         udal_device_t* out_device) {
    *out_device = nullptr;
    if (index >= FAKE_DEVICE_COUNT)
      return error(UDAL_ERROR_NOT_FOUND, "no such device");
    *out_device = reinterpret_cast<udal_device_t>(&from<Driver>(driver)->devices[index]);
    return UDAL_SUCCESS;
  }

  static udal_result_t device_get_info(udal_device_t device, udal_device_info_t* info) {
    if (udal_result_t r = check_chain(info->next, "udal_device_info_t"); r != UDAL_SUCCESS)
      return r;
    const Device* d = from<Device>(device);
    std::snprintf(info->name, sizeof(info->name), "%s device %u", FAKE_NAME, d->index);
    std::snprintf(info->vendor, sizeof(info->vendor), "UDAL tests");
    // libudal must overwrite these three with what it knows, and write reserved0 as 0.
    std::snprintf(info->driver_name, sizeof(info->driver_name), "not-the-manifest-name");
    info->driver_version = 0xdead;
    info->abi_version = 0xbeef;
    info->reserved0 = 0x5eed;
    info->device_type = UDAL_DEVICE_TYPE_OTHER;
    info->uuid[0] = static_cast<uint8_t>(d->index + 1);
    info->device_memory_bytes = kDeviceMemory;
    info->host_visible_memory_bytes = kDeviceMemory;
    for (int i = 0; i < 3; ++i) {
      info->max_group_size[i] = 64;
      info->max_group_count[i] = 1024;
    }
    info->max_group_invocations = 64;
    info->max_local_memory_bytes = 1024;
    info->max_allocation_bytes = kDeviceMemory;
    info->max_kernel_arguments = 16;
    info->max_value_argument_bytes = 128;
    info->min_buffer_alignment = 16;
    info->buffer_argument_offset_alignment = 4;
    info->compute_unit_count = 1;
    info->preferred_group_size_multiple = 1;
    info->subgroup_size_count = 1;
    info->subgroup_sizes[0] = 1;
    info->module_format_count = 1;
    info->module_formats[0] = UDAL_MODULE_FORMAT_HOST_NATIVE;
    info->features = UDAL_DEVICE_FEATURE_HOST_BUFFERS | UDAL_DEVICE_FEATURE_TIMESTAMPS |
                     UDAL_DEVICE_FEATURE_DEVICE_ADDRESS | UDAL_DEVICE_FEATURE_MEMORY_USAGE |
                     UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO;
    info->numa_node = -1;
    return UDAL_SUCCESS;
  }

  static udal_result_t device_get_memory_usage(udal_device_t device, udal_memory_usage_t* out) {
    const Device* d = from<Device>(device);
    out->device_allocated_bytes = d->allocated.load();
    out->device_budget_bytes = kDeviceMemory;
    out->host_visible_budget_bytes = kDeviceMemory;
    return UDAL_SUCCESS;
  }

  static udal_result_t buffer_create(udal_device_t device, const udal_buffer_desc_t* desc,
                                     udal_buffer_t* out_buffer) {
    if (udal_result_t r = check_chain(desc->next, "udal_buffer_desc_t"); r != UDAL_SUCCESS)
      return r;
    Device* d = from<Device>(device);
    if (desc->size > kDeviceMemory - d->allocated.load())
      return error(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                   "buffer of " + std::to_string(desc->size) +
                       " bytes is larger than the fake device's memory");
    auto b = std::make_unique<Buffer>();
    b->table = d->table;
    b->device = d;
    b->kind = desc->kind;
    b->flags = desc->flags;
    b->alignment = desc->alignment ? desc->alignment : 16;
    b->bytes.assign(desc->size, 0);
    b->mapped = false;
    d->allocated += desc->size;
    *out_buffer = to_handle<udal_buffer_t>(std::move(b));
    return UDAL_SUCCESS;
  }

  static udal_result_t buffer_destroy(udal_buffer_t buffer) {
    std::unique_ptr<Buffer> b{from<Buffer>(buffer)};
    b->device->allocated -= b->bytes.size();
    return UDAL_SUCCESS;
  }

  static udal_result_t buffer_get_info(udal_buffer_t buffer, udal_buffer_info_t* info) {
    const Buffer* b = from<Buffer>(buffer);
    info->device = reinterpret_cast<udal_device_t>(b->device);
    info->kind = b->kind;
    info->flags = b->flags;
    info->size = b->bytes.size();
    info->alignment = b->alignment;
    info->reserved0 = 0x5eed; // libudal writes it as 0
    return UDAL_SUCCESS;
  }

  static udal_result_t buffer_map(udal_buffer_t buffer, uint64_t offset, uint64_t size,
                                  void** out_ptr) {
    Buffer* b = from<Buffer>(buffer);
    if (offset + size > b->bytes.size())
      return error(UDAL_ERROR_OUT_OF_RANGE, "udal_buffer_map: range past the end of the buffer");
    if (b->mapped)
      return error(UDAL_ERROR_INVALID_STATE, "already mapped");
    b->mapped = true;
    *out_ptr = b->bytes.data() + offset;
    return UDAL_SUCCESS;
  }

  static udal_result_t buffer_unmap(udal_buffer_t buffer) {
    Buffer* b = from<Buffer>(buffer);
    if (!b->mapped)
      return error(UDAL_ERROR_INVALID_STATE, "buffer is not mapped");
    b->mapped = false;
    return UDAL_SUCCESS;
  }

  static udal_result_t buffer_get_device_address(udal_buffer_t buffer, uint64_t* out_address) {
    Buffer* b = from<Buffer>(buffer);
    if (!(b->flags & UDAL_BUFFER_FLAG_DEVICE_ADDRESS))
      return error(UDAL_ERROR_INVALID_ARGUMENT,
                   "the buffer was created without UDAL_BUFFER_FLAG_DEVICE_ADDRESS");
    *out_address = reinterpret_cast<uintptr_t>(b->bytes.data());
    return UDAL_SUCCESS;
  }

  static udal_result_t event_create(udal_device_t device, const udal_event_desc_t* desc,
                                    udal_event_t* out_event) {
    auto e = std::make_unique<Event>();
    e->table = from<Device>(device)->table;
    e->flags = desc ? desc->flags : 0;
    e->recorded = false;
    e->pending = (e->flags & UDAL_EVENT_FLAG_HOST_SIGNAL) != 0;
    e->signalled = false;
    *out_event = to_handle<udal_event_t>(std::move(e));
    return UDAL_SUCCESS;
  }

  static udal_result_t event_destroy(udal_event_t event) {
    std::unique_ptr<Event>{from<Event>(event)};
    return UDAL_SUCCESS;
  }

  // A recorded event answers NOT_READY to its first query, then completes; a host-signalled
  // one stays pending until signalled.
  static udal_result_t event_query(udal_event_t event) {
    Event* e = from<Event>(event);
    if (e->flags & UDAL_EVENT_FLAG_HOST_SIGNAL)
      return e->signalled ? UDAL_SUCCESS : UDAL_NOT_READY;
    if (e->pending) {
      e->pending = false;
      return UDAL_NOT_READY;
    }
    return UDAL_SUCCESS;
  }

  static udal_result_t event_wait(udal_event_t event, uint64_t timeout_ns) {
    Event* e = from<Event>(event);
    if (e->flags & UDAL_EVENT_FLAG_HOST_SIGNAL)
      return e->signalled ? UDAL_SUCCESS : UDAL_TIMEOUT; // nobody else could signal it
    if (e->pending && timeout_ns == 0)
      return UDAL_TIMEOUT;
    e->pending = false;
    return UDAL_SUCCESS;
  }

  static udal_result_t event_elapsed_ns(udal_event_t start, udal_event_t end, uint64_t* out_ns) {
    if (!(from<Event>(start)->flags & UDAL_EVENT_FLAG_TIMING) ||
        !(from<Event>(end)->flags & UDAL_EVENT_FLAG_TIMING))
      return error(UDAL_ERROR_INVALID_ARGUMENT,
                   "an event was created without UDAL_EVENT_FLAG_TIMING");
    if (!from<Event>(start)->recorded || !from<Event>(end)->recorded)
      return error(UDAL_ERROR_INVALID_STATE, "an event was never recorded");
    *out_ns = 42;
    return UDAL_SUCCESS;
  }

  static udal_result_t event_signal(udal_event_t event) {
    Event* e = from<Event>(event);
    if (!(e->flags & UDAL_EVENT_FLAG_HOST_SIGNAL))
      return error(UDAL_ERROR_INVALID_ARGUMENT,
                   "the event was created without UDAL_EVENT_FLAG_HOST_SIGNAL");
    if (e->signalled)
      return error(UDAL_ERROR_INVALID_STATE, "the event was already signalled");
    e->signalled = true;
    return UDAL_SUCCESS;
  }

  static udal_result_t module_create(udal_device_t device, const udal_module_desc_t* desc,
                                     udal_module_t* out_module) {
    for (uint32_t i = 0; i < desc->image_count; ++i) {
      if (desc->images[i].format == UDAL_MODULE_FORMAT_HOST_NATIVE) {
        auto m = std::make_unique<Module>();
        m->table = from<Device>(device)->table;
        m->format = desc->images[i].format;
        m->image_index = i;
        *out_module = to_handle<udal_module_t>(std::move(m));
        return UDAL_SUCCESS;
      }
    }
    // Deliberately no message: libudal must still say something useful.
    return error(UDAL_ERROR_UNSUPPORTED, "");
  }

  static udal_result_t module_destroy(udal_module_t module) {
    std::unique_ptr<Module>{from<Module>(module)};
    return UDAL_SUCCESS;
  }

  static udal_result_t module_get_info(udal_module_t module, udal_module_info_t* info) {
    info->format = from<Module>(module)->format;
    info->image_index = from<Module>(module)->image_index;
    return UDAL_SUCCESS;
  }

  static udal_result_t kernel_create(udal_module_t module, const char* name,
                                     udal_kernel_t* out_kernel) {
    if (std::strcmp(name, "noop") != 0)
      return error(UDAL_ERROR_KERNEL_NOT_FOUND, std::string("no kernel named '") + name + "'");
    auto k = std::make_unique<Kernel>();
    k->table = from<Module>(module)->table;
    k->argument_count = 2;
    *out_kernel = to_handle<udal_kernel_t>(std::move(k));
    return UDAL_SUCCESS;
  }

  static udal_result_t kernel_destroy(udal_kernel_t kernel) {
    std::unique_ptr<Kernel>{from<Kernel>(kernel)};
    return UDAL_SUCCESS;
  }

  static udal_result_t kernel_get_info(udal_kernel_t kernel, udal_kernel_info_t* info) {
    info->flags = UDAL_KERNEL_FLAG_ARGUMENT_INFO;
    info->argument_count = from<Kernel>(kernel)->argument_count;
    info->max_group_invocations = 64;
    info->reserved0 = 0x5eed; // libudal writes it as 0
    return UDAL_SUCCESS;
  }

  // "noop" takes (buffer read-write, uint32_t).
  static udal_result_t kernel_get_argument_info(udal_kernel_t kernel, uint32_t index,
                                                udal_kernel_arg_info_t* info) {
    if (index >= from<Kernel>(kernel)->argument_count)
      return error(UDAL_ERROR_NOT_FOUND,
                   "the kernel has 2 arguments, not " + std::to_string(index + 1));
    if (index == 0) {
      info->kind = UDAL_ARG_KIND_BUFFER;
      info->access = UDAL_ARG_ACCESS_READ_WRITE;
    } else {
      info->kind = UDAL_ARG_KIND_VALUE;
      info->value_size = 4;
    }
    info->reserved0 = 0x5eed; // libudal writes it as 0
    return UDAL_SUCCESS;
  }

  static udal_result_t stream_create(udal_device_t device, const udal_stream_desc_t*,
                                     udal_stream_t* out_stream) {
    auto s = std::make_unique<Stream>();
    s->table = from<Device>(device)->table;
    *out_stream = to_handle<udal_stream_t>(std::move(s));
    return UDAL_SUCCESS;
  }

  static udal_result_t stream_destroy(udal_stream_t stream) {
    std::unique_ptr<Stream>{from<Stream>(stream)};
    return UDAL_SUCCESS;
  }

  static udal_result_t stream_copy_buffer(udal_stream_t, udal_buffer_t src, uint64_t src_offset,
                                          udal_buffer_t dst, uint64_t dst_offset, uint64_t size) {
    Buffer* s = from<Buffer>(src);
    Buffer* d = from<Buffer>(dst);
    if (!in_range(s, src_offset, size) || !in_range(d, dst_offset, size))
      return error(UDAL_ERROR_OUT_OF_RANGE, "copy runs past the end of a buffer");
    std::memmove(d->bytes.data() + dst_offset, s->bytes.data() + src_offset, size);
    return UDAL_SUCCESS;
  }

  static udal_result_t stream_fill_buffer(udal_stream_t, udal_buffer_t dst, uint64_t offset,
                                          uint64_t size, const void* pattern,
                                          uint32_t pattern_size) {
    Buffer* d = from<Buffer>(dst);
    if (!in_range(d, offset, size))
      return error(UDAL_ERROR_OUT_OF_RANGE, "fill runs past the end of the buffer");
    for (uint64_t i = 0; i < size; ++i)
      d->bytes[offset + i] = static_cast<const unsigned char*>(pattern)[i % pattern_size];
    return UDAL_SUCCESS;
  }

  static udal_result_t stream_write_buffer(udal_stream_t, udal_buffer_t dst, uint64_t dst_offset,
                                           const void* src, uint64_t size) {
    Buffer* d = from<Buffer>(dst);
    if (!in_range(d, dst_offset, size))
      return error(UDAL_ERROR_OUT_OF_RANGE, "write runs past the end of the buffer");
    std::memcpy(d->bytes.data() + dst_offset, src, size);
    return UDAL_SUCCESS;
  }

  static udal_result_t stream_read_buffer(udal_stream_t, udal_buffer_t src, uint64_t src_offset,
                                          void* dst, uint64_t size) {
    Buffer* s = from<Buffer>(src);
    if (!in_range(s, src_offset, size))
      return error(UDAL_ERROR_OUT_OF_RANGE, "read runs past the end of the buffer");
    std::memcpy(dst, s->bytes.data() + src_offset, size);
    return UDAL_SUCCESS;
  }

  static udal_result_t stream_launch(udal_stream_t, udal_kernel_t kernel,
                                     const udal_launch_desc_t* desc) {
    if (udal_result_t r = check_chain(desc->next, "udal_launch_desc_t"); r != UDAL_SUCCESS)
      return r;
    if (desc->arg_count != from<Kernel>(kernel)->argument_count)
      return error(UDAL_ERROR_INVALID_ARGUMENT,
                   "kernel takes " + std::to_string(from<Kernel>(kernel)->argument_count) +
                       " arguments, launch gives " + std::to_string(desc->arg_count));
    return UDAL_SUCCESS;
  }

  static udal_result_t stream_record_event(udal_stream_t, udal_event_t event) {
    Event* e = from<Event>(event);
    if (e->flags & UDAL_EVENT_FLAG_HOST_SIGNAL)
      return error(UDAL_ERROR_INVALID_ARGUMENT, "a host-signalled event cannot be recorded");
    e->recorded = true;
    e->pending = true;
    return UDAL_SUCCESS;
  }

  static udal_result_t stream_wait_event(udal_stream_t, udal_event_t) {
    return UDAL_SUCCESS;
  }

  // timeout 1 ns pretends the work is still running, so the TIMEOUT path can be observed.
  static udal_result_t stream_synchronize(udal_stream_t, uint64_t timeout_ns) {
    return timeout_ns == 1 ? UDAL_TIMEOUT : UDAL_SUCCESS;
  }

  static udal_result_t stream_enqueue_host_function(udal_stream_t, udal_host_function_t fn,
                                                    void* user_data) {
    fn(user_data); // all earlier work of the stream has completed: it ran at enqueue
    return UDAL_SUCCESS;
  }
};

// The entry for a name Fake does not define: UNSUPPORTED, with a message (rule 7).
template <typename Pfn> struct NotImplemented;
template <typename... Args> struct NotImplemented<udal_result_t (*)(Args...)> {
  static udal_result_t call(Args...) {
    return error(UDAL_ERROR_UNSUPPORTED, "the fake driver does not implement this entry");
  }
};

// fill_<name>(table): Fake::<name> when Fake defines it, else the NotImplemented stub.
#define FAKE_FILL_(name, required, is_public, params, args)                                        \
  template <typename Impl> void fill_##name(udal_driver_table_t& t) {                              \
    if constexpr (requires { &Impl::name; })                                                       \
      t.name = &Impl::name;                                                                        \
    else                                                                                           \
      t.name = &NotImplemented<udal_pfn_##name>::call;                                             \
  }
UDAL_DRIVER_ENTRIES(FAKE_FILL_)
#undef FAKE_FILL_

void fill_table(udal_driver_table_t& t) {
#define FAKE_FILL_CALL_(name, required, is_public, params, args) fill_##name<Fake>(t);
  UDAL_DRIVER_ENTRIES(FAKE_FILL_CALL_)
#undef FAKE_FILL_CALL_
}

#ifdef FAKE_LARGE_TABLE
// A driver built against a future 1.1 header with two more entries. libudal 1.0 must
// receive only its own struct_size worth of it.
struct FutureTable {
  udal_driver_table_t v1_0;
  udal_result_t (*future_entry_a)(void);
  udal_result_t (*future_entry_b)(void);
};
udal_result_t future_entry() {
  return UDAL_SUCCESS;
}
using DriverTable = FutureTable;
udal_driver_table_t& base(FutureTable& t) {
  return t.v1_0;
}
#else
using DriverTable = udal_driver_table_t;
udal_driver_table_t& base(udal_driver_table_t& t) {
  return t;
}
#endif

#ifndef FAKE_TABLE_BYTES
#define FAKE_TABLE_BYTES sizeof(DriverTable)
#endif

} // namespace

extern "C" UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(uint32_t loader_abi_version,
                                                                  udal_driver_table_t* table) {
#ifdef FAKE_NEGOTIATE_FAILS
  constexpr bool kDecline = true;
#else
  constexpr bool kDecline = false;
#endif
  if (kDecline)
    return error(UDAL_ERROR_INVALID_ARGUMENT, "the fake driver declines to negotiate");
  if (UDAL_VERSION_MAJOR(loader_abi_version) != 1)
    return error(UDAL_ERROR_INCOMPATIBLE_DRIVER, "loader is not ABI 1");
  DriverTable mine{};
  udal_driver_table_t& t = base(mine);
  t.abi_version = UDAL_MAKE_VERSION(FAKE_ABI_MAJOR, FAKE_ABI_MINOR);
  t.driver_version = UDAL_MAKE_VERSION(3, 7);
  t.last_error_message = last_error_message;
  fill_table(t);
#ifdef FAKE_MISSING_REQUIRED
  t.device_get_info = nullptr;
#endif
#ifdef FAKE_LARGE_TABLE
  mine.future_entry_a = future_entry;
  mine.future_entry_b = future_entry;
#endif
  // The rule every driver follows: write only what both sides know, and never the
  // struct_size libudal set.
  size_t header = offsetof(udal_driver_table_t, abi_version);
#ifdef FAKE_IGNORES_STRUCT_SIZE
  size_t size = FAKE_TABLE_BYTES;
#else
  size_t size = std::min<size_t>(table->struct_size, FAKE_TABLE_BYTES);
#endif
  if (size > header)
    std::memcpy(reinterpret_cast<char*>(table) + header, reinterpret_cast<char*>(&mine) + header,
                size - header);
  return UDAL_SUCCESS;
}
