#include "remote_servers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

extern char** environ;

namespace udal_bench {
namespace {

// ==========================================================================================
// Every child still running, so that any way out of udal-bench can kill and reap it.
// Lock-free slots: a signal handler reads them.
// ==========================================================================================

constexpr int kSlots = 8;
std::atomic<pid_t> g_children[kSlots];
static_assert(std::atomic<pid_t>::is_always_lock_free);

bool remember(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid))
      return true;
  }
  return false;
}

// Kills |pid| if a slot still holds it (or every child, for 0) and reaps it. Async-signal-safe.
void kill_and_reap(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t held = slot.load();
    if (held == 0 || (pid != 0 && held != pid))
      continue;
    if (!slot.compare_exchange_strong(held, 0))
      continue;
    kill(held, SIGKILL);
    while (waitpid(held, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

// Clears |pid|'s slot without a signal: it has been reaped already (its number may be
// another process's by now).
void forget(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t held = pid;
    if (slot.compare_exchange_strong(held, 0))
      return;
  }
}

void kill_all() {
  kill_and_reap(0);
}

// The run's temporary directory and the files udal-bench and openssl write there, kept as
// plain text so that a signal handler can remove them with unlink and rmdir (both
// async-signal-safe); set before the first child starts, read by the handler only.
constexpr const char* kRunFiles[] = {"plain.out",   "plain.err",  "tls.out",    "tls.err",
                                     "openssl.log", "server.ext", "client.ext", "ca.key",
                                     "ca.crt",      "ca.srl",     "server.key", "server.csr",
                                     "server.crt",  "client.key", "client.csr", "client.crt"};
char g_run_dir[512];
std::atomic<bool> g_run_dir_set{false};

void remove_run_files() {
  if (!g_run_dir_set.load())
    return;
  char path[sizeof g_run_dir + 32];
  for (const char* name : kRunFiles) {
    size_t at = 0;
    for (const char* c = g_run_dir; *c != '\0' && at + 1 < sizeof path; ++c)
      path[at++] = *c;
    if (at + 1 < sizeof path)
      path[at++] = '/';
    for (const char* c = name; *c != '\0' && at + 1 < sizeof path; ++c)
      path[at++] = *c;
    path[at] = '\0';
    unlink(path);
  }
  rmdir(g_run_dir);
}

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Kills the children, then dies of the signal as it would have (the handler is reset by
// SA_RESETHAND; the signal is blocked until the handler returns).
extern "C" void on_signal(int signal) {
  const int saved = errno;
  kill_all();
  remove_run_files();
  raise(signal);
  errno = saved;
}

std::terminate_handler g_previous_terminate = nullptr;

// Installed once, before the first child: every exit path of udal-bench kills the servers.
void install_exit_paths() {
  static const bool installed = [] {
    std::atexit(kill_all);
    g_previous_terminate = std::set_terminate([] {
      kill_all();
      if (g_previous_terminate != nullptr)
        g_previous_terminate();
      std::abort();
    });
    for (int signal : kSignals) {
      struct sigaction action = {};
      struct sigaction old = {};
      sigaction(signal, nullptr, &old);
      if (old.sa_handler == SIG_IGN)
        continue; // nohup and friends: stay ignored
      action.sa_handler = on_signal;
      action.sa_flags = SA_RESETHAND;
      sigemptyset(&action.sa_mask);
      sigaction(signal, &action, nullptr);
    }
    return true;
  }();
  (void)installed;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The last |count| lines of |text|, for a message.
std::string last_lines(const std::string& text, int count) {
  size_t at = text.size();
  while (at > 0 && text[at - 1] == '\n')
    --at;
  const size_t end = at;
  while (count-- > 0 && at > 0) {
    const size_t nl = text.rfind('\n', at - 1);
    at = nl == std::string::npos ? 0 : nl;
  }
  std::string lines = text.substr(at, end - at);
  if (!lines.empty() && lines.front() == '\n')
    lines.erase(0, 1);
  return lines.empty() ? "(nothing on stderr)" : lines;
}

// The variables a child must not take from udal-bench's environment: it serves the CPU
// driver only, with no layer (the layers are what udal-bench's own rows measure).
bool dropped(const std::string& entry) {
  for (const char* name : {"UDAL_DRIVER_FILES=", "UDAL_ADD_DRIVER_FILES=", "UDAL_DRIVERS_SELECT=",
                           "UDAL_DRIVERS_DISABLE=", "UDAL_VALIDATION=", "UDAL_TRACE="}) {
    if (entry.rfind(name, 0) == 0)
      return true;
  }
  return false;
}

} // namespace

// ==========================================================================================
// Files
// ==========================================================================================

RemoteFiles find_remote_files() {
  RemoteFiles files;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    files.missing = fmt::format("cannot read /proc/self/exe: {}", ec.message());
    return files;
  }
  const auto dir = exe.parent_path();
  const auto manifests = dir.parent_path() / "share" / "udal" / "drivers.d";
  files.server = (dir / "udal-server").string();
  files.cpu_manifest = (manifests / "cpu.json").string();
  files.remote_manifest = (manifests / "remote.json").string();
  for (const std::string* path : {&files.server, &files.cpu_manifest, &files.remote_manifest}) {
    if (!std::filesystem::exists(*path, ec)) {
      files.missing = fmt::format("no {} beside udal-bench", *path);
      break;
    }
  }
  return files;
}

TempDir::TempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "udal-bench-remote-XXXXXX").string();
  if (mkdtemp(pattern.data()) != nullptr)
    path_ = pattern;
  // The first run directory is the one a signal handler cleans (udal-bench makes one).
  if (!path_.empty() && path_.size() < sizeof g_run_dir && !g_run_dir_set.load()) {
    std::memcpy(g_run_dir, path_.c_str(), path_.size() + 1);
    g_run_dir_set.store(true);
  }
}

