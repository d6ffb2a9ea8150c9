// driver.h — the driver's root object: the topology, the devices, and every object handed
// out and not yet destroyed.
#ifndef UDAL_CPU_DRIVER_H_
#define UDAL_CPU_DRIVER_H_

#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "device.h"
#include "entries.h"
#include "topology.h"
#include "udal/sdk/sdk.h"

namespace udal::cpu {

struct Buffer;
struct Event;
struct Kernel;
struct Module;
struct Stream;

// The live objects of one type. driver_destroy takes what the application did not destroy:
// it must finish their work and stop their threads before libudal unloads the driver.
template <typename T>
class LiveSet {
 public:
  // Throws std::bad_alloc.
  void add(T* object) {
    std::lock_guard<std::mutex> lock(mutex_);
    objects_.insert(object);
  }
  void remove(T* object) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    objects_.erase(object);
  }
  // Every object still live, and forgets them. Never allocates (driver_destroy cannot fail).
  std::unordered_set<T*> take_all() noexcept {
    std::unordered_set<T*> all;
    std::lock_guard<std::mutex> lock(mutex_);
    all.swap(objects_);
    return all;
  }

 private:
  std::mutex mutex_;
  std::unordered_set<T*> objects_;
};

// The object behind a udal_driver_t; one per instance that loads the driver, so two
// instances (or two copies of libudal) share nothing.
struct Driver {
  const udal_driver_table_t* dispatch;
  std::shared_ptr<Topology> topology;
  std::vector<std::unique_ptr<Device>> devices;
  LiveSet<Buffer> buffers;
  LiveSet<Event> events;
  LiveSet<Module> modules;
  LiveSet<Kernel> kernels;
  LiveSet<Stream> streams;
};
UDAL_SDK_DISPATCHABLE(Driver);

// The number of devices UDAL_CPU_DEVICE_COUNT asks for (1..16): 0 when it is not set;
// -1 with |error| set when it is set to anything else.
int device_count_from_environment(std::string& error);

}  // namespace udal::cpu

#endif  // UDAL_CPU_DRIVER_H_
