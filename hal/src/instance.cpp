#include "instance.h"

#include "discovery.h"
#include "environment.h"
#include "error.h"
#include "manifest.h"

#include <fmt/format.h>

#include <filesystem>
#include <fnmatch.h>
#include <map>
#include <new>

namespace udal::hal {

Instance::~Instance() {
  magic = 0;
  devices.clear();
  // Reverse order of loading, as a driver may depend on one loaded before it.
  while (!drivers.empty())
    drivers.pop_back();
}

namespace {

constexpr udal_instance_flags_t kKnownInstanceFlags = UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT;

// The first glob of |patterns| (comma-separated) that matches |name|, or "" for none.
std::string matching_glob(const std::string& patterns, const std::string& name) {
  for (const std::string& glob : split_list(patterns, ',')) {
    if (fnmatch(glob.c_str(), name.c_str(), 0) == 0)
      return glob;
  }
  return {};
}

struct Filters {
  std::optional<std::string> select;
  std::optional<std::string> disable;

  // Why |name| is filtered out, or "" to keep it.
  std::string reason(const std::string& name) const {
    if (disable) {
      std::string glob = matching_glob(*disable, name);
      if (!glob.empty())
        return fmt::format("disabled by UDAL_DRIVERS_DISABLE='{}' (pattern '{}')", *disable, glob);
    }
    if (select && matching_glob(*select, name).empty())
      return fmt::format("not selected by UDAL_DRIVERS_SELECT='{}'", *select);
    return {};
  }
};

udal_result_t create_instance(const udal_instance_desc_t* desc, udal_instance_t* out_instance) {
  bool ignore_environment = desc && (desc->flags & UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT);
  Environment environment = Environment::current(ignore_environment);

  auto instance = std::make_unique<udal_instance_s>();
  if (!ignore_environment) {
    // UDAL_LOG only chooses what libudal prints, so it is honoured even when elevated.
    instance->logger = Logger::from_setting(secure_getenv("UDAL_LOG"));
  }
  const Logger& logger = instance->logger;

  std::vector<std::string> explicit_paths;
  if (desc)
    explicit_paths.assign(desc->driver_paths, desc->driver_paths + desc->driver_path_count);

  Filters filters;
  filters.select = environment.override_variable("UDAL_DRIVERS_SELECT", logger);
  filters.disable = environment.override_variable("UDAL_DRIVERS_DISABLE", logger);

  // The manifest each driver name was first found in, for duplicates.
  std::map<std::string, std::string> first_by_name;

  for (const Candidate& candidate : find_drivers(explicit_paths, environment, logger)) {
    auto driver = std::make_unique<Driver>();
    Driver& d = *driver;
    d.logger = &logger;
    instance->drivers.push_back(std::move(driver));

    switch (candidate.kind) {
    case Candidate::Kind::missing:
      d.name = candidate.path.ends_with(".json")
                   ? std::filesystem::path(candidate.path).stem().string()
                   : driver_name_from_library(candidate.path);
      if (candidate.path.ends_with(".json"))
        d.manifest_path = candidate.path;
      else
        d.library_path = candidate.path;
      d.fail(UDAL_ERROR_NOT_FOUND, fmt::format("'{}' does not exist", candidate.path));
      break;
    case Candidate::Kind::library:
      d.name = driver_name_from_library(candidate.path);
      d.library_path = candidate.path;
      break;
    case Candidate::Kind::manifest: {
      d.manifest_path = candidate.path;
      ManifestResult m = read_manifest(candidate.path);
      d.name = m.manifest.name.empty() ? std::filesystem::path(candidate.path).stem().string()
                                       : m.manifest.name;
      d.library_path = m.manifest.library_path;
      d.abi_version = m.manifest.abi_version;
      if (!m.ok)
        d.fail(m.result, fmt::format("manifest '{}': {}", candidate.path, m.reason));
      break;
    }
    }
    if (!d.reason.empty()) {
      logger.log(UDAL_LOG_LEVEL_WARNING, "driver '{}' not loaded: {}", d.name, d.reason);
      continue;
    }

    std::string origin = d.manifest_path.empty() ? d.library_path : d.manifest_path;
    auto [first, inserted] = first_by_name.emplace(d.name, origin);
    if (!inserted) {
      d.filter(fmt::format("a driver named '{}' was already found in '{}'", d.name, first->second));
      logger.log(UDAL_LOG_LEVEL_INFO, "driver '{}' from '{}' skipped: {}", d.name, origin,
                 d.reason);
      continue;
    }
    std::string filtered = filters.reason(d.name);
    if (!filtered.empty()) {
      d.filter(std::move(filtered));
      logger.log(UDAL_LOG_LEVEL_INFO, "driver '{}' skipped: {}", d.name, d.reason);
      continue;
    }

    logger.log(UDAL_LOG_LEVEL_DEBUG, "loading driver '{}' from '{}'", d.name, d.library_path);
    load_driver(d);
    if (d.state == UDAL_DRIVER_STATE_LOADED) {
      logger.log(UDAL_LOG_LEVEL_INFO, "driver '{}' {}.{} loaded: {} device(s)", d.name,
                 UDAL_VERSION_MAJOR(d.driver_version), UDAL_VERSION_MINOR(d.driver_version),
                 d.devices.size());
      instance->devices.insert(instance->devices.end(), d.devices.begin(), d.devices.end());
    } else {
      logger.log(UDAL_LOG_LEVEL_WARNING, "driver '{}' not loaded: {}", d.name, d.reason);
    }
  }
  if (instance->devices.empty())
    logger.log(UDAL_LOG_LEVEL_INFO, "no devices ({} driver(s) found; see their status)",
               instance->drivers.size());

  *out_instance = instance.release();
  return UDAL_SUCCESS;
}

// The instance behind |handle|, or nullptr with the message set.
udal_instance_s* checked_instance(const char* function, udal_instance_t handle,
                                  udal_result_t& result) {
  if (handle == nullptr) {
    result = fail(UDAL_ERROR_INVALID_HANDLE, "{}: instance is NULL", function);
    return nullptr;
  }
  if (handle->magic != Instance::kMagic) {
    result = fail(UDAL_ERROR_INVALID_HANDLE, "{}: instance {} is not a live udal_instance_t",
                  function, static_cast<const void*>(handle));
    return nullptr;
  }
  return handle;
}

} // namespace
} // namespace udal::hal

