#include "support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "convert.h"

extern char** environ;

namespace udal::remote::test {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// fork + execve with stdout and stderr to files; |env| added to this process's
// environment (built before the fork: the child only calls async-signal-safe functions).
pid_t spawn(const std::vector<std::string>& args,
            const std::vector<std::pair<std::string, std::string>>& env,
            const std::string& out_path, const std::string& err_path) {
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    bool replaced = false;
    for (const auto& [name, value] : env) replaced = replaced || entry.rfind(name + "=", 0) == 0;
    if (!replaced) environment.push_back(entry);
  }
  for (const auto& [name, value] : env) environment.push_back(name + "=" + value);
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out >= 0) dup2(out, 1);
    if (err >= 0) dup2(err, 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

// ==========================================================================================
// Files and processes
// ==========================================================================================

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "udal-remote-XXXXXX").string();
  if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

int run_command(const std::string& command) {
  const int status = std::system(command.c_str());
  return status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const Pki& pki() {
  static TempDir dir;
  static const Pki made = [] {
    Pki p;
    const std::string d = dir.path();
    auto path = [&](const char* name) { return d + "/" + name; };
    std::ofstream(path("server.ext"))
        << "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3,IP:127.0.0.4\n"
           "extendedKeyUsage=serverAuth\n";
    std::ofstream(path("client.ext")) << "extendedKeyUsage=clientAuth\n";
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string log = " >>" + path("openssl.log") + " 2>&1";
    auto ca = [&](const std::string& name, const std::string& cn) {
      return run_command(fmt::format("cd {} && openssl req -x509 {} -keyout {}.key -out {}.crt "
                                     "-days 3 -subj /CN={}{}",
                                     d, ec, name, name, cn, log));
    };
    auto leaf = [&](const std::string& name, const std::string& cn, const std::string& issuer,
                    const char* ext) {
      return run_command(fmt::format(
          "cd {d} && openssl req {ec} -keyout {n}.key -out {n}.csr -subj /CN={cn}{log} && "
          "openssl x509 -req -in {n}.csr -CA {i}.crt -CAkey {i}.key -CAcreateserial -out {n}.crt "
          "-days 3 -extfile {ext}{log}",
          fmt::arg("d", d), fmt::arg("ec", ec), fmt::arg("n", name), fmt::arg("cn", cn),
          fmt::arg("i", issuer), fmt::arg("ext", ext), fmt::arg("log", log)));
    };
    const int failures = ca("ca", "udal-test-ca") + ca("other-ca", "udal-other-ca") +
                         leaf("server", "udal-test-server", "ca", "server.ext") +
                         leaf("client-a", "client-a", "ca", "client.ext") +
                         leaf("client-b", "client-b", "ca", "client.ext") +
                         leaf("rogue", "client-a", "other-ca", "client.ext");
    if (failures != 0) {
      ADD_FAILURE() << "openssl failed making the test certificates:\n"
                    << read_text(path("openssl.log"));
    }
    p.ca_cert = path("ca.crt");
    p.server_cert = path("server.crt");
    p.server_key = path("server.key");
    p.client_a_cert = path("client-a.crt");
    p.client_a_key = path("client-a.key");
    p.client_b_cert = path("client-b.crt");
    p.client_b_key = path("client-b.key");
    p.other_ca_cert = path("other-ca.crt");
    p.rogue_cert = path("rogue.crt");
    p.rogue_key = path("rogue.key");
    return p;
  }();
  return made;
}

ServerProcess::ServerProcess(Options options) : options_(std::move(options)) {
  std::vector<std::string> args = {UDAL_REMOTE_SERVER_EXE, "--listen", options_.host + ":0",
                                   "--log-level", "debug"};
  if (options_.insecure) {
    args.push_back("--insecure");
  } else {
    const Pki& p = pki();
    args.insert(args.end(), {"--cert", p.server_cert, "--key", p.server_key, "--client-ca",
                             p.ca_cert});
  }
  if (!options_.config_json.empty()) {
    std::ofstream(dir_.file("server.json")) << options_.config_json;
    args.insert(args.end(), {"--config", dir_.file("server.json")});
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  auto env = options_.env;
  env.emplace_back("UDAL_DRIVER_FILES", UDAL_CPU_MANIFEST);
  pid_ = spawn(args, env, dir_.file("stdout"), dir_.file("stderr"));
  // The server prints its address once it listens; a server that exits instead is done.
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < limit) {
    const std::string out = read_text(dir_.file("stdout"));
    const auto at = out.find("listening on ");
    const auto end = at == std::string::npos ? at : out.find(' ', at + 13);
    if (end != std::string::npos) {
      const std::string where = out.substr(at + 13, end - at - 13);
      port_ = static_cast<uint16_t>(std::stoi(where.substr(where.rfind(':') + 1)));
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      ADD_FAILURE() << "udal-server exited before listening:\n" << log();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "udal-server did not listen within 30 s:\n" << log();
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  // Under a sanitizer build the server is instrumented too: its reports fail the test.
  const std::string text = log();
  for (const char* report : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                             "WARNING: ThreadSanitizer"}) {
    if (text.find(report) != std::string::npos) {
      ADD_FAILURE() << "udal-server reported \"" << report << "\":\n" << text;
      break;
    }
  }
}

std::string ServerProcess::address() const { return fmt::format("{}:{}", options_.host, port_); }
std::string ServerProcess::log() const { return read_text(dir_.file("stderr")); }
void ServerProcess::signal(int signal) const {
  if (pid_ > 0 && !reaped_) kill(pid_, signal);
}

bool ServerProcess::stop() {
  if (pid_ <= 0 || reaped_) return false;
  kill(pid_, SIGSTOP);
  int status = 0;
  return waitpid(pid_, &status, WUNTRACED) == pid_ && WIFSTOPPED(status);
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!reaped_) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() > end) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

std::pair<int, std::string> run_server_to_exit(const std::vector<std::string>& args) {
  TempDir dir;
  std::vector<std::string> argv = {UDAL_REMOTE_SERVER_EXE};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = spawn(argv, {{"UDAL_DRIVER_FILES", UDAL_CPU_MANIFEST}}, dir.file("stdout"),
                          dir.file("stderr"));
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() > limit) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return {-1, "udal-server did not exit within 30 s"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1,
          read_text(dir.file("stderr")) + read_text(dir.file("stdout"))};
}

