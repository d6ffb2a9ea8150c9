// fault_layer.cpp — a Vulkan layer for the driver's tests (VK_LAYER_UDAL_test_faults): it
// makes the Nth vkQueueSubmit or vkAllocateMemory of each device fail, so the tests can
// check that the driver reports the failure as what it is and keeps working.
//   UDAL_TEST_FAULT_SUBMIT=N          fail the Nth vkQueueSubmit of each device (from 1)
//   UDAL_TEST_FAULT_SUBMIT_RESULT=R   with R: out_of_host_memory, out_of_device_memory
//                                     (the default) or device_lost
//   UDAL_TEST_FAULT_ALLOCATE=N        fail the Nth vkAllocateMemory of each device with
//                                     VK_ERROR_OUT_OF_DEVICE_MEMORY
// Read when a device is created. Loaded with VK_LAYER_PATH=<dir of its manifest> and
// VK_INSTANCE_LAYERS=VK_LAYER_UDAL_test_faults.
// The layer defines vkGetInstanceProcAddr and vkGetDeviceProcAddr itself.
#define VK_NO_PROTOTYPES
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#define UDAL_LAYER_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

struct InstanceData {
  PFN_vkGetInstanceProcAddr next_get_instance_proc_addr = nullptr;
  PFN_vkDestroyInstance next_destroy_instance = nullptr;
};

struct DeviceData {
  PFN_vkGetDeviceProcAddr next_get_device_proc_addr = nullptr;
  PFN_vkDestroyDevice next_destroy_device = nullptr;
  PFN_vkQueueSubmit next_queue_submit = nullptr;
  PFN_vkAllocateMemory next_allocate_memory = nullptr;
  uint64_t fail_submit = 0;
  uint64_t fail_allocate = 0;
  VkResult submit_result = VK_ERROR_OUT_OF_DEVICE_MEMORY;
  std::atomic<uint64_t> submits{0};
  std::atomic<uint64_t> allocations{0};
};

std::mutex g_mutex;
std::unordered_map<void*, InstanceData> g_instances;
std::unordered_map<void*, std::unique_ptr<DeviceData>> g_devices;

// Dispatchable handles begin with the loader's dispatch table pointer: one key per
// instance, and per device (its queues share it).
template <typename T>
void* key_of(T handle) {
  return *reinterpret_cast<void**>(handle);
}

uint64_t env_number(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::strtoull(value, nullptr, 10) : 0;
}

DeviceData* device_data(void* key) {
  std::lock_guard lock(g_mutex);
  auto it = g_devices.find(key);
  return it == g_devices.end() ? nullptr : it->second.get();
}

VKAPI_ATTR VkResult VKAPI_CALL QueueSubmit(VkQueue queue, uint32_t count, const VkSubmitInfo* submits,
                                           VkFence fence) {
  DeviceData* d = device_data(key_of(queue));
  if (d->fail_submit != 0 && d->submits.fetch_add(1) + 1 == d->fail_submit) return d->submit_result;
  return d->next_queue_submit(queue, count, submits, fence);
}

VKAPI_ATTR VkResult VKAPI_CALL AllocateMemory(VkDevice device, const VkMemoryAllocateInfo* info,
                                              const VkAllocationCallbacks* allocator,
                                              VkDeviceMemory* memory) {
  DeviceData* d = device_data(key_of(device));
  if (d->fail_allocate != 0 && d->allocations.fetch_add(1) + 1 == d->fail_allocate) {
    return VK_ERROR_OUT_OF_DEVICE_MEMORY;
  }
  return d->next_allocate_memory(device, info, allocator, memory);
}

VKAPI_ATTR void VKAPI_CALL DestroyDevice(VkDevice device, const VkAllocationCallbacks* allocator) {
  std::unique_ptr<DeviceData> d;
  {
    std::lock_guard lock(g_mutex);
    auto it = g_devices.find(key_of(device));
    if (it == g_devices.end()) return;
    d = std::move(it->second);
    g_devices.erase(it);
  }
  d->next_destroy_device(device, allocator);
}

