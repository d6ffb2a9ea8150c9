// What libudal derives from UDAL_DRIVER_ENTRIES (udal_driver.h), the one list of table
// entries: their names and offsets, which are required, and the stubs that stand in for a
// driver's entries in a child process after fork().
#pragma once

#include <udal/udal_driver.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace udal::hal {

// Every entry of the list, in table order.
enum class Entry : uint32_t {
#define UDAL_HAL_ENTRY_ENUM_(name, required, is_public, params, args) name,
  UDAL_DRIVER_ENTRIES(UDAL_HAL_ENTRY_ENUM_)
#undef UDAL_HAL_ENTRY_ENUM_
};

struct EntryInfo {
  const char* name;     // the table field: "buffer_create"
  const char* function; // the udal.h function: "udal_buffer_create" (also for non-public ones)
  size_t offset;        // of the field in udal_driver_table_t
  bool required;        // a driver without it is refused at load time
  bool is_public;       // udal.h declares udal_<name>
};

inline constexpr EntryInfo kEntries[] = {
#define UDAL_HAL_ENTRY_INFO_(name, required, is_public, params, args)                              \
  {#name, "udal_" #name, offsetof(udal_driver_table_t, name), (required) != 0, (is_public) != 0},
    UDAL_DRIVER_ENTRIES(UDAL_HAL_ENTRY_INFO_)
#undef UDAL_HAL_ENTRY_INFO_
};

inline constexpr size_t kEntryCount = sizeof(kEntries) / sizeof(kEntries[0]);

constexpr const EntryInfo& entry_info(Entry e) noexcept {
  return kEntries[static_cast<uint32_t>(e)];
}

// The required entries |table| leaves NULL, last_error_message included, as
// "last_error_message, device_get_info"; "" when it has them all.
std::string missing_required_entries(const udal_driver_table_t& table);

// Rewrites every entry of |table| (last_error_message included) to a stub: the entries
// answer UDAL_ERROR_DEVICE_LOST and last_error_message says that the instance was created
// before fork() in process |parent_pid|. For a pthread_atfork child handler: it only
// stores pointers and formats into a static buffer.
void make_table_lost_after_fork(udal_driver_table_t& table, long parent_pid) noexcept;

} // namespace udal::hal
