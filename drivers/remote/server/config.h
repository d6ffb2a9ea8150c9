// config.h — udal-server's settings: the command line over the JSON config file.
#ifndef UDAL_REMOTE_SERVER_CONFIG_H_
#define UDAL_REMOTE_SERVER_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>

namespace udal::remote::server {

// What one client may hold at once. 0 means no limit of the server's own (the device's
// memory still is one).
struct Limits {
  uint64_t device_memory_bytes = 0;           // bytes of all its buffers together
  uint64_t objects = 65536;                   // buffers, streams, events, modules, kernels
  uint64_t in_flight_bytes = uint64_t{1} << 30;  // host data received or read, not yet used
};

struct Config {
  std::string listen;
  std::string cert;
  std::string key;
  std::string client_ca;
  bool insecure = false;
  std::string config_path;  // where the settings came from, for messages
  uint32_t keepalive_interval_ms = 1000;
  uint32_t keepalive_timeout_ms = 15000;
  uint32_t handshake_timeout_ms = 10000;
  uint32_t max_clients = 256;
  uint32_t io_threads = 0;    // 0: 2
  uint32_t work_threads = 0;  // 0: the number of cores, at least 2
  std::string log_level = "info";
  Limits default_limits;
  // Per client, by the commonName of its certificate ("insecure" for plain-TCP clients).
  std::map<std::string, Limits> client_limits;

  const Limits& limits_for(const std::string& identity) const;
};

// Reads the JSON file at |path| into |config| (fields it does not name keep their value).
// False with the reason (the file, the field and what is wrong) in |why|.
bool load_config_file(const std::string& path, Config& config, std::string& why);

}  // namespace udal::remote::server

#endif  // UDAL_REMOTE_SERVER_CONFIG_H_
