// bench_cpu — the CPU driver's two headline numbers, through libudal:
//   1. launch latency: enqueue -> completion of an empty 1-group kernel (median of N);
//   2. copy bandwidth: a 256 MiB DEVICE -> DEVICE buffer copy vs memcpy (best of N).
// A benchmark, never a test: it asserts nothing about time.
//
//   bench_cpu [manifest] [kernel module]   (defaults: the build tree's)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "udal/udal.h"

namespace {

using Clock = std::chrono::steady_clock;

void check(udal_result_t r, const char* what) {
  if (r != UDAL_SUCCESS) {
    std::fprintf(stderr, "bench_cpu: %s: %s: %s\n", what, udal_result_name(r),
                 udal_last_error_message());
    std::exit(1);
  }
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const char* manifest = argc > 1 ? argv[1] : UDAL_CPU_MANIFEST;
  const char* module_path = argc > 2 ? argv[2] : UDAL_CPU_BENCH_KERNELS;

  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.flags = UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT;
  desc.driver_paths = &manifest;
  desc.driver_path_count = 1;
  udal_instance_t instance = nullptr;
  check(udal_instance_create(&desc, &instance), "udal_instance_create");
  udal_device_t device = nullptr;
  check(udal_instance_get_device(instance, 0, &device), "udal_instance_get_device");
  udal_device_info_t info = {};
  info.struct_size = sizeof(info);
  check(udal_device_get_info(device, &info), "udal_device_get_info");
  std::printf("device: %s (%s)\n", info.name, info.vendor);

  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  image.path = module_path;
  udal_module_desc_t module_desc = UDAL_MODULE_DESC_INIT;
  module_desc.images = &image;
  module_desc.image_count = 1;
  udal_module_t module = nullptr;
  check(udal_module_create(device, &module_desc, &module), "udal_module_create");
  udal_kernel_t kernel = nullptr;
  check(udal_kernel_create(module, "empty", &kernel), "udal_kernel_create");
  udal_stream_t stream = nullptr;
  check(udal_stream_create(device, nullptr, &stream), "udal_stream_create");

  // 1. Launch latency.
  constexpr int kLaunches = 10000;
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  for (int i = 0; i < 1000; ++i) {  // warm-up: thread start, page faults, caches
    check(udal_stream_launch(stream, kernel, &launch), "udal_stream_launch");
    check(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), "udal_stream_synchronize");
  }
  std::vector<double> latencies(kLaunches);
  for (int i = 0; i < kLaunches; ++i) {
    const auto t0 = Clock::now();
    check(udal_stream_launch(stream, kernel, &launch), "udal_stream_launch");
    check(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), "udal_stream_synchronize");
    latencies[i] = seconds_since(t0) * 1e6;
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf("launch latency (enqueue -> completion, empty 1-group kernel, %d runs): "
              "median %.2f us, p10 %.2f us, p90 %.2f us, p99 %.2f us\n",
              kLaunches, latencies[kLaunches / 2], latencies[kLaunches / 10],
              latencies[kLaunches * 9 / 10], latencies[kLaunches * 99 / 100]);

  // Throughput of back-to-back launches (one synchronize at the end).
  {
    const auto t0 = Clock::now();
    for (int i = 0; i < kLaunches; ++i) {
      check(udal_stream_launch(stream, kernel, &launch), "udal_stream_launch");
    }
    check(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), "udal_stream_synchronize");
    std::printf("launch throughput (%d back-to-back empty launches): %.2f us per launch\n",
                kLaunches, seconds_since(t0) * 1e6 / kLaunches);
  }

  // 2. Copy bandwidth.
  constexpr uint64_t kBytes = uint64_t{256} << 20;
  constexpr int kRepeats = 7;
  udal_buffer_desc_t buffer_desc = UDAL_BUFFER_DESC_INIT;
  buffer_desc.size = kBytes;
  udal_buffer_t src = nullptr;
  udal_buffer_t dst = nullptr;
  check(udal_buffer_create(device, &buffer_desc, &src), "udal_buffer_create");
  check(udal_buffer_create(device, &buffer_desc, &dst), "udal_buffer_create");
  const uint32_t pattern = 0x01020304;
  check(udal_stream_fill_buffer(stream, src, 0, kBytes, &pattern, 4), "fill");
  check(udal_stream_fill_buffer(stream, dst, 0, kBytes, &pattern, 4), "fill");  // fault pages in
  check(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), "udal_stream_synchronize");
  double best_udal = 1e9;
  for (int i = 0; i < kRepeats; ++i) {
    const auto t0 = Clock::now();
    check(udal_stream_copy_buffer(stream, src, 0, dst, 0, kBytes), "udal_stream_copy_buffer");
    check(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), "udal_stream_synchronize");
    best_udal = std::min(best_udal, seconds_since(t0));
  }
  std::vector<char> a(kBytes, 1);
  std::vector<char> b(kBytes, 2);
  double best_memcpy = 1e9;
  for (int i = 0; i < kRepeats; ++i) {
    const auto t0 = Clock::now();
    std::memcpy(b.data(), a.data(), kBytes);
    best_memcpy = std::min(best_memcpy, seconds_since(t0));
  }
  if (b[kBytes / 2] != 1) std::printf("(memcpy check failed)\n");
  std::printf("copy 256 MiB DEVICE -> DEVICE (best of %d): %.2f GB/s; memcpy 256 MiB: %.2f GB/s "
              "(bytes copied per second)\n",
              kRepeats, kBytes / best_udal / 1e9, kBytes / best_memcpy / 1e9);

  check(udal_buffer_destroy(src), "udal_buffer_destroy");
  check(udal_buffer_destroy(dst), "udal_buffer_destroy");
  check(udal_stream_destroy(stream), "udal_stream_destroy");
  check(udal_kernel_destroy(kernel), "udal_kernel_destroy");
  check(udal_module_destroy(module), "udal_module_destroy");
  check(udal_instance_release(instance), "udal_instance_release");
  return 0;
}
