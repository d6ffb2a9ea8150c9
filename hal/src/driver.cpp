#include "driver.h"

#include "entries.h"
#include "error.h"
#include "udal/sdk/file_check.h"

#include <fmt/format.h>

#include <cstring>
#include <dlfcn.h>

namespace udal::hal {
namespace {

void driver_log(void* user_data, udal_log_level_t level, const char* message) {
  const auto* driver = static_cast<const Driver*>(user_data);
  if (driver == nullptr || driver->logger == nullptr || !driver->logger->enabled(level))
    return;
  driver->logger->log(level, "driver '{}': {}", driver->name, message ? message : "(null)");
}

std::string version_text(uint32_t version) {
  return fmt::format("{}.{}", UDAL_VERSION_MAJOR(version), UDAL_VERSION_MINOR(version));
}

// The driver's own message after a failed call, or "" when it has none.
std::string driver_message(const udal_driver_table_t& table) {
  if (table.last_error_message == nullptr)
    return {};
  const char* m = table.last_error_message();
  return m ? std::string(m) : std::string();
}

std::string with_message(std::string what, const std::string& message) {
  if (!message.empty())
    what += ": " + message;
  return what;
}

} // namespace

void LibraryCloser::operator()(void* library) const noexcept {
  if (library != nullptr)
    dlclose(library);
}

Driver::~Driver() {
  if (handle != nullptr && slot && slot->table.driver_destroy != nullptr) {
    udal_result_t r = slot->table.driver_destroy(handle);
    if (r != UDAL_SUCCESS && logger != nullptr)
      logger->log(UDAL_LOG_LEVEL_WARNING, "driver '{}': driver_destroy returned {}: {}", name,
                  udal_result_name(r), driver_message(slot->table));
  }
  handle = nullptr;
  devices.clear();
  slot.reset();
  library.reset();
}

void load_driver(Driver& driver) {
  // Before dlopen maps it: a regular file of bounded size (a FIFO would block, a device
  // read for ever) that is an ELF shared object of this process's class and machine whose
  // headers and segments lie inside the file (a truncated library is a SIGBUS inside
  // dlopen, not an error). A name without a '/' is left to the dynamic linker's search.
  if (driver.library_path.find('/') != std::string::npos) {
    file_check::Problem problem = file_check::check_shared_object_file(driver.library_path.c_str());
    if (problem) {
      using Kind = file_check::Problem::Kind;
      driver.fail(problem.kind == Kind::missing   ? UDAL_ERROR_NOT_FOUND
                  : problem.kind == Kind::foreign ? UDAL_ERROR_INCOMPATIBLE_DRIVER
                                                  : UDAL_ERROR_INVALID_ARGUMENT,
                  fmt::format("driver library '{}' refused before dlopen: {}",
                              driver.library_path, problem.text));
      return;
    }
  }

  // RTLD_LOCAL: two drivers that bundle the same library must not see each other's
  // symbols. RTLD_NOW: an unresolved symbol is a load failure now, not a crash later.
  dlerror();
  driver.library.reset(dlopen(driver.library_path.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!driver.library) {
    const char* why = dlerror();
    driver.fail(UDAL_ERROR_NOT_FOUND,
                fmt::format("cannot load library '{}': {}", driver.library_path,
                            why ? why : "dlopen failed"));
    return;
  }

  dlerror();
  void* symbol = dlsym(driver.library.get(), UDAL_DRIVER_NEGOTIATE_SYMBOL);
  if (symbol == nullptr) {
    const char* why = dlerror();
    driver.fail(UDAL_ERROR_NOT_FOUND,
                fmt::format("library '{}' does not export {}{}{}", driver.library_path,
                            UDAL_DRIVER_NEGOTIATE_SYMBOL, why ? ": " : "", why ? why : ""));
    driver.library.reset();
    return;
  }
  udal_pfn_driver_negotiate negotiate = nullptr;
  static_assert(sizeof(negotiate) == sizeof(symbol));
  std::memcpy(&negotiate, &symbol, sizeof(symbol));

  // Zeroed, so that entries an older driver does not know stay NULL → UNSUPPORTED.
  driver.slot = std::make_unique<TableSlot>();
  std::memset(&driver.slot->table, 0, sizeof(driver.slot->table));
  driver.slot->owner = &driver;
  for (uint64_t& g : driver.slot->guard)
    g = TableSlot::kGuard;
  udal_driver_table_t& table = driver.slot->table;
  table.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
  table.struct_size = sizeof(udal_driver_table_t);

  auto give_up = [&driver](udal_result_t code, std::string why) {
    driver.fail(code, std::move(why));
    if (driver.handle != nullptr)
      (void)driver.slot->table.driver_destroy(driver.handle);
    driver.handle = nullptr;
    driver.devices.clear();
    driver.slot.reset();
    driver.library.reset();
  };

  udal_result_t r = negotiate(UDAL_ABI_VERSION, &table);
  bool overran = driver.slot->owner != &driver;
  for (uint64_t g : driver.slot->guard)
    overran = overran || g != TableSlot::kGuard;
  if (overran) {
    driver.slot->owner = &driver;
    give_up(UDAL_ERROR_INCOMPATIBLE_DRIVER,
            fmt::format("driver '{}' wrote past the end of the {}-byte function table "
                        "(udal_driver_negotiate must write at most table->struct_size bytes)",
                        driver.name, sizeof(udal_driver_table_t)));
    return;
  }
  // A driver must not change the header libudal gave; restore it rather than trust it.
  table.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
  table.struct_size = sizeof(udal_driver_table_t);
  table.next = nullptr;
  driver.abi_version = table.abi_version;
  driver.driver_version = table.driver_version;
  if (r != UDAL_SUCCESS) {
    give_up(r < 0 ? r : UDAL_ERROR_INTERNAL,
            with_message(fmt::format("udal_driver_negotiate returned {}", udal_result_name(r)),
                         driver_message(table)));
    return;
  }
  if (UDAL_VERSION_MAJOR(table.abi_version) != UDAL_VERSION_MAJOR(UDAL_ABI_VERSION)) {
    give_up(UDAL_ERROR_INCOMPATIBLE_DRIVER,
            fmt::format("driver '{}' implements UDAL ABI {}; this libudal implements {}",
                        driver.name, version_text(table.abi_version),
                        version_text(UDAL_ABI_VERSION)));
    return;
  }

  // The required entries are those marked so in UDAL_DRIVER_ENTRIES (entries.h).
  std::string missing = missing_required_entries(table);
  if (!missing.empty()) {
    give_up(UDAL_ERROR_INCOMPATIBLE_DRIVER,
            fmt::format("driver '{}' lacks required table entries: {}", driver.name, missing));
    return;
  }

  udal_driver_create_desc_t desc{};
  desc.type = UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC;
  desc.struct_size = sizeof(desc);
  desc.next = nullptr;
  desc.loader_abi_version = UDAL_ABI_VERSION;
  desc.driver_name = driver.name.c_str();
  desc.library_path = driver.library_path.c_str();
  desc.log = driver_log;
  desc.log_user_data = &driver;
  udal_driver_t handle = nullptr;
  r = table.driver_create(&table, &desc, &handle);
  if (r != UDAL_SUCCESS || handle == nullptr) {
    give_up(
        r < 0 ? r : UDAL_ERROR_INTERNAL,
        with_message(fmt::format("driver_create returned {}{}", udal_result_name(r),
                                 handle == nullptr && r == UDAL_SUCCESS ? " and no driver" : ""),
                     driver_message(table)));
    return;
  }
  driver.handle = handle;
  // Dispatch trusts this pointer blindly; a driver that breaks the rule (e.g. a C++ class
  // with a vtable at offset 0) is refused here instead of crashing later.
  if (table_of(handle) != &table) {
    give_up(UDAL_ERROR_INCOMPATIBLE_DRIVER,
            fmt::format("driver '{}': the driver object does not begin with the table pointer "
                        "passed to driver_create",
                        driver.name));
    return;
  }

  uint32_t count = 0;
  r = table.driver_get_device_count(handle, &count);
  if (r != UDAL_SUCCESS) {
    give_up(r < 0 ? r : UDAL_ERROR_INTERNAL,
            with_message(fmt::format("driver_get_device_count returned {}", udal_result_name(r)),
                         driver_message(table)));
    return;
  }
  driver.devices.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    udal_device_t device = nullptr;
    r = table.driver_get_device(handle, i, &device);
    if (r != UDAL_SUCCESS || device == nullptr) {
      give_up(
          r < 0 ? r : UDAL_ERROR_INTERNAL,
          with_message(fmt::format("driver_get_device({}) returned {}{}", i, udal_result_name(r),
                                   device == nullptr && r == UDAL_SUCCESS ? " and no device" : ""),
                       driver_message(table)));
      return;
    }
    if (table_of(device) != &table) {
      give_up(UDAL_ERROR_INCOMPATIBLE_DRIVER,
              fmt::format("driver '{}': device {} does not begin with the driver's table "
                          "pointer",
                          driver.name, i));
      return;
    }
    driver.devices.push_back(device);
  }
  driver.state = UDAL_DRIVER_STATE_LOADED;
  driver.result = UDAL_SUCCESS;
  driver.reason.clear();
}

} // namespace udal::hal