using udal::hal::fail;

extern "C" {

UDAL_API udal_result_t udal_instance_create(const udal_instance_desc_t* desc,
                                            udal_instance_t* out_instance) {
  constexpr const char* fn = "udal_instance_create";
  if (out_instance)
    *out_instance = nullptr;
  if (!out_instance)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_instance is NULL", fn);
  if (desc) {
    if (desc->struct_size < sizeof(udal_instance_desc_t))
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->struct_size {} is smaller than sizeof(udal_instance_desc_t) {}", fn,
                  desc->struct_size, sizeof(udal_instance_desc_t));
    if (desc->flags & ~udal::hal::kKnownInstanceFlags)
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->flags {:#x} has unknown bits {:#x}", fn,
                  desc->flags, desc->flags & ~udal::hal::kKnownInstanceFlags);
    if (desc->driver_path_count > 0 && desc->driver_paths == nullptr)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->driver_paths is NULL but desc->driver_path_count is {}", fn,
                  desc->driver_path_count);
    for (uint32_t i = 0; i < desc->driver_path_count; ++i) {
      if (desc->driver_paths[i] == nullptr || desc->driver_paths[i][0] == '\0')
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->driver_paths[{}] is {}", fn, i,
                    desc->driver_paths[i] ? "empty" : "NULL");
    }
  }
  try {
    return udal::hal::create_instance(desc, out_instance);
  } catch (const std::bad_alloc&) {
    return fail(UDAL_ERROR_OUT_OF_HOST_MEMORY, "{}: out of host memory", fn);
  } catch (const std::exception& e) {
    return fail(UDAL_ERROR_INTERNAL, "{}: internal error: {}", fn, e.what());
  }
}

UDAL_API udal_result_t udal_instance_retain(udal_instance_t instance) {
  udal_result_t r = UDAL_SUCCESS;
  udal_instance_s* self = udal::hal::checked_instance("udal_instance_retain", instance, r);
  if (!self)
    return r;
  self->references.fetch_add(1, std::memory_order_relaxed);
  return UDAL_SUCCESS;
}

