// udal-server: exposes the UDAL devices of this machine to authenticated remote clients.
//
//   udal-server --listen 0.0.0.0:7860 --cert server.crt --key server.key --client-ca ca.crt
//   udal-server --listen 127.0.0.1:7860 --insecure          (plain TCP, loopback only)
//   udal-server --config /etc/udal/server.json              (the same settings, and limits)
#include <cstdio>

#include <CLI/CLI.hpp>

#include "config.h"
#include "log.h"
#include "server.h"

int main(int argc, char** argv) {
  using namespace udal::remote::server;
  CLI::App app{"udal-server: serves the UDAL devices of this machine to remote clients over "
               "TLS 1.3 with client certificates"};
  std::string config_file;
  Config cli;
  std::optional<uint32_t> keepalive_interval;
  std::optional<uint32_t> keepalive_timeout;
  app.add_option("--config", config_file,
                 "JSON settings: listen, cert, key, client_ca, limits, clients (per-client "
                 "limits) …; the options below override it")
      ->check(CLI::ExistingFile);
  app.add_option("--listen", cli.listen, "HOST:PORT to listen on ([::1]:PORT for IPv6; port 0 "
                                         "lets the system choose, printed at start)");
  auto* cert = app.add_option("--cert", cli.cert, "PEM certificate of this server");
  auto* key = app.add_option("--key", cli.key, "PEM private key of this server");
  auto* client_ca = app.add_option("--client-ca", cli.client_ca,
                                   "PEM CA certificate(s) that sign the clients' certificates");
  auto* insecure = app.add_flag("--insecure", cli.insecure,
                                "plain TCP without authentication; only on a loopback address");
  insecure->excludes(cert)->excludes(key)->excludes(client_ca);
  app.add_option("--keepalive-interval-ms", keepalive_interval,
                 "send a ping after this much silence (default 1000)");
  app.add_option("--keepalive-timeout-ms", keepalive_timeout,
                 "drop a client silent this long (default 15000)");
  std::string log_level;
  app.add_option("--log-level", log_level, "debug, info, warning or error (default info)");
  CLI11_PARSE(app, argc, argv);

  Log log;
  Config config;
  std::string why;
  if (!config_file.empty() && !load_config_file(config_file, config, why)) {
    log.write(Level::kError, "{}", why);
    return 2;
  }
  if (!cli.listen.empty()) config.listen = cli.listen;
  if (!cli.cert.empty()) config.cert = cli.cert;
  if (!cli.key.empty()) config.key = cli.key;
  if (!cli.client_ca.empty()) config.client_ca = cli.client_ca;
  if (cli.insecure) {
    config.insecure = true;
    config.cert.clear();
    config.key.clear();
    config.client_ca.clear();
  }
  if (keepalive_interval) config.keepalive_interval_ms = *keepalive_interval;
  if (keepalive_timeout) config.keepalive_timeout_ms = *keepalive_timeout;
  if (!log_level.empty()) config.log_level = log_level;
  if (!log.set_level(config.log_level)) {
    log.write(Level::kError, "log level '{}' is not debug, info, warning or error",
              config.log_level);
    return 2;
  }
  if (config.listen.empty()) {
    log.write(Level::kError, "no address to listen on: give --listen HOST:PORT");
    return 2;
  }
  if (!config.insecure && (config.cert.empty() || config.key.empty() || config.client_ca.empty())) {
    log.write(Level::kError,
              "TLS needs --cert, --key and --client-ca (or --insecure for plain TCP on "
              "loopback)");
    return 2;
  }
  if (config.keepalive_interval_ms == 0 ||
      config.keepalive_timeout_ms < 2 * config.keepalive_interval_ms) {
    log.write(Level::kError,
              "keep-alive: the interval ({} ms) must be > 0 and at most half the timeout ({} ms)",
              config.keepalive_interval_ms, config.keepalive_timeout_ms);
    return 2;
  }
  Server server(std::move(config), log);
  return server.run();
}
