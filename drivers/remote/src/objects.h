// objects.h — what stands behind the remote driver's handles.
//
// Each object keeps what the driver needs to refuse a bad call itself, with the codes and
// messages of a local driver (a buffer's size, a kernel's argument list, the device's
// limits), and the id that names the server-side object in this client's session.
#ifndef UDAL_REMOTE_OBJECTS_H_
#define UDAL_REMOTE_OBJECTS_H_

#include <memory>
#include <mutex>
#include <unordered_map>
#include <string>
#include <vector>

#include "connection.h"
#include "convert.h"
#include "udal/sdk/checks.h"
#include "udal/sdk/sdk.h"

namespace udal::remote {

struct LiveObjects;

struct Device {
  const udal_driver_table_t* dispatch;
  Connection* connection;
  LiveObjects* live;  // the driver's objects, freed by driver_destroy if the user did not
  uint32_t index;  // the device's index on its server
  udal_device_info_t info;  // as this driver reports it
};
UDAL_SDK_DISPATCHABLE(Device);

struct Driver {
  const udal_driver_table_t* dispatch;
  std::unique_ptr<LiveObjects> live;
  // One TLS context per server connection (declared before the connections, so destroyed
  // after them): connections handshake at once on their own threads, and OpenSSL's shared
  // certificate-store caches are what ThreadSanitizer reported racing when they shared one.
  std::vector<std::unique_ptr<ssl::context>> tls;
  std::vector<std::unique_ptr<Connection>> connections;
  std::vector<std::unique_ptr<Device>> devices;
};
UDAL_SDK_DISPATCHABLE(Driver);

struct Buffer {
  const udal_driver_table_t* dispatch;
  Device* device;
  uint64_t id;
  uint64_t size;
  uint64_t alignment;
  udal_buffer_flags_t flags;
  udal_buffer_kind_t kind;
  uint64_t device_address;
};
UDAL_SDK_DISPATCHABLE(Buffer);

struct Event {
  const udal_driver_table_t* dispatch;
  Device* device;
  std::shared_ptr<EventState> state;
};
UDAL_SDK_DISPATCHABLE(Event);

struct Stream {
  const udal_driver_table_t* dispatch;
  Device* device;
  std::shared_ptr<StreamState> state;
};
UDAL_SDK_DISPATCHABLE(Stream);

struct Module {
  const udal_driver_table_t* dispatch;
  Device* device;
  uint64_t id;
  udal_module_format_t format;
  uint32_t image_index;
};
UDAL_SDK_DISPATCHABLE(Module);

struct Kernel {
  const udal_driver_table_t* dispatch;
  Device* device;
  uint64_t id;
  udal_module_format_t format;  // of its module: how launch arguments match declarations
  KernelInfoData info;
  std::string name;
  // What a launch is checked against (udal::sdk::check_launch): the argument count and
  // declarations by position, except for Vulkan-flavoured SPIR-V (check_per_kind).
  std::vector<udal::sdk::ArgDeclaration> declarations;
  udal::sdk::KernelSignature signature() const noexcept;
};
UDAL_SDK_DISPATCHABLE(Kernel);

// Every object a handle stands for, owned here until its destroy entry (or driver_destroy,
// for those an application never destroyed: udal_instance_release frees everything).
struct LiveObjects {
  std::mutex mutex;
  std::unordered_map<Buffer*, std::unique_ptr<Buffer>> buffers;
  std::unordered_map<Event*, std::unique_ptr<Event>> events;
  std::unordered_map<Stream*, std::unique_ptr<Stream>> streams;
  std::unordered_map<Module*, std::unique_ptr<Module>> modules;
  std::unordered_map<Kernel*, std::unique_ptr<Kernel>> kernels;

  auto& of(Buffer*) { return buffers; }
  auto& of(Event*) { return events; }
  auto& of(Stream*) { return streams; }
  auto& of(Module*) { return modules; }
  auto& of(Kernel*) { return kernels; }

  template <typename T>
  T* adopt(std::unique_ptr<T> object) {
    std::lock_guard lock(mutex);
    T* raw = object.get();
    of(raw).emplace(raw, std::move(object));
    return raw;
  }
  template <typename T>
  std::unique_ptr<T> release(T* raw) {
    std::lock_guard lock(mutex);
    auto& map = of(raw);
    const auto found = map.find(raw);
    if (found == map.end()) return nullptr;
    std::unique_ptr<T> owned = std::move(found->second);
    map.erase(found);
    return owned;
  }
  // Streams first (their host-function threads), buffers last.
  void clear() {
    std::lock_guard lock(mutex);
    streams.clear();
    events.clear();
    kernels.clear();
    modules.clear();
    buffers.clear();
  }
};

template <typename T, typename H>
T* to(H handle) {
  return udal::sdk::from_handle<T>(handle);
}

// Waits until every work enqueued on |stream| before the call has completed (sending the
// mark the server answers), up to |timeout_ns|. Returns the stream's pending server error
// (and forgets it), TIMEOUT, or DEVICE_LOST; messages name |function|.
udal_result_t wait_stream(Connection& connection, StreamState& stream, uint64_t timeout_ns,
                          const char* function);

// Every entry of the table (the driver implements them all).
UDAL_SDK_DECLARE_ENTRIES();

}  // namespace udal::remote

#endif  // UDAL_REMOTE_OBJECTS_H_
