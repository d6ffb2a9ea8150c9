// The entry point of the remote driver: servers from the configuration, one device per
// device each server exposes.
#include <algorithm>
#include <cstring>
#include <thread>

#include <openssl/evp.h>

#include "config.h"
#include "objects.h"

namespace udal::remote {

using udal::sdk::fail;

namespace {

// A UUID stable for a device across runs and unique among the devices of a process (the
// same machine's devices seen locally and through a server differ): a hash of the
// server's address and the device's own UUID.
void remote_uuid(const std::string& address, const uint8_t (&device_uuid)[UDAL_UUID_SIZE],
                 uint8_t (&out)[UDAL_UUID_SIZE]) {
  uint8_t digest[EVP_MAX_MD_SIZE] = {};
  unsigned int size = 0;
  std::vector<uint8_t> input(address.begin(), address.end());
  input.insert(input.end(), device_uuid, device_uuid + UDAL_UUID_SIZE);
  EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha256(), nullptr);
  std::memcpy(out, digest, UDAL_UUID_SIZE);
  out[6] = static_cast<uint8_t>((out[6] & 0x0f) | 0x50);  // an RFC 4122 name-based UUID
  out[8] = static_cast<uint8_t>((out[8] & 0x3f) | 0x80);
}

// What this driver reports of a server's device: its limits and formats as they are; its
// name with the server's address; no host-visible memory (a mapping would have to be
// coherent across the network); no PCI address or NUMA node here.
udal_device_info_t describe(const udal_device_info_t& server, const std::string& address,
                            const char* driver_name) {
  udal_device_info_t info = server;
  const std::string name = fmt::format("{} @ {}", server.name, address);
  std::memset(info.name, 0, sizeof(info.name));
  std::memcpy(info.name, name.data(), std::min(name.size(), sizeof(info.name) - 1));
  std::memset(info.driver_name, 0, sizeof(info.driver_name));
  std::strncpy(info.driver_name, driver_name, sizeof(info.driver_name) - 1);
  std::memset(info.pci_bus_id, 0, sizeof(info.pci_bus_id));
  remote_uuid(address, server.uuid, info.uuid);
  info.driver_version = UDAL_SDK_DRIVER_VERSION;
  info.abi_version = UDAL_ABI_VERSION;
  info.numa_node = -1;
  info.features &= ~(UDAL_DEVICE_FEATURE_HOST_BUFFERS | UDAL_DEVICE_FEATURE_SHARED_BUFFERS);
  info.host_visible_memory_bytes = 0;
  info.reserved0 = 0;
  return info;
}

}  // namespace

