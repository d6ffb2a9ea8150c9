// The validation layer (UDAL_VALIDATION, docs/layers.md): every handle the application
// gets is validation's own object, which begins with the layered table pointer (so libudal
// dispatches it like any handle) and holds the driver's handle. An object outlives its
// destroy for a while (a bounded quarantine) and its instance (a bounded process-wide
// graveyard whose table answers every call with the finding), so a use after destroy or
// after release is reported instead of reading freed memory.
#pragma once

#include "layers.h"

#include <udal/udal_driver.h>

#include <memory>

namespace udal::hal::layers {

class ValidationState;

class Validation {
public:
  Validation(Stack& stack, bool backtraces);
  ~Validation();
  Validation(const Validation&) = delete;
  Validation& operator=(const Validation&) = delete;

  // Sets validation's entries in |table| (the entries |table| has non-NULL, and
  // driver_destroy); what they call is stack.validation_next.
  static void fill(udal_driver_table_t& table);

  // The handle the application gets for a device of the driver. Throws std::bad_alloc.
  udal_device_t wrap_device(udal_device_t device);

  ValidationState& state() { return *state_; }

private:
  std::unique_ptr<ValidationState> state_;
};

} // namespace udal::hal::layers
