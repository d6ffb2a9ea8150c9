// module.h — HOST_NATIVE modules: shared objects of host kernels, loaded with dlopen.
#ifndef UDAL_CPU_MODULE_H_
#define UDAL_CPU_MODULE_H_

#include <cstdint>
#include <memory>

#include "device.h"
#include "entries.h"
#include "udal/sdk/sdk.h"

namespace udal::cpu {

// One dlopen'ed host module. Shared by its module and every kernel made from it, so a
// module may be destroyed while its kernels live (and launches of them are in flight).
class Library {
 public:
  Library(void* handle, int memfd) noexcept : handle_(handle), memfd_(memfd) {}
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  void* handle() const noexcept { return handle_; }

 private:
  void* handle_;
  // The memfd an in-memory image was loaded from, kept open while the library is loaded:
  // glibc recognises loaded objects by path, and a reused "/proc/self/fd/N" would make a
  // later dlopen return this library instead of the new image.
  int memfd_;
};

// The object behind a udal_module_t.
struct Module {
  const udal_driver_table_t* dispatch;
  Device* device;
  std::shared_ptr<Library> library;
  udal_module_format_t format;
  uint32_t image_index;
};
UDAL_SDK_DISPATCHABLE(Module);

inline Module* to_module(udal_module_t handle) noexcept {
  return udal::sdk::from_handle<Module>(handle);
}

}  // namespace udal::cpu

#endif  // UDAL_CPU_MODULE_H_
