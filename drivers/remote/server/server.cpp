#include "server.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "channel.h"
#include "net.h"
#include "session.h"

namespace udal::remote::server {

namespace {

// What a failed TLS handshake usually means, for the log line the refused client causes.
std::string handshake_hint(const std::string& error) {
  auto has = [&](const char* text) { return error.find(text) != std::string::npos; };
  if (has("peer did not return a certificate")) {
    return "the client sent no certificate (set UDAL_REMOTE_CERT and UDAL_REMOTE_KEY on the "
           "client)";
  }
  if (has("certificate verify failed") || has("unknown ca")) {
    return "the client's certificate is not signed by a CA of --client-ca";
  }
  if (has("wrong version number") || has("http request") || has("unknown protocol") ||
      has("packet length too long") || has("record layer failure")) {
    return "the client speaks plain TCP to this TLS server (UDAL_REMOTE_INSECURE=1 on the "
           "client?)";
  }
  if (has("unsupported protocol") || has("no protocols available")) {
    return "the client does not offer TLS 1.3";
  }
  return "";
}

}  // namespace

Server::Server(Config config, Log& log)
    : config_(std::move(config)), log_(log), acceptor_(io_) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  description_ = fmt::format("udal-server {}.{} (protocol {}.{}) on {}", UDAL_REMOTE_VERSION_MAJOR,
                             UDAL_REMOTE_VERSION_MINOR, kProtocolMajor, kProtocolMinor, host);
}

Server::~Server() {
  if (instance_ != nullptr) udal_instance_release(instance_);
}

bool Server::load_devices() {
  // This server exposes the devices of its own machine: never those of the remote driver
  // (which, configured here, would make the server its own client).
  const char* disabled = std::getenv("UDAL_DRIVERS_DISABLE");
  const std::string disable =
      disabled != nullptr && disabled[0] != '\0' ? std::string(disabled) + ",remote" : "remote";
  setenv("UDAL_DRIVERS_DISABLE", disable.c_str(), 1);
  unsetenv("UDAL_REMOTE_SERVERS");

  udal_result_t result = udal_instance_create(nullptr, &instance_);
  if (result != UDAL_SUCCESS) {
    log_.write(Level::kError, "cannot create a UDAL instance: {}", udal_last_error_message());
    return false;
  }
  uint32_t drivers = 0;
  udal_instance_get_driver_count(instance_, &drivers);
  std::string reasons;
  for (uint32_t i = 0; i < drivers; ++i) {
    udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
    if (udal_instance_get_driver_status(instance_, i, &status) != UDAL_SUCCESS) continue;
    if (status.state == UDAL_DRIVER_STATE_LOADED) {
      log_.write(Level::kInfo, "driver '{}': {} device(s)", status.name, status.device_count);
    } else {
      log_.write(Level::kInfo, "driver '{}' not used: {}", status.name, status.reason);
      reasons += fmt::format("\n  {}: {}", status.name, status.reason);
    }
  }
  uint32_t count = 0;
  udal_instance_get_device_count(instance_, &count);
  for (uint32_t i = 0; i < count; ++i) {
    ServerDevice device{};
    device.info = UDAL_DEVICE_INFO_INIT;
    if (udal_instance_get_device(instance_, i, &device.handle) != UDAL_SUCCESS ||
        udal_device_get_info(device.handle, &device.info) != UDAL_SUCCESS) {
      log_.write(Level::kWarning, "device {} skipped: {}", i, udal_last_error_message());
      continue;
    }
    log_.write(Level::kInfo, "device {}: {} ({} driver)", devices_.size(), device.info.name,
               device.info.driver_name);
    devices_.push_back(device);
  }
  if (devices_.empty()) {
    log_.write(Level::kError, "no device to serve (UDAL_DRIVERS_SELECT, UDAL_DRIVER_FILES …){}",
               reasons.empty() ? std::string(": no driver found") : reasons);
    return false;
  }
  return true;
}

bool Server::listen() {
  HostPort where;
  std::string why;
  if (!parse_host_port(config_.listen, where, why, /*allow_port_zero=*/true)) {
    log_.write(Level::kError, "--listen: {}", why);
    return false;
  }
  if (config_.insecure && !resolves_to_loopback_only(where.host, why)) {
    log_.write(Level::kError,
               "--insecure (plain TCP, no authentication) is allowed only on a loopback "
               "address: {}; use --cert, --key and --client-ca",
               why);
    return false;
  }
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(io_);
  const auto endpoints = resolver.resolve(where.host, std::to_string(where.port),
                                          asio::ip::tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    log_.write(Level::kError, "cannot resolve '{}': {}", where.host,
               ec ? ec.message() : "no address");
    return false;
  }
  const asio::ip::tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    log_.write(Level::kError, "cannot listen on {}: {}", config_.listen, ec.message());
    return false;
  }
  const auto bound = acceptor_.local_endpoint(ec);
  const HostPort actual{bound.address().to_string(), bound.port()};
  // Tests and scripts wait for this line (the port is the real one when 0 was asked for).
  std::printf("udal-server: listening on %s (%s)\n", actual.text().c_str(),
              config_.insecure ? "plain TCP, loopback only"
                               : "TLS 1.3, client certificates required");
  std::fflush(stdout);
  return true;
}

void Server::accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](const boost::system::error_code& ec,
                                                        asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      log_.write(Level::kWarning, "accept failed: {}", ec.message());
    } else {
      on_accepted(std::move(socket));
    }
    accept();
  });
}

