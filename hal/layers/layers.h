// The validation and trace layers (docs/layers.md). libudal owns the function table every
// driver object points at (decision D3), so a layer is inserted after negotiation by
// rewriting that table's entries: the table's entries become the layer's, and the layer
// calls the entries it replaced. Drivers need nothing. With no layer on, nothing is
// rewritten and the table holds the driver's own entries: dispatch costs what it always did.
//
// The order, from the caller down:
//   trace (calls)  every API call with its arguments, result and duration
//   validation     wraps every handle so misuse is caught before the driver sees it
//   trace (ops)    device operations with their timestamps, on a track per stream
//   driver
// The trace is split in two so that it records the application's calls as made (with the
// handles the application holds, and the calls validation refused) while its own
// instrumentation (timing events, host functions) talks to the driver directly and is
// invisible to validation.
#pragma once

#include "driver.h"
#include "entries.h"
#include "environment.h"
#include "log.h"

#include <udal/udal_driver.h>

#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

namespace udal::hal::layers {

struct Settings {
  bool validation = false;
  bool backtraces = false; // UDAL_VALIDATION=backtrace: full stacks in findings and leaks
  std::string trace_path;  // UDAL_TRACE; "" when the trace is off

  // What asked for validation, and UDAL_VALIDATION as read ("" when unset or not read), for
  // udal_instance_get_layer_status.
  bool validation_from_flag = false;
  bool validation_from_environment = false;
  std::string validation_variable;

  bool any() const { return validation || !trace_path.empty(); }
};

// What an instance created with |flags| runs: UDAL_INSTANCE_FLAG_VALIDATION, UDAL_VALIDATION
// and UDAL_TRACE (read through |environment|, so UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT and
// elevated processes skip the variables). UDAL_VALIDATION=0 does not turn off the flag.
Settings settings_for(udal_instance_flags_t flags, const Environment& environment,
                      const Logger& logger);

class Validation;
class Trace;
class TraceWriter;

// The layers of one instance: what it asked for and what it got. The trace file is opened
// here, once per instance, so whether the trace is on does not depend on a driver loading,
// and udal_instance_get_layer_status says what the instance really runs.
struct InstanceLayers {
  Settings settings;
  std::shared_ptr<TraceWriter> trace_writer; // nullptr when the trace is off or failed
  std::string trace_output_path;             // the file ("%p" replaced); "" when off
  std::string trace_failure;                 // why the file could not be created; ""

  InstanceLayers();
  ~InstanceLayers();
  InstanceLayers(InstanceLayers&&) noexcept;
  InstanceLayers& operator=(InstanceLayers&&) noexcept;
};

// Reads the settings (settings_for) and opens the trace file when one is asked for. A file
// that cannot be created leaves the trace off (a warning through |logger|, the reason kept).
InstanceLayers open_layers(udal_instance_flags_t flags, const Environment& environment,
                           const Logger& logger);

// The layers udal_instance_get_layer_status lists, and layer |index| of |layers| into
// |out| (type and struct_size already checked: at least udal_layer_status_t's first size).
// The strings point into |layers|. Returns false when |index| is past the end.
uint32_t layer_count() noexcept;
bool describe_layer(const InstanceLayers& layers, uint32_t index,
                    udal_layer_status_t& out) noexcept;

// The layers of one loaded driver, owned by its Driver record (Driver::layers).
struct Stack {
  Driver* driver = nullptr;
  // The driver's own entries as negotiated, and what each layer calls below it.
  udal_driver_table_t driver_table{};
  udal_driver_table_t trace_ops_next{};
  udal_driver_table_t validation_next{};
  udal_driver_table_t trace_calls_next{};
  std::unique_ptr<Trace> trace;
  std::unique_ptr<Validation> validation;

  Stack();
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  const Logger& logger() const;
};

// Rewrites |driver|'s table for |layers| (nothing when no layer is on) and, with
// validation, replaces its device handles by validation's. Call after load_driver()
// succeeded, before the devices are listed. Throws std::bad_alloc.
void insert(Driver& driver, const InstanceLayers& layers);

// The layers of the driver that |handle| (any handle whose table is a layered one) belongs to.
inline Stack& stack_of(const void* handle) noexcept {
  return *driver_of(table_of(handle)).layers;
}

/* ==========================================================================================
 * Messages
 * =========================================================================================
 * A layered table's last_error_message answers this thread's layer message. A layer that
 * fails a call sets it; a layer whose call into the driver failed copies the driver's
 * message into it (pass_result), so libudal reads the right text whichever layer answered. */

const char* layer_message() noexcept;
void set_layer_message(std::string_view message) noexcept;

template <typename... Args>
[[gnu::cold]] udal_result_t layer_fail(udal_result_t result, fmt::format_string<Args...> format,
                                       Args&&... args) noexcept {
  try {
    set_layer_message(fmt::format(format, std::forward<Args>(args)...));
  } catch (...) {
    set_layer_message("libudal layer: out of host memory while formatting a message");
  }
  return result;
}

// After |next|'s |Member| returned |result|: when that entry is the driver's own and it
// failed, copy the driver's message (a layer below has already set its own).
template <auto Member>
inline udal_result_t pass_result(const Stack& stack, const udal_driver_table_t& next,
                                 udal_result_t result) noexcept {
  if (result < 0 && next.*Member == stack.driver_table.*Member) [[unlikely]] {
    const char* m = stack.driver_table.last_error_message ? stack.driver_table.last_error_message()
                                                          : nullptr;
    set_layer_message(m ? m : "");
  }
  return result;
}

// Splices a parenthesized argument list: (a, b) → a, b.
#define UDAL_LAYERS_UNPAREN_(...) __VA_ARGS__
// Keeps its arguments for the entries udal.h declares (public = 1) only.
#define UDAL_LAYERS_IF_PUBLIC_(is_public, ...) UDAL_LAYERS_IF_PUBLIC_##is_public##_(__VA_ARGS__)
#define UDAL_LAYERS_IF_PUBLIC_0_(...)
#define UDAL_LAYERS_IF_PUBLIC_1_(...) __VA_ARGS__

template <Entry E> struct Tag {};

// The parameter names of an entry, in order ("stream", "src", ...), from the list.
const std::vector<std::string>& parameter_names(Entry entry);

// The first argument of a call: every entry's first parameter is the handle it acts on.
template <typename First, typename... Rest> First first_of(First first, Rest...) noexcept {
  return first;
}

} // namespace udal::hal::layers