TempDir::~TempDir() {
  if (g_run_dir_set.load() && path_ == g_run_dir)
    g_run_dir_set.store(false);
  std::error_code ignored;
  if (!path_.empty())
    std::filesystem::remove_all(path_, ignored);
}

Certificates make_certificates(const TempDir& dir) {
  Certificates c;
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
    c.error = "no openssl command (apt-get install openssl)";
    return c;
  }
  const std::string d = dir.path();
  std::ofstream(dir.file("server.ext")) << "subjectAltName=IP:127.0.0.1\n"
                                           "extendedKeyUsage=serverAuth\n";
  std::ofstream(dir.file("client.ext")) << "extendedKeyUsage=clientAuth\n";
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string log = fmt::format(" >>'{}/openssl.log' 2>&1", d);
  const std::string leaf =
      "openssl req {ec} -keyout {n}.key -out {n}.csr -subj /CN={n}{log} && "
      "openssl x509 -req -in {n}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out {n}.crt "
      "-days 2 -extfile {ext}{log}";
  const std::string command =
      fmt::format("cd '{d}' && openssl req -x509 {ec} -keyout ca.key -out ca.crt -days 2 "
                  "-subj /CN=udal-bench-ca{log} && {server} && {client}",
                  fmt::arg("d", d), fmt::arg("ec", ec), fmt::arg("log", log),
                  fmt::arg("server", fmt::format(fmt::runtime(leaf), fmt::arg("ec", ec),
                                                 fmt::arg("n", "server"), fmt::arg("log", log),
                                                 fmt::arg("ext", "server.ext"))),
                  fmt::arg("client", fmt::format(fmt::runtime(leaf), fmt::arg("ec", ec),
                                                 fmt::arg("n", "client"), fmt::arg("log", log),
                                                 fmt::arg("ext", "client.ext"))));
  const int status = std::system(command.c_str());
  if (status != 0) {
    c.error = fmt::format("openssl failed making the certificates: {}",
                          last_lines(read_text(dir.file("openssl.log")), 3));
    return c;
  }
  c.ca = dir.file("ca.crt");
  c.server_cert = dir.file("server.crt");
  c.server_key = dir.file("server.key");
  c.client_cert = dir.file("client.crt");
  c.client_key = dir.file("client.key");
  return c;
}

// ==========================================================================================
// Children
// ==========================================================================================

std::unique_ptr<ServerChild> ServerChild::start(const RemoteFiles& files, const std::string& name,
                                                const std::vector<std::string>& args,
                                                const TempDir& dir, std::string& error) {
  install_exit_paths();
  std::vector<std::string> argv_text = {files.server, "--listen", "127.0.0.1:0"};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!dropped(*e))
      env_text.emplace_back(*e);
  }
  env_text.push_back("UDAL_DRIVER_FILES=" + files.cpu_manifest);
  const std::string out_path = dir.file(name + ".out");
  const std::string err_path = dir.file(name + ".err");
  // Everything the child needs is made before the fork: between fork and exec it may only
  // make async-signal-safe calls (udal-bench has threads).
  std::vector<char*> argv;
  for (auto& a : argv_text)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_text)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t parent = getpid();

  // Signals that would kill udal-bench are held until the child is in a slot, so no
  // handler runs between the fork and remember().
  sigset_t block;
  sigset_t old_mask;
  sigemptyset(&block);
  for (int signal : kSignals)
    sigaddset(&block, signal);
  pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  const pid_t pid = fork();
  if (pid == 0) {
    // Killed with udal-bench, however it ends (the fork's thread is udal-bench's main one).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127);
    const int null = open("/dev/null", O_RDONLY);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (null >= 0)
      dup2(null, 0);
    if (out >= 0)
      dup2(out, 1);
    if (err >= 0)
      dup2(err, 2);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  if (pid < 0) {
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    error = fmt::format("fork: {}", std::strerror(errno));
    return nullptr;
  }
  std::unique_ptr<ServerChild> child(new ServerChild());
  child->pid_ = pid;
  if (!remember(pid)) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    child->pid_ = -1;
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    error = "too many udal-server children";
    return nullptr;
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);

  // The server prints its address once it listens; one that exits first is done.
  const std::string marker = "listening on 127.0.0.1:";
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < limit) {
    const std::string out = read_text(out_path);
    const auto at = out.find(marker);
    if (at != std::string::npos) {
      const unsigned long port = std::strtoul(out.c_str() + at + marker.size(), nullptr, 10);
      if (port > 0 && port < 65536) {
        child->port_ = static_cast<uint16_t>(port);
        return child;
      }
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      forget(pid);
      child->pid_ = -1;
      error = fmt::format("udal-server {} exited ({}) before listening: {}", name,
                          WIFEXITED(status) ? fmt::format("status {}", WEXITSTATUS(status))
                                            : fmt::format("signal {}", WTERMSIG(status)),
                          last_lines(read_text(err_path), 3));
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  error = fmt::format("udal-server {} did not listen within 20 s: {}", name,
                      last_lines(read_text(err_path), 3));
  return nullptr; // the destructor kills it
}

ServerChild::~ServerChild() {
  if (pid_ > 0)
    kill_and_reap(pid_);
}

std::string ServerChild::address() const {
  return fmt::format("127.0.0.1:{}", port_);
}

} // namespace udal_bench
