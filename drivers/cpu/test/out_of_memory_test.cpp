// out_of_memory_test — no C++ exception crosses a driver's C ABI: with the n-th C++
// allocation of the calling thread made to fail (n = 0, 1, 2, ... until the call no longer
// allocates), every entry answers UDAL_ERROR_OUT_OF_HOST_MEMORY with a message, or succeeds,
// and never ends the process (an exception escaping a C entry is std::terminate).
//
// The driver library is loaded directly and called through the table it negotiates, and only
// allocations made from the driver library's own code are failed: not libudal's, and not
// those of the runtime a driver calls (Mesa and LLVM, PoCL), whose C++ is not the driver's
// to fix and which may not survive an exception through their C callers (the Vulkan loader
// keeps a mutex locked). This program replaces the global operator new/delete (malloc-based)
// to inject the failures; a driver resolves them to these, since the executable comes first
// in symbol lookup.
//
//   udal_driver_out_of_memory_test <driver.so> [<format> <module image> <kernel>]
//     format: HOST_NATIVE, SPIRV_COMPUTE, SPIRV_KERNEL or OPENCL_C (the image is a path)
// Exit status 0 when every entry behaved, 1 with the failures listed otherwise.
#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <string>

#include "udal/udal.h"
#include "udal/udal_driver.h"

// ------------------------------------------------------------------------------------------
// Allocation failures on demand (this thread only: a driver's own threads are not counted)
// ------------------------------------------------------------------------------------------

namespace {

thread_local long t_fail_in = -1;  // -1: never; n: the allocation after n more fails
thread_local long t_failed = 0;    // failures injected since the counter was last reset
// Where the driver library is mapped: only allocations called from there are counted.
uintptr_t g_driver_begin = 0, g_driver_end = 0;

bool should_fail(const void* caller) noexcept {
  if (t_fail_in < 0) return false;
  const auto at = reinterpret_cast<uintptr_t>(caller);
  if (at < g_driver_begin || at >= g_driver_end) return false;
  if (t_fail_in-- > 0) return false;
  t_fail_in = -1;
  ++t_failed;
  return true;
}

void* allocate(std::size_t size, std::size_t alignment, const void* caller) noexcept {
  if (should_fail(caller)) return nullptr;
  if (size == 0) size = 1;
  if (alignment <= alignof(std::max_align_t)) return std::malloc(size);
  void* p = nullptr;
  return posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
}

void* allocate_or_throw(std::size_t size, std::size_t alignment, const void* caller) {
  void* p = allocate(size, alignment, caller);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

#define UDAL_OOM_EXPORT __attribute__((visibility("default")))
UDAL_OOM_EXPORT void* operator new(std::size_t n) { return allocate_or_throw(n, 0, __builtin_return_address(0)); }
UDAL_OOM_EXPORT void* operator new[](std::size_t n) { return allocate_or_throw(n, 0, __builtin_return_address(0)); }
UDAL_OOM_EXPORT void* operator new(std::size_t n, std::align_val_t a) {
  return allocate_or_throw(n, static_cast<std::size_t>(a), __builtin_return_address(0));
}
UDAL_OOM_EXPORT void* operator new[](std::size_t n, std::align_val_t a) {
  return allocate_or_throw(n, static_cast<std::size_t>(a), __builtin_return_address(0));
}
UDAL_OOM_EXPORT void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return allocate(n, 0, __builtin_return_address(0)); }
UDAL_OOM_EXPORT void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return allocate(n, 0, __builtin_return_address(0)); }
UDAL_OOM_EXPORT void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate(n, static_cast<std::size_t>(a), __builtin_return_address(0));
}
UDAL_OOM_EXPORT void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate(n, static_cast<std::size_t>(a), __builtin_return_address(0));
}
UDAL_OOM_EXPORT void operator delete(void* p) noexcept { std::free(p); }
UDAL_OOM_EXPORT void operator delete[](void* p) noexcept { std::free(p); }
UDAL_OOM_EXPORT void operator delete(void* p, std::size_t) noexcept { std::free(p); }
UDAL_OOM_EXPORT void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
UDAL_OOM_EXPORT void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
UDAL_OOM_EXPORT void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
UDAL_OOM_EXPORT void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
UDAL_OOM_EXPORT void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
UDAL_OOM_EXPORT void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
UDAL_OOM_EXPORT void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
UDAL_OOM_EXPORT void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
UDAL_OOM_EXPORT void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

