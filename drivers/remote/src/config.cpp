#include "config.h"

#include <sys/stat.h>

#include <charconv>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace udal::remote {

namespace {

std::string variable(const char* name) {
  const char* value = secure_getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

bool is_file(const std::string& path) {
  struct stat st {};
  return !path.empty() && stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool parse_servers(const std::vector<std::string>& list, const std::string& where,
                   std::vector<HostPort>& out, std::string& why) {
  out.clear();
  for (const std::string& item : list) {
    if (item.empty()) continue;
    HostPort server;
    if (!parse_host_port(item, server, why)) {
      why = fmt::format("{}: {}", where, why);
      return false;
    }
    out.push_back(server);
  }
  return true;
}

bool parse_ms(const std::string& text, const char* name, uint32_t& out, std::string& why) {
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) {
    why = fmt::format("{}='{}' is not a positive number of milliseconds", name, text);
    return false;
  }
  out = value;
  return true;
}

bool load_file(const std::string& path, ClientConfig& config, std::string& why) {
  using json = nlohmann::json;
  std::ifstream in(path);
  if (!in) {
    why = fmt::format("cannot open the remote driver's config file '{}'", path);
    return false;
  }
  json root;
  try {
    root = json::parse(in);
    if (!root.is_object()) throw std::runtime_error("not a JSON object");
    for (const auto& [key, value] : root.items()) {
      if (key == "servers") {
        if (!parse_servers(value.get<std::vector<std::string>>(), path + ": servers",
                           config.servers, why)) {
          return false;
        }
      } else if (key == "cert") {
        config.tls.cert = value.get<std::string>();
      } else if (key == "key") {
        config.tls.key = value.get<std::string>();
      } else if (key == "ca") {
        config.tls.ca = value.get<std::string>();
      } else if (key == "insecure") {
        config.insecure = value.get<bool>();
      } else if (key == "connect_timeout_ms") {
        config.connect_timeout_ms = value.get<uint32_t>();
      } else if (key == "keepalive_timeout_ms") {
        config.keepalive_timeout_ms = value.get<uint32_t>();
      } else {
        why = fmt::format("{}: unknown setting '{}'", path, key);
        return false;
      }
    }
  } catch (const std::exception& e) {
    why = fmt::format("the remote driver's config file '{}' is not valid: {}", path, e.what());
    return false;
  }
  config.file = path;
  return true;
}

}  // namespace

bool load_client_config(ClientConfig& config, std::string& why) {
  std::string file = variable("UDAL_REMOTE_CONFIG");
  if (file.empty()) {
    const std::string xdg = variable("XDG_CONFIG_HOME");
    const std::string home = variable("HOME");
    const std::string user = !xdg.empty()    ? xdg + "/udal/remote.json"
                             : !home.empty() ? home + "/.config/udal/remote.json"
                                             : std::string();
    if (is_file(user)) {
      file = user;
    } else if (is_file("/etc/udal/remote.json")) {
      file = "/etc/udal/remote.json";
    }
  }
  if (!file.empty() && !load_file(file, config, why)) return false;

  if (const std::string servers = variable("UDAL_REMOTE_SERVERS"); !servers.empty()) {
    std::vector<std::string> list;
    std::size_t start = 0;
    while (start <= servers.size()) {
      const std::size_t comma = servers.find(',', start);
      list.push_back(servers.substr(start, comma == std::string::npos ? std::string::npos
                                                                      : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (!parse_servers(list, "UDAL_REMOTE_SERVERS", config.servers, why)) return false;
  }
  if (std::string v = variable("UDAL_REMOTE_CERT"); !v.empty()) config.tls.cert = v;
  if (std::string v = variable("UDAL_REMOTE_KEY"); !v.empty()) config.tls.key = v;
  if (std::string v = variable("UDAL_REMOTE_CA"); !v.empty()) config.tls.ca = v;
  if (std::string v = variable("UDAL_REMOTE_INSECURE"); !v.empty()) {
    if (v != "0" && v != "1") {
      why = fmt::format("UDAL_REMOTE_INSECURE='{}' is neither 1 nor 0", v);
      return false;
    }
    config.insecure = v == "1";
  }
  if (std::string v = variable("UDAL_REMOTE_CONNECT_TIMEOUT_MS"); !v.empty()) {
    if (!parse_ms(v, "UDAL_REMOTE_CONNECT_TIMEOUT_MS", config.connect_timeout_ms, why)) return false;
  }
  if (std::string v = variable("UDAL_REMOTE_KEEPALIVE_TIMEOUT_MS"); !v.empty()) {
    if (!parse_ms(v, "UDAL_REMOTE_KEEPALIVE_TIMEOUT_MS", config.keepalive_timeout_ms, why)) {
      return false;
    }
  }
  if (config.keepalive_timeout_ms < 100) {
    why = fmt::format("the keep-alive timeout of {} ms is below the 100 ms minimum",
                      config.keepalive_timeout_ms);
    return false;
  }
  return true;
}

}  // namespace udal::remote
