#include "config.h"

#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace udal::remote::server {

const Limits& Config::limits_for(const std::string& identity) const {
  const auto found = client_limits.find(identity);
  return found != client_limits.end() ? found->second : default_limits;
}

namespace {

using json = nlohmann::json;

// Every object's keys must be known: a misspelt limit must not silently mean "no limit".
bool check_keys(const json& object, const std::set<std::string>& known, const std::string& where,
                std::string& why) {
  for (const auto& [key, value] : object.items()) {
    if (known.count(key) == 0) {
      why = fmt::format("{}: unknown setting '{}'", where, key);
      return false;
    }
  }
  return true;
}

template <typename T>
bool read_number(const json& object, const char* key, T& out, const std::string& where,
                 std::string& why) {
  const auto found = object.find(key);
  if (found == object.end()) return true;
  if (!found->is_number_unsigned() && !(found->is_number_integer() && found->get<int64_t>() >= 0)) {
    why = fmt::format("{}: '{}' must be a non-negative integer", where, key);
    return false;
  }
  const uint64_t value = found->get<uint64_t>();
  if (value > std::numeric_limits<T>::max()) {
    why = fmt::format("{}: '{}' = {} is too large", where, key, value);
    return false;
  }
  out = static_cast<T>(value);
  return true;
}

bool read_string(const json& object, const char* key, std::string& out, const std::string& where,
                 std::string& why) {
  const auto found = object.find(key);
  if (found == object.end()) return true;
  if (!found->is_string()) {
    why = fmt::format("{}: '{}' must be a string", where, key);
    return false;
  }
  out = found->get<std::string>();
  return true;
}

bool read_limits(const json& object, Limits& limits, const std::string& where, std::string& why) {
  if (!object.is_object()) {
    why = fmt::format("{} must be an object", where);
    return false;
  }
  return check_keys(object, {"device_memory_bytes", "objects", "in_flight_bytes"}, where, why) &&
         read_number(object, "device_memory_bytes", limits.device_memory_bytes, where, why) &&
         read_number(object, "objects", limits.objects, where, why) &&
         read_number(object, "in_flight_bytes", limits.in_flight_bytes, where, why);
}

}  // namespace

bool load_config_file(const std::string& path, Config& config, std::string& why) {
  std::ifstream in(path);
  if (!in) {
    why = fmt::format("cannot open the config file '{}'", path);
    return false;
  }
  json root;
  try {
    root = json::parse(in);
  } catch (const json::exception& e) {
    why = fmt::format("the config file '{}' is not valid JSON: {}", path, e.what());
    return false;
  }
  if (!root.is_object()) {
    why = fmt::format("the config file '{}' must hold a JSON object", path);
    return false;
  }
  config.config_path = path;
  const std::string where = path;
  if (!check_keys(root,
                  {"listen", "cert", "key", "client_ca", "insecure", "keepalive_interval_ms",
                   "keepalive_timeout_ms", "handshake_timeout_ms", "max_clients", "io_threads",
                   "work_threads", "log_level", "limits", "clients"},
                  where, why) ||
      !read_string(root, "listen", config.listen, where, why) ||
      !read_string(root, "cert", config.cert, where, why) ||
      !read_string(root, "key", config.key, where, why) ||
      !read_string(root, "client_ca", config.client_ca, where, why) ||
      !read_string(root, "log_level", config.log_level, where, why) ||
      !read_number(root, "keepalive_interval_ms", config.keepalive_interval_ms, where, why) ||
      !read_number(root, "keepalive_timeout_ms", config.keepalive_timeout_ms, where, why) ||
      !read_number(root, "handshake_timeout_ms", config.handshake_timeout_ms, where, why) ||
      !read_number(root, "max_clients", config.max_clients, where, why) ||
      !read_number(root, "io_threads", config.io_threads, where, why) ||
      !read_number(root, "work_threads", config.work_threads, where, why)) {
    return false;
  }
  if (const auto insecure = root.find("insecure"); insecure != root.end()) {
    if (!insecure->is_boolean()) {
      why = fmt::format("{}: 'insecure' must be true or false", where);
      return false;
    }
    config.insecure = insecure->get<bool>();
  }
  if (const auto limits = root.find("limits"); limits != root.end()) {
    if (!read_limits(*limits, config.default_limits, where + ": limits", why)) return false;
  }
  if (const auto clients = root.find("clients"); clients != root.end()) {
    if (!clients->is_object()) {
      why = fmt::format("{}: 'clients' must be an object of client name → limits", where);
      return false;
    }
    for (const auto& [name, value] : clients->items()) {
      // A client's limits start from the defaults, so it names only what differs.
      Limits limits = config.default_limits;
      if (!read_limits(value, limits, fmt::format("{}: clients.{}", where, name), why)) return false;
      config.client_limits[name] = limits;
    }
  }
  return true;
}

}  // namespace udal::remote::server