// ------------------------------------------------------------------------------------------
// The sweep
// ------------------------------------------------------------------------------------------

namespace {

udal_driver_table_t g_table;
int g_failures = 0;

#define REQUIRE(condition, ...)                                  \
  do {                                                           \
    if (!(condition)) {                                          \
      std::fprintf(stderr, "out_of_memory_test: " __VA_ARGS__);  \
      std::fprintf(stderr, "\n");                                \
      std::exit(2);                                              \
    }                                                            \
  } while (0)

// Calls |op| with the n-th allocation failing for n = 0, 1, ... until a call succeeds with no
// failure injected; |undo| releases what a successful call made. Each failed call must be
// OUT_OF_HOST_MEMORY with a message. |around| (when given) is called with true before each
// attempt and with false after it, without failures: a fresh stream per attempt, since a
// driver may fail a stream for good when an allocation fails after it accepted the work
// (the Vulkan driver does: the failure then surfaces on the stream's later calls).
void sweep(const char* what, const std::function<udal_result_t()>& op,
           const std::function<void()>& undo = [] {},
           const std::function<void(bool)>& around = nullptr) {
  for (long n = 0; n < 100000; ++n) {
    if (around) around(true);
    t_failed = 0;
    t_fail_in = n;
    const udal_result_t r = op();
    t_fail_in = -1;
    const bool injected = t_failed > 0;
    const std::string message_text = g_table.last_error_message();
    if (r == UDAL_SUCCESS) undo();
    if (around) around(false);
    if (r == UDAL_SUCCESS) {
      if (!injected) {
        std::printf("%-28s %ld allocation(s), each failure answered OUT_OF_HOST_MEMORY\n", what, n);
        return;
      }
      continue;  // the failure was absorbed (a cache, a log line): allowed
    }
    const char* message = message_text.c_str();
    if (!injected) {
      std::fprintf(stderr, "FAIL %s: failed without an injected allocation failure: %s: %s\n", what,
                   udal_result_name(r), message);
      ++g_failures;
      return;
    }
    if (r != UDAL_ERROR_OUT_OF_HOST_MEMORY || message[0] == '\0') {
      std::fprintf(stderr, "FAIL %s: allocation %ld failed and the call returned %s: %s\n", what, n,
                   udal_result_name(r), message[0] ? message : "(no message)");
      ++g_failures;
    }
  }
  std::fprintf(stderr, "FAIL %s: still allocating after 100000 calls\n", what);
  ++g_failures;
}

// The address range of the loaded object whose file is |path|.
void find_mapping(const char* path) {
  struct Search {
    const char* path;
    uintptr_t begin, end;
  } search{path, UINTPTR_MAX, 0};
  char resolved[PATH_MAX];
  if (realpath(path, resolved) != nullptr) search.path = resolved;
  dl_iterate_phdr(
      [](dl_phdr_info* object, size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        char name[PATH_MAX];
        if (object->dlpi_name == nullptr || realpath(object->dlpi_name, name) == nullptr ||
            std::strcmp(name, s->path) != 0) {
          return 0;
        }
        for (int i = 0; i < object->dlpi_phnum; ++i) {
          const ElfW(Phdr)& segment = object->dlpi_phdr[i];
          if (segment.p_type != PT_LOAD) continue;
          const uintptr_t begin = object->dlpi_addr + segment.p_vaddr;
          s->begin = std::min(s->begin, begin);
          s->end = std::max(s->end, begin + segment.p_memsz);
        }
        return 1;
      },
      &search);
  REQUIRE(search.end > search.begin, "cannot find where %s is mapped", path);
  g_driver_begin = search.begin;
  g_driver_end = search.end;
}

udal_module_format_t parse_format(const char* name) {
  if (std::strcmp(name, "HOST_NATIVE") == 0) return UDAL_MODULE_FORMAT_HOST_NATIVE;
  if (std::strcmp(name, "SPIRV_COMPUTE") == 0) return UDAL_MODULE_FORMAT_SPIRV_COMPUTE;
  if (std::strcmp(name, "SPIRV_KERNEL") == 0) return UDAL_MODULE_FORMAT_SPIRV_KERNEL;
  if (std::strcmp(name, "OPENCL_C") == 0) return UDAL_MODULE_FORMAT_OPENCL_C;
  REQUIRE(false, "unknown module format %s", name);
  return UDAL_MODULE_FORMAT_NONE;
}

}  // namespace

