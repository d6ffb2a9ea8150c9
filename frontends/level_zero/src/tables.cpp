// The DDI tables: the loader calls one exported ze*/zet*/zes*Get*ProcAddrTable per table.
// Every entry of every table the headers know gets a stub that answers
// ZE_RESULT_ERROR_UNSUPPORTED_FEATURE (a NULL entry crashes the loader in intercept mode);
// the implemented entries then replace their stubs. The list of tables and entries is
// generated from the installed headers (GenerateZeTables.cmake).
#include <level_zero/zes_ddi.h>
#include <level_zero/zet_ddi.h>

#include "ze_udal.h"

namespace udal::ze {

namespace {

template <typename F>
struct Stub;

template <typename... Args>
struct Stub<ze_result_t(ZE_APICALL*)(Args...)> {
  static ze_result_t ZE_APICALL unsupported(Args...) {
    return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "an entry libze_udal does not implement");
  }
};

#include "ze_tables.inc"

// Tables with no implemented entry keep their stubs.
template <typename Table>
void implement(Table*) noexcept {}
template <typename Table>
  requires requires(Table* t) { ::udal::ze::fill(t); }
void implement(Table* t) noexcept {
  ::udal::ze::fill(t);
}

template <typename Table>
ze_result_t get_table(ze_api_version_t version, Table* table) noexcept {
  if (table == nullptr) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  // The tables are filled to this build's header; an older loader's tables may be shorter.
  if (ZE_MAJOR_VERSION(version) != ZE_MAJOR_VERSION(ZE_API_VERSION_CURRENT) ||
      ZE_MINOR_VERSION(version) < ZE_MINOR_VERSION(ZE_API_VERSION_CURRENT)) {
    return fail(ZE_RESULT_ERROR_UNSUPPORTED_VERSION,
                "the loader asks for tables of API {}.{}; libze_udal was built for {}.{}",
                ZE_MAJOR_VERSION(version), ZE_MINOR_VERSION(version),
                ZE_MAJOR_VERSION(ZE_API_VERSION_CURRENT), ZE_MINOR_VERSION(ZE_API_VERSION_CURRENT));
  }
  fill_stubs(table);
  implement(table);
  return ZE_RESULT_SUCCESS;
}

}  // namespace

}  // namespace udal::ze

#define UDAL_ZE_EXPORT_TABLE_(getter, Table)                                              \
  extern "C" ZE_DLLEXPORT ze_result_t ZE_APICALL getter(ze_api_version_t version,         \
                                                         Table* table) {                  \
    return ::udal::ze::get_table(version, table);                                          \
  }
UDAL_ZE_FOR_EACH_TABLE(UDAL_ZE_EXPORT_TABLE_)
