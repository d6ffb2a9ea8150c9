// stream.h — streams: in-order queues, each run by its own executor thread.
#ifndef UDAL_CPU_STREAM_H_
#define UDAL_CPU_STREAM_H_

#include <memory>

#include "device.h"
#include "entries.h"
#include "executor.h"
#include "udal/sdk/sdk.h"

namespace udal::cpu {

// The object behind a udal_stream_t.
struct Stream {
  const udal_driver_table_t* dispatch;
  Device* device;
  // Owned by the stream alone; shared_ptr only because libstdc++'s unique_ptr is not
  // standard-layout under clang (its tuple's empty deleter), and a handle's object must be.
  std::shared_ptr<Executor> executor;
};
UDAL_SDK_DISPATCHABLE(Stream);

inline Stream* to_stream(udal_stream_t handle) noexcept {
  return udal::sdk::from_handle<Stream>(handle);
}

}  // namespace udal::cpu

#endif  // UDAL_CPU_STREAM_H_
