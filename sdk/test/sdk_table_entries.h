// sdk_table_entries.h — the "common header" of two test drivers whose entries are defined
// in another translation unit (sdk_table_entries.cpp) than the one filling their tables.
#ifndef UDAL_SDK_TEST_TABLE_ENTRIES_H_
#define UDAL_SDK_TEST_TABLE_ENTRIES_H_

#include "udal/sdk/sdk.h"

// Implements three entries, each declared by name.
namespace sdk_test_partial {
UDAL_SDK_DECLARE_ENTRY(driver_create);
UDAL_SDK_DECLARE_ENTRY(buffer_create);
UDAL_SDK_DECLARE_ENTRY(event_signal);
}  // namespace sdk_test_partial

// Implements every entry of the list.
namespace sdk_test_full {
UDAL_SDK_DECLARE_ENTRIES();
}  // namespace sdk_test_full

// Implements every entry of the list; each throws std::bad_alloc, or std::runtime_error
// naming the entry while throw_bad_alloc is false: for UDAL_SDK_GUARDED_FULL_TABLE().
namespace sdk_test_throwing {
extern bool throw_bad_alloc;
UDAL_SDK_DECLARE_ENTRIES();
}  // namespace sdk_test_throwing

#endif  // UDAL_SDK_TEST_TABLE_ENTRIES_H_
