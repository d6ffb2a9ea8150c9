// negotiate.h — the driver's table and the body of udal_driver_negotiate.
//
// Every entry comes from the one list, UDAL_DRIVER_ENTRIES in udal_driver.h: the SDK keeps
// no list of its own. A driver whose entries live in several files declares them all once,
// in its common header, inside its namespace:
//
//   // driver.h
//   namespace acme {
//   UDAL_SDK_DECLARE_ENTRIES();   // udal_result_t buffer_create(...); ... every entry
//   }
//   // buffer.cpp, stream.cpp, ...: define the entries in namespace acme
//   // driver.cpp
//   namespace acme {
//   udal_driver_table_t full_table() noexcept { return UDAL_SDK_GUARDED_FULL_TABLE(); }
//   }
//   extern "C" UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(
//       uint32_t loader_abi_version, udal_driver_table_t* table) {
//     return udal::sdk::negotiate(loader_abi_version, table, acme::full_table(),
//                                 UDAL_SDK_DRIVER_VERSION);
//   }
//
// A driver that implements only some entries declares (or defines) just those, each with
// UDAL_SDK_DECLARE_ENTRY(name) or by hand, and fills its table with UDAL_SDK_TABLE(): the
// entries it has not declared stay NULL and libudal answers UDAL_ERROR_UNSUPPORTED for them.
// A declared entry that is not defined anywhere is a link error, a definition whose
// parameters differ from the list's is a compile error: the table cannot hold a wrong entry.
#ifndef UDAL_SDK_NEGOTIATE_H_
#define UDAL_SDK_NEGOTIATE_H_

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "udal/sdk/error.h"
#include "udal/udal_driver.h"

namespace udal::sdk {

// |full| is every entry the driver implements, built against this SDK's header. The
// loader's table gets min(its struct_size, sizeof) bytes of it: an older loader gets the
// entries it knows, a newer loader keeps zeros (UNSUPPORTED) for entries it added. The
// loader's header (type, struct_size, next) is kept; abi_version and driver_version are
// stated.
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
  if (table->type != UDAL_STRUCTURE_TYPE_DRIVER_TABLE) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "udal_driver_negotiate: table->type is {}, not UDAL_STRUCTURE_TYPE_DRIVER_TABLE "
                "({})",
                static_cast<uint32_t>(table->type),
                static_cast<uint32_t>(UDAL_STRUCTURE_TYPE_DRIVER_TABLE));
  }
  constexpr std::size_t first = offsetof(udal_driver_table_t, abi_version);
  constexpr std::size_t required = offsetof(udal_driver_table_t, last_error_message);
  if (table->struct_size < required) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "udal_driver_negotiate: table->struct_size {} is smaller than the table's "
                "header and version fields ({} bytes)",
                table->struct_size, required);
  }
  const std::size_t n =
      table->struct_size < sizeof(udal_driver_table_t) ? table->struct_size
                                                       : sizeof(udal_driver_table_t);
  std::memcpy(reinterpret_cast<char*>(table) + first,
              reinterpret_cast<const char*>(&full) + first, n - first);
  table->abi_version = UDAL_ABI_VERSION;
  table->driver_version = driver_version;
  return UDAL_SUCCESS;
}

namespace detail::absent_entries {
// One null constant per entry, named like it. UDAL_SDK_TABLE() brings these into its lookup
// with a using-directive, where they stand as if declared in the global namespace: a name
// the driver declares in its own namespace is found first, an entry it lacks finds these.
#define UDAL_SDK_ABSENT_ENTRY_(name, required, is_public, params, args) \
  inline constexpr std::nullptr_t name = nullptr;
UDAL_DRIVER_ENTRIES(UDAL_SDK_ABSENT_ENTRY_)
#undef UDAL_SDK_ABSENT_ENTRY_
}  // namespace detail::absent_entries

}  // namespace udal::sdk

