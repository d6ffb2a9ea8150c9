// limit_bench.cpp — the host's own speed, the ceiling of the CPU driver, measured the way
// STREAM measures it: copy, fill and saxpy (STREAM's triad) of the same sizes as the UDAL
// runs, each the best of its iterations, three ways:
//   limit:1-thread   memcpy / memset / a plain loop on the calling thread
//   limit:cores      the same split over every CPU of the process (HostTeam: threads
//                    started once, pinned, each part first touched by its thread)
//   limit:cores-nt   copy and fill with 16-byte non-temporal stores on every CPU (what the
//                    CPU driver's large fills use; glibc's memset may not stream)
// The report takes the best of the three as "the limit" of each workload and size.
#include <cstdlib>
#include <cstring>
#include <memory>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <fmt/format.h>

#include "common.h"
#include "host_team.h"

namespace udal_bench {
namespace {

using Clock = std::chrono::steady_clock;

enum class Way { kOneThread, kCores, kCoresStreaming };

const char* backend(Way way) {
  switch (way) {
  case Way::kOneThread:
    return "limit:1-thread";
  case Way::kCores:
    return "limit:cores";
  case Way::kCoresStreaming:
    return "limit:cores-nt";
  }
  return "limit";
}

// Page-aligned memory that nobody has touched yet: its pages are mapped by whoever writes
// them first (a fresh anonymous mapping from malloc at these sizes).
struct Untouched {
  explicit Untouched(uint64_t bytes)
      : data(static_cast<char*>(std::aligned_alloc(4096, (bytes + 4095) & ~uint64_t{4095}))) {}
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data;
};

// Lets the compiler assume |p|'s memory is read elsewhere, so no copy or fill into it is
// dropped as dead. (Not DoNotOptimize on the pointer itself: its "+m,r" operand, which says
// the pointer may change, made g++ 12 -O3 pass a null pointer on.)
void escape(const void* p) {
  asm volatile("" : : "r"(p) : "memory");
}

// Runs |part|(begin, end) over [0, bytes) on the caller alone or on the whole team, in
// 4 KiB-aligned parts (so no two threads write one page or cache line).
template <typename F> void split(Way way, uint64_t bytes, F&& part) {
  if (way == Way::kOneThread) {
    part(uint64_t{0}, bytes);
    return;
  }
  HostTeam& team = HostTeam::get();
  auto body = [&](unsigned member) {
    uint64_t begin = 0;
    uint64_t end = 0;
    team.part(member, bytes, 4096, begin, end);
    if (begin < end)
      part(begin, end);
  };
  team.run(body);
}

void stream_fill(char* dst, uint64_t size, uint32_t pattern) {
#if defined(__SSE2__)
  const uint64_t head =
      std::min<uint64_t>(size, (16 - (reinterpret_cast<uintptr_t>(dst) & 15)) & 15);
  std::memset(dst, static_cast<int>(pattern & 0xff), head);
  const __m128i vector = _mm_set1_epi32(static_cast<int>(pattern));
  const uint64_t body_end = head + ((size - head) & ~uint64_t{15});
  for (uint64_t at = head; at < body_end; at += 16)
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + at), vector);
  _mm_sfence();
  std::memset(dst + body_end, static_cast<int>(pattern & 0xff), size - body_end);
#else
  std::memset(dst, static_cast<int>(pattern & 0xff), size);
#endif
}

void stream_copy(char* dst, const char* src, uint64_t size) {
#if defined(__SSE2__)
  // Both parts start 4 KiB-aligned in page-aligned buffers: only the tail is unaligned.
  const uint64_t body_end = size & ~uint64_t{63};
  for (uint64_t at = 0; at < body_end; at += 64) {
    const auto* s = reinterpret_cast<const __m128i*>(src + at);
    auto* d = reinterpret_cast<__m128i*>(dst + at);
    const __m128i a = _mm_load_si128(s);
    const __m128i b = _mm_load_si128(s + 1);
    const __m128i c = _mm_load_si128(s + 2);
    const __m128i e = _mm_load_si128(s + 3);
    _mm_stream_si128(d, a);
    _mm_stream_si128(d + 1, b);
    _mm_stream_si128(d + 2, c);
    _mm_stream_si128(d + 3, e);
  }
  _mm_sfence();
  std::memcpy(dst + body_end, src + body_end, size - body_end);
#else
  std::memcpy(dst, src, size);
#endif
}

// Times |op| in batches long enough for the clock not to matter (≥ 1 MiB of work each) and
// reports the best batch as bytes_per_second, as STREAM reports its best of N; the mean,
// which Google Benchmark would report, is mean_bytes_per_second.
template <typename Op> void best_of(benchmark::State& state, uint64_t bytes_per_op, Op&& op) {
  const uint64_t reps = std::max<uint64_t>(1, (uint64_t{1} << 20) / bytes_per_op);
  double best_s = 0;
  double total_s = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    for (uint64_t r = 0; r < reps; ++r) {
      op();
      benchmark::ClobberMemory();
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    best_s = best_s == 0 ? s : std::min(best_s, s);
    total_s += s;
  }
  if (best_s > 0) {
    const double bytes = static_cast<double>(bytes_per_op * reps);
    state.counters["bytes_per_second"] = bytes / best_s;
    state.counters["mean_bytes_per_second"] =
        bytes * static_cast<double>(state.iterations()) / total_s;
  }
}

