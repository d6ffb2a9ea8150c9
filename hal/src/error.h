// The thread-local message behind udal_last_error_message(), and the helpers every entry
// point uses to set it. Success never touches it, so the hot path pays nothing.
#pragma once

#include <udal/udal_driver.h>

#include <fmt/format.h>

#include <string_view>
#include <utility>

namespace udal::hal {

// Copies |message| into this thread's message. Never throws: on allocation failure the
// message becomes a static one saying so.
void set_error_message(std::string_view message) noexcept;

// Points this thread's message at a string with static storage (no copy): the path for
// positive statuses, which callers poll in loops.
void set_static_message(const char* message) noexcept;

const char* last_error_message() noexcept;

// Formats the message, sets it and returns |result|; for failures libudal finds itself.
template <typename... Args>
[[gnu::cold]] udal_result_t fail(udal_result_t result, fmt::format_string<Args...> format,
                                 Args&&... args) noexcept {
  try {
    set_error_message(fmt::format(format, std::forward<Args>(args)...));
  } catch (...) {
    set_static_message("libudal: out of host memory while formatting an error message");
  }
  return result;
}

// What libudal's message says when a driver returned an error and left its own message
// empty; the conformance suite fails every call whose message contains it.
inline constexpr const char* kNoDriverMessagePhrase = "without a message (driver guide rule 7)";

// A driver entry returned |result| (not UDAL_SUCCESS): sets the message from the driver's
// own, prefixed with |function| when it does not name one, and returns |result|.
udal_result_t driver_result(const char* function, const udal_driver_table_t* table,
                            udal_result_t result) noexcept;

// The driver's table has no |entry|: UDAL_ERROR_UNSUPPORTED, naming function and driver.
udal_result_t unsupported(const char* function, const char* entry,
                          const udal_driver_table_t* table) noexcept;

// Dispatch epilogue: free on success, the message otherwise.
inline udal_result_t checked(const char* function, const udal_driver_table_t* table,
                             udal_result_t result) noexcept {
  if (result == UDAL_SUCCESS) [[likely]]
    return result;
  return driver_result(function, table, result);
}

} // namespace udal::hal