// Declares entry |name| of UDAL_DRIVER_ENTRIES with exactly its parameters, in the current
// namespace:  UDAL_SDK_DECLARE_ENTRY(buffer_create);
#define UDAL_SDK_DECLARE_ENTRY(name) ::std::remove_pointer_t<::udal_pfn_##name> name

#define UDAL_SDK_DECLARE_ENTRY_(name, required, is_public, params, args) \
  UDAL_SDK_DECLARE_ENTRY(name);

// Declares every entry of UDAL_DRIVER_ENTRIES in the current namespace (a named or an
// anonymous one; not the global namespace), for a driver that implements them all. Use it
// in the header every source of the driver includes:  UDAL_SDK_DECLARE_ENTRIES();
#define UDAL_SDK_DECLARE_ENTRIES() \
  UDAL_DRIVER_ENTRIES(UDAL_SDK_DECLARE_ENTRY_) static_assert(true, "")

#define UDAL_SDK_SET_ENTRY_(name, required, is_public, params, args) table.name = name;

#define UDAL_SDK_REQUIRE_ENTRY_(name, required, is_public, params, args)                   \
  static_assert(!::std::is_null_pointer_v<::std::remove_cv_t<decltype(name)>>,              \
                "UDAL_SDK_FULL_TABLE: the driver declares no entry '" #name                 \
                "' in this scope (UDAL_SDK_DECLARE_ENTRIES() in its namespace declares "    \
                "them all; a driver that implements fewer uses UDAL_SDK_TABLE())");

#define UDAL_SDK_TABLE_BODY_(checks)                                                       \
  ([]() noexcept {                                                                          \
    using namespace ::udal::sdk::detail::absent_entries;                                   \
    checks                                                                                  \
    udal_driver_table_t table = {};                                                         \
    table.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;                                          \
    table.struct_size = sizeof(table);                                                      \
    table.last_error_message = ::udal::sdk::last_error_message;                             \
    UDAL_DRIVER_ENTRIES(UDAL_SDK_SET_ENTRY_)                                                \
    return table;                                                                           \
  }())

// A table of every entry declared in the scope of the expansion (the functions named like
// the entries: buffer_create, ...); the entries not declared there stay NULL. The driver's
// entries must live in a namespace (named or anonymous), not the global one.
//   udal_driver_table_t full_table() noexcept { return UDAL_SDK_TABLE(); }
#define UDAL_SDK_TABLE() UDAL_SDK_TABLE_BODY_()

// The same, for a driver that implements every entry of the list: a missing one is a
// compile error naming it.
#define UDAL_SDK_FULL_TABLE() UDAL_SDK_TABLE_BODY_(UDAL_DRIVER_ENTRIES(UDAL_SDK_REQUIRE_ENTRY_))

#define UDAL_SDK_GUARD_ENTRY_(name, required, is_public, params, args)                     \
  guarded_table.name = [] params noexcept -> udal_result_t {                                       \
    return ::udal::sdk::guard("udal_" #name, [&]() -> udal_result_t { return name args; }); \
  };

// UDAL_SDK_FULL_TABLE() with every entry run inside udal::sdk::guard, whether or not its body
// guards itself: no C++ exception (std::bad_alloc, std::system_error from starting a thread,
// fmt's errors, a container's length_error) crosses the C ABI into libudal, where it would
// end the process; it becomes UDAL_ERROR_OUT_OF_HOST_MEMORY or UDAL_ERROR_INTERNAL with a
// message naming the entry. A try block costs nothing until something throws. What every
// driver of this repository uses, and what a driver written in C++ should use.
//   udal_driver_table_t full_table() noexcept { return UDAL_SDK_GUARDED_FULL_TABLE(); }
#define UDAL_SDK_GUARDED_FULL_TABLE()                                                      \
  ([]() noexcept {                                                                          \
    udal_driver_table_t guarded_table = UDAL_SDK_FULL_TABLE();                              \
    UDAL_DRIVER_ENTRIES(UDAL_SDK_GUARD_ENTRY_)                                              \
    return guarded_table;                                                                   \
  }())

#endif  // UDAL_SDK_NEGOTIATE_H_
