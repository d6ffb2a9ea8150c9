// udal_bench.cpp — every workload on every device of every driver libudal loads, and the
// per-call workloads on the CPU driver again with each of libudal's layers on.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include "bench_kernels_cl.h"
#include "common.h"
#include "remote_servers.h"
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
  udal_instance_t instance = nullptr; // not owned
  udal_device_t device = nullptr;
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  udal_stream_t stream = nullptr;
  udal_module_t empty_module = nullptr;
  udal_module_t saxpy_module = nullptr;
  udal_kernel_t empty = nullptr;
  udal_kernel_t saxpy = nullptr;
  udal_module_format_t kernel_format = UDAL_MODULE_FORMAT_NONE; // the image the device took
  std::string kernel_error;                                     // why there are no kernels

  uint32_t group_size() const {
    return std::min({1024u, info.max_group_size[0], info.max_group_invocations});
  }
};

// The instance every driver is loaded into, then one per layer (CPU driver only).
std::vector<udal_instance_t> g_instances;
std::vector<std::unique_ptr<Device>> g_devices;
std::string g_trace_path; // the trace layer's file, removed at release_udal

const char* format_name(udal_module_format_t format) {
  switch (format) {
  case UDAL_MODULE_FORMAT_HOST_NATIVE:
    return "HOST_NATIVE";
  case UDAL_MODULE_FORMAT_SPIRV_COMPUTE:
    return "SPIRV_COMPUTE";
  case UDAL_MODULE_FORMAT_SPIRV_KERNEL:
    return "SPIRV_KERNEL";
  case UDAL_MODULE_FORMAT_OPENCL_C:
    return "OPENCL_C";
  default:
    return "another format";
  }
}

