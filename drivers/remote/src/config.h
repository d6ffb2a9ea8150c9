// config.h — where the remote driver finds its servers and credentials.
//
// Environment variables (read with secure_getenv: ignored in a setuid/setgid process)
// override the JSON config file, which is UDAL_REMOTE_CONFIG, else
// $XDG_CONFIG_HOME/udal/remote.json (~/.config/udal/remote.json), else
// /etc/udal/remote.json, when it exists:
//   UDAL_REMOTE_SERVERS=host:port[,host:port…]   "servers": ["host:port", …]
//   UDAL_REMOTE_CERT / _KEY / _CA=FILE            "cert", "key", "ca"
//   UDAL_REMOTE_INSECURE=1                        "insecure": true   (loopback servers only)
//   UDAL_REMOTE_CONNECT_TIMEOUT_MS=N              "connect_timeout_ms"   (default 3000)
//   UDAL_REMOTE_KEEPALIVE_TIMEOUT_MS=N            "keepalive_timeout_ms" (default 5000)
#ifndef UDAL_REMOTE_CONFIG_H_
#define UDAL_REMOTE_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "net.h"
#include "protocol.h"

namespace udal::remote {

struct ClientConfig {
  std::vector<HostPort> servers;
  TlsFiles tls;
  bool insecure = false;
  uint32_t connect_timeout_ms = kDefaultConnectTimeoutMs;
  uint32_t keepalive_timeout_ms = kDefaultClientKeepaliveTimeoutMs;
  std::string file;  // the config file read, or ""
};

// Fills |config| from the file and the environment; false with the reason in |why|.
bool load_client_config(ClientConfig& config, std::string& why);

}  // namespace udal::remote

#endif  // UDAL_REMOTE_CONFIG_H_
