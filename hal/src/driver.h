// One driver as an instance knows it: where it came from, whether it loaded and why not,
// its library, its function table and its devices.
#pragma once

#include "log.h"

#include <udal/udal_driver.h>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace udal::hal {

struct Driver;

namespace layers {
struct Stack; // hal/layers/layers.h
struct StackDeleter {
  void operator()(Stack* stack) const noexcept;
};
} // namespace layers

// The table libudal hands to the driver, with a way back to the record that owns it:
// every handle starts with a pointer to |table|, so from a handle libudal reaches its
// driver's record with one cast (e.g. to name the driver in a message).
struct TableSlot {
  // A driver built against a newer header that ignores struct_size would write past
  // |table|: the guard catches that at load time instead of a corrupt |owner| later.
  static constexpr uint64_t kGuard = 0x5544414c'47554152ull; // "UDALGUAR"

  udal_driver_table_t table;
  uint64_t guard[4];
  Driver* owner;
};
static_assert(std::is_standard_layout_v<TableSlot> && offsetof(TableSlot, table) == 0);

inline const udal_driver_table_t* table_of(const void* handle) noexcept {
  return *static_cast<const udal_driver_table_t* const*>(handle);
}

inline Driver& driver_of(const udal_driver_table_t* table) noexcept {
  return *reinterpret_cast<const TableSlot*>(table)->owner;
}

struct LibraryCloser {
  void operator()(void* library) const noexcept;
};

struct Driver {
  Driver() = default;
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;
  // driver_destroy, then the library is closed (member order: |library| outlives the call).
  ~Driver();

  udal_driver_state_t state = UDAL_DRIVER_STATE_FAILED;
  udal_result_t result = UDAL_ERROR_INTERNAL;
  std::string name;
  std::string manifest_path;
  std::string library_path;
  std::string reason;
  uint32_t abi_version = 0;
  uint32_t driver_version = 0;
  std::vector<udal_device_t> devices;

  const Logger* logger = nullptr; // the instance's; it outlives the driver

  std::unique_ptr<void, LibraryCloser> library;
  std::unique_ptr<TableSlot> slot;
  udal_driver_t handle = nullptr;
  // The validation and trace layers inserted after loading (hal/layers), when any is on:
  // their entries are in slot->table. Destroyed after driver_destroy went through them.
  std::unique_ptr<layers::Stack, layers::StackDeleter> layers;

  void fail(udal_result_t code, std::string why) {
    state = UDAL_DRIVER_STATE_FAILED;
    result = code;
    reason = std::move(why);
  }
  void filter(std::string why) {
    state = UDAL_DRIVER_STATE_FILTERED;
    result = UDAL_SUCCESS;
    reason = std::move(why);
  }
};

// dlopen, negotiate, check, driver_create, enumerate devices. |driver| has name and
// library_path set (manifest_path and abi_version when it came from a manifest). On
// failure the driver is left FAILED with its reason, and nothing of it stays loaded.
void load_driver(Driver& driver);

} // namespace udal::hal
