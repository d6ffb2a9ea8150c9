// server.h — udal-server: the devices of this machine, the listening socket, the sessions.
#ifndef UDAL_REMOTE_SERVER_SERVER_H_
#define UDAL_REMOTE_SERVER_SERVER_H_

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "config.h"
#include "log.h"
#include "udal/udal.h"

namespace udal::remote {
namespace asio = boost::asio;
}

namespace udal::remote::server {

class Session;

struct ServerDevice {
  udal_device_t handle;
  udal_device_info_t info;
};

class Server {
 public:
  Server(Config config, Log& log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the devices, listens, serves until SIGTERM/SIGINT, then closes every session and
  // frees what it holds. Returns the process exit code.
  int run();

  const Config& config() const { return config_; }
  Log& log() { return log_; }
  const std::vector<ServerDevice>& devices() const { return devices_; }
  const std::string& description() const { return description_; }
  asio::io_context& work_context() { return work_; }

  // Destroys |stream| on the reaper thread (udal_stream_destroy waits for its work).
  void reap(udal_stream_t stream);
  // A session has freed everything it held.
  void session_ended(const std::shared_ptr<Session>& session);

 private:
  bool load_devices();
  bool listen();
  void accept();
  void on_accepted(asio::ip::tcp::socket socket);
  void reaper_main();

  Config config_;
  Log& log_;
  std::string description_;
  udal_instance_t instance_ = nullptr;
  std::vector<ServerDevice> devices_;

  asio::io_context io_;
  asio::io_context work_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_guard_;
  asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<asio::ssl::context> tls_;
  uint64_t next_session_ = 1;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<std::shared_ptr<Session>> sessions_;
  bool stopping_ = false;
  uint64_t handshakes_ = 0;  // connections accepted, session not started yet

  std::deque<udal_stream_t> reap_queue_;
  bool reaper_stop_ = false;
  std::thread reaper_;
};

}  // namespace udal::remote::server

#endif  // UDAL_REMOTE_SERVER_SERVER_H_
