// tcp_bench.cpp — raw TCP on loopback through Boost.Asio's blocking sockets, the baseline
// of the remote rows: a 64-byte ping-pong (tcp_round_trip/tcp-raw) and a bulk transfer
// (tcp_bulk/tcp-raw/<bytes>: the bytes written, read by the other end one 1 MiB read after
// another, then a 1-byte answer). The other end is a thread of udal-bench, as udal-server
// is a process of the same machine.
#include "common.h"

#if UDAL_BENCH_HAVE_ASIO
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <functional>
#include <thread>

#include <fmt/format.h>

namespace udal_bench {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A connected pair on 127.0.0.1: |client| here, the other end served by |serve| on a thread
// of its own, which ends when the client closes.
class Loopback {
public:
  explicit Loopback(std::function<void(tcp::socket&)> serve)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), client(io_) {
    peer_ = std::thread([this, serve = std::move(serve)] {
      try {
        tcp::socket peer = acceptor_.accept();
        peer.set_option(tcp::no_delay(true));
        serve(peer);
      } catch (const std::exception&) {
        // The client closed, or the benchmark failed and says so itself.
      }
    });
    client.connect(acceptor_.local_endpoint());
    client.set_option(tcp::no_delay(true));
  }
  ~Loopback() {
    boost::system::error_code ignored;
    client.shutdown(tcp::socket::shutdown_both, ignored);
    client.close(ignored);
    acceptor_.close(ignored); // in case the peer never accepted
    peer_.join();
  }
  Loopback(const Loopback&) = delete;
  Loopback& operator=(const Loopback&) = delete;

private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread peer_;

public:
  tcp::socket client;
};

void bm_round_trip(benchmark::State& state) {
  try {
    Loopback link([](tcp::socket& peer) {
      char bytes[64];
      for (;;) {
        asio::read(peer, asio::buffer(bytes));
        asio::write(peer, asio::buffer(bytes));
      }
    });
    char bytes[64] = {};
    for (int i = 0; i < 100; ++i) { // warm-up: the threads and the socket buffers
      asio::write(link.client, asio::buffer(bytes));
      asio::read(link.client, asio::buffer(bytes));
    }
    LatencySamples samples;
    for (auto _ : state) {
      samples.start();
      asio::write(link.client, asio::buffer(bytes));
      asio::read(link.client, asio::buffer(bytes));
      samples.stop();
    }
    samples.report(state);
  } catch (const std::exception& e) {
    state.SkipWithError(fmt::format("raw TCP: {}", e.what()).c_str());
  }
}

// A bulk transfer. The receiver reads into a 1 MiB buffer that stays in cache (TCP's own
// ceiling), or, |into_memory|, lands the bytes in a buffer of the transfer's size, touched
// first, as a host read or write through udal-server must (the bytes end in memory).
void bm_bulk(benchmark::State& state, uint64_t bytes, bool into_memory) {
  try {
    Loopback link([bytes, into_memory](tcp::socket& peer) {
      std::vector<char> sink(into_memory ? bytes : std::min<uint64_t>(bytes, uint64_t{1} << 20));
      char done = 1;
      for (;;) {
        for (uint64_t got = 0; got < bytes;) {
          const uint64_t at = into_memory ? got : 0;
          got += peer.read_some(asio::buffer(sink.data() + at, sink.size() - at));
        }
        asio::write(peer, asio::buffer(&done, 1));
      }
    });
    std::vector<char> data(bytes, 1); // touched: no page fault is timed
    char done = 0;
    double best_s = 0; // the best transfer too, as the UDAL rows record theirs
    for (auto _ : state) {
      const auto t0 = LatencySamples::Clock::now();
      asio::write(link.client, asio::buffer(data));
      asio::read(link.client, asio::buffer(&done, 1));
      const double s = std::chrono::duration<double>(LatencySamples::Clock::now() - t0).count();
      best_s = best_s == 0 ? s : std::min(best_s, s);
    }
    if (best_s > 0 && bytes >= (uint64_t{1} << 20)) // as BestIteration does
      state.counters["best_bytes_per_second"] = static_cast<double>(bytes) / best_s;
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  } catch (const std::exception& e) {
    state.SkipWithError(fmt::format("raw TCP: {}", e.what()).c_str());
  }
}

} // namespace

void register_tcp_benchmarks(uint64_t bulk_bytes) {
  benchmark::RegisterBenchmark("tcp_round_trip/tcp-raw", bm_round_trip)->UseRealTime();
  benchmark::RegisterBenchmark(fmt::format("tcp_bulk/tcp-raw/{}", bulk_bytes).c_str(), bm_bulk,
                               bulk_bytes, false)
      ->UseRealTime();
  benchmark::RegisterBenchmark(fmt::format("tcp_bulk/tcp-raw-to-memory/{}", bulk_bytes).c_str(),
                               bm_bulk, bulk_bytes, true)
      ->UseRealTime();
}

} // namespace udal_bench

#else // no Boost.Asio

#include <cstdio>

namespace udal_bench {
void register_tcp_benchmarks(uint64_t) {
  std::fprintf(stderr, "udal-bench: no raw TCP rows: built without Boost.Asio\n");
}
} // namespace udal_bench

#endif
