// vulkan_peer.cpp — the raw Vulkan peer (raw_vulkan/) on the same SPIR-V as the UDAL run.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "common.h"

#ifdef UDAL_BENCH_HAVE_VULKAN
#include "raw_vulkan.h"

namespace udal_bench {
namespace {

std::unique_ptr<raw_vulkan::Context> g_context;

// The UDAL run's group-size rule (1024 or the device's limit): lavapipe's limit is 1024.
constexpr uint32_t kSaxpyGroup = 1024;

// The raw equivalent of an event record + wait: an empty submit signalling a timeline
// semaphore, then a host wait for that value.
void bm_event_round_trip(benchmark::State& state) {
  raw_vulkan::Context& c = *g_context;
  LatencySamples samples;
  for (auto _ : state) {
    samples.start();
    const VkResult r = c.signal_and_wait();
    samples.stop();
    if (r != VK_SUCCESS) {
      state.SkipWithError(r == VK_ERROR_FEATURE_NOT_PRESENT ? "no timeline semaphores"
                                                            : "signal_and_wait failed");
      break;
    }
  }
  samples.report(state);
}

void bm_launch_latency(benchmark::State& state) {
  raw_vulkan::Context& c = *g_context;
  raw_vulkan::Pipeline p;
  std::string why;
  const std::string spv = (std::filesystem::path(config().kernel_dir) / "empty.spv").string();
  if (!c.create_pipeline(spv, "empty", 0, 0, 1, &p, &why)) {
    state.SkipWithError(why.c_str());
    c.destroy_pipeline(&p);
    return;
  }
  for (int i = 0; i < 100; ++i)
    c.dispatch_and_wait(p, 1, 1); // the first one JIT-compiles
  LatencySamples samples;
  for (auto _ : state) {
    samples.start();
    const VkResult r = c.dispatch_and_wait(p, 1, 1);
    samples.stop();
    if (r != VK_SUCCESS) {
      state.SkipWithError("dispatch_and_wait failed");
      break;
    }
  }
  samples.report(state);
  c.destroy_pipeline(&p);
}

void bm_launch_throughput(benchmark::State& state) {
  raw_vulkan::Context& c = *g_context;
  raw_vulkan::Pipeline p;
  std::string why;
  const std::string spv = (std::filesystem::path(config().kernel_dir) / "empty.spv").string();
  if (!c.create_pipeline(spv, "empty", 0, 0, 1, &p, &why)) {
    state.SkipWithError(why.c_str());
    c.destroy_pipeline(&p);
    return;
  }
  const uint32_t n = config().throughput_launches;
  c.dispatch_and_wait(p, 1, 1);
  for (auto _ : state) {
    if (c.dispatch_and_wait(p, 1, n) != VK_SUCCESS) {
      state.SkipWithError("dispatch_and_wait failed");
      break;
    }
  }
  set_launch_rate(state, n);
  c.destroy_pipeline(&p);
}

void bm_saxpy(benchmark::State& state) {
  raw_vulkan::Context& c = *g_context;
  const uint32_t n = config().saxpy_elements;
  const uint64_t bytes = uint64_t{n} * sizeof(float);
  raw_vulkan::Pipeline p;
  raw_vulkan::Buffer x;
  raw_vulkan::Buffer y;
  std::string why;
  const std::string spv = (std::filesystem::path(config().kernel_dir) / "saxpy.spv").string();
  struct {
    float a;
    uint32_t n;
  } push = {0.5f, n};
  if (!c.create_pipeline(spv, "saxpy", 2, sizeof push, kSaxpyGroup, &p, &why) ||
      !c.create_buffer(bytes, &x, &why) || !c.create_buffer(bytes, &y, &why)) {
    state.SkipWithError(why.c_str());
  } else {
    std::fill_n(static_cast<float*>(x.mapped), n, 1.0f);
    std::fill_n(static_cast<float*>(y.mapped), n, 1.0f);
    c.bind_buffers(&p, {&x, &y});
    const uint32_t groups = (n + kSaxpyGroup - 1) / kSaxpyGroup;
    c.dispatch_and_wait(p, groups, 1, &push);
    for (auto _ : state) {
      if (c.dispatch_and_wait(p, groups, 1, &push) != VK_SUCCESS) {
        state.SkipWithError("dispatch_and_wait failed");
        break;
      }
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * uint64_t{n} * 12));
  }
  c.destroy_buffer(&x);
  c.destroy_buffer(&y);
  c.destroy_pipeline(&p);
}

} // namespace

int register_raw_vulkan_benchmarks() {
  std::string why;
  g_context = raw_vulkan::Context::open(&why);
  if (!g_context) {
    std::fprintf(stderr, "udal-bench: no raw Vulkan peer: %s\n", why.c_str());
    return 0;
  }
  if (!std::filesystem::exists(std::filesystem::path(config().kernel_dir) / "empty.spv")) {
    std::fprintf(stderr, "udal-bench: no raw Vulkan peer: no SPIR-V kernels in %s\n",
                 config().kernel_dir.c_str());
    g_context.reset();
    return 0;
  }
  std::fprintf(stderr, "udal-bench: vulkan-raw: %s\n", g_context->device_name().c_str());
  benchmark::RegisterBenchmark("launch_latency/vulkan-raw", bm_launch_latency)->UseRealTime();
  benchmark::RegisterBenchmark("launch_throughput/vulkan-raw", bm_launch_throughput)->UseRealTime();
  benchmark::RegisterBenchmark("saxpy/vulkan-raw", bm_saxpy)->UseRealTime();
  benchmark::RegisterBenchmark("event_round_trip/vulkan-raw", bm_event_round_trip)->UseRealTime();
  return 1;
}

void release_raw_vulkan() {
  g_context.reset();
}

} // namespace udal_bench

#else // no Vulkan headers at build time

namespace udal_bench {
int register_raw_vulkan_benchmarks() {
  std::fprintf(stderr, "udal-bench: no raw Vulkan peer: built without Vulkan headers\n");
  return 0;
}
void release_raw_vulkan() {}
} // namespace udal_bench

#endif