// ==========================================================================================
// Clients
// ==========================================================================================

ClientSettings tls_client(const std::string& servers) {
  const Pki& p = pki();
  ClientSettings settings;
  settings.servers = servers;
  settings.cert = p.client_a_cert;
  settings.key = p.client_a_key;
  settings.ca = p.ca_cert;
  return settings;
}

ClientSettings insecure_client(const std::string& servers) {
  ClientSettings settings;
  settings.servers = servers;
  settings.insecure = true;
  return settings;
}

Instance open_remote(const ClientSettings& s) {
  auto value = [](const std::string& v) { return v.empty() ? nullptr : v.c_str(); };
  ScopedEnvironment servers("UDAL_REMOTE_SERVERS", value(s.servers));
  ScopedEnvironment insecure("UDAL_REMOTE_INSECURE", s.insecure ? "1" : nullptr);
  ScopedEnvironment cert("UDAL_REMOTE_CERT", value(s.cert));
  ScopedEnvironment key("UDAL_REMOTE_KEY", value(s.key));
  ScopedEnvironment ca("UDAL_REMOTE_CA", value(s.ca));
  ScopedEnvironment keepalive("UDAL_REMOTE_KEEPALIVE_TIMEOUT_MS", value(s.keepalive_timeout_ms));
  ScopedEnvironment connect("UDAL_REMOTE_CONNECT_TIMEOUT_MS", value(s.connect_timeout_ms));
  ScopedEnvironment config("UDAL_REMOTE_CONFIG", nullptr);
  ScopedEnvironment xdg("XDG_CONFIG_HOME", "/nonexistent-udal-remote-test");
  return ::udal::test::open_instance(UDAL_REMOTE_MANIFEST);
}