VKAPI_ATTR VkResult VKAPI_CALL CreateDevice(VkPhysicalDevice physical, const VkDeviceCreateInfo* info,
                                            const VkAllocationCallbacks* allocator, VkDevice* device) {
  auto* link = const_cast<VkLayerDeviceCreateInfo*>(static_cast<const VkLayerDeviceCreateInfo*>(info->pNext));
  while (link && !(link->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO &&
                   link->function == VK_LAYER_LINK_INFO)) {
    link = const_cast<VkLayerDeviceCreateInfo*>(static_cast<const VkLayerDeviceCreateInfo*>(link->pNext));
  }
  if (link == nullptr) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  PFN_vkGetDeviceProcAddr gdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
  link->u.pLayerInfo = link->u.pLayerInfo->pNext;
  auto create = reinterpret_cast<PFN_vkCreateDevice>(gipa(VK_NULL_HANDLE, "vkCreateDevice"));
  const VkResult r = create(physical, info, allocator, device);
  if (r != VK_SUCCESS) return r;
  auto d = std::make_unique<DeviceData>();
  d->next_get_device_proc_addr = gdpa;
  d->next_destroy_device = reinterpret_cast<PFN_vkDestroyDevice>(gdpa(*device, "vkDestroyDevice"));
  d->next_queue_submit = reinterpret_cast<PFN_vkQueueSubmit>(gdpa(*device, "vkQueueSubmit"));
  d->next_allocate_memory = reinterpret_cast<PFN_vkAllocateMemory>(gdpa(*device, "vkAllocateMemory"));
  d->fail_submit = env_number("UDAL_TEST_FAULT_SUBMIT");
  d->fail_allocate = env_number("UDAL_TEST_FAULT_ALLOCATE");
  if (const char* result = std::getenv("UDAL_TEST_FAULT_SUBMIT_RESULT")) {
    const std::string name = result;
    if (name == "out_of_host_memory") d->submit_result = VK_ERROR_OUT_OF_HOST_MEMORY;
    if (name == "device_lost") d->submit_result = VK_ERROR_DEVICE_LOST;
  }
  std::lock_guard lock(g_mutex);
  g_devices[key_of(*device)] = std::move(d);
  return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL DestroyInstance(VkInstance instance, const VkAllocationCallbacks* allocator) {
  PFN_vkDestroyInstance destroy = nullptr;
  {
    std::lock_guard lock(g_mutex);
    auto it = g_instances.find(key_of(instance));
    if (it == g_instances.end()) return;
    destroy = it->second.next_destroy_instance;
    g_instances.erase(it);
  }
  destroy(instance, allocator);
}

VKAPI_ATTR VkResult VKAPI_CALL CreateInstance(const VkInstanceCreateInfo* info,
                                              const VkAllocationCallbacks* allocator,
                                              VkInstance* instance) {
  auto* link = const_cast<VkLayerInstanceCreateInfo*>(static_cast<const VkLayerInstanceCreateInfo*>(info->pNext));
  while (link && !(link->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO &&
                   link->function == VK_LAYER_LINK_INFO)) {
    link = const_cast<VkLayerInstanceCreateInfo*>(static_cast<const VkLayerInstanceCreateInfo*>(link->pNext));
  }
  if (link == nullptr) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  link->u.pLayerInfo = link->u.pLayerInfo->pNext;
  auto create = reinterpret_cast<PFN_vkCreateInstance>(gipa(VK_NULL_HANDLE, "vkCreateInstance"));
  const VkResult r = create(info, allocator, instance);
  if (r != VK_SUCCESS) return r;
  InstanceData data;
  data.next_get_instance_proc_addr = gipa;
  data.next_destroy_instance =
      reinterpret_cast<PFN_vkDestroyInstance>(gipa(*instance, "vkDestroyInstance"));
  std::lock_guard lock(g_mutex);
  g_instances[key_of(*instance)] = data;
  return VK_SUCCESS;
}

PFN_vkVoidFunction intercepted_device_function(const char* name) {
  if (std::strcmp(name, "vkQueueSubmit") == 0) return reinterpret_cast<PFN_vkVoidFunction>(QueueSubmit);
  if (std::strcmp(name, "vkAllocateMemory") == 0) return reinterpret_cast<PFN_vkVoidFunction>(AllocateMemory);
  if (std::strcmp(name, "vkDestroyDevice") == 0) return reinterpret_cast<PFN_vkVoidFunction>(DestroyDevice);
  return nullptr;
}

}  // namespace

UDAL_LAYER_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetDeviceProcAddr(VkDevice device,
                                                                                const char* name) {
  if (std::strcmp(name, "vkGetDeviceProcAddr") == 0) {
    return reinterpret_cast<PFN_vkVoidFunction>(vkGetDeviceProcAddr);
  }
  if (PFN_vkVoidFunction f = intercepted_device_function(name)) return f;
  DeviceData* d = device_data(key_of(device));
  return d ? d->next_get_device_proc_addr(device, name) : nullptr;
}

UDAL_LAYER_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetInstanceProcAddr(VkInstance instance,
                                                                                  const char* name) {
  if (std::strcmp(name, "vkGetInstanceProcAddr") == 0) {
    return reinterpret_cast<PFN_vkVoidFunction>(vkGetInstanceProcAddr);
  }
  if (std::strcmp(name, "vkGetDeviceProcAddr") == 0) {
    return reinterpret_cast<PFN_vkVoidFunction>(vkGetDeviceProcAddr);
  }
  if (std::strcmp(name, "vkCreateInstance") == 0) return reinterpret_cast<PFN_vkVoidFunction>(CreateInstance);
  if (std::strcmp(name, "vkDestroyInstance") == 0) return reinterpret_cast<PFN_vkVoidFunction>(DestroyInstance);
  if (std::strcmp(name, "vkCreateDevice") == 0) return reinterpret_cast<PFN_vkVoidFunction>(CreateDevice);
  if (PFN_vkVoidFunction f = intercepted_device_function(name)) return f;
  if (instance == VK_NULL_HANDLE) return nullptr;
  PFN_vkGetInstanceProcAddr next = nullptr;
  {
    std::lock_guard lock(g_mutex);
    auto it = g_instances.find(key_of(instance));
    if (it != g_instances.end()) next = it->second.next_get_instance_proc_addr;
  }
  return next ? next(instance, name) : nullptr;
}
