// event.h — events: the SDK's event state (udal/sdk/executor.h) behind a handle.
#ifndef UDAL_CPU_EVENT_H_
#define UDAL_CPU_EVENT_H_

#include "device.h"
#include "entries.h"
#include "udal/sdk/executor.h"
#include "udal/sdk/sdk.h"

namespace udal::cpu {

// The object behind a udal_event_t.
struct Event {
  const udal_driver_table_t* dispatch;
  Device* device;
  udal::sdk::EventState state;
};
UDAL_SDK_DISPATCHABLE(Event);

inline Event* to_event(udal_event_t handle) noexcept {
  return udal::sdk::from_handle<Event>(handle);
}

} // namespace udal::cpu

#endif // UDAL_CPU_EVENT_H_
