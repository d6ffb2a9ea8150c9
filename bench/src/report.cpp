// report.cpp — turns Google Benchmark's JSON into the ratio table (ratios.md) and the plot
// (gnuplot data + script, then gnuplot itself), so the figures in docs/performance.md come
// from one command.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.h"

namespace udal_bench {
namespace {

using nlohmann::json;

struct Key {
  std::string workload;
  std::string backend;
  uint64_t size = 0; // 0 for workloads without a size
  auto operator<=>(const Key&) const = default;
};

struct Entry {
  double real_time_ns = NAN;
  double bytes_per_second = NAN;
  double median_us = NAN;
  double p99_us = NAN;
  double launches_per_s = NAN;
  double best_bytes_per_second = NAN; // the best iteration, where the benchmark records it
};

double number(const json& j, const char* field) {
  return j.contains(field) && j[field].is_number() ? j[field].get<double>() : NAN;
}

std::optional<Key> parse_name(std::string name) {
  // UseRealTime() appends "/real_time"; it is not part of the scheme.
  constexpr std::string_view kSuffix = "/real_time";
  if (name.ends_with(kSuffix))
    name.resize(name.size() - kSuffix.size());
  // Nor is the "/iterations:N" of a benchmark run a fixed number of times (the trace rows).
  if (const auto it = name.find("/iterations:"); it != std::string::npos) {
    const auto end = name.find('/', it + 1);
    name.erase(it, end == std::string::npos ? std::string::npos : end - it);
  }
  const auto slash = name.find('/');
  if (slash == std::string::npos)
    return std::nullopt;
  Key key;
  key.workload = name.substr(0, slash);
  std::string rest = name.substr(slash + 1);
  const auto slash2 = rest.find('/');
  if (slash2 != std::string::npos) {
    key.size = std::strtoull(rest.c_str() + slash2 + 1, nullptr, 10);
    rest.resize(slash2);
  }
  key.backend = rest;
  return key;
}

double to_ns(double t, const std::string& unit) {
  if (unit == "us")
    return t * 1e3;
  if (unit == "ms")
    return t * 1e6;
  if (unit == "s")
    return t * 1e9;
  return t;
}

std::string size_text(uint64_t bytes) {
  if (bytes >= (uint64_t{1} << 20))
    return fmt::format("{} MiB", bytes >> 20);
  return fmt::format("{} KiB", bytes >> 10);
}

std::string fmt_value(double v) {
  if (std::isnan(v))
    return "—";
  if (v >= 1e6)
    return fmt::format("{:.3g}M", v / 1e6);
  if (v >= 100)
    return fmt::format("{:.0f}", v);
  if (v >= 10)
    return fmt::format("{:.1f}", v);
  return fmt::format("{:.2f}", v);
}

std::string fmt_ratio(double v) {
  return std::isnan(v) ? "—" : fmt::format("{:.2f}", v);
}

const char* verdict(bool met) {
  return met ? "met" : "**MISSED**";
}

// What a row compares, in the unit the table shows.
struct Metric {
  std::string workload;
  std::string label;
  std::string unit;
  double (*value)(const Entry&);
  std::string limit_workload;       // "" when there is no limit
  std::string limit_backend_prefix; // "limit" or "udal-direct:"
};

class Report {
public:
  explicit Report(const json& doc) {
    for (const json& b : doc.value("benchmarks", json::array())) {
      if (b.value("error_occurred", false))
        continue;
      // With --benchmark_repetitions the median of the repetitions stands for the
      // benchmark (robust to a machine others are loading); without, the one run does.
      const bool aggregate = b.value("run_type", std::string("iteration")) == "aggregate";
      if (aggregate && b.value("aggregate_name", std::string()) != "median")
        continue;
      const auto key = parse_name(b.value("run_name", b.value("name", std::string())));
      if (!key)
        continue;
      Entry e;
      e.real_time_ns = to_ns(number(b, "real_time"), b.value("time_unit", std::string("ns")));
      e.bytes_per_second = number(b, "bytes_per_second");
      e.median_us = number(b, "median_us");
      e.p99_us = number(b, "p99_us");
      e.launches_per_s = number(b, "launches_per_s");
      e.best_bytes_per_second = number(b, "best_bytes_per_second");
      if (aggregate || !medians_.contains(*key))
        entries_[*key] = e;
      if (aggregate)
        medians_.insert(*key);
      if (key->backend.rfind("udal:", 0) == 0)
        udal_.insert(key->backend);
      if (key->backend.rfind("udal+", 0) == 0)
        layered_.insert(key->backend);
      if (key->backend.rfind("opencl:", 0) == 0 || key->backend == "vulkan-raw") {
        peers_.insert(key->backend);
      }
      if (key->backend == "limit" || key->backend.rfind("limit:", 0) == 0)
        limits_.insert(key->backend);
      if (key->backend.rfind("remote", 0) == 0)
        remote_.insert(key->backend);
      if (key->size != 0)
        sizes_.insert(key->size);
    }
    if (doc.contains("context"))
      context_ = doc["context"];
  }

