// limit_bench.cpp — the host's own speed, the ceiling of the CPU driver: memcpy and memset
// of the same sizes, and a hand-written std::thread saxpy.
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common.h"

namespace udal_bench {
namespace {

// Buffers allocated and touched before timing, so page faults are not measured (the UDAL
// and peer runs also fill their buffers first).
std::vector<char> touched(uint64_t bytes) {
  return std::vector<char>(bytes, 1);
}

void bm_memcpy(benchmark::State& state, uint64_t bytes) {
  auto src = touched(bytes);
  auto dst = touched(bytes);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), bytes);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void bm_memset(benchmark::State& state, uint64_t bytes) {
  auto dst = touched(bytes);
  int value = 0;
  for (auto _ : state) {
    std::memset(dst.data(), value++ & 0xff, bytes);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

// One thread per hardware thread, spawned per call as a straightforward hand-written
// version would; the spawn (≈ 20 µs here) is noise next to 16 M elements.
void bm_saxpy_threads(benchmark::State& state, uint32_t n) {
  std::vector<float> x(n, 1.0f);
  std::vector<float> y(n, 2.0f);
  const float a = 0.5f;
  const unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  for (auto _ : state) {
    std::vector<std::jthread> threads;
    threads.reserve(workers);
    for (unsigned t = 0; t < workers; ++t) {
      const uint64_t begin = uint64_t{n} * t / workers;
      const uint64_t end = uint64_t{n} * (t + 1) / workers;
      threads.emplace_back([&x, &y, a, begin, end] {
        float* __restrict yp = y.data();
        const float* __restrict xp = x.data();
        for (uint64_t i = begin; i < end; ++i)
          yp[i] = a * xp[i] + yp[i];
      });
    }
    threads.clear(); // joins
    benchmark::ClobberMemory();
  }
  // Bytes moved: x read, y read and written.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * uint64_t{n} * 12));
}

} // namespace

void register_limit_benchmarks() {
  for (uint64_t bytes : config().sizes) {
    benchmark::RegisterBenchmark(fmt::format("copy/limit/{}", bytes).c_str(), bm_memcpy, bytes)
        ->UseRealTime();
    benchmark::RegisterBenchmark(fmt::format("fill/limit/{}", bytes).c_str(), bm_memset, bytes)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("saxpy/limit", bm_saxpy_threads, config().saxpy_elements)
      ->UseRealTime();
}

} // namespace udal_bench
