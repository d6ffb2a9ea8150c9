#include "instance.h"

#include "discovery.h"
#include "entries.h"
#include "environment.h"
#include "error.h"
#include "layers.h"
#include "manifest.h"
#include "structs.h"

#include <fmt/format.h>

#include <filesystem>
#include <fnmatch.h>
#include <map>
#include <mutex>
#include <new>
#include <pthread.h>
#include <unistd.h>

namespace udal::hal {

/* ==========================================================================================
 * fork(): the registry of live instances and the pthread_atfork handlers
 * =========================================================================================
 * Objects do not cross into a child process: the drivers' threads and device contexts
 * stayed in the parent. The child handler rewrites every entry of every live instance's
 * driver tables to a stub that answers UDAL_ERROR_DEVICE_LOST (entries.cpp), so the call
 * path pays nothing for it: dispatch still loads the table pointer and calls the entry. */
namespace {

std::mutex g_registry_mutex;
Instance* g_registry_head = nullptr; // guarded by g_registry_mutex
long g_fork_parent_pid = 0;          // written by the prepare handler, under the mutex

void fork_prepare() noexcept {
  g_registry_mutex.lock();
  g_fork_parent_pid = static_cast<long>(getpid());
}

void fork_parent() noexcept {
  g_registry_mutex.unlock();
}

// Runs in the child, on the only thread there (the one that called fork()), holding the
// mutex the prepare handler took. Allocates nothing.
void fork_child() noexcept {
  for (Instance* i = g_registry_head; i != nullptr; i = i->registry_next) {
    i->created_before_fork = true;
    for (const std::unique_ptr<Driver>& d : i->drivers) {
      if (d->slot)
        make_table_lost_after_fork(d->slot->table, g_fork_parent_pid);
    }
  }
  g_registry_mutex.unlock();
}

void register_instance(Instance& instance) {
  static const int atfork = pthread_atfork(fork_prepare, fork_parent, fork_child);
  if (atfork != 0)
    throw std::bad_alloc(); // pthread_atfork fails only for want of memory (ENOMEM)
  std::lock_guard lock(g_registry_mutex);
  instance.registry_prev = nullptr;
  instance.registry_next = g_registry_head;
  if (g_registry_head != nullptr)
    g_registry_head->registry_prev = &instance;
  g_registry_head = &instance;
  instance.registered = true;
}

void unregister_instance(Instance& instance) noexcept {
  if (!instance.registered)
    return;
  std::lock_guard lock(g_registry_mutex);
  if (instance.registry_prev != nullptr)
    instance.registry_prev->registry_next = instance.registry_next;
  else
    g_registry_head = instance.registry_next;
  if (instance.registry_next != nullptr)
    instance.registry_next->registry_prev = instance.registry_prev;
  instance.registered = false;
}

} // namespace

Instance::~Instance() {
  unregister_instance(*this);
  magic = 0;
  devices.clear();
  if (created_before_fork) {
    // In a child: the drivers' threads and contexts are the parent's. Free libudal's
    // bookkeeping only: no driver_destroy, and no dlclose (a driver's static destructors
    // could wait for threads that do not exist here).
    for (const std::unique_ptr<Driver>& d : drivers) {
      d->handle = nullptr;
      (void)d->library.release();
    }
  }
  // Reverse order of loading, as a driver may depend on one loaded before it.
  while (!drivers.empty())
    drivers.pop_back();
}

namespace {

constexpr udal_instance_flags_t kKnownInstanceFlags =
    UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT | UDAL_INSTANCE_FLAG_VALIDATION;

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
  // The validation and trace layers (hal/layers), inserted into each driver that loads.
  instance->instance_layers = layers::open_layers(desc ? desc->flags : 0, environment, logger);

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
      layers::insert(d, instance->instance_layers);
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

