// udal_remote_bench — the remote driver's figures on loopback beside raw TCP through Asio,
// measured in one run (reported, never asserted):
//   raw TCP round trip (64 bytes, median) and bulk throughput (256 MiB, best of 3),
//   remote → cpu, plain TCP and TLS 1.3: event record + wait, pipelined launches per
//   second, host write and read of 256 MiB (best of 3).
// Run from the build tree: bin/udal_remote_bench [rounds]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "support.h"

namespace udal::remote::test {
namespace {

using clock_type = std::chrono::steady_clock;
namespace asio = boost::asio;

// Throughputs are the best of this many transfers: the machine is shared, and the best
// run is the one least disturbed by the rest of it.
constexpr int kBulkRuns = 3;

double median_us(std::vector<double>& samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

// A 64-byte ping-pong and a bulk transfer through Asio's blocking sockets.
void raw_tcp(int rounds, double& rtt_us, double& bulk_gbs) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = acceptor.local_endpoint().port();
  constexpr std::size_t kBulk = std::size_t{256} << 20;
  std::thread echo([&] {
    asio::ip::tcp::socket peer = acceptor.accept();
    peer.set_option(asio::ip::tcp::no_delay(true));
    char bytes[64];
    for (int i = 0; i < rounds; ++i) {
      asio::read(peer, asio::buffer(bytes));
      asio::write(peer, asio::buffer(bytes));
    }
    std::vector<char> sink(1 << 20);
    for (int run = 0; run < kBulkRuns; ++run) {
      std::size_t got = 0;
      while (got < kBulk) got += peer.read_some(asio::buffer(sink));
      asio::write(peer, asio::buffer(bytes, 1));
    }
  });
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  socket.set_option(asio::ip::tcp::no_delay(true));
  char bytes[64] = {};
  std::vector<double> samples;
  for (int i = 0; i < rounds; ++i) {
    const auto start = clock_type::now();
    asio::write(socket, asio::buffer(bytes));
    asio::read(socket, asio::buffer(bytes));
    samples.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
  }
  rtt_us = median_us(samples);
  std::vector<char> data(kBulk, 1);
  bulk_gbs = 0;
  for (int i = 0; i < kBulkRuns; ++i) {
    const auto start = clock_type::now();
    asio::write(socket, asio::buffer(data));
    asio::read(socket, asio::buffer(bytes, 1));
    bulk_gbs = std::max(
        bulk_gbs, kBulk / std::chrono::duration<double>(clock_type::now() - start).count() / 1e9);
  }
  echo.join();
}

struct Figures {
  double record_wait_us = 0;
  double launches_per_s = 0;
  double write_gbs = 0;
  double read_gbs = 0;
};

Instance open_local_cpu() {
  const char* paths[] = {UDAL_CPU_MANIFEST};
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.driver_paths = paths;
  desc.driver_path_count = 1;
  udal_instance_t instance = nullptr;
  udal_instance_create(&desc, &instance);
  return Instance(instance);
}

// |settings| null: the CPU driver in this process, for comparison.
Figures measure(const ClientSettings* settings, int rounds) {
  Figures f;
  Instance instance = settings != nullptr ? open_remote(*settings) : open_local_cpu();
  udal_device_t dev = device(instance.get(), 0);
  udal_stream_t stream = nullptr;
  udal_event_t event = nullptr;
  udal_stream_create(dev, nullptr, &stream);
  udal_event_create(dev, nullptr, &event);
  std::vector<double> samples;
  for (int i = 0; i < rounds; ++i) {
    const auto start = clock_type::now();
    udal_stream_record_event(stream, event);
    udal_event_wait(event, UDAL_TIMEOUT_INFINITE);
    samples.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
  }
  f.record_wait_us = median_us(samples);

  Module module = load_test_kernels(dev);
  udal_kernel_t kernel = nullptr;
  udal_kernel_create(module.get(), "increment", &kernel);
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = std::size_t{256} << 20;
  udal_buffer_t buffer = nullptr;
  udal_buffer_create(dev, &desc, &buffer);
  const udal_kernel_arg_t arg = udal_arg_buffer(buffer, 0);
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  launch.args = &arg;
  launch.arg_count = 1;
  constexpr int kLaunches = 50000;
  auto start = clock_type::now();
  for (int i = 0; i < kLaunches; ++i) udal_stream_launch(stream, kernel, &launch);
  udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE);
  f.launches_per_s = kLaunches / std::chrono::duration<double>(clock_type::now() - start).count();

