// remote_servers.h — the udal-server children of a udal-bench run: started on 127.0.0.1,
// port 0, serving this build's CPU driver, one with --insecure and one with TLS and
// certificates made by the openssl command; killed and reaped on every way out of
// udal-bench (normal end, exit(), an uncaught exception, SIGINT/SIGTERM/SIGHUP/SIGQUIT), and
// by the kernel if udal-bench dies any other way (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace udal_bench {

// Where udal-server and the manifests are when udal-bench runs from a build or install
// tree: <dir of udal-bench>/udal-server and <dir>/../share/udal/drivers.d/{cpu,remote}.json.
struct RemoteFiles {
  std::string server;
  std::string cpu_manifest;
  std::string remote_manifest;
  // Empty when all three exist; else why the remote rows are skipped.
  std::string missing;
};
RemoteFiles find_remote_files();

// A directory of the run's own, removed with its contents at destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

// A CA, a server certificate for 127.0.0.1 and a client certificate, made by the openssl
// command in |dir| as docs/remote.md shows. Empty |error| on success.
struct Certificates {
  std::string ca, server_cert, server_key, client_cert, client_key;
  std::string error;
};
Certificates make_certificates(const TempDir& dir);

class ServerChild {
public:
  // Starts |files.server| --listen 127.0.0.1:0 |args| with UDAL_DRIVER_FILES set to the CPU
  // manifest, its output in |dir|/<name>.out and .err, and waits (at most 20 s) for its
  // "listening on 127.0.0.1:PORT" line. Null with |error| set when it did not listen.
  static std::unique_ptr<ServerChild> start(const RemoteFiles& files, const std::string& name,
                                            const std::vector<std::string>& args,
                                            const TempDir& dir, std::string& error);
  ~ServerChild(); // SIGKILL and reap
  ServerChild(const ServerChild&) = delete;
  ServerChild& operator=(const ServerChild&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string address() const;

private:
  ServerChild() = default;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

} // namespace udal_bench
