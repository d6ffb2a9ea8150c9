// The entries of the test drivers of sdk_table_entries.h, away from their tables.
#include "sdk_table_entries.h"

#include <new>
#include <stdexcept>

namespace sdk_test_partial {

udal_result_t driver_create(const udal_driver_table_t*, const udal_driver_create_desc_t*,
                            udal_driver_t* out_driver) {
  *out_driver = nullptr;
  return udal::sdk::fail(UDAL_ERROR_UNSUPPORTED, "partial: driver_create");
}

udal_result_t buffer_create(udal_device_t, const udal_buffer_desc_t*, udal_buffer_t* out_buffer) {
  *out_buffer = nullptr;
  return udal::sdk::fail(UDAL_ERROR_UNSUPPORTED, "partial: buffer_create");
}

udal_result_t event_signal(udal_event_t) {
  return udal::sdk::fail(UDAL_ERROR_UNSUPPORTED, "partial: event_signal");
}

}  // namespace sdk_test_partial

// Every entry, generated from the list: each fails with its own name as the message.
#pragma GCC diagnostic ignored "-Wunused-parameter"
namespace sdk_test_full {
#define SDK_TEST_DEFINE_(name, required, is_public, params, args) \
  udal_result_t name params { return udal::sdk::fail(UDAL_ERROR_INTERNAL, "full: " #name); }
UDAL_DRIVER_ENTRIES(SDK_TEST_DEFINE_)
#undef SDK_TEST_DEFINE_
}  // namespace sdk_test_full

namespace sdk_test_throwing {
bool throw_bad_alloc = true;
#define SDK_TEST_DEFINE_(name, required, is_public, params, args) \
  udal_result_t name params {                                    \
    if (throw_bad_alloc) throw std::bad_alloc();                 \
    throw std::runtime_error("thrown by " #name);                \
  }
UDAL_DRIVER_ENTRIES(SDK_TEST_DEFINE_)
#undef SDK_TEST_DEFINE_
}  // namespace sdk_test_throwing
