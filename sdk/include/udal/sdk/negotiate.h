// negotiate.h — the body of udal_driver_negotiate.
//
//   extern "C" UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(
//       uint32_t loader_abi_version, udal_driver_table_t* table) {
//     return udal::sdk::negotiate(loader_abi_version, table, make_full_table(),
//                                 UDAL_MAKE_VERSION(1, 2));
//   }
#ifndef UDAL_SDK_NEGOTIATE_H_
#define UDAL_SDK_NEGOTIATE_H_

#include <cstddef>
#include <cstring>

#include "udal/sdk/error.h"
#include "udal/udal_driver.h"

namespace udal::sdk {

// |full| is every entry the driver implements, built against this SDK's header. The
// loader's table gets min(its struct_size, sizeof) bytes of it: an older loader gets the
// entries it knows, a newer loader keeps zeros (UNSUPPORTED) for entries it added. The
// loader's struct_size and next are kept; abi_version and driver_version are stated.
inline udal_result_t negotiate(uint32_t loader_abi_version, udal_driver_table_t* table,
                               const udal_driver_table_t& full,
                               uint32_t driver_version) noexcept {
  if (table == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_driver_negotiate: table is NULL");
  }
  if (UDAL_VERSION_MAJOR(loader_abi_version) != UDAL_VERSION_MAJOR(UDAL_ABI_VERSION)) {
    return fail(UDAL_ERROR_INCOMPATIBLE_DRIVER,
                "udal_driver_negotiate: the loader implements UDAL ABI {}.{} but this driver "
                "was built for major version {}",
                UDAL_VERSION_MAJOR(loader_abi_version), UDAL_VERSION_MINOR(loader_abi_version),
                UDAL_VERSION_MAJOR(UDAL_ABI_VERSION));
  }
  constexpr std::size_t header = offsetof(udal_driver_table_t, abi_version);
  if (table->struct_size < offsetof(udal_driver_table_t, last_error_message)) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "udal_driver_negotiate: table struct_size {} is smaller than the table's "
                "version fields ({} bytes)",
                table->struct_size, offsetof(udal_driver_table_t, last_error_message));
  }
  const std::size_t n =
      table->struct_size < sizeof(udal_driver_table_t) ? table->struct_size
                                                       : sizeof(udal_driver_table_t);
  std::memcpy(reinterpret_cast<char*>(table) + header,
              reinterpret_cast<const char*>(&full) + header, n - header);
  table->abi_version = UDAL_ABI_VERSION;
  table->driver_version = driver_version;
  return UDAL_SUCCESS;
}

}  // namespace udal::sdk

// The entries of ABI 1.0 after last_error_message, in table order, as an X-macro list. A
// list per minor version: a driver names the list it implements, so moving to a newer SDK
// never requires an entry that was appended later.
#define UDAL_SDK_ENTRIES_1_0(X)                                                             \
  X(driver_create) X(driver_destroy) X(driver_get_device_count) X(driver_get_device)        \
  X(device_get_info)                                                                        \
  X(buffer_create) X(buffer_destroy) X(buffer_get_info) X(buffer_map) X(buffer_unmap)       \
  X(event_create) X(event_destroy) X(event_query) X(event_wait) X(event_elapsed_ns)         \
  X(module_create) X(module_destroy) X(module_get_info)                                     \
  X(kernel_create) X(kernel_destroy) X(kernel_get_info)                                     \
  X(stream_create) X(stream_destroy) X(stream_copy_buffer) X(stream_fill_buffer)            \
  X(stream_write_buffer) X(stream_read_buffer) X(stream_launch) X(stream_record_event)      \
  X(stream_wait_event) X(stream_synchronize)

#define UDAL_SDK_SET_ENTRY_(entry) table.entry = entry;

// A table of every 1.0 entry, taken from the functions of the same names in the scope of
// the expansion, for a driver that implements them all (the CPU and Vulkan drivers):
//   udal_driver_table_t full_table() noexcept { return UDAL_SDK_FULL_TABLE_1_0(); }
// A driver that implements fewer fills its table by hand (sdk/template does).
#define UDAL_SDK_FULL_TABLE_1_0()                                                           \
  ([]() noexcept {                                                                          \
    udal_driver_table_t table = {};                                                         \
    table.struct_size = sizeof(table);                                                      \
    table.last_error_message = udal::sdk::last_error_message;                               \
    UDAL_SDK_ENTRIES_1_0(UDAL_SDK_SET_ENTRY_)                                               \
    return table;                                                                           \
  }())

#endif  // UDAL_SDK_NEGOTIATE_H_