  const std::set<std::string>& udal() const { return udal_; }
  const std::set<std::string>& peers() const { return peers_; }
  const std::set<uint64_t>& sizes() const { return sizes_; }

  const Entry* find(const std::string& workload, const std::string& backend,
                    uint64_t size = 0) const {
    const auto it = entries_.find(Key{workload, backend, size});
    return it == entries_.end() ? nullptr : &it->second;
  }

  double get(const std::string& workload, const std::string& backend, uint64_t size,
             double (*value)(const Entry&)) const {
    const Entry* e = find(workload, backend, size);
    // "limit" stands for the best of the host's ways (best_limit).
    if (e == nullptr && backend == "limit")
      return limit(workload, size, value);
    return e != nullptr ? value(*e) : NAN;
  }

  // The best of the host's ways of doing |workload| (limit:1-thread, limit:cores,
  // limit:cores-nt, or a plain "limit" of older runs), and which way it was.
  std::pair<double, std::string> best_limit(const std::string& workload, uint64_t size,
                                            double (*value)(const Entry&)) const;
  double limit(const std::string& workload, uint64_t size, double (*value)(const Entry&)) const {
    return best_limit(workload, size, value).first;
  }

  std::string markdown() const;
  std::string remote_section() const;
  // |others| against |base| on every workload both ran: values, ratios, and what each adds
  // per call or operation.
  std::string comparison(const std::string& base, const std::vector<std::string>& others) const;
  std::string layers_section() const;
  std::string chain_section() const;
  void write_plot_data(const std::filesystem::path& dir) const;

private:
  std::map<Key, Entry> entries_;
  std::set<Key> medians_; // keys whose entry is a median aggregate
  std::set<std::string> udal_;
  std::set<std::string> layered_; // "udal+<layer>:<driver>": a driver with a layer on
  std::set<std::string> peers_;
  std::set<std::string> limits_; // "limit:<way>": the host doing the work itself
  std::set<std::string> remote_; // "remote:<driver>", "remote+tls:<driver>"
  std::set<uint64_t> sizes_;
  json context_;
};

double gbps(const Entry& e) {
  return e.bytes_per_second / 1e9;
}
double best_gbps(const Entry& e) {
  return e.best_bytes_per_second / 1e9;
}
double median(const Entry& e) {
  return e.median_us;
}
double p99(const Entry& e) {
  return e.p99_us;
}
double rate(const Entry& e) {
  return e.launches_per_s;
}
double ns(const Entry& e) {
  return e.real_time_ns;
}

std::pair<double, std::string> Report::best_limit(const std::string& workload, uint64_t size,
                                                  double (*value)(const Entry&)) const {
  double best = NAN;
  std::string way;
  for (const std::string& b : limits_) {
    const Entry* e = find(workload, b, size);
    const double v = e != nullptr ? value(*e) : NAN;
    if (!std::isnan(v) && (std::isnan(best) || v > best)) {
      best = v;
      way = b.size() > 6 ? b.substr(6) : std::string();
    }
  }
  return {best, way};
}

std::string Report::markdown() const {
  std::string out;
  out += "# udal-bench: UDAL against its peers and limits\n\n";
  if (!context_.is_null()) {
    out +=
        fmt::format("Run {} on {} ({} CPUs at {} MHz); ", context_.value("date", std::string("?")),
                    context_.value("host_name", std::string("?")), context_.value("num_cpus", 0),
                    context_.value("mhz_per_cpu", 0));
    if (context_.contains("load_avg") && context_["load_avg"].is_array()) {
      std::string load;
      for (const json& l : context_["load_avg"]) {
        load += fmt::format("{}{:.2f}", load.empty() ? "" : ", ", l.get<double>());
      }
      out += fmt::format("load average at start: {}; ", load);
    }
  }
  {
    std::ifstream loadavg("/proc/loadavg");
    std::string l1, l5, l15;
    if (loadavg >> l1 >> l5 >> l15)
      out += fmt::format("at the end: {}, {}, {}", l1, l5, l15);
  }
  out += ".\n\nRatios are UDAL's value over the other's. For times (ns, µs) lower is better, "
         "so a ratio below 1 means UDAL is faster; for rates (GB/s, launches/s) higher is "
         "better. The limit is the host doing the work itself: the driver table called "
         "directly (loader hop); for copy (and host write/read), fill and saxpy the best of "
         "memcpy / memset / a loop on one thread (1-thread), the same on every CPU with "
         "threads started once, pinned, each part first touched by its thread (cores), and "
         "copy and fill with non-temporal stores on every CPU (cores-nt), each the best "
         "of its iterations, as STREAM reports; the way that won is in brackets. Against a "
         "limit, a bandwidth is compared best with best: UDAL's best iteration (\"best\", "
         "at 1 MiB and more) over the limit's, in UDAL/limit and the target; its UDAL "
         "column is Google Benchmark's mean, as in every other column.\n";

  const std::vector<std::string> peers(peers_.begin(), peers_.end());
  for (const std::string& b : udal_) {
    out += fmt::format("\n## {}\n\n| workload | size | unit | UDAL | limit | UDAL/limit |", b);
    for (const auto& p : peers)
      out += fmt::format(" {} | UDAL/{} |", p, p);
    out += " target |\n|---|---|---|---|---|---|";
    for (size_t i = 0; i < peers.size(); ++i)
      out += "---|---|";
    out += "---|\n";

    const bool cpu = b == "udal:cpu";
    const bool vulkan = b == "udal:vulkan";
    const bool opencl = b == "udal:opencl";
    const std::string driver = b.substr(5);
    const auto row = [&](const std::string& workload, const std::string& label, uint64_t size,
                         const std::string& unit, double (*value)(const Entry&),
                         const std::string& limit_workload, const std::string& limit_backend,
                         uint64_t limit_size,
                         std::string (*target)(const Report&, const std::string&, double, double,
                                               uint64_t)) {
      const double v = get(workload, b, size, value);
      if (std::isnan(v))
        return;
      double lim = NAN;
      std::string lim_text = fmt_value(lim);
      if (limit_backend == "limit") {
        const auto [best, way] = best_limit(limit_workload, limit_size, value);
        lim = best;
        lim_text = fmt_value(lim);
        if (!way.empty())
          lim_text += fmt::format(" ({})", way);
      } else if (!limit_workload.empty()) {
        lim = get(limit_workload, limit_backend, limit_size, value);
        lim_text = fmt_value(lim);
      }
      // Against the limit, which is the host's best iteration, best with best.
      double versus = v;
      std::string v_text = fmt_value(v);
      if (value == gbps && !std::isnan(lim)) {
        if (const double best = get(workload, b, size, best_gbps); !std::isnan(best)) {
          versus = best;
          v_text = fmt::format("{} (best {})", fmt_value(v), fmt_value(best));
        }
      }
      out += fmt::format("| {} | {} | {} | {} | {} | {} |", label, size != 0 ? size_text(size) : "",
                         unit, v_text, lim_text, fmt_ratio(versus / lim));
      for (const auto& p : peers) {
        const double pv = get(workload, p, size, value);
        out += fmt::format(" {} | {} |", fmt_value(pv), fmt_ratio(v / pv));
      }
      out += fmt::format(" {} |\n", target != nullptr ? target(*this, b, versus, lim, size) : "");
    };

    row("loader_hop", "loader hop (event_query)", 0, "ns", ns, "loader_hop",
        fmt::format("udal-direct:{}", driver), 0,
        [](const Report&, const std::string&, double v, double lim, uint64_t) {
          const double hop = v - lim;
          return fmt::format("hop {:.2f} ns ≤ 2 ns: {}", hop, verdict(hop <= 2.0));
        });
    row("launch_latency", "launch latency, median", 0, "µs", median, "", "", 0,
        cpu ? +[](const Report& r, const std::string& self, double v, double, uint64_t) {
          std::string t = fmt::format("≤ 3 µs: {}", verdict(v <= 3.0));
          for (const auto& p : r.peers()) {
            if (p.rfind("opencl:", 0) != 0) continue;
            const double pv = r.get("launch_latency", p, 0, median);
            if (!std::isnan(pv)) {
              t += fmt::format("; ≥ 5× lower than {} ({:.1f}×): {}", p, pv / v,
                               verdict(pv / v >= 5.0));
            }
          }
          (void)self;
          return t;
        }
        : vulkan ? +[](const Report& r, const std::string&, double v, double, uint64_t) {
            const double pv = r.get("launch_latency", "vulkan-raw", 0, median);
            return std::isnan(pv) ? std::string()
                                  : fmt::format("≤ 1.1× raw Vulkan ({:.2f}×): {}", v / pv,
                                                verdict(v / pv <= 1.1));
          }
        : opencl ? +[](const Report& r, const std::string&, double v, double, uint64_t) {
            const double pv = r.get("launch_latency", "opencl:pocl", 0, median);
            return std::isnan(pv) ? std::string()
                                  : fmt::format("≤ 1.1× opencl:pocl ({:.2f}×): {}", v / pv,
                                                verdict(v / pv <= 1.1));
          }
        : nullptr);
    row("launch_latency", "launch latency, p99", 0, "µs", p99, "", "", 0, nullptr);
    row("launch_throughput", "launch throughput", 0, "launches/s", rate, "", "", 0,
        cpu ? +[](const Report&, const std::string&, double v, double, uint64_t) {
          return fmt::format("≥ 1M/s: {}", verdict(v >= 1e6));
        }
        : vulkan ? +[](const Report& r, const std::string&, double v, double, uint64_t) {
            const double pv = r.get("launch_throughput", "vulkan-raw", 0, rate);
            return std::isnan(pv) ? std::string()
                                  : fmt::format("≥ 0.95× raw Vulkan ({:.2f}×): {}", v / pv,
                                                verdict(v / pv >= 0.95));
          }
        : opencl ? +[](const Report& r, const std::string&, double v, double, uint64_t) {
            const double pv = r.get("launch_throughput", "opencl:pocl", 0, rate);
            return std::isnan(pv) ? std::string()
                                  : fmt::format("≥ 0.95× opencl:pocl ({:.2f}×): {}", v / pv,
                                                verdict(v / pv >= 0.95));
          }
        : nullptr);
    row("saxpy", "saxpy", 0, "GB/s", gbps, "saxpy", "limit", 0,
        cpu ? +[](const Report&, const std::string&, double v, double lim,
                  uint64_t) { return fmt::format("≥ 90 % of limit: {}", verdict(v / lim >= 0.9)); }
        : vulkan ? +[](const Report& r, const std::string&, double v, double, uint64_t) {
            const double pv = r.get("saxpy", "vulkan-raw", 0, gbps);
            return std::isnan(pv) ? std::string()
                                  : fmt::format("≥ 0.95× raw Vulkan ({:.2f}×): {}", v / pv,
                                                verdict(v / pv >= 0.95));
          }
        : opencl ? +[](const Report& r, const std::string&, double v, double, uint64_t) {
            const double pv = r.get("saxpy", "opencl:pocl", 0, gbps);
            return std::isnan(pv) ? std::string()
                                  : fmt::format("≥ 0.95× opencl:pocl ({:.2f}×): {}", v / pv,
                                                verdict(v / pv >= 0.95));
          }
        : nullptr);
    const auto bandwidth_target = [](const Report& r, const std::string&, double v, double lim,
                                     uint64_t size) {
      const uint64_t largest = r.sizes().empty() ? 0 : *r.sizes().rbegin();
      if (size != largest || largest < (uint64_t{256} << 20))
        return std::string();
      return fmt::format("≥ 95 % of limit: {}", verdict(v / lim >= 0.95));
    };
    for (uint64_t s : sizes_)
      row("copy", "copy", s, "GB/s", gbps, "copy", "limit", s, bandwidth_target);
    for (uint64_t s : sizes_)
      row("fill", "fill", s, "GB/s", gbps, "fill", "limit", s, bandwidth_target);
    for (uint64_t s : sizes_)
      row("host_write", "host write", s, "GB/s", gbps, "copy", "limit", s, nullptr);
    for (uint64_t s : sizes_)
      row("host_read", "host read", s, "GB/s", gbps, "copy", "limit", s, nullptr);
    row("event_round_trip", "event record + wait, median", 0, "µs", median, "", "", 0,
        vulkan ? +[](const Report& r, const std::string&, double v, double, uint64_t) {
          // Raw: an empty submit signalling a timeline semaphore, then a host wait.
          const double pv = r.get("event_round_trip", "vulkan-raw", 0, median);
          return std::isnan(pv) ? std::string()
                                : fmt::format("≤ 1.2× raw Vulkan's timeline signal + wait "
                                              "({:.2f}×): {}",
                                              v / pv, verdict(v / pv <= 1.2));
        }
               : nullptr);
    row("timed_round_trip", "timing event record + wait, median", 0, "µs", median, "", "", 0,
        nullptr);
    row("host_function", "host function + synchronize, median", 0, "µs", median, "", "", 0,
        nullptr);
    row("sync_idle", "synchronize idle stream, median", 0, "µs", median, "", "", 0, nullptr);
  }
  out += chain_section();
  out += layers_section();
  out += remote_section();
  if (udal_.empty())
    out += "\nNo UDAL device ran: no ratios.\n";
  return out;
}

std::string Report::comparison(const std::string& base,
                               const std::vector<std::string>& others) const {
  struct Row {
    const char* workload;
    const char* label;
    uint64_t size;
    const char* unit;
    double (*value)(const Entry&);
  };
  std::vector<Row> rows = {
      {"loader_hop", "loader hop (event_query)", 0, "ns", ns},
      {"launch_latency", "launch latency, median", 0, "µs", median},
      {"launch_latency", "launch latency, p99", 0, "µs", p99},
      {"launch_throughput", "launch throughput", 0, "launches/s", rate},
      {"saxpy", "saxpy", 0, "GB/s", gbps},
  };
  for (const auto& [workload, label] :
       {std::pair{"copy", "copy"}, std::pair{"fill", "fill"}, std::pair{"host_write", "host write"},
        std::pair{"host_read", "host read"}}) {
    for (uint64_t s : sizes_)
      rows.push_back({workload, label, s, "GB/s", gbps});
  }
  rows.push_back({"event_round_trip", "event record + wait, median", 0, "µs", median});
  rows.push_back({"sync_idle", "synchronize idle stream, median", 0, "µs", median});

  std::string out = fmt::format("| workload | size | unit | {} |", base);
  std::string rule = "|---|---|---|---|";
  for (const auto& o : others) {
    out += fmt::format(" {} | {} / {} | added per call |", o, o, base);
    rule += "---|---|---|";
  }
  out += "\n" + rule + "\n";
  for (const Row& row : rows) {
    const double v = get(row.workload, base, row.size, row.value);
    bool any = false;
    for (const auto& o : others)
      any = any || !std::isnan(get(row.workload, o, row.size, row.value));
    if (std::isnan(v) || !any)
      continue;
    // A fill or copy of one size is timed per operation: its real time is the added cost.
    const bool per_op = row.size != 0 && row.size <= (uint64_t{64} << 10);
    out += fmt::format("| {} | {} | {} | {} |", row.label, row.size != 0 ? size_text(row.size) : "",
                       row.unit, fmt_value(v));
    for (const auto& o : others) {
      const double ov = get(row.workload, o, row.size, row.value);
      std::string added = "—";
      if (!std::isnan(ov)) {
        if (std::string_view(row.unit) == "ns") {
          added = fmt::format("{:+.1f} ns", ov - v);
        } else if (std::string_view(row.unit) == "µs") {
          added = fmt::format("{:+.2f} µs", ov - v);
        } else if (std::string_view(row.unit) == "launches/s") {
          added = fmt::format("{:+.0f} ns a launch", 1e9 / ov - 1e9 / v);
        } else if (per_op) {
          const double base_ns = get(row.workload, base, row.size, ns);
          const double other_ns = get(row.workload, o, row.size, ns);
          added = fmt::format("{:+.2f} µs an operation", (other_ns - base_ns) / 1e3);
        }
      }
      out += fmt::format(" {} | {} | {} |", fmt_value(ov), fmt_ratio(ov / v), added);
    }
    out += "\n";
  }
  return out;
}

// The Level Zero chain (libudal → Level Zero driver → loader → libze_udal → its libudal →
// OpenCL driver → PoCL) against the OpenCL driver alone on the same device, and both
// against raw OpenCL: what each hop costs.
std::string Report::chain_section() const {
  if (!udal_.contains("udal:level_zero") || !udal_.contains("udal:opencl"))
    return {};
  std::string out =
      "\n## Level Zero chain: udal:level_zero against udal:opencl\n\n"
      "udal:level_zero is libudal → UDAL's Level Zero driver → the Level Zero loader → "
      "libze_udal → its own libudal → the OpenCL driver → PoCL; udal:opencl is libudal → the "
      "OpenCL driver → PoCL, the same device. What udal:level_zero adds over udal:opencl is "
      "the cost of the hops between them; what udal:opencl adds over opencl:pocl is the "
      "OpenCL driver's.\n\n";
  std::vector<std::string> others = {"udal:level_zero"};
  out += comparison("udal:opencl", others);
  if (peers_.contains("opencl:pocl")) {
    out += "\nAll three against raw OpenCL:\n\n";
    out += comparison("opencl:pocl", {"udal:opencl", "udal:level_zero"});
  }
  return out;
}

// The remote driver over loopback against raw TCP through Asio in the same run (#12): what
// a round trip adds, how many launches are pipelined, and how much of TCP's bandwidth the
// host transfers keep.
std::string Report::remote_section() const {
  if (remote_.empty())
    return {};
  const double rtt = get("tcp_round_trip", "tcp-raw", 0, median);
  uint64_t bulk_size = 0;
  double bulk = NAN;
  double bulk_best = NAN;
  for (uint64_t s : sizes_) {
    if (const Entry* e = find("tcp_bulk", "tcp-raw", s); e != nullptr) {
      bulk_size = s;
      bulk = gbps(*e);
      bulk_best = best_gbps(*e);
    }
  }
  // The same transfer with the bytes landing in memory of the transfer's size, as a remote
  // host transfer's do: like for like, shown beside the target's baseline.
  double landed_best = NAN;
  if (const Entry* e = find("tcp_bulk", "tcp-raw-to-memory", bulk_size); e != nullptr)
    landed_best = best_gbps(*e);
  std::string out = fmt::format(
      "\n## Remote: udal-server on 127.0.0.1 against raw TCP\n\n"
      "Two udal-server children of udal-bench on 127.0.0.1 serve the CPU driver, one over plain "
      "TCP (`--insecure`: remote:cpu), one over TLS 1.3 with mutual certificates "
      "(remote+tls:cpu); each is reached through an instance of the remote driver alone. Raw "
      "TCP is Boost.Asio's blocking sockets between two threads of udal-bench: a 64-byte "
      "ping-pong (median {} µs) and a {} transfer read in 1 MiB reads ({} GB/s, best {}; "
      "landing in memory of its size, as a host transfer's bytes do: best {}). "
      "Transfers are compared best with best (each row's best iteration; the mean is "
      "beside it). Targets (#12) are for plain TCP; TLS is reported.\n\n",
      fmt_value(rtt), bulk_size != 0 ? size_text(bulk_size) : "—", fmt_value(bulk),
      fmt_value(bulk_best), fmt_value(landed_best));
  // Plain TCP first: the targets are its.
  std::vector<std::string> backends(remote_.begin(), remote_.end());
  std::stable_partition(backends.begin(), backends.end(),
                        [](const std::string& b) { return b.rfind("remote:", 0) == 0; });
  out += "| workload | size | unit | raw TCP |";
  std::string rule = "|---|---|---|---|";
  for (const auto& b : backends) {
    out += fmt::format(" {} | against raw TCP | target |", b);
    rule += "---|---|---|";
  }
  out += "\n" + rule + "\n";
  const auto row = [&](const std::string& label, uint64_t size, const std::string& unit,
                       const std::string& raw, auto&& cell) {
    std::string line =
        fmt::format("| {} | {} | {} | {} |", label, size != 0 ? size_text(size) : "", unit, raw);
    bool any = false;
    for (const auto& b : backends) {
      const bool plain = b.rfind("remote:", 0) == 0;
      const auto [value, versus, target, present] = cell(b, plain);
      any = any || present;
      line += fmt::format(" {} | {} | {} |", value, versus, target);
    }
    if (any)
      out += line + "\n";
  };
  row("event record + wait, median", 0, "µs", fmt_value(rtt),
      [&](const std::string& b, bool plain) {
        const double v = get("event_round_trip", b, 0, median);
        const double added = v - rtt;
        std::string target;
        if (!std::isnan(added))
          target = fmt::format("RTT + {:.1f} µs ≤ RTT + 20 µs: {}", added,
                               plain ? verdict(added <= 20.0) : "reported");
        return std::tuple{fmt_value(v),
                          std::isnan(added) ? std::string("—") : fmt::format("{:+.1f} µs", added),
                          target, !std::isnan(v)};
      });
  row("event record + wait, p99", 0, "µs", fmt_value(get("tcp_round_trip", "tcp-raw", 0, p99)),
      [&](const std::string& b, bool) {
        const double v = get("event_round_trip", b, 0, p99);
        return std::tuple{fmt_value(v), std::string(), std::string(), !std::isnan(v)};
      });
  row("pipelined launch throughput", 0, "launches/s", fmt_value(NAN),
      [&](const std::string& b, bool plain) {
        const double v = get("launch_throughput", b, 0, rate);
        std::string target;
        if (!std::isnan(v))
          target = fmt::format("≥ 100000/s: {}", plain ? verdict(v >= 1e5) : "reported");
        return std::tuple{fmt_value(v), std::string(), target, !std::isnan(v)};
      });
  const auto with_best = [](double mean, double best) {
    return std::isnan(best) ? fmt_value(mean)
                            : fmt::format("{} (best {})", fmt_value(mean), fmt_value(best));
  };
  for (const auto& transfer : {std::pair{"host_write", "host write (DEVICE buffer)"},
                               std::pair{"host_read", "host read (DEVICE buffer)"}}) {
    const std::string workload = transfer.first;
    row(transfer.second, bulk_size, "GB/s", with_best(bulk, bulk_best),
        [&](const std::string& b, bool plain) {
          const double v = get(workload, b, bulk_size, gbps);
          const double v_best = get(workload, b, bulk_size, best_gbps);
          // Best with best where both were recorded, else mean with mean.
          const double fraction =
              !std::isnan(v_best) && !std::isnan(bulk_best) ? v_best / bulk_best : v / bulk;
          std::string target;
          if (!std::isnan(fraction))
            target = fmt::format("≥ 80 % of raw TCP ({:.0f} %): {}", 100 * fraction,
                                 plain ? verdict(fraction >= 0.8) : "reported");
          if (!target.empty() && !std::isnan(v_best) && !std::isnan(landed_best))
            target += fmt::format("; {:.0f} % of raw TCP landing in memory",
                                  100 * v_best / landed_best);
          return std::tuple{with_best(v, v_best),
                            std::isnan(fraction) ? std::string("—")
                                                 : fmt::format("{:.0f} %", 100 * fraction),
                            target, !std::isnan(v)};
        });
  }
  return out;
}

// Each layer's cost per call on the CPU driver, and the proof that off is no layer.
std::string Report::layers_section() const {
  if (layered_.empty() || !udal_.contains("udal:cpu"))
    return {};
  std::string out =
      "\n## Layers: udal+<layer>:cpu against udal:cpu\n\n"
      "The CPU driver in an instance of its own with one layer on (validation: "
      "UDAL_INSTANCE_FLAG_VALIDATION; trace: UDAL_TRACE, a file in the temporary directory, "
      "with a fixed number of iterations per workload), against udal:cpu (no layer on). "
      "\"added per call\" is the layer's cost per call, or per operation for launches and "
      "small fills.\n\n";
  const double off = get("loader_hop", "udal:cpu", 0, ns);
  const double direct = get("loader_hop", "udal-direct:cpu", 0, ns);
  if (!std::isnan(off) && !std::isnan(direct)) {
    out += fmt::format(
        "Off is no layer: loader hop through libudal {} ns, through the CPU driver's own "
        "table (udal-direct:cpu) {} ns, a difference of {:+.2f} ns: with no layer on, the "
        "table a handle points at is the driver's.\n\n",
        fmt_value(off), fmt_value(direct), off - direct);
  }
  out += comparison("udal:cpu", std::vector<std::string>(layered_.begin(), layered_.end()));
  return out;
}

// One row per backend for bar charts; one column per backend for size sweeps (NaN where a
// backend has no such point; gnuplot leaves it out).
void Report::write_plot_data(const std::filesystem::path& dir) const {
  std::vector<std::string> backends(udal_.begin(), udal_.end());
  backends.insert(backends.end(), peers_.begin(), peers_.end());
  // Bar charts also show the layers; the bandwidth sweeps do not (one size only).
  std::vector<std::string> bars = backends;
  bars.insert(bars.end(), layered_.begin(), layered_.end());
  {
    std::ofstream f(dir / "latency.dat");
    f << "backend launch_median launch_p99 event_median sync_median\n";
    for (const auto& b : bars) {
      f << b << ' ' << get("launch_latency", b, 0, median) << ' '
        << get("launch_latency", b, 0, p99) << ' ' << get("event_round_trip", b, 0, median) << ' '
        << get("sync_idle", b, 0, median) << '\n';
    }
  }
  {
    std::ofstream f(dir / "rates.dat");
    f << "backend launches_per_s saxpy_gbps\n";
    std::vector<std::string> with_limit = bars;
    with_limit.push_back("limit");
    for (const auto& b : with_limit) {
      f << b << ' ' << get("launch_throughput", b, 0, rate) << ' ' << get("saxpy", b, 0, gbps)
        << '\n';
    }
  }
  std::vector<std::string> all = backends;
  all.push_back("limit");
  for (const char* workload : {"copy", "fill", "host_write", "host_read"}) {
    std::ofstream f(dir / fmt::format("bw_{}.dat", workload));
    const bool host = std::string(workload).rfind("host_", 0) == 0;
    // Only backends with a point: gnuplot warns about a column of nothing.
    std::vector<std::string> sweep;
    for (const auto& b : all) {
      const std::string w = (host && b == "limit") ? "copy" : workload;
      for (uint64_t s : sizes_) {
        if (!std::isnan(get(w, b, s, gbps))) {
          sweep.push_back(b);
          break;
        }
      }
    }
    f << "bytes";
    for (const auto& b : sweep)
      f << ' ' << b;
    f << '\n';
    for (uint64_t s : sizes_) {
      f << s;
      for (const auto& b : sweep) {
        // The limit of a host transfer is the host's copy.
        const std::string w = (host && b == "limit") ? "copy" : workload;
        f << ' ' << get(w, b, s, gbps);
      }
      f << '\n';
    }
  }
}

constexpr const char* kPlotScript = R"GP(# Written by udal-bench --report; run in this directory:
#   gnuplot plot.gp                  -> performance.svg
#   gnuplot -e "fmt='png'" plot.gp   -> performance.png
if (!exists("fmt")) fmt = 'svg'
if (fmt eq 'png') {
  set terminal pngcairo size 1600,900 background rgb 'white' font 'sans,9'
  set output 'performance.png'
} else {
  set terminal svg size 1600,900 dynamic background rgb 'white' font 'sans,10'
  set output 'performance.svg'
}
set datafile missing 'nan'
set key autotitle columnheader
set multiplot layout 2,4 title 'udal-bench: latency (µs, lower is better) and bandwidth (GB/s, higher is better)'

set title 'launch latency (µs)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set xtics rotate by -30 noenhanced
set key top left noenhanced
plot 'latency.dat' using 2:xtic(1), '' using 3

set title 'event record+wait, idle synchronize (µs)'
plot 'latency.dat' using 4:xtic(1), '' using 5

set title 'launch throughput (launches/s)'
plot 'rates.dat' using 2:xtic(1)

unset logscale y
set title 'saxpy (GB/s)'
plot 'rates.dat' using 3:xtic(1)

reset
set datafile missing 'nan'
set key autotitle columnheader top left noenhanced font ',8'
set style data linespoints
set logscale x 2
set logscale y
set xtics ('4K' 4096, '64K' 65536, '1M' 1048576, '16M' 16777216, '256M' 268435456)
set xlabel 'bytes'
set ylabel 'GB/s (log)'
set title 'copy'
plot for [i=2:*] 'bw_copy.dat' using 1:i
set title 'fill'
plot for [i=2:*] 'bw_fill.dat' using 1:i
set title 'host write'
plot for [i=2:*] 'bw_host_write.dat' using 1:i
set title 'host read'
plot for [i=2:*] 'bw_host_read.dat' using 1:i
unset multiplot
)GP";

} // namespace

