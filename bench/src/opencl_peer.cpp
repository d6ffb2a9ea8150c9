// opencl_peer.cpp — the same workloads through the OpenCL ICD loader (PoCL here), with
// kernels built at run time from OpenCL C by clBuildProgram, as an OpenCL program would: the
// text of kernels/bench_kernels.cl, which the UDAL OpenCL driver builds as the OPENCL_C image.
#include <cstdio>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "common.h"

#ifdef UDAL_BENCH_HAVE_OPENCL
// OpenCL 1.2: everything used here exists there, and no 2.0 entry point is deprecated.
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include "bench_kernels_cl.h"

namespace udal_bench {
namespace {

// The same text udal-bench's OPENCL_C image carries (kernels/bench_kernels.cl).
const char* kSource =
    kBenchKernelsOpenClC; // a variable: clCreateProgramWithSource takes const char**

#define CL_CHECK(state, call)                                                                      \
  do {                                                                                             \
    const cl_int cl_r_ = (call);                                                                   \
    if (cl_r_ != CL_SUCCESS) {                                                                     \
      (state).SkipWithError(fmt::format("{}: error {}", #call, cl_r_).c_str());                    \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

struct MemDeleter {
  void operator()(cl_mem m) const { clReleaseMemObject(m); }
};
using Mem = std::unique_ptr<std::remove_pointer_t<cl_mem>, MemDeleter>;

struct Peer {
  std::string backend;
  cl_device_id device = nullptr;
  cl_context context = nullptr;
  cl_command_queue queue = nullptr;
  cl_program program = nullptr;
  cl_kernel empty = nullptr;
  cl_kernel saxpy = nullptr;
  size_t max_group = 1;
  ~Peer() {
    if (empty)
      clReleaseKernel(empty);
    if (saxpy)
      clReleaseKernel(saxpy);
    if (program)
      clReleaseProgram(program);
    if (queue)
      clReleaseCommandQueue(queue);
    if (context)
      clReleaseContext(context);
  }
};

std::vector<std::unique_ptr<Peer>> g_peers;

Mem make_buffer(Peer* p, uint64_t bytes, cl_int* err) {
  return Mem(clCreateBuffer(p->context, CL_MEM_READ_WRITE, bytes, nullptr, err));
}

cl_int touch(Peer* p, cl_mem m, uint64_t bytes) {
  const float one = 1.0f;
  cl_int err = clEnqueueFillBuffer(p->queue, m, &one, sizeof one, 0, bytes, 0, nullptr, nullptr);
  return err != CL_SUCCESS ? err : clFinish(p->queue);
}

void bm_launch_latency(benchmark::State& state, Peer* p) {
  const size_t one = 1;
  for (int i = 0; i < 100; ++i) {
    CL_CHECK(state, clEnqueueNDRangeKernel(p->queue, p->empty, 1, nullptr, &one, &one, 0, nullptr,
                                           nullptr));
    CL_CHECK(state, clFinish(p->queue));
  }
  LatencySamples samples;
  for (auto _ : state) {
    samples.start();
    CL_CHECK(state, clEnqueueNDRangeKernel(p->queue, p->empty, 1, nullptr, &one, &one, 0, nullptr,
                                           nullptr));
    CL_CHECK(state, clFinish(p->queue));
    samples.stop();
  }
  samples.report(state);
}

void bm_launch_throughput(benchmark::State& state, Peer* p) {
  const size_t one = 1;
  const uint32_t n = config().throughput_launches;
  for (auto _ : state) {
    for (uint32_t i = 0; i < n; ++i) {
      CL_CHECK(state, clEnqueueNDRangeKernel(p->queue, p->empty, 1, nullptr, &one, &one, 0, nullptr,
                                             nullptr));
    }
    CL_CHECK(state, clFinish(p->queue));
  }
  set_launch_rate(state, n);
}

void bm_saxpy(benchmark::State& state, Peer* p) {
  const cl_uint n = config().saxpy_elements;
  const uint64_t bytes = uint64_t{n} * sizeof(float);
  cl_int err = CL_SUCCESS;
  Mem x = make_buffer(p, bytes, &err);
  CL_CHECK(state, err);
  Mem y = make_buffer(p, bytes, &err);
  CL_CHECK(state, err);
  CL_CHECK(state, touch(p, x.get(), bytes));
  CL_CHECK(state, touch(p, y.get(), bytes));
  const cl_float a = 0.5f;
  cl_mem xm = x.get();
  cl_mem ym = y.get();
  CL_CHECK(state, clSetKernelArg(p->saxpy, 0, sizeof xm, &xm));
  CL_CHECK(state, clSetKernelArg(p->saxpy, 1, sizeof ym, &ym));
  CL_CHECK(state, clSetKernelArg(p->saxpy, 2, sizeof a, &a));
  CL_CHECK(state, clSetKernelArg(p->saxpy, 3, sizeof n, &n));
  // The same group size rule as the UDAL run: 1024 or the device's limit.
  const size_t local = std::min<size_t>(1024, p->max_group);
  const size_t global = (n + local - 1) / local * local;
  CL_CHECK(state, clEnqueueNDRangeKernel(p->queue, p->saxpy, 1, nullptr, &global, &local, 0,
                                         nullptr, nullptr));
  CL_CHECK(state, clFinish(p->queue));
  for (auto _ : state) {
    CL_CHECK(state, clEnqueueNDRangeKernel(p->queue, p->saxpy, 1, nullptr, &global, &local, 0,
                                           nullptr, nullptr));
    CL_CHECK(state, clFinish(p->queue));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * uint64_t{n} * 12));
}

void bm_copy(benchmark::State& state, Peer* p, uint64_t bytes) {
  cl_int err = CL_SUCCESS;
  Mem src = make_buffer(p, bytes, &err);
  CL_CHECK(state, err);
  Mem dst = make_buffer(p, bytes, &err);
  CL_CHECK(state, err);
  CL_CHECK(state, touch(p, src.get(), bytes));
  CL_CHECK(state, touch(p, dst.get(), bytes));
  for (auto _ : state) {
    CL_CHECK(state,
             clEnqueueCopyBuffer(p->queue, src.get(), dst.get(), 0, 0, bytes, 0, nullptr, nullptr));
    CL_CHECK(state, clFinish(p->queue));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void bm_fill(benchmark::State& state, Peer* p, uint64_t bytes) {
  cl_int err = CL_SUCCESS;
  Mem dst = make_buffer(p, bytes, &err);
  CL_CHECK(state, err);
  CL_CHECK(state, touch(p, dst.get(), bytes));
  cl_uint pattern = 0;
  for (auto _ : state) {
    ++pattern;
    CL_CHECK(state, clEnqueueFillBuffer(p->queue, dst.get(), &pattern, sizeof pattern, 0, bytes, 0,
                                        nullptr, nullptr));
    CL_CHECK(state, clFinish(p->queue));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void bm_host_write(benchmark::State& state, Peer* p, uint64_t bytes) {
  cl_int err = CL_SUCCESS;
  Mem dst = make_buffer(p, bytes, &err);
  CL_CHECK(state, err);
  CL_CHECK(state, touch(p, dst.get(), bytes));
  std::vector<char> host(bytes, 1);
  for (auto _ : state) {
    CL_CHECK(state, clEnqueueWriteBuffer(p->queue, dst.get(), CL_TRUE, 0, bytes, host.data(), 0,
                                         nullptr, nullptr));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void bm_host_read(benchmark::State& state, Peer* p, uint64_t bytes) {
  cl_int err = CL_SUCCESS;
  Mem src = make_buffer(p, bytes, &err);
  CL_CHECK(state, err);
  CL_CHECK(state, touch(p, src.get(), bytes));
  std::vector<char> host(bytes, 1);
  for (auto _ : state) {
    CL_CHECK(state, clEnqueueReadBuffer(p->queue, src.get(), CL_TRUE, 0, bytes, host.data(), 0,
                                        nullptr, nullptr));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

// A marker is OpenCL's event record; clWaitForEvents its wait.
void bm_event_round_trip(benchmark::State& state, Peer* p) {
  LatencySamples samples;
  for (auto _ : state) {
    samples.start();
    cl_event event = nullptr;
    CL_CHECK(state, clEnqueueMarkerWithWaitList(p->queue, 0, nullptr, &event));
    const cl_int err = clWaitForEvents(1, &event);
    clReleaseEvent(event);
    CL_CHECK(state, err);
    samples.stop();
  }
  samples.report(state);
}

void bm_sync_idle(benchmark::State& state, Peer* p) {
  CL_CHECK(state, clFinish(p->queue));
  LatencySamples samples;
  for (auto _ : state) {
    samples.start();
    CL_CHECK(state, clFinish(p->queue));
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

std::string info_string(cl_platform_id platform, cl_platform_info what) {
  size_t size = 0;
  clGetPlatformInfo(platform, what, 0, nullptr, &size);
  std::string s(size, '\0');
  clGetPlatformInfo(platform, what, size, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0')
    s.pop_back();
  return s;
}

std::unique_ptr<Peer> open_peer(cl_platform_id platform, cl_device_id device, std::string backend) {
  auto p = std::make_unique<Peer>();
  p->backend = std::move(backend);
  p->device = device;
  cl_int err = CL_SUCCESS;
  p->context = clCreateContext(nullptr, 1, &device, nullptr, nullptr, &err);
  if (err != CL_SUCCESS)
    return nullptr;
  p->queue = clCreateCommandQueue(p->context, device, 0, &err); // in order, like a stream
  if (err != CL_SUCCESS)
    return nullptr;
  p->program = clCreateProgramWithSource(p->context, 1, &kSource, nullptr, &err);
  if (err != CL_SUCCESS)
    return nullptr;
  err = clBuildProgram(p->program, 1, &device, "", nullptr, nullptr);
  if (err != CL_SUCCESS) {
    std::fprintf(stderr, "udal-bench: %s: clBuildProgram failed (%d)\n", p->backend.c_str(), err);
    return nullptr;
  }
  p->empty = clCreateKernel(p->program, "empty", &err);
  if (err != CL_SUCCESS)
    return nullptr;
  p->saxpy = clCreateKernel(p->program, "saxpy", &err);
  if (err != CL_SUCCESS)
    return nullptr;
  clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof p->max_group, &p->max_group,
                  nullptr);
  (void)platform;
  return p;
}

} // namespace

int register_opencl_benchmarks() {
  cl_uint platform_count = 0;
  if (clGetPlatformIDs(0, nullptr, &platform_count) != CL_SUCCESS || platform_count == 0) {
    std::fprintf(stderr, "udal-bench: no OpenCL peer: the ICD loader found no platform\n");
    return 0;
  }
  std::vector<cl_platform_id> platforms(platform_count);
  clGetPlatformIDs(platform_count, platforms.data(), nullptr);
  for (cl_uint pi = 0; pi < platform_count; ++pi) {
    cl_uint device_count = 0;
    if (clGetDeviceIDs(platforms[pi], CL_DEVICE_TYPE_ALL, 0, nullptr, &device_count) !=
            CL_SUCCESS ||
        device_count == 0) {
      continue;
    }
    std::vector<cl_device_id> devices(device_count);
    clGetDeviceIDs(platforms[pi], CL_DEVICE_TYPE_ALL, device_count, devices.data(), nullptr);
    const std::string name = info_string(platforms[pi], CL_PLATFORM_NAME);
    const std::string base =
        name == "Portable Computing Language" ? "opencl:pocl" : fmt::format("opencl:p{}", pi);
    for (cl_uint di = 0; di < device_count; ++di) {
      const std::string backend = di > 0 ? fmt::format("{}:{}", base, di) : base;
      auto p = open_peer(platforms[pi], devices[di], backend);
      if (!p) {
        std::fprintf(stderr, "udal-bench: %s: could not be opened; skipped\n", backend.c_str());
        continue;
      }
      std::fprintf(stderr, "udal-bench: %s: %s\n", backend.c_str(), name.c_str());
      Peer* raw = p.get();
      g_peers.push_back(std::move(p));
      add("launch_latency", backend, bm_launch_latency, raw);
      add("launch_throughput", backend, bm_launch_throughput, raw);
      add("saxpy", backend, bm_saxpy, raw);
      for (uint64_t bytes : config().sizes) {
        add_sized("copy", backend, bytes, bm_copy, raw);
        add_sized("fill", backend, bytes, bm_fill, raw);
        add_sized("host_write", backend, bytes, bm_host_write, raw);
        add_sized("host_read", backend, bytes, bm_host_read, raw);
      }
      add("event_round_trip", backend, bm_event_round_trip, raw);
      add("sync_idle", backend, bm_sync_idle, raw);
    }
  }
  return static_cast<int>(g_peers.size());
}

} // namespace udal_bench

#else // no OpenCL headers at build time

namespace udal_bench {
int register_opencl_benchmarks() {
  std::fprintf(stderr, "udal-bench: no OpenCL peer: built without OpenCL headers\n");
  return 0;
}
} // namespace udal_bench

#endif