UDAL_API udal_result_t udal_instance_release(udal_instance_t instance) {
  udal_result_t r = UDAL_SUCCESS;
  udal_instance_s* self = udal::hal::checked_instance("udal_instance_release", instance, r);
  if (!self)
    return r;
  if (self->references.fetch_sub(1, std::memory_order_acq_rel) == 1)
    std::unique_ptr<udal_instance_s>{self}.reset();
  return UDAL_SUCCESS;
}

UDAL_API udal_result_t udal_instance_get_driver_count(udal_instance_t instance,
                                                      uint32_t* out_count) {
  constexpr const char* fn = "udal_instance_get_driver_count";
  if (out_count)
    *out_count = 0;
  udal_result_t r = UDAL_SUCCESS;
  udal_instance_s* self = udal::hal::checked_instance(fn, instance, r);
  if (!self)
    return r;
  if (!out_count)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_count is NULL", fn);
  *out_count = static_cast<uint32_t>(self->drivers.size());
  return UDAL_SUCCESS;
}

UDAL_API udal_result_t udal_instance_get_driver_status(udal_instance_t instance, uint32_t index,
                                                       udal_driver_status_t* out_status) {
  constexpr const char* fn = "udal_instance_get_driver_status";
  udal_result_t r = UDAL_SUCCESS;
  udal_instance_s* self = udal::hal::checked_instance(fn, instance, r);
  if (!self)
    return r;
  if (!out_status)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_status is NULL", fn);
  if (out_status->struct_size < sizeof(udal_driver_status_t))
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: out_status->struct_size {} is smaller than sizeof(udal_driver_status_t) {}",
                fn, out_status->struct_size, sizeof(udal_driver_status_t));
  out_status->state = UDAL_DRIVER_STATE_FAILED;
  out_status->result = UDAL_SUCCESS;
  out_status->name = "";
  out_status->manifest_path = "";
  out_status->library_path = "";
  out_status->reason = "";
  out_status->abi_version = 0;
  out_status->driver_version = 0;
  out_status->device_count = 0;
  if (index >= self->drivers.size())
    return fail(UDAL_ERROR_NOT_FOUND, "{}: index {} is not below the driver count {}", fn, index,
                self->drivers.size());
  const udal::hal::Driver& d = *self->drivers[index];
  out_status->state = d.state;
  out_status->result = d.result;
  out_status->name = d.name.c_str();
  out_status->manifest_path = d.manifest_path.c_str();
  out_status->library_path = d.library_path.c_str();
  out_status->reason = d.reason.c_str();
  out_status->abi_version = d.abi_version;
  out_status->driver_version = d.driver_version;
  out_status->device_count = static_cast<uint32_t>(d.devices.size());
  return UDAL_SUCCESS;
}

UDAL_API udal_result_t udal_instance_get_device_count(udal_instance_t instance,
                                                      uint32_t* out_count) {
  constexpr const char* fn = "udal_instance_get_device_count";
  if (out_count)
    *out_count = 0;
  udal_result_t r = UDAL_SUCCESS;
  udal_instance_s* self = udal::hal::checked_instance(fn, instance, r);
  if (!self)
    return r;
  if (!out_count)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_count is NULL", fn);
  *out_count = static_cast<uint32_t>(self->devices.size());
  return UDAL_SUCCESS;
}

UDAL_API udal_result_t udal_instance_get_device(udal_instance_t instance, uint32_t index,
                                                udal_device_t* out_device) {
  constexpr const char* fn = "udal_instance_get_device";
  if (out_device)
    *out_device = nullptr;
  udal_result_t r = UDAL_SUCCESS;
  udal_instance_s* self = udal::hal::checked_instance(fn, instance, r);
  if (!self)
    return r;
  if (!out_device)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_device is NULL", fn);
  if (index >= self->devices.size())
    return fail(UDAL_ERROR_NOT_FOUND, "{}: index {} is not below the device count {}", fn, index,
                self->devices.size());
  *out_device = self->devices[index];
  return UDAL_SUCCESS;
}

} // extern "C"
