#include "layers.h"

#include "trace.h"
#include "trace_writer.h"
#include "validation.h"

#include <strings.h>

#include <array>
#include <mutex>

namespace udal::hal::layers {

/* ==========================================================================================
 * Messages
 * ======================================================================================= */

namespace {

std::string& message_storage() {
  thread_local std::string message;
  return message;
}

} // namespace

const char* layer_message() noexcept {
  return message_storage().c_str();
}

void set_layer_message(std::string_view message) noexcept {
  try {
    message_storage().assign(message.data(), message.size());
  } catch (...) {
    message_storage().clear(); // libudal then says the call failed without a message
  }
}

const std::vector<std::string>& parameter_names(Entry entry) {
  static const std::array<std::vector<std::string>, kEntryCount> names = [] {
    // "(stream, src, src_offset)" → {"stream", "src", "src_offset"}
    constexpr const char* texts[] = {
#define UDAL_LAYERS_ARGS_TEXT_(name, required, is_public, params, args) #args,
        UDAL_DRIVER_ENTRIES(UDAL_LAYERS_ARGS_TEXT_)
#undef UDAL_LAYERS_ARGS_TEXT_
    };
    std::array<std::vector<std::string>, kEntryCount> out;
    for (size_t e = 0; e < kEntryCount; ++e) {
      std::string word;
      for (const char* c = texts[e]; *c != '\0'; ++c) {
        if (*c == '(' || *c == ' ')
          continue;
        if (*c == ',' || *c == ')') {
          out[e].push_back(word);
          word.clear();
        } else {
          word += *c;
        }
      }
    }
    return out;
  }();
  return names[static_cast<uint32_t>(entry)];
}

/* ==========================================================================================
 * Settings
 * ======================================================================================= */

Settings settings_for(udal_instance_flags_t flags, const Environment& environment,
                      const Logger& logger) {
  Settings s;
  s.validation = (flags & UDAL_INSTANCE_FLAG_VALIDATION) != 0;
  if (std::optional<std::string> v = environment.override_variable("UDAL_VALIDATION", logger)) {
    const char* text = v->c_str();
    if (strcasecmp(text, "0") == 0 || strcasecmp(text, "off") == 0 ||
        strcasecmp(text, "false") == 0 || strcasecmp(text, "no") == 0) {
      // Off, unless the instance flag asks for it.
    } else if (strcasecmp(text, "backtrace") == 0) {
      s.validation = true;
      s.backtraces = true;
    } else {
      s.validation = true;
      if (strcasecmp(text, "1") != 0 && strcasecmp(text, "on") != 0 &&
          strcasecmp(text, "true") != 0 && strcasecmp(text, "yes") != 0)
        logger.log(UDAL_LOG_LEVEL_WARNING,
                   "UDAL_VALIDATION='{}' is not one of 1, backtrace or 0; validation is on", text);
    }
  }
  if (std::optional<std::string> path = environment.override_variable("UDAL_TRACE", logger))
    s.trace_path = *path;
  return s;
}

/* ==========================================================================================
 * The stack
 * ======================================================================================= */

Stack::Stack() = default;
Stack::~Stack() = default;

const Logger& Stack::logger() const {
  static const Logger fallback{};
  return driver != nullptr && driver->logger != nullptr ? *driver->logger : fallback;
}

namespace {

// The entries of |from|, header aside, into |to|.
void copy_entries(udal_driver_table_t& to, const udal_driver_table_t& from) {
  to.last_error_message = from.last_error_message;
#define UDAL_LAYERS_COPY_ENTRY_(name, required, is_public, params, args) to.name = from.name;
  UDAL_DRIVER_ENTRIES(UDAL_LAYERS_COPY_ENTRY_)
#undef UDAL_LAYERS_COPY_ENTRY_
}

} // namespace

void insert(Driver& driver, const Settings& settings) {
  if (!settings.any() || !driver.slot)
    return;
  auto stack = std::make_unique<Stack>();
  stack->driver = &driver;
  udal_driver_table_t& table = driver.slot->table;
  stack->driver_table = table;

  std::shared_ptr<TraceWriter> writer;
  if (!settings.trace_path.empty())
    writer = TraceWriter::open(settings.trace_path, stack->logger());

  // Built from the driver up: each layer's table starts as the one below it, and the layer
  // replaces the entries it handles.
  udal_driver_table_t below = table;
  if (writer) {
    stack->trace = std::make_unique<Trace>(*stack, writer);
    stack->trace_ops_next = below;
    Trace::fill_ops(below);
    below.last_error_message = layer_message;
  }
  if (settings.validation) {
    stack->validation = std::make_unique<Validation>(*stack, settings.backtraces);
    stack->validation_next = below;
    Validation::fill(below);
    below.last_error_message = layer_message;
  }
  if (writer) {
    stack->trace_calls_next = below;
    Trace::fill_calls(below);
    below.last_error_message = layer_message;
  }
  if (!writer && !settings.validation)
    return; // the trace file could not be opened, and nothing else is on

  if (stack->trace)
    stack->trace->add_devices(driver.devices);
  std::vector<udal_device_t> devices = driver.devices;
  if (stack->validation) {
    for (udal_device_t& d : devices)
      d = stack->validation->wrap_device(d);
  }
  // Nothing can fail past this point.
  copy_entries(table, below);
  driver.devices = std::move(devices);
  driver.layers.reset(stack.release());
  const Logger& logger = driver.layers->logger();
  logger.log(UDAL_LOG_LEVEL_INFO, "driver '{}': layers on: {}{}{}", driver.name,
             settings.validation ? (settings.backtraces ? "validation (backtraces)" : "validation")
                                 : "",
             settings.validation && writer ? ", " : "",
             writer ? fmt::format("trace to '{}'", writer->path()) : std::string());
}

void StackDeleter::operator()(Stack* stack) const noexcept {
  std::unique_ptr<Stack>{stack};
}

} // namespace udal::hal::layers
