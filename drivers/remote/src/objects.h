// objects.h — what stands behind the remote driver's handles.
//
// Each object keeps what the driver needs to refuse a bad call itself, with the codes and
// messages of a local driver (a buffer's size, a kernel's argument list, the device's
// limits), and the id that names the server-side object in this client's session.
#ifndef UDAL_REMOTE_OBJECTS_H_
#define UDAL_REMOTE_OBJECTS_H_

#include <memory>
#include <string>
#include <vector>

#include "connection.h"
#include "convert.h"
#include "udal/sdk/sdk.h"

namespace udal::remote {

struct Device {
  const udal_driver_table_t* dispatch;
  Connection* connection;
  uint32_t index;  // the device's index on its server
  udal_device_info_t info;  // as this driver reports it
};
UDAL_SDK_DISPATCHABLE(Device);

struct Driver {
  const udal_driver_table_t* dispatch;
  std::unique_ptr<ssl::context> tls;
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
};
UDAL_SDK_DISPATCHABLE(Kernel);

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