udal_result_t driver_create(const udal_driver_table_t* dispatch,
                            const udal_driver_create_desc_t* desc_in, udal_driver_t* out_driver) {
  *out_driver = nullptr;
  return udal::sdk::guard("driver_create", [&]() -> udal_result_t {
    if (udal_result_t r = udal::sdk::check_struct("driver_create", "desc", desc_in)) return r;
    const udal_driver_create_desc_t desc = udal::sdk::read_struct(desc_in);
    const char* name = desc.driver_name && desc.driver_name[0] ? desc.driver_name : UDAL_DRIVER_NAME;
    const Connection::Logger logger{desc.log, desc.log_user_data};

    ClientConfig config;
    std::string why;
    if (!load_client_config(config, why)) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "remote driver: {}", why);
    }
    if (config.servers.empty()) {
      return fail(UDAL_ERROR_UNSUPPORTED,
                  "remote driver: no server configured (set UDAL_REMOTE_SERVERS=host:port[,...] "
                  "or \"servers\" in {})",
                  config.file.empty() ? std::string("UDAL_REMOTE_CONFIG's file") : config.file);
    }
    auto driver = std::make_unique<Driver>();
    driver->dispatch = dispatch;
    driver->live = std::make_unique<LiveObjects>();
    // Every TLS context first (one per server), so a failure starts no connection.
    for (size_t i = 0; !config.insecure && i < config.servers.size(); ++i) {
      driver->tls.push_back(make_client_tls(config.tls, why));
      if (!driver->tls.back())
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "remote driver: TLS: {}", why);
    }
    // All servers at once: instance creation waits at most one connect timeout.
    for (size_t i = 0; i < config.servers.size(); ++i) {
      ssl::context* tls = config.insecure ? nullptr : driver->tls[i].get();
      driver->connections.push_back(
          std::make_unique<Connection>(config.servers[i], config, tls, logger));
      driver->connections.back()->start();
    }
    std::string failures;
    std::vector<std::unique_ptr<Connection>> connected;
    for (auto& connection : driver->connections) {
      if (connection->wait_connected(why)) {
        connected.push_back(std::move(connection));
        continue;
      }
      logger.write(UDAL_LOG_LEVEL_WARNING,
                   fmt::format("remote driver: udal-server {} is unreachable: {}",
                               connection->address(), why));
      failures += fmt::format("{}{}: {}", failures.empty() ? "" : "; ", connection->address(), why);
      connection->shut_down();
    }
    driver->connections = std::move(connected);
    if (driver->connections.empty()) {
      return fail(UDAL_ERROR_DEVICE_LOST, "remote driver: no server reachable (within {} ms): {}",
                  config.connect_timeout_ms, failures);
    }
    for (auto& connection : driver->connections) {
      const auto& devices = connection->devices();
      for (uint32_t i = 0; i < devices.size(); ++i) {
        auto device = std::make_unique<Device>();
        device->dispatch = dispatch;
        device->connection = connection.get();
        device->live = driver->live.get();
        device->index = i;
        device->info = describe(devices[i], connection->address(), name);
        driver->devices.push_back(std::move(device));
      }
    }
    *out_driver = udal::sdk::to_handle<udal_driver_t>(driver.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t driver_destroy(udal_driver_t handle) {
  std::unique_ptr<Driver> driver(to<Driver>(handle));
  // No driver code may run after this returns: wait for every stream still holding work (a
  // lost server ends the wait), then stop every thread.
  for (auto& connection : driver->connections) {
    for (const auto& stream : connection->streams()) {
      wait_stream(*connection, *stream, UDAL_TIMEOUT_INFINITE, "udal_instance_release");
      std::unique_lock lock(connection->mutex());
      connection->wait(lock, UDAL_TIMEOUT_INFINITE, [&] { return stream->host_calls_running == 0; });
    }
    connection->shut_down();
  }
  // What the application left: freed here, the server's session frees its side.
  driver->live->clear();
  return UDAL_SUCCESS;
}

udal_result_t driver_get_device_count(udal_driver_t handle, uint32_t* out_count) {
  return udal::sdk::answer_device_count(to<Driver>(handle)->devices, out_count);
}

udal_result_t driver_get_device(udal_driver_t handle, uint32_t index, udal_device_t* out_device) {
  return udal::sdk::answer_device(to<Driver>(handle)->devices, index, out_device);
}

udal_result_t device_get_info(udal_device_t handle, udal_device_info_t* out_info) {
  return udal::sdk::answer_struct("udal_device_get_info", "out_info", out_info,
                                  to<Device>(handle)->info);
}

udal_result_t device_get_memory_usage(udal_device_t handle, udal_memory_usage_t* out_usage) {
  if (udal_result_t r =
          udal::sdk::check_struct("udal_device_get_memory_usage", "out_usage", out_usage)) {
    return r;
  }
  udal::sdk::clear_struct(out_usage);
  Device* device = to<Device>(handle);
  if (!(device->info.features & UDAL_DEVICE_FEATURE_MEMORY_USAGE)) {
    return fail(UDAL_ERROR_UNSUPPORTED,
                "udal_device_get_memory_usage: the server's device '{}' does not report its "
                "memory usage",
                device->info.name);
  }
  return udal::sdk::guard("udal_device_get_memory_usage", [&]() -> udal_result_t {
    Connection& connection = *device->connection;
    const uint64_t request = connection.new_id();
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder, wire::CreateGetMemoryUsage(builder, request, device->index));
    ReplyData reply;
    if (udal_result_t r = connection.call("udal_device_get_memory_usage", request,
                                          make_frame(builder), reply)) {
      return r;
    }
    udal_memory_usage_t usage = udal::sdk::make_struct<udal_memory_usage_t>();
    usage.device_allocated_bytes = reply.memory_usage.device_allocated_bytes;
    usage.device_budget_bytes = reply.memory_usage.device_budget_bytes;
    // This driver offers no host-visible buffers.
    usage.host_visible_allocated_bytes = 0;
    usage.host_visible_budget_bytes = 0;
    udal::sdk::write_struct(out_usage, usage);
    return UDAL_SUCCESS;
  });
}

namespace {
// Every entry runs inside udal::sdk::guard: no exception crosses the C ABI.
udal_driver_table_t full_table() noexcept { return UDAL_SDK_GUARDED_FULL_TABLE(); }
}  // namespace

}  // namespace udal::remote

extern "C" UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(uint32_t loader_abi_version,
                                                                  udal_driver_table_t* table) {
  return udal::sdk::negotiate(loader_abi_version, table, udal::remote::full_table(),
                              UDAL_SDK_DRIVER_VERSION);
}
