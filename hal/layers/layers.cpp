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
  s.validation_from_flag = s.validation;
  if (std::optional<std::string> v = environment.override_variable("UDAL_VALIDATION", logger)) {
    s.validation_variable = *v;
    const char* text = v->c_str();
    if (strcasecmp(text, "0") == 0 || strcasecmp(text, "off") == 0 ||
        strcasecmp(text, "false") == 0 || strcasecmp(text, "no") == 0) {
      // Off, unless the instance flag asks for it.
    } else if (strcasecmp(text, "backtrace") == 0) {
      s.validation = true;
      s.validation_from_environment = true;
      s.backtraces = true;
    } else {
      s.validation = true;
      s.validation_from_environment = true;
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
 * An instance's layers, and what udal_instance_get_layer_status says of them
 * ======================================================================================= */

InstanceLayers::InstanceLayers() = default;
InstanceLayers::~InstanceLayers() = default;
InstanceLayers::InstanceLayers(InstanceLayers&&) noexcept = default;
InstanceLayers& InstanceLayers::operator=(InstanceLayers&&) noexcept = default;

InstanceLayers open_layers(udal_instance_flags_t flags, const Environment& environment,
                           const Logger& logger) {
  InstanceLayers layers;
  layers.settings = settings_for(flags, environment, logger);
  if (!layers.settings.trace_path.empty()) {
    layers.trace_output_path = TraceWriter::expand_path(layers.settings.trace_path);
    layers.trace_writer =
        TraceWriter::open(layers.settings.trace_path, logger, &layers.trace_failure);
    if (layers.trace_writer)
      layers.trace_output_path = layers.trace_writer->path();
  }
  return layers;
}

uint32_t layer_count() noexcept {
  return 2; // UDAL_LAYER_VALIDATION, UDAL_LAYER_TRACE
}

bool describe_layer(const InstanceLayers& layers, uint32_t index,
                    udal_layer_status_t& out) noexcept {
  const Settings& s = layers.settings;
  switch (index) {
  case UDAL_LAYER_VALIDATION:
    out.layer = UDAL_LAYER_VALIDATION;
    out.name = "validation";
    out.environment_variable = "UDAL_VALIDATION";
    out.environment_value = s.validation_variable.c_str();
    if (s.validation) {
      out.state = UDAL_LAYER_STATE_ON;
      out.sources = (s.validation_from_flag ? UDAL_LAYER_SOURCE_INSTANCE_FLAG : 0) |
                    (s.validation_from_environment ? UDAL_LAYER_SOURCE_ENVIRONMENT : 0);
      out.flags = s.backtraces ? UDAL_LAYER_FLAG_BACKTRACES : 0;
    }
    return true;
  case UDAL_LAYER_TRACE:
    out.layer = UDAL_LAYER_TRACE;
    out.name = "trace";
    out.environment_variable = "UDAL_TRACE";
    out.environment_value = s.trace_path.c_str();
    if (!s.trace_path.empty()) {
      out.state = layers.trace_writer ? UDAL_LAYER_STATE_ON : UDAL_LAYER_STATE_FAILED;
      out.sources = UDAL_LAYER_SOURCE_ENVIRONMENT;
      out.output_path = layers.trace_output_path.c_str();
      out.reason = layers.trace_failure.c_str();
    }
    return true;
  default:
    return false;
  }
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

void insert(Driver& driver, const InstanceLayers& layers) {
  const Settings& settings = layers.settings;
  const std::shared_ptr<TraceWriter>& writer = layers.trace_writer;
  if ((!settings.validation && !writer) || !driver.slot)
    return;
  auto stack = std::make_unique<Stack>();
  stack->driver = &driver;
  udal_driver_table_t& table = driver.slot->table;
  stack->driver_table = table;

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