int main(int argc, char** argv) {
  REQUIRE(argc == 2 || argc == 5, "usage: %s <driver.so> [<format> <module image> <kernel>]", argv[0]);
  void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  REQUIRE(library != nullptr, "dlopen %s: %s", argv[1], dlerror());
  find_mapping(argv[1]);
  auto negotiate = reinterpret_cast<udal_result_t (*)(uint32_t, udal_driver_table_t*)>(
      dlsym(library, "udal_driver_negotiate"));
  REQUIRE(negotiate != nullptr, "%s has no udal_driver_negotiate", argv[1]);
  std::memset(&g_table, 0, sizeof g_table);
  g_table.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
  g_table.struct_size = sizeof g_table;
  REQUIRE(negotiate(UDAL_ABI_VERSION, &g_table) == UDAL_SUCCESS, "negotiate failed");
  const udal_driver_table_t& t = g_table;

  udal_driver_create_desc_t create = {};
  create.type = UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC;
  create.struct_size = sizeof create;
  create.loader_abi_version = UDAL_ABI_VERSION;
  create.driver_name = "under-test";
  create.library_path = argv[1];
  udal_driver_t driver = nullptr;
  sweep("driver_create", [&] { return t.driver_create(&t, &create, &driver); },
        [&] { t.driver_destroy(driver); });
  REQUIRE(t.driver_create(&t, &create, &driver) == UDAL_SUCCESS, "driver_create: %s",
          t.last_error_message());
  uint32_t count = 0;
  REQUIRE(t.driver_get_device_count(driver, &count) == UDAL_SUCCESS && count > 0, "no device");
  udal_device_t device = nullptr;
  REQUIRE(t.driver_get_device(driver, 0, &device) == UDAL_SUCCESS, "driver_get_device");
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  sweep("device_get_info", [&] { return t.device_get_info(device, &info); });
  if (t.device_get_memory_usage && (info.features & UDAL_DEVICE_FEATURE_MEMORY_USAGE)) {
    udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
    sweep("device_get_memory_usage", [&] { return t.device_get_memory_usage(device, &usage); });
  }

  // Buffers, a host-visible one where the device has them.
  udal_buffer_desc_t buffer_desc = UDAL_BUFFER_DESC_INIT;
  buffer_desc.size = 4096;
  udal_buffer_t made = nullptr;
  sweep("buffer_create", [&] { return t.buffer_create(device, &buffer_desc, &made); },
        [&] { t.buffer_destroy(made); });
  udal_buffer_t a = nullptr, b = nullptr, mappable = nullptr;
  REQUIRE(t.buffer_create(device, &buffer_desc, &a) == UDAL_SUCCESS, "buffer_create");
  REQUIRE(t.buffer_create(device, &buffer_desc, &b) == UDAL_SUCCESS, "buffer_create");
  udal_buffer_info_t buffer_info = UDAL_BUFFER_INFO_INIT;
  sweep("buffer_get_info", [&] { return t.buffer_get_info(a, &buffer_info); });
  if (info.features & (UDAL_DEVICE_FEATURE_HOST_BUFFERS | UDAL_DEVICE_FEATURE_SHARED_BUFFERS)) {
    udal_buffer_desc_t host_desc = buffer_desc;
    host_desc.kind = (info.features & UDAL_DEVICE_FEATURE_HOST_BUFFERS) ? UDAL_BUFFER_KIND_HOST
                                                                         : UDAL_BUFFER_KIND_SHARED;
    sweep("buffer_create (host-visible)", [&] { return t.buffer_create(device, &host_desc, &made); },
          [&] { t.buffer_destroy(made); });
    REQUIRE(t.buffer_create(device, &host_desc, &mappable) == UDAL_SUCCESS, "buffer_create");
    void* ptr = nullptr;
    sweep("buffer_map", [&] { return t.buffer_map(mappable, 0, 64, &ptr); },
          [&] { t.buffer_unmap(mappable); });
  }

  // Streams and events.
  udal_stream_t stream = nullptr;
  sweep("stream_create", [&] { return t.stream_create(device, nullptr, &stream); },
        [&] { t.stream_destroy(stream); });
  REQUIRE(t.stream_create(device, nullptr, &stream) == UDAL_SUCCESS, "stream_create");
  udal_event_t event = nullptr;
  sweep("event_create", [&] { return t.event_create(device, nullptr, &event); },
        [&] { t.event_destroy(event); });
  udal_event_desc_t host_signal = UDAL_EVENT_DESC_INIT;
  host_signal.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  sweep("event_create (HOST_SIGNAL)", [&] { return t.event_create(device, &host_signal, &event); },
        [&] { t.event_destroy(event); });
  REQUIRE(t.event_create(device, nullptr, &event) == UDAL_SUCCESS, "event_create");

  static unsigned char host[4096];
  const uint32_t pattern = 0x01020304;
  udal_stream_t fresh = nullptr;
  auto with_fresh = [&](bool before) {
    if (before) {
      REQUIRE(t.stream_create(device, nullptr, &fresh) == UDAL_SUCCESS, "stream_create");
    } else {
      t.stream_synchronize(fresh, UDAL_TIMEOUT_INFINITE);  // its own failure, if any
      REQUIRE(t.stream_destroy(fresh) == UDAL_SUCCESS, "stream_destroy");
    }
  };
  auto none = [] {};
  sweep("stream_write_buffer", [&] { return t.stream_write_buffer(fresh, a, 0, host, 256); }, none,
        with_fresh);
  sweep("stream_read_buffer", [&] { return t.stream_read_buffer(fresh, a, 0, host, 256); }, none,
        with_fresh);
  sweep("stream_copy_buffer", [&] { return t.stream_copy_buffer(fresh, a, 0, b, 0, 256); }, none,
        with_fresh);
  sweep("stream_fill_buffer",
        [&] { return t.stream_fill_buffer(fresh, a, 0, 256, &pattern, sizeof pattern); }, none,
        with_fresh);
  sweep("stream_record_event", [&] { return t.stream_record_event(fresh, event); }, none,
        with_fresh);
  sweep("stream_wait_event", [&] { return t.stream_wait_event(fresh, event); }, none, with_fresh);
  sweep("stream_enqueue_host_function",
        [&] { return t.stream_enqueue_host_function(fresh, [](void*) {}, nullptr); }, none,
        with_fresh);
  sweep("stream_synchronize", [&] { return t.stream_synchronize(stream, UDAL_TIMEOUT_INFINITE); });
  sweep("event_query", [&] { return t.event_query(event); });
  sweep("event_wait", [&] { return t.event_wait(event, UDAL_TIMEOUT_INFINITE); });

  // A module and a kernel, when one is given.
  if (argc == 5) {
    udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
    image.format = parse_format(argv[2]);
    image.path = argv[3];
    udal_module_desc_t module_desc = UDAL_MODULE_DESC_INIT;
    module_desc.images = &image;
    module_desc.image_count = 1;
    udal_module_t module = nullptr;
    sweep("module_create", [&] { return t.module_create(device, &module_desc, &module); },
          [&] { t.module_destroy(module); });
    REQUIRE(t.module_create(device, &module_desc, &module) == UDAL_SUCCESS, "module_create: %s",
            t.last_error_message());
    udal_module_info_t module_info = UDAL_MODULE_INFO_INIT;
    sweep("module_get_info", [&] { return t.module_get_info(module, &module_info); });
    udal_kernel_t kernel = nullptr;
    sweep("kernel_create", [&] { return t.kernel_create(module, argv[4], &kernel); },
          [&] { t.kernel_destroy(kernel); });
    REQUIRE(t.kernel_create(module, argv[4], &kernel) == UDAL_SUCCESS, "kernel_create: %s",
            t.last_error_message());
    udal_kernel_info_t kernel_info = UDAL_KERNEL_INFO_INIT;
    sweep("kernel_get_info", [&] { return t.kernel_get_info(kernel, &kernel_info); });
    t.kernel_destroy(kernel);
    t.module_destroy(module);
  }

  REQUIRE(t.stream_destroy(stream) == UDAL_SUCCESS, "stream_destroy");
  REQUIRE(t.event_destroy(event) == UDAL_SUCCESS, "event_destroy");
  if (mappable) t.buffer_destroy(mappable);
  t.buffer_destroy(a);
  t.buffer_destroy(b);
  REQUIRE(t.driver_destroy(driver) == UDAL_SUCCESS, "driver_destroy");
  if (g_failures > 0) {
    std::fprintf(stderr, "%d entr%s did not answer an allocation failure with "
                 "UDAL_ERROR_OUT_OF_HOST_MEMORY\n", g_failures, g_failures == 1 ? "y" : "ies");
    return 1;
  }
  std::printf("every entry answered each allocation failure with UDAL_ERROR_OUT_OF_HOST_MEMORY\n");
  return 0;
}