  register_instance(*instance);
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

namespace udal::hal {
namespace {

// The body of every udal_instance_get_*_count: the output cleared first, the handle and the
// pointer checked, then |count_of| the instance.
template <typename CountOf>
udal_result_t get_count(const char* fn, udal_instance_t instance, uint32_t* out_count,
                        CountOf count_of) noexcept {
  if (out_count)
    *out_count = 0;
  udal_result_t r = UDAL_SUCCESS;
  udal_instance_s* self = checked_instance(fn, instance, r);
  if (!self)
    return r;
  if (!out_count)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_count is NULL", fn);
  *out_count = count_of(*self);
  return UDAL_SUCCESS;
}

}  // namespace
}  // namespace udal::hal

extern "C" {

UDAL_API udal_result_t udal_instance_create(const udal_instance_desc_t* desc,
                                            udal_instance_t* out_instance) {
  constexpr const char* fn = "udal_instance_create";
  if (out_instance)
    *out_instance = nullptr;
  if (!out_instance)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_instance is NULL", fn);
  if (desc) {
    if (udal_result_t r = udal::hal::check_struct(fn, "desc", desc); r != UDAL_SUCCESS)
      return r;
    if (desc->reserved0 != 0)
      return udal::hal::reserved_not_zero(fn, "desc->reserved0", desc->reserved0);
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
  return udal::hal::get_count("udal_instance_get_driver_count", instance, out_count,
                              [](const udal_instance_s& self) {
                                return static_cast<uint32_t>(self.drivers.size());
                              });
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
  if (udal_result_t c = udal::hal::check_struct(fn, "out_status", out_status); c != UDAL_SUCCESS)
    return c;
  // Everything after the header, inside the caller's struct_size (which is at least the 1.0
  // size: every field written below is inside it).
  udal::hal::clear_output(out_status);
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

UDAL_API udal_result_t udal_instance_get_layer_count(udal_instance_t instance,
                                                     uint32_t* out_count) {
  return udal::hal::get_count("udal_instance_get_layer_count", instance, out_count,
                              [](const udal_instance_s&) {
                                return udal::hal::layers::layer_count();
                              });
}

UDAL_API udal_result_t udal_instance_get_layer_status(udal_instance_t instance, uint32_t index,
                                                      udal_layer_status_t* out_status) {
  constexpr const char* fn = "udal_instance_get_layer_status";
  udal_result_t r = UDAL_SUCCESS;
  udal_instance_s* self = udal::hal::checked_instance(fn, instance, r);
  if (!self)
    return r;
  if (!out_status)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_status is NULL", fn);
  if (udal_result_t c = udal::hal::check_struct(fn, "out_status", out_status); c != UDAL_SUCCESS)
    return c;
  // libudal answers this itself: no driver sees the struct, so a vendor extension chained on
  // it would be ignored, which the ABI never does (check_struct refused core types already).
  if (out_status->next != nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: out_status->next is not NULL: libudal answers this call itself and knows "
                "no extension of udal_layer_status_t (chain link 0 has type {:#x})",
                fn,
                udal::hal::raw_enum(static_cast<const udal_base_out_t*>(out_status->next)->type));
  // Everything after the header, inside the caller's struct_size (at least the first size of
  // the struct: every field written below is inside it).
  udal::hal::clear_output(out_status);
  out_status->layer = UDAL_LAYER_VALIDATION;
  out_status->state = UDAL_LAYER_STATE_OFF;
  out_status->name = "";
  out_status->environment_variable = "";
  out_status->environment_value = "";
  out_status->output_path = "";
  out_status->reason = "";
  if (!udal::hal::layers::describe_layer(self->instance_layers, index, *out_status))
    return fail(UDAL_ERROR_NOT_FOUND, "{}: index {} is not below the layer count {}", fn, index,
                udal::hal::layers::layer_count());
  return UDAL_SUCCESS;
}

UDAL_API udal_result_t udal_instance_get_device_count(udal_instance_t instance,
                                                      uint32_t* out_count) {
  return udal::hal::get_count("udal_instance_get_device_count", instance, out_count,
                              [](const udal_instance_s& self) {
                                return static_cast<uint32_t>(self.devices.size());
                              });
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