udal_driver_status_t remote_status(udal_instance_t instance) {
  udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
  EXPECT_EQ(udal_instance_get_driver_status(instance, 0, &status), UDAL_SUCCESS)
      << udal_last_error_message();
  return status;
}


// ==========================================================================================
// Listener
// ==========================================================================================

Listener::Listener() {
  fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  socklen_t size = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || listen(fd, 4) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    ADD_FAILURE() << "cannot listen on 127.0.0.1: " << std::strerror(errno);
    return;
  }
  port = ntohs(address.sin_port);
}

Listener::~Listener() {
  if (fd >= 0) close(fd);
}

int Listener::accept_one(std::chrono::milliseconds timeout) {
  pollfd pfd{fd, POLLIN, 0};
  if (poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return -1;
  return accept(fd, nullptr, nullptr);
}

// ==========================================================================================
// RawClient
// ==========================================================================================

RawClient::RawClient(const std::string& host, uint16_t port) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd_);
    fd_ = -1;
  }
  const int one = 1;
  if (fd_ >= 0) setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

RawClient::~RawClient() {
  if (fd_ >= 0) close(fd_);
}

void RawClient::send_bytes(const void* data, std::size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0 && fd_ >= 0) {
    const ssize_t n = ::send(fd_, p, size, MSG_NOSIGNAL);
    if (n <= 0) return;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void RawClient::send(const flatbuffers::FlatBufferBuilder& builder, const std::vector<uint8_t>& bulk) {
  const OutFrame frame = make_frame(builder, bulk.size());
  send_bytes(frame.head.data(), frame.head.size());
  if (!bulk.empty()) send_bytes(bulk.data(), bulk.size());
}

bool RawClient::read_exact(void* data, std::size_t size, std::chrono::steady_clock::time_point limit) {
  auto* p = static_cast<uint8_t*>(data);
  while (size > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        limit - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    const ssize_t n = recv(fd_, p, size, 0);
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<RawClient::Frame> RawClient::receive(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return std::nullopt;
  const auto limit = std::chrono::steady_clock::now() + timeout;
  uint8_t header[kFrameHeaderBytes];
  if (!read_exact(header, sizeof(header), limit)) return std::nullopt;
  FrameHeader parsed;
  std::string why;
  if (!parse_frame_header(header, parsed, why)) {
    ADD_FAILURE() << "the server sent a bad frame: " << why;
    return std::nullopt;
  }
  Frame frame;
  storage_.assign((parsed.message_bytes + 7) / 8, 0);
  frame.message.resize(parsed.message_bytes);
  if (!read_exact(frame.message.data(), parsed.message_bytes, limit)) return std::nullopt;
  frame.bulk.resize(parsed.bulk_bytes);
  if (parsed.bulk_bytes > 0 && !read_exact(frame.bulk.data(), parsed.bulk_bytes, limit)) {
    return std::nullopt;
  }
  // std::vector's storage comes from operator new: aligned for the verifier.
  if (verify_message(frame.message.data(), frame.message.size(), why) == nullptr) {
    ADD_FAILURE() << "the server sent a message that fails verification: " << why;
    return std::nullopt;
  }
  return frame;
}

bool RawClient::hello(uint16_t major, uint16_t minor) {
  flatbuffers::FlatBufferBuilder builder;
  finish_message(builder, wire::CreateHello(builder, major, minor, builder.CreateString("raw test client")));
  send(builder);
  for (;;) {
    auto frame = receive();
    if (!frame) return false;
    const auto type = frame->get()->body_type();
    if (type == wire::Body::Welcome) return true;
    if (type != wire::Body::Ping) return false;
  }
}

}  // namespace udal::remote::test
