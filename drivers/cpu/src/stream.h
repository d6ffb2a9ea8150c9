// stream.h — streams: in-order queues, each run by the SDK's stream executor (one thread
// per stream, bound to the device's cores).
#ifndef UDAL_CPU_STREAM_H_
#define UDAL_CPU_STREAM_H_

#include <memory>

#include "device.h"
#include "entries.h"
#include "local_memory.h"
#include "udal/sdk/executor.h"
#include "udal/sdk/sdk.h"
#include "worker_pool.h"

namespace udal::cpu {

// What a stream's thread works with. Its operations capture |context| by pointer: the
// executor is the last member, so its destructor runs the queued work and joins the
// thread before the local memory goes.
struct StreamWork {
  // Starts the thread. Throws std::system_error when no thread can be started, and
  // std::bad_alloc.
  explicit StreamWork(Device& device);

  LocalMemory local; // used by the stream's thread only; made before it starts
  ExecContext context;
  udal::sdk::StreamExecutor executor;
};

// The object behind a udal_stream_t.
struct Stream {
  const udal_driver_table_t* dispatch;
  Device* device;
  // Owned by the stream alone; shared_ptr only because libstdc++'s unique_ptr is not
  // standard-layout under clang (its tuple's empty deleter), and a handle's object must be.
  std::shared_ptr<StreamWork> work;
};
UDAL_SDK_DISPATCHABLE(Stream);

inline Stream* to_stream(udal_stream_t handle) noexcept {
  return udal::sdk::from_handle<Stream>(handle);
}

} // namespace udal::cpu

#endif // UDAL_CPU_STREAM_H_
