// support.h — what the remote driver's tests share beyond testing/udal_test.h (RAII handles,
// result assertions, instances of one manifest, modules): certificates made with the openssl
// command, udal-server processes on loopback addresses, instances of the remote driver, and
// a raw protocol client that sends what a real client never would.
#ifndef UDAL_REMOTE_TEST_SUPPORT_H_
#define UDAL_REMOTE_TEST_SUPPORT_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "frame.h"
#include "udal/udal.h"
#include "udal_test.h"

namespace udal::remote::test {

using ::udal::test::Buffer;
using ::udal::test::device;
using ::udal::test::device_count;
using ::udal::test::Event;
using ::udal::test::Instance;
using ::udal::test::Kernel;
using ::udal::test::Module;
using ::udal::test::ScopedEnvironment;
using ::udal::test::Stream;

// A directory removed with its contents at the end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs a shell command; its exit status (-1 when it could not run).
int run_command(const std::string& command);

// A CA, a server certificate for localhost and 127.0.0.1–127.0.0.4, two client
// certificates (client-a, client-b), and a second CA with a client of its own (rogue), all
// made by the openssl command in |dir|.
struct Pki {
  std::string ca_cert, server_cert, server_key;
  std::string client_a_cert, client_a_key;
  std::string client_b_cert, client_b_key;
  std::string other_ca_cert, rogue_cert, rogue_key;
};
// Made once per test process (openssl takes a moment) in a directory kept until exit.
const Pki& pki();

// One udal-server child process serving this build's CPU driver.
class ServerProcess {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    bool insecure = false;
    std::vector<std::string> extra_args;
    std::vector<std::pair<std::string, std::string>> env;  // added to the child's
    std::string config_json;  // written to a file and passed with --config when not empty
  };
  explicit ServerProcess(Options options);
  ~ServerProcess();  // SIGKILL if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Whether it printed its listening line (within 30 s).
  bool started() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  std::string address() const;  // "127.0.0.1:PORT"
  pid_t pid() const { return pid_; }
  // What it wrote to stderr so far.
  std::string log() const;
  void signal(int signal) const;
  // SIGSTOP, returning once the process has stopped (kill() returns before it does).
  bool stop();
  // Waits (at most |limit|) for the process to exit; its exit status, or nullopt.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);

 private:
  Options options_;
  TempDir dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  bool reaped_ = false;
};

inline ServerProcess::Options insecure_server(std::string config_json = {}) {
  ServerProcess::Options options;
  options.insecure = true;
  options.config_json = std::move(config_json);
  return options;
}
inline ServerProcess::Options tls_server_on(std::string host) {
  ServerProcess::Options options;
  options.host = std::move(host);
  return options;
}

// Runs udal-server with |args| to its exit (at most 30 s); its exit status and stderr.
std::pair<int, std::string> run_server_to_exit(const std::vector<std::string>& args);

// The UDAL_REMOTE_* settings of one client.
struct ClientSettings {
  std::string servers;
  bool insecure = false;
  std::string cert, key, ca;
  std::string keepalive_timeout_ms;
  std::string connect_timeout_ms;
};

// An instance that loads only this build's remote driver with |settings|; its devices
// are those of the servers. Each UDAL_REMOTE_* variable is set during the creation only.
Instance open_remote(const ClientSettings& settings);
// The settings of a TLS client with client-a's certificate for |servers|.
ClientSettings tls_client(const std::string& servers);
ClientSettings insecure_client(const std::string& servers);
// The remote driver's status in |instance| (state, reason).
udal_driver_status_t remote_status(udal_instance_t instance);

// The test kernels' module on |device|.
inline Module load_test_kernels(udal_device_t device) {
  return ::udal::test::make_module(device, UDAL_MODULE_FORMAT_HOST_NATIVE,
                                   UDAL_REMOTE_TEST_KERNELS);
}

// A client that speaks the protocol by hand over plain TCP, to send what the remote driver
// never sends. Every receive is bounded by |timeout|.
class RawClient {
 public:
  RawClient(const std::string& host, uint16_t port);
  // The other end of an accepted connection (a fake server), taking |fd|.
  explicit RawClient(int fd) : fd_(fd) {}
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  bool connected() const { return fd_ >= 0; }
  void send(const flatbuffers::FlatBufferBuilder& builder, const std::vector<uint8_t>& bulk = {});
  void send_bytes(const void* data, std::size_t size);
  // The next frame: its message bytes (verified) and bulk; nullopt on timeout or close.
  struct Frame {
    std::vector<uint8_t> message;  // 8-aligned copy
    std::vector<uint8_t> bulk;
    const wire::Message* get() const { return wire::GetMessage(message.data()); }
  };
  std::optional<Frame> receive(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Hello, then the Welcome (skipping pings); false when not welcomed.
  bool hello(uint16_t major = 1, uint16_t minor = 0);

 private:
  bool read_exact(void* data, std::size_t size, std::chrono::steady_clock::time_point limit);
  int fd_ = -1;
  std::vector<uint64_t> storage_;
};

// A listening socket on 127.0.0.1 (port chosen by the system).
struct Listener {
  Listener();
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  // The next connection, or -1 after |timeout|.
  int accept_one(std::chrono::milliseconds timeout);
  int fd = -1;
  uint16_t port = 0;
};

}  // namespace udal::remote::test

#endif  // UDAL_REMOTE_TEST_SUPPORT_H_
