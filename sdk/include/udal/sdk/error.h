// error.h — failing with a code and a message in one expression, and keeping every C++
// exception on the driver's side of the C ABI.
//
//   return udal::sdk::fail(UDAL_ERROR_OUT_OF_RANGE,
//                          "udal_stream_copy_buffer: copy of {} bytes at source offset {} "
//                          "runs past the end of buffer {} ({} bytes)", size, offset,
//                          fmt::ptr(buffer), buffer_size);
//
// The message lives in a fixed thread-local array: trivially destructible, so a driver
// that set a message on some thread can still be unloaded with dlclose.
#ifndef UDAL_SDK_ERROR_H_
#define UDAL_SDK_ERROR_H_

#include <cstddef>
#include <exception>
#include <new>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "udal/udal_driver.h"

namespace udal::sdk {

inline constexpr std::size_t kMaxMessageBytes = 2048;

namespace detail {
inline thread_local char g_message[kMaxMessageBytes] = {};
}  // namespace detail

// The table entry `last_error_message`: this thread's message for its last failure.
inline const char* last_error_message() noexcept { return detail::g_message; }

// Sets this thread's message (truncated to kMaxMessageBytes - 1 bytes).
inline void set_message(std::string_view message) noexcept {
  const std::size_t n = message.size() < kMaxMessageBytes - 1 ? message.size()
                                                              : kMaxMessageBytes - 1;
  message.copy(detail::g_message, n);
  detail::g_message[n] = '\0';
}

inline void clear_message() noexcept { detail::g_message[0] = '\0'; }

// Sets the message formatted from |format| and |args|, and returns |code|. Formatting
// never throws out of here: a failure to format still leaves a message.
template <typename... Args>
udal_result_t fail(udal_result_t code, fmt::format_string<Args...> format,
                   Args&&... args) noexcept {
  try {
    auto result = fmt::format_to_n(detail::g_message, kMaxMessageBytes - 1, format,
                                   std::forward<Args>(args)...);
    *result.out = '\0';
  } catch (...) {
    set_message("(the driver could not format its error message)");
  }
  return code;
}

// Runs |body| (returning udal_result_t) and turns any exception into a result with a
// message: std::bad_alloc into UDAL_ERROR_OUT_OF_HOST_MEMORY, anything else into
// UDAL_ERROR_INTERNAL. Wrap every table entry that can throw:
//   return udal::sdk::guard("udal_buffer_create", [&] { ... });
template <typename Body>
udal_result_t guard(const char* function, Body&& body) noexcept {
  try {
    return std::forward<Body>(body)();
  } catch (const std::bad_alloc&) {
    return fail(UDAL_ERROR_OUT_OF_HOST_MEMORY, "{}: out of host memory", function);
  } catch (const std::exception& e) {
    return fail(UDAL_ERROR_INTERNAL, "{}: internal error in driver {}: {}", function,
#ifdef UDAL_DRIVER_NAME
                UDAL_DRIVER_NAME,
#else
                "(unnamed)",
#endif
                e.what());
  } catch (...) {
    return fail(UDAL_ERROR_INTERNAL, "{}: internal error (unknown exception)", function);
  }
}

}  // namespace udal::sdk

#endif  // UDAL_SDK_ERROR_H_
