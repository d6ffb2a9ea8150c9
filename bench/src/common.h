// common.h — what every udal-bench workload shares: the run's parameters, per-iteration
// latency samples, and the naming scheme the report step parses.
//
// Benchmark names are "<workload>/<backend>" or "<workload>/<backend>/<bytes>":
//   backend "udal:<driver>[:<n>]"  a device through libudal
//           "udal+<layer>:<driver>" the same with one of libudal's layers on (validation, trace)
//           "udal-direct:<driver>" the same driver's table called without libudal
//           "opencl:<name>"        an OpenCL peer through the ICD loader
//           "vulkan-raw"           hand-written Vulkan
//           "limit:<way>"          what the host itself does (limit_bench.cpp: 1-thread,
//                                  cores, cores-nt; the report takes the best)
//           "remote:<driver>"      a udal-server child's device through the remote driver,
//           "remote+tls:<driver>"  over plain TCP / TLS 1.3 on 127.0.0.1
//           "tcp-raw"              TCP on loopback through Boost.Asio, the remote baseline
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace udal_bench {

struct Config {
  bool smoke = false;
  std::string kernel_dir;      // bench_kernels.so, empty.spv, saxpy.spv, *.spirv-kernel.spv
  std::vector<uint64_t> sizes; // copy / fill / host transfer sizes in bytes
  uint32_t saxpy_elements = 0;
  uint32_t throughput_launches = 0; // launches per iteration of launch_throughput
};

const Config& config();

// Records each iteration's wall time, so latencies are reported as percentiles rather
// than the mean Google Benchmark computes (a mean hides the tail that p99 shows).
class LatencySamples {
public:
  using Clock = std::chrono::steady_clock;
  void start() { t0_ = Clock::now(); }
  void stop() {
    samples_ns_.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0_).count());
  }
  // Median and p99 in µs as counters (averaged by nothing: set once per run).
  void report(benchmark::State& state) {
    if (samples_ns_.empty())
      return;
    std::sort(samples_ns_.begin(), samples_ns_.end());
    const auto at = [&](double q) {
      const size_t i = std::min(samples_ns_.size() - 1,
                                static_cast<size_t>(q * static_cast<double>(samples_ns_.size())));
      return samples_ns_[i] / 1e3;
    };
    state.counters["median_us"] = at(0.5);
    state.counters["p99_us"] = at(0.99);
    state.counters["min_us"] = samples_ns_.front() / 1e3;
  }

private:
  Clock::time_point t0_;
  std::vector<double> samples_ns_;
};

inline void set_launch_rate(benchmark::State& state, uint64_t launches_per_iteration) {
  state.counters["launches_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * launches_per_iteration),
                         benchmark::Counter::kIsRate);
}

// Registers the workloads of each kind of backend (each returns how many backends it found,
// and prints why it found none).
void register_limit_benchmarks();
int register_udal_benchmarks();
// Starts the udal-server children and registers the remote rows and their raw TCP baseline;
// the children are stopped by release_udal() (and on every other way out).
int register_remote_benchmarks();
void register_tcp_benchmarks(uint64_t bulk_bytes);
int register_opencl_benchmarks();
int register_raw_vulkan_benchmarks();
void release_udal();
void release_raw_vulkan();

// Writes |dir|/ratios.md, the gnuplot data and script, and runs gnuplot; returns false when
// the JSON could not be read.
bool write_report(const std::string& dir, const std::string& json_path);

inline std::string size_label(uint64_t bytes) {
  return std::to_string(bytes);
}

} // namespace udal_bench
