// entries.h — every entry of the driver's table, declared once from the list in
// udal_driver.h. Each source defines the entries of its object; driver.cpp fills the table
// with UDAL_SDK_FULL_TABLE(), which refuses to compile if one is missing.
#ifndef UDAL_CPU_ENTRIES_H_
#define UDAL_CPU_ENTRIES_H_

#include "udal/sdk/sdk.h"

namespace udal::cpu {
UDAL_SDK_DECLARE_ENTRIES();
}  // namespace udal::cpu

#endif  // UDAL_CPU_ENTRIES_H_
