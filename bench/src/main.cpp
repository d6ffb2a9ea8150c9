// udal-bench — the overheads of UDAL, measured: every workload on every device of every
// driver libudal loads, the same workloads on the peers (OpenCL through the ICD loader, raw
// Vulkan) and on the host's own limits, in one Google Benchmark run.
//
//   udal-bench [--smoke] [--report DIR] [--kernels DIR] [--benchmark_* flags]
//
// --smoke        tiny sizes and times: for CI, checks that everything runs and the JSON
//                is produced; its numbers mean nothing.
// --report DIR   also writes DIR/udal-bench.json, DIR/ratios.md and DIR/performance.svg
//                (gnuplot, run by this step).
// --kernels DIR  where bench_kernels.so, empty.spv, saxpy.spv and bench_kernels.spirv-kernel.spv
//                are (default: the build's; the OpenCL C text is built into udal-bench).
// --report-only  with --report DIR: run nothing, remake the table and plot from the JSON there.
// --no-peers     UDAL and the limits only (sanitizer builds: the peers' runtimes are not
//                built for them).
// --no-remote    no remote rows (they start two udal-server children on 127.0.0.1; without
//                udal-server beside udal-bench they are skipped anyway, with the reason).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common.h"

namespace udal_bench {
namespace {
Config g_config;
} // namespace
const Config& config() {
  return g_config;
}
} // namespace udal_bench

namespace {

void usage() {
  std::printf(
      "usage: udal-bench [--smoke] [--report DIR] [--kernels DIR] [--benchmark_* flags]\n"
      "  --smoke        tiny sizes and run times (CI: the JSON is produced; numbers mean "
      "nothing)\n"
      "  --report DIR   write DIR/udal-bench.json, DIR/ratios.md, DIR/performance.svg\n"
      "  --kernels DIR  directory of bench_kernels.so, empty.spv, saxpy.spv,\n"
      "                 bench_kernels.spirv-kernel.spv\n"
      "  --no-peers     UDAL and the host limits only (no OpenCL, no raw Vulkan)\n"
      "  --no-remote    no remote rows (udal-server children on 127.0.0.1, raw TCP)\n"
      "  --report-only  with --report DIR: remake the table and plot from DIR/udal-bench.json\n"
      "Google Benchmark's own flags follow (--benchmark_filter=REGEX, ...).\n");
}

} // namespace

// The kernels installed beside udal-bench (<prefix>/share/udal/bench/kernels) when they are
// there, else the build tree's: an installed udal-bench never reads the build machine's paths
// while its own prefix has the files.
static std::string default_kernel_dir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed =
        exe.parent_path().parent_path() / "share" / "udal" / "bench" / "kernels";
    if (std::filesystem::exists(installed / "bench_kernels.so", ec))
      return installed.string();
  }
  return UDAL_BENCH_KERNEL_DIR;
}

int main(int argc, char** argv) {
  using udal_bench::g_config;
  // udal-bench's flags are taken out of argv before Google Benchmark parses the rest, since
  // it owns the --benchmark_* namespace and rejects anything else.
  std::string report_dir;
  bool no_peers = false;
  bool no_remote = false;
  bool report_only = false;
  std::vector<std::string> passed = {argv[0]};
  g_config.kernel_dir = default_kernel_dir();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&](const char* flag) -> std::string {
      const std::string eq = std::string(flag) + "=";
      if (arg.rfind(eq, 0) == 0)
        return arg.substr(eq.size());
      if (i + 1 < argc)
        return argv[++i];
      std::fprintf(stderr, "udal-bench: %s needs a value\n", flag);
      std::exit(2);
    };
    if (arg == "--smoke") {
      g_config.smoke = true;
    } else if (arg == "--report" || arg.rfind("--report=", 0) == 0) {
      report_dir = value("--report");
    } else if (arg == "--kernels" || arg.rfind("--kernels=", 0) == 0) {
      g_config.kernel_dir = value("--kernels");
    } else if (arg == "--report-only") {
      report_only = true;
    } else if (arg == "--no-peers") {
      no_peers = true;
    } else if (arg == "--no-remote") {
      no_remote = true;
    } else if (arg == "--help" || arg == "-h") {
      usage();
      return 0;
    } else {
      passed.push_back(arg);
    }
  }

  if (g_config.smoke) {
    g_config.sizes = {4096, 65536};
    g_config.saxpy_elements = 1u << 16;
    g_config.throughput_launches = 100;
    // Before the user's flags, so a --benchmark_min_time given on the command line wins.
    passed.insert(passed.begin() + 1, "--benchmark_min_time=0.002");
  } else {
    g_config.sizes = {uint64_t{4} << 10, uint64_t{64} << 10, uint64_t{1} << 20, uint64_t{16} << 20,
                      uint64_t{256} << 20};
    g_config.saxpy_elements = 16u << 20;
    g_config.throughput_launches = 10000;
    // Three repetitions, reported as their median: the machines are shared, and one
    // unlucky run must not become the figure. The repetitions of all benchmarks are run in
    // a random order, so a burst of load elsewhere falls on one repetition of several
    // backends rather than on every repetition of the one being compared (a run at load 12
    // had saxpy of udal:opencl at 0.76x opencl:pocl in a row, 1.00x interleaved). Before the
    // user's flags, which win.
    passed.insert(passed.begin() + 1, "--benchmark_repetitions=3");
    passed.insert(passed.begin() + 2, "--benchmark_report_aggregates_only=true");
    passed.insert(passed.begin() + 3, "--benchmark_enable_random_interleaving=true");
  }
  std::string json_path;
  if (!report_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(report_dir, ec);
    if (ec) {
      std::fprintf(stderr, "udal-bench: cannot create %s: %s\n", report_dir.c_str(),
                   ec.message().c_str());
      return 2;
    }
    json_path = (std::filesystem::path(report_dir) / "udal-bench.json").string();
    if (report_only)
      return udal_bench::write_report(report_dir, json_path) ? 0 : 1;
    passed.push_back("--benchmark_out=" + json_path);
    passed.push_back("--benchmark_out_format=json");
  }

  std::vector<char*> args;
  for (auto& s : passed)
    args.push_back(s.data());
  int count = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data()))
    return 2;

  // Each kind prints what it found and why a backend is missing; none is an error.
  udal_bench::register_limit_benchmarks();
  const int udal_devices = udal_bench::register_udal_benchmarks();
  if (!no_remote)
    udal_bench::register_remote_benchmarks();
  if (!no_peers) {
    udal_bench::register_opencl_benchmarks();
    udal_bench::register_raw_vulkan_benchmarks();
  }
  if (udal_devices == 0)
    std::fprintf(stderr, "udal-bench: no UDAL device: limits and peers only\n");

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  udal_bench::release_raw_vulkan();
  udal_bench::release_udal();

  if (!report_dir.empty() && !udal_bench::write_report(report_dir, json_path))
    return 1;
  return 0;
}
