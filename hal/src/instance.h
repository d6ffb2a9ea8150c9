// An instance: the drivers one udal_instance_create found, loaded or not, and the devices
// of those that loaded. No state is shared between instances.
#pragma once

#include "driver.h"
#include "layers.h"
#include "log.h"

#include <udal/udal.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace udal::hal {

struct Instance {
  // Catches a handle of another kind (or a released one, often) before it is used.
  static constexpr uint64_t kMagic = 0x554441'4c494e53ull; // "UDALINS"

  uint64_t magic = kMagic;
  std::atomic<uint32_t> references{1};
  Logger logger;
  // The validation and trace layers this instance runs in each driver it loads (hal/layers),
  // for udal_instance_get_layer_status. Declared before |drivers|, so the trace file it holds
  // is closed after the drivers' layers wrote their last events.
  layers::InstanceLayers instance_layers;
  // Declared after |logger|: drivers log through it while they are destroyed.
  std::vector<std::unique_ptr<Driver>> drivers;
  std::vector<udal_device_t> devices;

  // Set in a child process by the pthread_atfork child handler: the instance was created
  // before fork(), its drivers' tables now answer UDAL_ERROR_DEVICE_LOST, and destroying it
  // frees libudal's memory without calling (or unloading) the drivers.
  bool created_before_fork = false;
  // The registry of live instances the fork handler walks (instance.cpp); guarded by its
  // mutex.
  Instance* registry_prev = nullptr;
  Instance* registry_next = nullptr;
  bool registered = false;

  Instance() = default;
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  ~Instance();
};

} // namespace udal::hal

// The public handle is the instance itself.
struct udal_instance_s : udal::hal::Instance {};