  std::vector<uint8_t> host(desc.size, 3);
  // Once untimed: the first write into a new buffer pays its page faults on the server.
  udal_stream_write_buffer(stream, buffer, 0, host.data(), host.size());
  udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE);
  for (int run = 0; run < kBulkRuns; ++run) {
    start = clock_type::now();
    udal_stream_write_buffer(stream, buffer, 0, host.data(), host.size());
    udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE);
    f.write_gbs = std::max(f.write_gbs, host.size() / std::chrono::duration<double>(
                                                          clock_type::now() - start).count() / 1e9);
  }
  for (int run = 0; run < kBulkRuns; ++run) {
    start = clock_type::now();
    udal_stream_read_buffer(stream, buffer, 0, host.data(), host.size());
    udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE);
    f.read_gbs = std::max(f.read_gbs, host.size() / std::chrono::duration<double>(
                                                        clock_type::now() - start).count() / 1e9);
  }

  udal_kernel_destroy(kernel);
  udal_buffer_destroy(buffer);
  udal_event_destroy(event);
  udal_stream_destroy(stream);
  return f;
}

}  // namespace
}  // namespace udal::remote::test

int main(int argc, char** argv) {
  using namespace udal::remote::test;
  const int rounds = argc > 1 ? std::max(10, std::atoi(argv[1])) : 2000;
  double rtt = 0, bulk = 0;
  raw_tcp(rounds, rtt, bulk);
  // UDAL_REMOTE_BENCH_SERVER_CONFIG: a udal-server config (JSON) for both servers, to compare
  // settings (io_threads …).
  const char* config = std::getenv("UDAL_REMOTE_BENCH_SERVER_CONFIG");
  ServerProcess::Options tls_options;
  if (config != nullptr) tls_options.config_json = config;
  ServerProcess plain(insecure_server(tls_options.config_json));
  ServerProcess tls(tls_options);
  if (!plain.started() || !tls.started()) return 1;
  const ClientSettings plain_settings = insecure_client(plain.address());
  const ClientSettings tls_settings = tls_client(tls.address());
  const Figures l = measure(nullptr, rounds);
  const Figures p = measure(&plain_settings, rounds);
  const Figures t = measure(&tls_settings, rounds);
  std::printf("raw TCP through Asio (loopback): round trip %.1f us (median of %d), bulk %.2f GB/s\n",
              rtt, rounds, bulk);
  std::printf("%-28s %14s %14s %14s\n", "", "cpu (local)", "remote, TCP", "remote, TLS");
  std::printf("%-28s %11.1f us %11.1f us %11.1f us   (round trip + %.1f / + %.1f us)\n",
              "event record + wait", l.record_wait_us, p.record_wait_us, t.record_wait_us,
              p.record_wait_us - rtt, t.record_wait_us - rtt);
  std::printf("%-28s %12.0f/s %12.0f/s %12.0f/s\n", "pipelined launches", l.launches_per_s,
              p.launches_per_s, t.launches_per_s);
  std::printf("%-28s %9.2f GB/s %9.2f GB/s %9.2f GB/s   (%.0f%% / %.0f%% of raw TCP)\n",
              "host write 256 MiB", l.write_gbs, p.write_gbs, t.write_gbs, 100 * p.write_gbs / bulk,
              100 * t.write_gbs / bulk);
  std::printf("%-28s %9.2f GB/s %9.2f GB/s %9.2f GB/s   (%.0f%% / %.0f%% of raw TCP)\n",
              "host read 256 MiB", l.read_gbs, p.read_gbs, t.read_gbs, 100 * p.read_gbs / bulk,
              100 * t.read_gbs / bulk);
  return 0;
}