void bm_copy(benchmark::State& state, Way way, uint64_t bytes) {
  const HostTeam::CallerPin pinned(HostTeam::get());
  Untouched src(bytes);
  Untouched dst(bytes);
  if (!src.data || !dst.data) {
    state.SkipWithError("out of memory");
    return;
  }
  char* s = src.data.get();
  char* d = dst.data.get();
  escape(s);
  escape(d);
  split(way, bytes, [&](uint64_t begin, uint64_t end) {
    std::memset(s + begin, 1, end - begin);
    std::memset(d + begin, 2, end - begin);
  });
  if (way == Way::kCoresStreaming) {
    best_of(state, bytes, [&] {
      split(way, bytes, [&](uint64_t b, uint64_t e) { stream_copy(d + b, s + b, e - b); });
    });
  } else {
    best_of(state, bytes, [&] {
      split(way, bytes, [&](uint64_t b, uint64_t e) { std::memcpy(d + b, s + b, e - b); });
    });
  }
}

void bm_fill(benchmark::State& state, Way way, uint64_t bytes) {
  const HostTeam::CallerPin pinned(HostTeam::get());
  Untouched dst(bytes);
  if (!dst.data) {
    state.SkipWithError("out of memory");
    return;
  }
  char* d = dst.data.get();
  escape(d);
  split(way, bytes, [&](uint64_t begin, uint64_t end) { std::memset(d + begin, 1, end - begin); });
  uint32_t pattern = 0;
  if (way == Way::kCoresStreaming) {
    best_of(state, bytes, [&] {
      ++pattern;
      split(way, bytes, [&](uint64_t b, uint64_t e) { stream_fill(d + b, e - b, pattern); });
    });
  } else {
    best_of(state, bytes, [&] {
      const int value = static_cast<int>(++pattern & 0xff);
      split(way, bytes, [&](uint64_t b, uint64_t e) { std::memset(d + b, value, e - b); });
    });
  }
}

void saxpy_part(float* __restrict y, const float* __restrict x, float a, uint64_t begin,
                uint64_t end) {
  for (uint64_t i = begin; i < end; ++i)
    y[i] = a * x[i] + y[i];
}

// STREAM's triad as UDAL's saxpy kernel computes it: y = a·x + y, 12 bytes per element.
void bm_saxpy(benchmark::State& state, Way way, uint32_t n) {
  const HostTeam::CallerPin pinned(HostTeam::get());
  const uint64_t bytes = uint64_t{n} * sizeof(float);
  Untouched xs(bytes);
  Untouched ys(bytes);
  if (!xs.data || !ys.data) {
    state.SkipWithError("out of memory");
    return;
  }
  float* x = reinterpret_cast<float*>(xs.data.get());
  float* y = reinterpret_cast<float*>(ys.data.get());
  escape(x);
  escape(y);
  // Parts in whole floats: every part boundary is 4 KiB-aligned, so a multiple of 4 bytes.
  split(way, bytes, [&](uint64_t begin, uint64_t end) {
    for (uint64_t i = begin / 4; i < end / 4; ++i) {
      x[i] = 1.0f;
      y[i] = 2.0f;
    }
  });
  const float a = 0.5f;
  best_of(state, uint64_t{n} * 12, [&] {
    split(way, bytes, [&](uint64_t b, uint64_t e) { saxpy_part(y, x, a, b / 4, e / 4); });
  });
}

} // namespace

void register_limit_benchmarks() {
  const unsigned cores = HostTeam::get().size();
  std::fprintf(stderr,
               "udal-bench: host limits on 1 thread and on %u pinned thread%s (the best of each "
               "is the limit)\n",
               cores, cores == 1 ? "" : "s");
  // Below 1 MiB a hand-off to the team costs more than the work (4 KiB is ~30 ns of memcpy),
  // so one thread is the host's best there and the team is not run: on a loaded machine a
  // pinned member waits for its own CPU, and 256 such jobs per batch took seconds. --smoke
  // runs the team at its largest size only, two iterations, so CI still exercises it.
  const uint64_t largest = config().sizes.empty() ? 0 : config().sizes.back();
  for (uint64_t bytes : config().sizes) {
    for (Way way : {Way::kOneThread, Way::kCores, Way::kCoresStreaming}) {
      const bool team = way != Way::kOneThread;
      const bool smoke_team = team && config().smoke && bytes == largest;
      if (team && bytes < (uint64_t{1} << 20) && !smoke_team)
        continue;
      for (auto* bm :
           {benchmark::RegisterBenchmark(fmt::format("copy/{}/{}", backend(way), bytes).c_str(),
                                         bm_copy, way, bytes),
            benchmark::RegisterBenchmark(fmt::format("fill/{}/{}", backend(way), bytes).c_str(),
                                         bm_fill, way, bytes)}) {
        bm->UseRealTime();
        if (smoke_team)
          bm->Iterations(2);
      }
    }
  }
  for (Way way : {Way::kOneThread, Way::kCores}) {
    benchmark::RegisterBenchmark(fmt::format("saxpy/{}", backend(way)).c_str(), bm_saxpy, way,
                                 config().saxpy_elements)
        ->UseRealTime();
  }
}

} // namespace udal_bench