// A module from every image udal-bench has for |kernel|: the HOST_NATIVE shared object, the
// SPIR-V compute shader, the OpenCL C text the OpenCL peer builds and its SPIR-V kernel; the
// device takes the first it accepts (so an OpenCL device builds the very text the peer
// does, and the Level Zero driver takes the SPIR-V made from it). |out_format| is the one
// taken.
udal_result_t make_kernel(Device& d, const char* kernel, udal_module_t* out_module,
                          udal_kernel_t* out_kernel, udal_module_format_t* out_format) {
  const std::filesystem::path dir = config().kernel_dir;
  const std::string host_path = (dir / "bench_kernels.so").string();
  const std::string spv_path = (dir / fmt::format("{}.spv", kernel)).string();
  const std::string kernel_spv_path = (dir / "bench_kernels.spirv-kernel.spv").string();
  std::vector<udal_module_image_t> images;
  const auto add_file = [&](udal_module_format_t format, const std::string& path) {
    if (!std::filesystem::exists(path))
      return;
    udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
    image.format = format;
    image.path = path.c_str();
    images.push_back(image);
  };
  add_file(UDAL_MODULE_FORMAT_HOST_NATIVE, host_path);
  add_file(UDAL_MODULE_FORMAT_SPIRV_COMPUTE, spv_path);
  {
    udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
    image.format = UDAL_MODULE_FORMAT_OPENCL_C;
    image.data = kBenchKernelsOpenClC;
    image.size = sizeof kBenchKernelsOpenClC - 1; // the text, without the terminating NUL
    images.push_back(image);
  }
  add_file(UDAL_MODULE_FORMAT_SPIRV_KERNEL, kernel_spv_path);
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = images.data();
  desc.image_count = static_cast<uint32_t>(images.size());
  udal_result_t r = udal_module_create(d.device, &desc, out_module);
  if (r != UDAL_SUCCESS)
    return r;
  udal_module_info_t info = UDAL_MODULE_INFO_INIT;
  if (udal_module_get_info(*out_module, &info) == UDAL_SUCCESS && info.image_index < images.size())
    *out_format = images[info.image_index].format;
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

// The best iteration of a bandwidth workload, beside Google Benchmark's mean: the host
// limits report their best (as STREAM does), and the report compares best with best, which a
// burst of load on a shared machine does not move. Only iterations of at least 1 MiB are
// timed one by one (two clock reads are nothing beside them).
class BestIteration {
public:
  explicit BestIteration(uint64_t bytes) : bytes_(bytes), on_(bytes >= (uint64_t{1} << 20)) {}
  void start() {
    if (on_)
      t0_ = LatencySamples::Clock::now();
  }
  void stop() {
    if (!on_)
      return;
    const double s = std::chrono::duration<double>(LatencySamples::Clock::now() - t0_).count();
    best_s_ = best_s_ == 0 ? s : std::min(best_s_, s);
  }
  void report(benchmark::State& state) const {
    if (best_s_ > 0)
      state.counters["best_bytes_per_second"] = static_cast<double>(bytes_) / best_s_;
  }

private:
  uint64_t bytes_;
  bool on_;
  LatencySamples::Clock::time_point t0_;
  double best_s_ = 0;
};

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
  BestIteration best(uint64_t{n} * 12);
  for (auto _ : state) {
    best.start();
    BENCH_CHECK(state, udal_stream_launch(d->stream, d->saxpy, &launch));
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
    best.stop();
  }
  best.report(state);
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
  BestIteration best(bytes);
  for (auto _ : state) {
    best.start();
    BENCH_CHECK(state, udal_stream_copy_buffer(d->stream, src.handle, 0, dst.handle, 0, bytes));
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
    best.stop();
  }
  best.report(state);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void bm_fill(benchmark::State& state, Device* d, uint64_t bytes) {
  Buffer dst;
  BENCH_CHECK(state, make_buffer(d->device, bytes, dst));
  BENCH_CHECK(state, touch(*d, dst, bytes));
  uint32_t pattern = 0;
  BestIteration best(bytes);
  for (auto _ : state) {
    best.start();
    ++pattern;
    BENCH_CHECK(state, udal_stream_fill_buffer(d->stream, dst.handle, 0, bytes, &pattern, 4));
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
    best.stop();
  }
  best.report(state);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void bm_host_write(benchmark::State& state, Device* d, uint64_t bytes) {
  Buffer dst;
  BENCH_CHECK(state, make_buffer(d->device, bytes, dst));
  BENCH_CHECK(state, touch(*d, dst, bytes));
  std::vector<char> host(bytes, 1);
  BestIteration best(bytes);
  for (auto _ : state) {
    best.start();
    BENCH_CHECK(state, udal_stream_write_buffer(d->stream, dst.handle, 0, host.data(), bytes));
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
    best.stop();
  }
  best.report(state);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void bm_host_read(benchmark::State& state, Device* d, uint64_t bytes) {
  Buffer src;
  BENCH_CHECK(state, make_buffer(d->device, bytes, src));
  BENCH_CHECK(state, touch(*d, src, bytes));
  std::vector<char> host(bytes, 1);
  BestIteration best(bytes);
  for (auto _ : state) {
    best.start();
    BENCH_CHECK(state, udal_stream_read_buffer(d->stream, src.handle, 0, host.data(), bytes));
    BENCH_CHECK(state, udal_stream_synchronize(d->stream, UDAL_TIMEOUT_INFINITE));
    best.stop();
  }
  best.report(state);
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
    state.SkipWithError(
        fmt::format("the host function ran {} times in {} iterations", calls, state.iterations())
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
benchmark::internal::Benchmark* add(const char* workload, const std::string& backend, Fn fn,
                                    Args... args) {
  return benchmark::RegisterBenchmark(fmt::format("{}/{}", workload, backend).c_str(), fn, args...)
      ->UseRealTime();
}

template <typename Fn, typename Object>
benchmark::internal::Benchmark* add_sized(const char* workload, const std::string& backend,
                                          uint64_t bytes, Fn fn, Object* object) {
  return benchmark::RegisterBenchmark(fmt::format("{}/{}/{}", workload, backend, bytes).c_str(), fn,
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

// With a layer on: the workloads whose time is mostly the calls themselves, so the layer's
// cost per call shows — a call (loader_hop), an enqueue (launches, the smallest fill), a
// wait (event round trip, idle synchronize). The trace layer writes a line per call and
// several per operation (about 150 bytes each), so its runs have a fixed number of
// iterations (|bounded|): some 25 MiB of file a repetition. The others run as long as Google
// Benchmark decides.
void register_layered_device(Device* d, bool bounded) {
  const std::string& b = d->backend;
  const bool smoke = config().smoke;
  const auto bound = [&](benchmark::internal::Benchmark* bm, int64_t iterations) {
    if (bounded)
      bm->Iterations(smoke ? std::min<int64_t>(iterations, 100) : iterations);
  };
  bound(add("loader_hop", b, bm_hop_udal, d), 30000);
  if (d->empty != nullptr) {
    bound(add("launch_latency", b, bm_launch_latency, d), 5000);
    bound(add("launch_throughput", b, bm_launch_throughput, d), 1);
  }
  if (!config().sizes.empty())
    bound(add_sized("fill", b, config().sizes.front(), bm_fill, d), 5000);
  bound(add("event_round_trip", b, bm_event_round_trip, d, udal_event_flags_t{0}), 5000);
  bound(add("sync_idle", b, bm_sync_idle, d), 10000);
}

// Sets (|value|) or unsets (nullptr) an environment variable for as long as it lives: libudal
// reads its layer variables when an instance is created.
class ScopedEnv {
public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name))
      old_ = old;
    if (value != nullptr)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
  const char* name_;
  std::optional<std::string> old_;
};

udal_layer_status_t layer_status(udal_instance_t instance, udal_layer_t layer) {
  udal_layer_status_t status = UDAL_LAYER_STATUS_INIT;
  if (udal_instance_get_layer_status(instance, static_cast<uint32_t>(layer), &status) !=
      UDAL_SUCCESS) {
    status.state = UDAL_LAYER_STATE_FAILED;
    status.reason = udal_last_error_message();
  }
  return status;
}

// Opens every device of |instance| as "<prefix>:<driver>[:<n>]" (<driver> is |driver_label|
// when given), makes its stream and kernels, and registers its workloads with |register_fn|.
int open_devices(udal_instance_t instance, const std::string& prefix,
                 const std::function<void(Device*)>& register_fn,
                 const char* driver_label = nullptr) {
  int opened = 0;
  uint32_t device_count = 0;
  udal_instance_get_device_count(instance, &device_count);
  for (uint32_t i = 0; i < device_count; ++i) {
    auto d = std::make_unique<Device>();
    d->instance = instance;
    if (udal_instance_get_device(instance, i, &d->device) != UDAL_SUCCESS)
      continue;
    if (udal_device_get_info(d->device, &d->info) != UDAL_SUCCESS)
      continue;
    d->driver = driver_label != nullptr ? driver_label : d->info.driver_name;
    // ":<n>" for a driver's second and later devices.
    int same = 0;
    for (const auto& other : g_devices)
      same += other->instance == instance && other->driver == d->driver ? 1 : 0;
    d->backend = same > 0 ? fmt::format("{}:{}:{}", prefix, d->driver, same)
                          : fmt::format("{}:{}", prefix, d->driver);
    udal_result_t r = udal_stream_create(d->device, nullptr, &d->stream);
    if (r != UDAL_SUCCESS) {
      std::fprintf(stderr, "udal-bench: %s skipped: %s\n", d->backend.c_str(),
                   failure("udal_stream_create", r).c_str());
      continue;
    }
    r = make_kernel(*d, "empty", &d->empty_module, &d->empty, &d->kernel_format);
    if (r == UDAL_SUCCESS)
      r = make_kernel(*d, "saxpy", &d->saxpy_module, &d->saxpy, &d->kernel_format);
    if (r != UDAL_SUCCESS)
      d->kernel_error = failure("make_kernel", r);
    std::fprintf(stderr, "udal-bench: %s: %s (%s)", d->backend.c_str(), d->info.name,
                 d->info.vendor);
    if (d->empty != nullptr && d->saxpy != nullptr)
      std::fprintf(stderr, ", kernels from the %s image\n", format_name(d->kernel_format));
    else
      std::fprintf(stderr, "; kernel workloads skipped: %s\n", d->kernel_error.c_str());
    register_fn(d.get());
    g_devices.push_back(std::move(d));
    ++opened;
  }
  return opened;
}

// The CPU driver's manifest (or library) as |instance| found it: the layered instances load
// that driver only. Empty when the CPU driver is not loaded.
std::string cpu_driver_path(udal_instance_t instance) {
  uint32_t driver_count = 0;
  udal_instance_get_driver_count(instance, &driver_count);
  for (uint32_t i = 0; i < driver_count; ++i) {
    udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
    if (udal_instance_get_driver_status(instance, i, &status) != UDAL_SUCCESS ||
        status.state != UDAL_DRIVER_STATE_LOADED || std::strcmp(status.name, "cpu") != 0) {
      continue;
    }
    return status.manifest_path[0] != '\0' ? status.manifest_path : status.library_path;
  }
  return {};
}

// A second instance on the CPU driver with |layer| on and the other layer off, whatever the
// environment says: validation through UDAL_INSTANCE_FLAG_VALIDATION, trace through
// UDAL_TRACE (the only switch it has) set while the instance is created. Its devices are
// "udal+<layer>:cpu".
void open_layered(udal_layer_t layer, const std::string& cpu_path) {
  const char* name = layer == UDAL_LAYER_VALIDATION ? "validation" : "trace";
  const std::string backend_prefix = fmt::format("udal+{}", name);
  const char* path = cpu_path.c_str();
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.driver_paths = &path;
  desc.driver_path_count = 1;
  udal_instance_t instance = nullptr;
  udal_result_t r = UDAL_SUCCESS;
  if (layer == UDAL_LAYER_VALIDATION) {
    desc.flags = UDAL_INSTANCE_FLAG_VALIDATION;
    const ScopedEnv no_trace("UDAL_TRACE", nullptr);
    r = udal_instance_create(&desc, &instance);
  } else {
    g_trace_path =
        (std::filesystem::temp_directory_path() / fmt::format("udal-bench-trace-{}.json", getpid()))
            .string();
    const ScopedEnv trace("UDAL_TRACE", g_trace_path.c_str());
    const ScopedEnv no_validation("UDAL_VALIDATION", nullptr);
    r = udal_instance_create(&desc, &instance);
  }
  if (r != UDAL_SUCCESS) {
    std::fprintf(stderr, "udal-bench: no %s:cpu: %s\n", backend_prefix.c_str(),
                 failure("udal_instance_create", r).c_str());
    return;
  }
  g_instances.push_back(instance);
  const udal_layer_status_t status = layer_status(instance, layer);
  if (status.state != UDAL_LAYER_STATE_ON) {
    std::fprintf(stderr, "udal-bench: no %s:cpu: the %s layer is not on: %s\n",
                 backend_prefix.c_str(), name, status.reason);
    return;
  }
  const bool bounded = layer == UDAL_LAYER_TRACE;
  const int opened = open_devices(instance, backend_prefix,
                                  [bounded](Device* d) { register_layered_device(d, bounded); });
  if (opened == 0)
    std::fprintf(stderr, "udal-bench: no %s:cpu: the CPU driver has no device\n",
                 backend_prefix.c_str());
  else if (bounded)
    std::fprintf(stderr, "udal-bench: %s:cpu writes %s (removed at the end)\n",
                 backend_prefix.c_str(), g_trace_path.c_str());
}

// ---- remote -----------------------------------------------------------------------------

// The servers of the remote rows and their files; released after every instance, so the
// clients leave before their servers do.
struct RemoteRun {
  RemoteFiles files;
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<ServerChild> plain;
  std::unique_ptr<ServerChild> tls;
};
std::unique_ptr<RemoteRun> g_remote;

// The rows #12 asks for, over the network: a round trip, pipelined launches, and host
// transfers of the largest size into and out of a DEVICE buffer.
void register_remote_device(Device* d) {
  const std::string& b = d->backend;
  add("event_round_trip", b, bm_event_round_trip, d, udal_event_flags_t{0});
  if (d->empty != nullptr)
    add("launch_throughput", b, bm_launch_throughput, d);
  const uint64_t bytes = config().sizes.empty() ? 0 : config().sizes.back();
  if (bytes != 0 && bytes <= d->info.max_allocation_bytes) {
    add_sized("host_write", b, bytes, bm_host_write, d);
    add_sized("host_read", b, bytes, bm_host_read, d);
  }
}

// An instance of the remote driver alone, connected to |server| (with |certs| for TLS, else
// plain TCP); its device is "<prefix>:cpu". Returns the devices opened.
int open_remote(const std::string& prefix, const ServerChild& server, const Certificates* certs) {
  const RemoteRun& run = *g_remote;
  const std::string address = server.address();
  udal_instance_t instance = nullptr;
  udal_result_t r = UDAL_SUCCESS;
  {
    // Only what is set here: no config file, no driver filter of the caller's.
    const ScopedEnv servers("UDAL_REMOTE_SERVERS", address.c_str());
    const ScopedEnv insecure("UDAL_REMOTE_INSECURE", certs == nullptr ? "1" : "0");
    const ScopedEnv cert("UDAL_REMOTE_CERT", certs ? certs->client_cert.c_str() : nullptr);
    const ScopedEnv key("UDAL_REMOTE_KEY", certs ? certs->client_key.c_str() : nullptr);
    const ScopedEnv ca("UDAL_REMOTE_CA", certs ? certs->ca.c_str() : nullptr);
    const ScopedEnv config("UDAL_REMOTE_CONFIG", nullptr);
    const ScopedEnv xdg("XDG_CONFIG_HOME", run.dir->path().c_str());
    const ScopedEnv select("UDAL_DRIVERS_SELECT", nullptr);
    const ScopedEnv disable("UDAL_DRIVERS_DISABLE", nullptr);
    const char* path = run.files.remote_manifest.c_str();
    udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
    desc.driver_paths = &path;
    desc.driver_path_count = 1;
    r = udal_instance_create(&desc, &instance);
  }
  if (r != UDAL_SUCCESS) {
    std::fprintf(stderr, "udal-bench: no %s:cpu: %s\n", prefix.c_str(),
                 failure("udal_instance_create", r).c_str());
    return 0;
  }
  g_instances.push_back(instance);
  udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
  if (udal_instance_get_driver_status(instance, 0, &status) == UDAL_SUCCESS &&
      status.state != UDAL_DRIVER_STATE_LOADED) {
    std::fprintf(stderr, "udal-bench: no %s:cpu: the remote driver did not load: %s\n",
                 prefix.c_str(), status.reason);
    return 0;
  }
  const int opened = open_devices(instance, prefix, register_remote_device, "cpu");
  if (opened == 0)
    std::fprintf(stderr, "udal-bench: no %s:cpu: udal-server at %s offers no device\n",
                 prefix.c_str(), address.c_str());
  return opened;
}

} // namespace

int register_remote_benchmarks() {
  g_remote = std::make_unique<RemoteRun>();
  RemoteRun& run = *g_remote;
  run.files = find_remote_files();
  if (!run.files.missing.empty()) {
    std::fprintf(stderr, "udal-bench: no remote rows: %s\n", run.files.missing.c_str());
    return 0;
  }
  run.dir = std::make_unique<TempDir>();
  if (!run.dir->ok()) {
    std::fprintf(stderr, "udal-bench: no remote rows: cannot make a temporary directory: %s\n",
                 std::strerror(errno));
    return 0;
  }
  int opened = 0;
  std::string error;
  run.plain = ServerChild::start(run.files, "plain", {"--insecure"}, *run.dir, error);
  if (run.plain == nullptr)
    std::fprintf(stderr, "udal-bench: no remote:cpu: %s\n", error.c_str());
  else
    opened += open_remote("remote", *run.plain, nullptr);

  const Certificates certs = make_certificates(*run.dir);
  if (!certs.error.empty()) {
    std::fprintf(stderr, "udal-bench: no remote+tls:cpu: %s\n", certs.error.c_str());
  } else {
    run.tls = ServerChild::start(
        run.files, "tls",
        {"--cert", certs.server_cert, "--key", certs.server_key, "--client-ca", certs.ca}, *run.dir,
        error);
    if (run.tls == nullptr)
      std::fprintf(stderr, "udal-bench: no remote+tls:cpu: %s\n", error.c_str());
    else
      opened += open_remote("remote+tls", *run.tls, &certs);
  }
  if (opened > 0) {
    // bench.smoke reads the pids to check that no server outlives udal-bench.
    for (const ServerChild* server : {run.plain.get(), run.tls.get()}) {
      if (server != nullptr) {
        std::fprintf(stderr, "udal-bench: remote rows: udal-server pid %d on %s (%s), log in %s\n",
                     static_cast<int>(server->pid()), server->address().c_str(),
                     server == run.plain.get() ? "plain TCP" : "TLS 1.3", run.dir->path().c_str());
      }
    }
    register_tcp_benchmarks(config().sizes.empty() ? 0 : config().sizes.back());
  }
  return opened;
}

int register_udal_benchmarks() {
  udal_instance_t instance = nullptr;
  udal_result_t r = udal_instance_create(nullptr, &instance);
  if (r != UDAL_SUCCESS) {
    std::fprintf(stderr, "udal-bench: no UDAL run: %s\n",
                 failure("udal_instance_create", r).c_str());
    return 0;
  }
  g_instances.push_back(instance);
  for (udal_layer_t layer : {UDAL_LAYER_VALIDATION, UDAL_LAYER_TRACE}) {
    const udal_layer_status_t status = layer_status(instance, layer);
    if (status.state == UDAL_LAYER_STATE_ON) {
      std::fprintf(stderr,
                   "udal-bench: note: the %s layer is on for every udal:* backend (%s=%s): "
                   "their figures include it\n",
                   status.name, status.environment_variable, status.environment_value);
    }
  }
  uint32_t driver_count = 0;
  udal_instance_get_driver_count(instance, &driver_count);
  for (uint32_t i = 0; i < driver_count; ++i) {
    udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
    if (udal_instance_get_driver_status(instance, i, &status) != UDAL_SUCCESS)
      continue;
    if (status.state != UDAL_DRIVER_STATE_LOADED) {
      std::fprintf(stderr, "udal-bench: driver %s not loaded: %s\n", status.name, status.reason);
    } else if (status.device_count == 0) {
      std::fprintf(stderr, "udal-bench: driver %s has no device\n", status.name);
    }
  }
  const int opened = open_devices(instance, "udal", register_device);
  // Each layer's cost per call: the same CPU driver in an instance of its own with the layer
  // on, beside udal:cpu (off, which loader_hop's udal-direct:cpu shows to be no layer).
  if (const std::string cpu = cpu_driver_path(instance); !cpu.empty()) {
    open_layered(UDAL_LAYER_VALIDATION, cpu);
    open_layered(UDAL_LAYER_TRACE, cpu);
  } else {
    std::fprintf(stderr, "udal-bench: no layer rows: the CPU driver is not loaded\n");
  }
  return opened;
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
  for (udal_instance_t instance : g_instances)
    udal_instance_release(instance);
  g_instances.clear();
  g_remote.reset(); // the servers go after their clients
  if (!g_trace_path.empty()) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(g_trace_path, ec);
    if (!ec) {
      std::fprintf(stderr, "udal-bench: the trace layer wrote %.1f MiB; %s removed\n",
                   static_cast<double>(bytes) / (1 << 20), g_trace_path.c_str());
    }
    std::filesystem::remove(g_trace_path, ec);
    g_trace_path.clear();
  }
}

} // namespace udal_bench
