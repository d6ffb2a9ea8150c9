#include "error.h"

#include "driver.h"

#include <cstring>
#include <string>

namespace udal::hal {
namespace {

// |tl_message| is a plain pointer so that reading it needs no TLS initialisation; it
// points either into |tl_storage| or at a static string.
thread_local const char* tl_message = nullptr;

std::string& storage() {
  thread_local std::string tl_storage;
  return tl_storage;
}

const char* status_text(udal_result_t result) noexcept {
  switch (result) {
  case UDAL_NOT_READY:
    return "UDAL_NOT_READY: the queried work has not completed yet";
  case UDAL_TIMEOUT:
    return "UDAL_TIMEOUT: the wait ended because its timeout expired; the work goes on";
  default:
    return "positive status of unknown meaning returned by the driver";
  }
}

} // namespace

void set_error_message(std::string_view message) noexcept {
  try {
    std::string& s = storage();
    s.assign(message.data(), message.size());
    tl_message = s.c_str();
  } catch (...) {
    tl_message = "libudal: out of host memory while storing an error message";
  }
}

void set_static_message(const char* message) noexcept {
  tl_message = message;
}

const char* last_error_message() noexcept {
  return tl_message ? tl_message : "";
}

udal_result_t driver_result(const char* function, const udal_driver_table_t* table,
                            udal_result_t result) noexcept {
  if (result > 0) {
    set_static_message(status_text(result));
    return result;
  }
  const Driver& driver = driver_of(table);
  const char* message = table->last_error_message ? table->last_error_message() : nullptr;
  if (message == nullptr || message[0] == '\0') {
    // The exact phrase is what the conformance suite looks for: a driver must give every
    // error a message of its own (driver guide rule 7).
    return fail(result, "{}: driver '{}' returned {} {}", function, driver.name,
                udal_result_name(result), kNoDriverMessagePhrase);
  }
  if (std::strncmp(message, "udal_", 5) == 0) {
    set_error_message(message);
    return result;
  }
  return fail(result, "{}: {}", function, message);
}

udal_result_t unsupported(const char* function, const char* entry,
                          const udal_driver_table_t* table) noexcept {
  const Driver& driver = driver_of(table);
  return fail(UDAL_ERROR_UNSUPPORTED,
              "{}: driver '{}' does not implement '{}' (the entry is NULL in its table, "
              "ABI {}.{})",
              function, driver.name, entry, UDAL_VERSION_MAJOR(driver.abi_version),
              UDAL_VERSION_MINOR(driver.abi_version));
}

} // namespace udal::hal

extern "C" {

UDAL_API const char* udal_last_error_message(void) {
  return udal::hal::last_error_message();
}

UDAL_API uint32_t udal_get_abi_version(void) {
  return UDAL_ABI_VERSION;
}

UDAL_API const char* udal_result_name(udal_result_t result) {
  switch (result) {
  case UDAL_SUCCESS:
    return "UDAL_SUCCESS";
  case UDAL_NOT_READY:
    return "UDAL_NOT_READY";
  case UDAL_TIMEOUT:
    return "UDAL_TIMEOUT";
  case UDAL_ERROR_INVALID_ARGUMENT:
    return "UDAL_ERROR_INVALID_ARGUMENT";
  case UDAL_ERROR_INVALID_HANDLE:
    return "UDAL_ERROR_INVALID_HANDLE";
  case UDAL_ERROR_OUT_OF_RANGE:
    return "UDAL_ERROR_OUT_OF_RANGE";
  case UDAL_ERROR_UNSUPPORTED:
    return "UDAL_ERROR_UNSUPPORTED";
  case UDAL_ERROR_OUT_OF_HOST_MEMORY:
    return "UDAL_ERROR_OUT_OF_HOST_MEMORY";
  case UDAL_ERROR_OUT_OF_DEVICE_MEMORY:
    return "UDAL_ERROR_OUT_OF_DEVICE_MEMORY";
  case UDAL_ERROR_INVALID_MODULE:
    return "UDAL_ERROR_INVALID_MODULE";
  case UDAL_ERROR_KERNEL_NOT_FOUND:
    return "UDAL_ERROR_KERNEL_NOT_FOUND";
  case UDAL_ERROR_INVALID_STATE:
    return "UDAL_ERROR_INVALID_STATE";
  case UDAL_ERROR_DEVICE_LOST:
    return "UDAL_ERROR_DEVICE_LOST";
  case UDAL_ERROR_INCOMPATIBLE_DRIVER:
    return "UDAL_ERROR_INCOMPATIBLE_DRIVER";
  case UDAL_ERROR_NOT_FOUND:
    return "UDAL_ERROR_NOT_FOUND";
  case UDAL_ERROR_INTERNAL:
    return "UDAL_ERROR_INTERNAL";
  case UDAL_RESULT_FORCE_32BIT:
    break;
  }
  return "UDAL_RESULT_UNKNOWN";
}

} // extern "C"