void Server::on_accepted(asio::ip::tcp::socket socket) {
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  const std::string peer =
      ec ? std::string("(unknown peer)")
         : HostPort{remote.address().to_string(), remote.port()}.text();
  uint64_t number = 0;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (sessions_.size() + handshakes_ >= config_.max_clients) {
      log_.write(Level::kWarning, "refused {}: already {} clients (max_clients)", peer,
                 config_.max_clients);
      return;
    }
    number = next_session_++;
    ++handshakes_;
  }
  Channel::Options options;
  options.keepalive_interval = std::chrono::milliseconds(config_.keepalive_interval_ms);
  options.keepalive_timeout = std::chrono::milliseconds(config_.keepalive_timeout_ms);
  options.peer = peer;
  auto start_session = [this, number, options](asio::any_io_executor executor,
                                               std::unique_ptr<TlsSocket> tls,
                                               std::unique_ptr<asio::ip::tcp::socket> plain,
                                               std::string identity) {
    auto channel = std::make_shared<Channel>(std::move(executor), std::move(tls), std::move(plain),
                                             options);
    auto session = std::make_shared<Session>(*this, channel, std::move(identity), number);
    {
      std::lock_guard lock(mutex_);
      --handshakes_;
      if (stopping_) return;
      sessions_.insert(session);
    }
    session->start();
  };
  const asio::any_io_executor executor = socket.get_executor();
  if (config_.insecure) {
    start_session(executor, nullptr, std::make_unique<asio::ip::tcp::socket>(std::move(socket)),
                  "insecure");
    return;
  }
  auto tls = std::make_shared<std::unique_ptr<TlsSocket>>(
      std::make_unique<TlsSocket>(std::move(socket), *tls_));
  auto timer = std::make_shared<asio::steady_timer>(executor);
  timer->expires_after(std::chrono::milliseconds(config_.handshake_timeout_ms));
  timer->async_wait([tls](const boost::system::error_code& timer_ec) {
    boost::system::error_code ignored;
    if (!timer_ec && *tls) (*tls)->next_layer().close(ignored);
  });
  (*tls)->async_handshake(
      asio::ssl::stream_base::server,
      [this, tls, timer, peer, executor, start_session](const boost::system::error_code& hs_ec) {
        timer->cancel();
        if (hs_ec) {
          const std::string error = hs_ec == asio::error::operation_aborted ||
                                            hs_ec == asio::error::bad_descriptor
                                        ? fmt::format("no TLS handshake within {} ms",
                                                      config_.handshake_timeout_ms)
                                        : hs_ec.message();
          const std::string hint = handshake_hint(error);
          log_.write(Level::kWarning, "refused {}: TLS handshake failed: {}{}", peer, error,
                     hint.empty() ? std::string() : " — " + hint);
          std::lock_guard lock(mutex_);
          --handshakes_;
          return;
        }
        std::string identity = peer_common_name((*tls)->native_handle());
        if (identity.empty()) identity = peer_subject((*tls)->native_handle());
        start_session(executor, std::move(*tls), nullptr, std::move(identity));
      });
}

void Server::reap(udal_stream_t stream) {
  std::lock_guard lock(mutex_);
  reap_queue_.push_back(stream);
  changed_.notify_all();
}

void Server::reaper_main() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return reaper_stop_ || !reap_queue_.empty(); });
    if (reap_queue_.empty()) return;
    udal_stream_t stream = reap_queue_.front();
    reap_queue_.pop_front();
    lock.unlock();
    udal_stream_destroy(stream);
    lock.lock();
  }
}

void Server::session_ended(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mutex_);
  sessions_.erase(session);
  changed_.notify_all();
}

int Server::run() {
  if (!config_.insecure) {
    std::string why;
    tls_ = make_server_tls({config_.cert, config_.key, config_.client_ca}, why);
    if (!tls_) {
      log_.write(Level::kError, "TLS: {}", why);
      return 2;
    }
  }
  if (!load_devices()) return 1;
  if (!listen()) return 2;

  asio::signal_set signals(io_, SIGINT, SIGTERM);
  int stop_signal = 0;
  signals.async_wait([this, &stop_signal](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    std::lock_guard lock(mutex_);
    stop_signal = signal;
    stopping_ = true;
    changed_.notify_all();
  });
  accept();

  work_guard_.emplace(work_.get_executor());
  reaper_ = std::thread([this] { reaper_main(); });
  const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
  const unsigned io_threads = config_.io_threads != 0 ? config_.io_threads : 2;
  const unsigned work_threads = config_.work_threads != 0 ? config_.work_threads : cores;
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < io_threads; ++i) threads.emplace_back([this] { io_.run(); });
  for (unsigned i = 0; i < work_threads; ++i) threads.emplace_back([this] { work_.run(); });

  std::vector<std::shared_ptr<Session>> open;
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return stopping_; });
    open.assign(sessions_.begin(), sessions_.end());
  }
  log_.write(Level::kInfo, "signal {}: closing {} session(s) and stopping", stop_signal,
             open.size());
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  for (const auto& session : open) session->shut_down("udal-server is shutting down");
  open.clear();
  {
    // Each session frees its objects once its channel has closed (at most the goodbye's two
    // seconds); a device that does not finish its work in this time is left to the exit.
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, std::chrono::seconds(30), [this] { return sessions_.empty(); })) {
      log_.write(Level::kWarning, "{} session(s) did not end in 30 s", sessions_.size());
    }
    reaper_stop_ = true;
    changed_.notify_all();
  }
  reaper_.join();
  io_.stop();
  work_guard_.reset();
  work_.stop();
  for (std::thread& thread : threads) thread.join();
  {
    std::lock_guard lock(mutex_);
    if (!sessions_.empty()) {
      instance_ = nullptr;  // left to the exit: a device is still busy with a session's work
      return 0;
    }
  }
  udal_instance_release(instance_);
  instance_ = nullptr;
  log_.write(Level::kInfo, "stopped");
  return 0;
}

}  // namespace udal::remote::server
