// udal_bench.cpp — every workload on every device of every driver libudal loads.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common.h"
#include "udal/udal.h"
#include "udal/udal_driver.h"

namespace udal_bench {
namespace {

std::string failure(const char* what, udal_result_t r) {
  return fmt::format("{}: {}: {}", what, udal_result_name(r), udal_last_error_message());
}

// Skips the benchmark with libudal's message when |r| is not success.
#define BENCH_CHECK(state, call)                                                                   \
  do {                                                                                             \
    const udal_result_t bench_r_ = (call);                                                         \
    if (bench_r_ != UDAL_SUCCESS) {                                                                \
      (state).SkipWithError(failure(#call, bench_r_).c_str());                                     \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

struct Buffer {
  udal_buffer_t handle = nullptr;
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() {
    if (handle != nullptr)
      udal_buffer_destroy(handle);
  }
};

struct Event {
  udal_event_t handle = nullptr;
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() {
    if (handle != nullptr)
      udal_event_destroy(handle);
  }
};

// One device under test and the objects every workload reuses. Kernels are made once at
// registration so a device that cannot take either image is reported then, not per run.
struct Device {
  std::string backend;
  std::string driver;
  udal_device_t device = nullptr;
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  udal_stream_t stream = nullptr;
  udal_module_t empty_module = nullptr;
  udal_module_t saxpy_module = nullptr;
  udal_kernel_t empty = nullptr;
  udal_kernel_t saxpy = nullptr;
  std::string kernel_error; // why there are no kernels

  uint32_t group_size() const {
    return std::min({1024u, info.max_group_size[0], info.max_group_invocations});
  }
};

udal_instance_t g_instance = nullptr;
std::vector<std::unique_ptr<Device>> g_devices;

// A module from every image udal-bench has for |kernel|: the HOST_NATIVE shared object
// and the SPIR-V of the same kernel; the device takes the first it accepts.
udal_result_t make_kernel(Device& d, const char* kernel, udal_module_t* out_module,
                          udal_kernel_t* out_kernel) {
  const std::filesystem::path dir = config().kernel_dir;
  const std::string host_path = (dir / "bench_kernels.so").string();
  const std::string spv_path = (dir / fmt::format("{}.spv", kernel)).string();
  std::vector<udal_module_image_t> images;
  if (std::filesystem::exists(host_path)) {
    udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
    image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
    image.path = host_path.c_str();
    images.push_back(image);
  }
  if (std::filesystem::exists(spv_path)) {
    udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
    image.format = UDAL_MODULE_FORMAT_SPIRV_COMPUTE;
    image.path = spv_path.c_str();
    images.push_back(image);
  }
  if (images.empty())
    return UDAL_ERROR_NOT_FOUND;
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = images.data();
  desc.image_count = static_cast<uint32_t>(images.size());
  udal_result_t r = udal_module_create(d.device, &desc, out_module);
  if (r != UDAL_SUCCESS)
    return r;
  return udal_kernel_create(*out_module, kernel, out_kernel);
}

// A plain event only orders work; UDAL_EVENT_FLAG_TIMING adds a timestamp to every record.
udal_result_t make_event(udal_device_t device, udal_event_flags_t flags, Event& out) {
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = flags;
  return udal_event_create(device, &desc, &out.handle);
}

udal_result_t make_buffer(udal_device_t device, uint64_t bytes, Buffer& out) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = bytes;
  return udal_buffer_create(device, &desc, &out.handle);
}

// Fills |buffer| so its pages are resident before anything is timed.
udal_result_t touch(const Device& d, const Buffer& buffer, uint64_t bytes) {
  const uint32_t pattern = 0x3f800000; // 1.0f
  udal_result_t r = udal_stream_fill_buffer(d.stream, buffer.handle, 0, bytes, &pattern, 4);
  if (r != UDAL_SUCCESS)
    return r;
  return udal_stream_synchronize(d.stream, UDAL_TIMEOUT_INFINITE);
}

// ---- call overhead ----------------------------------------------------------------------

// udal_event_query on an event that was never recorded (complete): the cheapest call there
// is, so the time is libudal's checks plus its one load and indirect call.
void bm_hop_udal(benchmark::State& state, Device* d) {
  Event event;
  BENCH_CHECK(state, make_event(d->device, 0, event));
  for (auto _ : state) {
    udal_event_t e = event.handle;
    benchmark::DoNotOptimize(e); // reload the handle each time, as a caller would
    benchmark::DoNotOptimize(udal_event_query(e));
  }
}

// The same call through the driver's table, as libudal itself dispatches (udal_driver.h:
// every handle starts with its table pointer): the floor of a loader.
void bm_hop_direct(benchmark::State& state, Device* d) {
  Event event;
  BENCH_CHECK(state, make_event(d->device, 0, event));
  for (auto _ : state) {
    udal_event_t e = event.handle;
    benchmark::DoNotOptimize(e);
    const udal_driver_table_t* table = *reinterpret_cast<const udal_driver_table_t* const*>(e);
    benchmark::DoNotOptimize(table->event_query(e));
  }
}

// ---- launches ---------------------------------------------------------------------------

void bm_launch_latency(benchmark::State& state, Device* d) {
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  // Warm-up: worker threads, a JIT's first compile, caches.
  for (int i = 0; i < 100; ++i) {
    BENCH_CHECK(state, udal_stream_launch(d->stream, d->empty, &launch));
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
  }
  LatencySamples samples;
  for (auto _ : state) {
    samples.start();
    BENCH_CHECK(state, udal_stream_launch(d->stream, d->empty, &launch));
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
    samples.stop();
  }
  samples.report(state);
}

void bm_launch_throughput(benchmark::State& state, Device* d) {
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  const uint32_t n = config().throughput_launches;
  BENCH_CHECK(state, udal_stream_launch(d->stream, d->empty, &launch));
  BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
  for (auto _ : state) {
    for (uint32_t i = 0; i < n; ++i) {
      BENCH_CHECK(state, udal_stream_launch(d->stream, d->empty, &launch));
    }
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
  }
  set_launch_rate(state, n);
}

void bm_saxpy(benchmark::State& state, Device* d) {
  const uint32_t n = config().saxpy_elements;
  const uint64_t bytes = uint64_t{n} * sizeof(float);
  Buffer x;
  Buffer y;
  BENCH_CHECK(state, make_buffer(d->device, bytes, x));
  BENCH_CHECK(state, make_buffer(d->device, bytes, y));
  BENCH_CHECK(state, touch(*d, x, bytes));
  BENCH_CHECK(state, touch(*d, y, bytes));
  const float a = 0.5f;
  // x is only read, y read and written: as the kernels declare them.
  const udal_kernel_arg_t args[] = {udal_arg_buffer_access(x.handle, 0, UDAL_ARG_ACCESS_READ),
                                    udal_arg_buffer_access(y.handle, 0, UDAL_ARG_ACCESS_READ_WRITE),
                                    udal_arg_value(&a, sizeof a), udal_arg_value(&n, sizeof n)};
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  launch.group_size[0] = d->group_size();
  launch.group_count[0] = (n + launch.group_size[0] - 1) / launch.group_size[0];
  launch.args = args;
  launch.arg_count = 4;
  BENCH_CHECK(state, udal_stream_launch(d->stream, d->saxpy, &launch)); // warm-up
  BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
  for (auto _ : state) {
    BENCH_CHECK(state, udal_stream_launch(d->stream, d->saxpy, &launch));
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * uint64_t{n} * 12));
}

// ---- transfers --------------------------------------------------------------------------

void bm_copy(benchmark::State& state, Device* d, uint64_t bytes) {
  Buffer src;
  Buffer dst;
  BENCH_CHECK(state, make_buffer(d->device, bytes, src));
  BENCH_CHECK(state, make_buffer(d->device, bytes, dst));
  BENCH_CHECK(state, touch(*d, src, bytes));
  BENCH_CHECK(state, touch(*d, dst, bytes));
  for (auto _ : state) {
    BENCH_CHECK(state, udal_stream_copy_buffer(d->stream, src.handle, 0, dst.handle, 0, bytes));
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void bm_fill(benchmark::State& state, Device* d, uint64_t bytes) {
  Buffer dst;
  BENCH_CHECK(state, make_buffer(d->device, bytes, dst));
  BENCH_CHECK(state, touch(*d, dst, bytes));
  uint32_t pattern = 0;
  for (auto _ : state) {
    ++pattern;
    BENCH_CHECK(state, udal_stream_fill_buffer(d->stream, dst.handle, 0, bytes, &pattern, 4));
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void bm_host_write(benchmark::State& state, Device* d, uint64_t bytes) {
  Buffer dst;
  BENCH_CHECK(state, make_buffer(d->device, bytes, dst));
  BENCH_CHECK(state, touch(*d, dst, bytes));
  std::vector<char> host(bytes, 1);
  for (auto _ : state) {
    BENCH_CHECK(state, udal_stream_write_buffer(d->stream, dst.handle, 0, host.data(), bytes));
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void bm_host_read(benchmark::State& state, Device* d, uint64_t bytes) {
  Buffer src;
  BENCH_CHECK(state, make_buffer(d->device, bytes, src));
  BENCH_CHECK(state, touch(*d, src, bytes));
  std::vector<char> host(bytes, 1);
  for (auto _ : state) {
    BENCH_CHECK(state, udal_stream_read_buffer(d->stream, src.handle, 0, host.data(), bytes));
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

// ---- synchronization --------------------------------------------------------------------

// |flags| 0: a plain event, as a framework orders work with; UDAL_EVENT_FLAG_TIMING: the
// same with a timestamp per record (timed_round_trip), which is what the opt-in saves.
void bm_event_round_trip(benchmark::State& state, Device* d, udal_event_flags_t flags) {
  Event event;
  BENCH_CHECK(state, make_event(d->device, flags, event));
  LatencySamples samples;
  for (auto _ : state) {
    samples.start();
    BENCH_CHECK(state, udal_stream_record_event(d->stream, event.handle));
    BENCH_CHECK(state, udal_event_wait(event.handle, UDAL_TIMEOUT_INFINITE));
    samples.stop();
  }
  samples.report(state);
}

// A host function on an idle stream, then synchronize: how soon a framework's "work done"
// callback (PJRT's OnReady) runs and the stream is seen idle again.
void bm_host_function(benchmark::State& state, Device* d) {
  uint64_t calls = 0;
  const udal_host_function_t count = [](void* user_data) { ++*static_cast<uint64_t*>(user_data); };
  LatencySamples samples;
  for (auto _ : state) {
    samples.start();
    BENCH_CHECK(state, udal_stream_enqueue_host_function(d->stream, count, &calls));
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
    samples.stop();
  }
  if (calls != static_cast<uint64_t>(state.iterations())) {
    state.SkipWithError(fmt::format("the host function ran {} times in {} iterations", calls,
                                    state.iterations())
                            .c_str());
    return;
  }
  samples.report(state);
}

void bm_sync_idle(benchmark::State& state, Device* d) {
  BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
  LatencySamples samples;
  for (auto _ : state) {
    samples.start();
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
    samples.stop();
  }
  samples.report(state);
}

// Names as common.h describes: "<workload>/<backend>[/<bytes>]".
template <typename Fn, typename... Args>
void add(const char* workload, const std::string& backend, Fn fn, Args... args) {
  benchmark::RegisterBenchmark(fmt::format("{}/{}", workload, backend).c_str(), fn, args...)
      ->UseRealTime();
}

template <typename Fn, typename Object>
void add_sized(const char* workload, const std::string& backend, uint64_t bytes, Fn fn,
               Object* object) {
  benchmark::RegisterBenchmark(fmt::format("{}/{}/{}", workload, backend, bytes).c_str(), fn,
                               object, bytes)
      ->UseRealTime();
}

void register_device(Device* d) {
  const std::string& b = d->backend;
  add("loader_hop", b, bm_hop_udal, d);
  add("loader_hop", fmt::format("udal-direct:{}", d->driver), bm_hop_direct, d);
  if (d->empty != nullptr) {
    add("launch_latency", b, bm_launch_latency, d);
    add("launch_throughput", b, bm_launch_throughput, d);
  }
  if (d->saxpy != nullptr)
    add("saxpy", b, bm_saxpy, d);
  if (d->empty == nullptr || d->saxpy == nullptr) {
    std::fprintf(stderr, "udal-bench: %s: kernel workloads skipped: %s\n", b.c_str(),
                 d->kernel_error.c_str());
  }
  for (uint64_t bytes : config().sizes) {
    if (bytes > d->info.max_allocation_bytes)
      continue;
    add_sized("copy", b, bytes, bm_copy, d);
    add_sized("fill", b, bytes, bm_fill, d);
    add_sized("host_write", b, bytes, bm_host_write, d);
    add_sized("host_read", b, bytes, bm_host_read, d);
  }
  add("event_round_trip", b, bm_event_round_trip, d, udal_event_flags_t{0});
  if (d->info.features & UDAL_DEVICE_FEATURE_TIMESTAMPS)
    add("timed_round_trip", b, bm_event_round_trip, d, UDAL_EVENT_FLAG_TIMING);
  add("host_function", b, bm_host_function, d);
  add("sync_idle", b, bm_sync_idle, d);
}

} // namespace

int register_udal_benchmarks() {
  udal_result_t r = udal_instance_create(nullptr, &g_instance);
  if (r != UDAL_SUCCESS) {
    std::fprintf(stderr, "udal-bench: no UDAL run: %s\n",
                 failure("udal_instance_create", r).c_str());
    return 0;
  }
  uint32_t driver_count = 0;
  udal_instance_get_driver_count(g_instance, &driver_count);
  for (uint32_t i = 0; i < driver_count; ++i) {
    udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
    if (udal_instance_get_driver_status(g_instance, i, &status) != UDAL_SUCCESS)
      continue;
    if (status.state != UDAL_DRIVER_STATE_LOADED) {
      std::fprintf(stderr, "udal-bench: driver %s not loaded: %s\n", status.name, status.reason);
    } else if (status.device_count == 0) {
      std::fprintf(stderr, "udal-bench: driver %s has no device\n", status.name);
    }
  }
  uint32_t device_count = 0;
  udal_instance_get_device_count(g_instance, &device_count);
  for (uint32_t i = 0; i < device_count; ++i) {
    auto d = std::make_unique<Device>();
    if (udal_instance_get_device(g_instance, i, &d->device) != UDAL_SUCCESS)
      continue;
    if (udal_device_get_info(d->device, &d->info) != UDAL_SUCCESS)
      continue;
    d->driver = d->info.driver_name;
    // "udal:<driver>", and ":<n>" for a driver's second and later devices.
    int same = 0;
    for (const auto& other : g_devices)
      same += other->driver == d->driver ? 1 : 0;
    d->backend =
        same > 0 ? fmt::format("udal:{}:{}", d->driver, same) : fmt::format("udal:{}", d->driver);
    r = udal_stream_create(d->device, nullptr, &d->stream);
    if (r != UDAL_SUCCESS) {
      std::fprintf(stderr, "udal-bench: %s skipped: %s\n", d->backend.c_str(),
                   failure("udal_stream_create", r).c_str());
      continue;
    }
    r = make_kernel(*d, "empty", &d->empty_module, &d->empty);
    if (r == UDAL_SUCCESS)
      r = make_kernel(*d, "saxpy", &d->saxpy_module, &d->saxpy);
    if (r != UDAL_SUCCESS)
      d->kernel_error = failure("make_kernel", r);
    std::fprintf(stderr, "udal-bench: %s: %s (%s)\n", d->backend.c_str(), d->info.name,
                 d->info.vendor);
    register_device(d.get());
    g_devices.push_back(std::move(d));
  }
  return static_cast<int>(g_devices.size());
}

void release_udal() {
  for (auto& d : g_devices) {
    if (d->stream != nullptr)
      udal_stream_destroy(d->stream);
    if (d->empty != nullptr)
      udal_kernel_destroy(d->empty);
    if (d->saxpy != nullptr)
      udal_kernel_destroy(d->saxpy);
    if (d->empty_module != nullptr)
      udal_module_destroy(d->empty_module);
    if (d->saxpy_module != nullptr)
      udal_module_destroy(d->saxpy_module);
  }
  g_devices.clear();
  if (g_instance != nullptr)
    udal_instance_release(g_instance);
  g_instance = nullptr;
}

} // namespace udal_bench