bool write_report(const std::string& dir_name, const std::string& json_path) {
  const std::filesystem::path dir = dir_name;
  std::ifstream in(json_path);
  json doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.contains("benchmarks")) {
    std::fprintf(stderr, "udal-bench: %s is not Google Benchmark JSON\n", json_path.c_str());
    return false;
  }
  const Report report(doc);
  {
    std::ofstream md(dir / "ratios.md");
    md << report.markdown();
  }
  report.write_plot_data(dir);
  {
    std::ofstream gp(dir / "plot.gp");
    gp << kPlotScript;
  }
  std::printf("udal-bench: wrote %s\n", (dir / "ratios.md").c_str());
  // The plot is made by gnuplot here, from the files just written, so it always shows this
  // run; without gnuplot the data and script stay for later.
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    std::fprintf(stderr,
                 "udal-bench: gnuplot not found: no plot (apt-get install gnuplot-nox; "
                 "then run 'gnuplot plot.gp' in %s)\n",
                 dir.c_str());
    return true;
  }
  for (const char* format : {"svg", "png"}) {
    const std::string command =
        fmt::format("cd '{}' && gnuplot -e \"fmt='{}'\" plot.gp", dir.string(), format);
    if (std::system(command.c_str()) != 0) {
      std::fprintf(stderr, "udal-bench: '%s' failed: no %s plot\n", command.c_str(), format);
    } else {
      std::printf("udal-bench: wrote %s\n", (dir / fmt::format("performance.{}", format)).c_str());
    }
  }
  return true;
}

} // namespace udal_bench
