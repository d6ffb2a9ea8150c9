// driver.h — the driver's root object and the declarations of every table entry.
#ifndef UDAL_OPENCL_DRIVER_H_
#define UDAL_OPENCL_DRIVER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cl.h"

namespace udal::opencl {

// Every entry of UDAL_DRIVER_ENTRIES, defined in the source file of its object.
UDAL_SDK_DECLARE_ENTRIES();

struct Device;

struct DriverState {
  std::string name; // the name libudal knows the driver by
  udal_log_fn log = nullptr;
  void* log_user_data = nullptr;
  std::vector<std::unique_ptr<Device>> devices;

  // Writes |message| to the log callback, when there is one (never to stdout/stderr).
  void log_message(udal_log_level_t level, std::string_view message) const noexcept;
  DriverState() = default;
  DriverState(const DriverState&) = delete;
  DriverState& operator=(const DriverState&) = delete;
  ~DriverState();
};

// The object behind a udal_driver_t.
struct Driver {
  const udal_driver_table_t* dispatch;
  std::unique_ptr<DriverState> state;
};
UDAL_SDK_DISPATCHABLE(Driver);

} // namespace udal::opencl

#endif // UDAL_OPENCL_DRIVER_H_
