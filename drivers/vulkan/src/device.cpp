#include "device.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pci.h"

namespace udal::vulkan {
namespace {

const char* vendor_name(uint32_t id) noexcept {
  switch (id) {
    case 0x1002: return "AMD";
    case 0x1010: return "Imagination Technologies";
    case 0x10de: return "NVIDIA";
    case 0x13b5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x8086: return "Intel";
    case 0x106b: return "Apple";
    case 0x1ae0: return "Google";
    case VK_VENDOR_ID_MESA: return "Mesa";
    default: return nullptr;
  }
}

udal_device_type_t device_type_of(VkPhysicalDeviceType type) noexcept {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return UDAL_DEVICE_TYPE_CPU;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return UDAL_DEVICE_TYPE_GPU;
    default: return UDAL_DEVICE_TYPE_OTHER;
  }
}

bool has_extension(const std::vector<VkExtensionProperties>& list, const char* name) {
  return std::any_of(list.begin(), list.end(), [name](const VkExtensionProperties& e) {
    return std::strcmp(e.extensionName, name) == 0;
  });
}

// The first memory type that has every flag of |required|, preferring one that also has
// every flag of |preferred|; types not on a heap big enough to matter are kept too.
uint32_t find_memory_type(const VkPhysicalDeviceMemoryProperties& memory,
                          VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred) {
  uint32_t fallback = kNoMemoryType;
  for (uint32_t i = 0; i < memory.memoryTypeCount; ++i) {
    const VkMemoryPropertyFlags flags = memory.memoryTypes[i].propertyFlags;
    if ((flags & required) != required) continue;
    // Protected and lazily allocated memory cannot back ordinary buffers.
    if (flags & (VK_MEMORY_PROPERTY_PROTECTED_BIT | VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT))
      continue;
    if ((flags & preferred) == preferred) return i;
    if (fallback == kNoMemoryType) fallback = i;
  }
  return fallback;
}

void copy_string(char* out, size_t capacity, const std::string& text) {
  const size_t n = std::min(capacity - 1, text.size());
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

bool env_flag(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && value[0] != '\0' && std::strcmp(value, "0") != 0;
}

}  // namespace

std::unique_ptr<Device> make_device(const udal_driver_table_t* dispatch,
                                    VkPhysicalDevice physical, const char* driver_name,
                                    uint32_t driver_version, std::string* why) {
  VkPhysicalDeviceProperties properties;
  vkGetPhysicalDeviceProperties(physical, &properties);
  if (properties.apiVersion < VK_API_VERSION_1_2) {
    *why = fmt::format("{}: Vulkan {}.{} is older than 1.2 (timeline semaphores)",
                       properties.deviceName, VK_API_VERSION_MAJOR(properties.apiVersion),
                       VK_API_VERSION_MINOR(properties.apiVersion));
    return nullptr;
  }
  uint32_t extension_count = 0;
  vkEnumerateDeviceExtensionProperties(physical, nullptr, &extension_count, nullptr);
  std::vector<VkExtensionProperties> extensions(extension_count);
  vkEnumerateDeviceExtensionProperties(physical, nullptr, &extension_count, extensions.data());
  if (!has_extension(extensions, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME)) {
    *why = fmt::format("{}: no {}", properties.deviceName, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
    return nullptr;
  }
  const bool pci_info = has_extension(extensions, VK_EXT_PCI_BUS_INFO_EXTENSION_NAME);

  // The queue family: a compute-only one (asynchronous compute) when there is one.
  uint32_t family_count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(physical, &family_count, nullptr);
  std::vector<VkQueueFamilyProperties> families(family_count);
  vkGetPhysicalDeviceQueueFamilyProperties(physical, &family_count, families.data());
  uint32_t family = UINT32_MAX;
  for (uint32_t i = 0; i < family_count; ++i) {
    const VkQueueFlags flags = families[i].queueFlags;
    if (!(flags & VK_QUEUE_COMPUTE_BIT)) continue;
    if (family == UINT32_MAX || !(flags & VK_QUEUE_GRAPHICS_BIT)) family = i;
    if (!(flags & VK_QUEUE_GRAPHICS_BIT)) break;
  }
  if (family == UINT32_MAX) {
    *why = fmt::format("{}: no queue family with compute", properties.deviceName);
    return nullptr;
  }

  VkPhysicalDevicePushDescriptorPropertiesKHR push{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PUSH_DESCRIPTOR_PROPERTIES_KHR};
  VkPhysicalDevicePCIBusInfoPropertiesEXT pci{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PCI_BUS_INFO_PROPERTIES_EXT};
  VkPhysicalDeviceMaintenance3Properties maintenance3{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
  VkPhysicalDeviceIDProperties ids{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
  VkPhysicalDeviceProperties2 properties2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  properties2.pNext = &ids;
  ids.pNext = &maintenance3;
  maintenance3.pNext = &push;
  if (pci_info) push.pNext = &pci;
  vkGetPhysicalDeviceProperties2(physical, &properties2);

  VkPhysicalDeviceVulkan12Features features12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceVulkan11Features features11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  features.pNext = &features11;
  features11.pNext = &features12;
  vkGetPhysicalDeviceFeatures2(physical, &features);
  if (!features12.timelineSemaphore) {
    *why = fmt::format("{}: no timeline semaphores", properties.deviceName);
    return nullptr;
  }

  // Enable what kernels may use; robustness and the like stay off (they cost speed).
  VkPhysicalDeviceVulkan12Features enable12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  enable12.timelineSemaphore = VK_TRUE;
  enable12.shaderInt8 = features12.shaderInt8;
  enable12.shaderFloat16 = features12.shaderFloat16;
  enable12.storageBuffer8BitAccess = features12.storageBuffer8BitAccess;
  enable12.storagePushConstant8 = features12.storagePushConstant8;
  // Device-scope atomics and barriers need DeviceScope once the memory model is on.
  enable12.vulkanMemoryModel = features12.vulkanMemoryModel;
  enable12.vulkanMemoryModelDeviceScope = features12.vulkanMemoryModelDeviceScope;
  enable12.shaderBufferInt64Atomics = features12.shaderBufferInt64Atomics;
  enable12.shaderSharedInt64Atomics = features12.shaderSharedInt64Atomics;
  VkPhysicalDeviceVulkan11Features enable11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  enable11.storageBuffer16BitAccess = features11.storageBuffer16BitAccess;
  enable11.storagePushConstant16 = features11.storagePushConstant16;
  enable11.pNext = &enable12;
  VkPhysicalDeviceFeatures2 enable{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  enable.pNext = &enable11;
  enable.features.shaderFloat64 = features.features.shaderFloat64;
  enable.features.shaderInt64 = features.features.shaderInt64;
  enable.features.shaderInt16 = features.features.shaderInt16;

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  queue_info.queueFamilyIndex = family;
  queue_info.queueCount = 1;
  queue_info.pQueuePriorities = &priority;
  const char* enabled_extensions[] = {VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME};
  VkDeviceCreateInfo device_info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  device_info.pNext = &enable;
  device_info.queueCreateInfoCount = 1;
  device_info.pQueueCreateInfos = &queue_info;
  device_info.enabledExtensionCount = 1;
  device_info.ppEnabledExtensionNames = enabled_extensions;
  VkDevice vk_device = VK_NULL_HANDLE;
  const VkResult created = vkCreateDevice(physical, &device_info, nullptr, &vk_device);
  if (created != VK_SUCCESS) {
    *why = fmt::format("{}: vkCreateDevice failed with {}", properties.deviceName,
                       vk_result_name(created));
    return nullptr;
  }

  auto state = std::make_unique<DeviceState>(vk_device);
  DeviceState& s = *state;
  s.physical = physical;
  s.properties = properties;
  vkGetPhysicalDeviceMemoryProperties(physical, &s.memory_properties);
  s.queue_family = family;
  vkGetDeviceQueue(vk_device, family, 0, &s.queue);
  s.push_descriptor_set = reinterpret_cast<PFN_vkCmdPushDescriptorSetKHR>(
      vkGetDeviceProcAddr(vk_device, "vkCmdPushDescriptorSetKHR"));
  if (s.push_descriptor_set == nullptr) {
    *why = fmt::format("{}: vkCmdPushDescriptorSetKHR is missing", properties.deviceName);
    return nullptr;
  }
  s.timestamp_valid_bits = families[family].timestampValidBits;
  const VkPhysicalDeviceLimits& limits = properties.limits;
  s.storage_offset_alignment = limits.minStorageBufferOffsetAlignment;
  // 64 bytes at least: a cache line, what the host-visible kinds are mapped at.
  s.min_alignment = std::max<uint64_t>(64, limits.minStorageBufferOffsetAlignment);
  s.max_buffer_arguments =
      std::min(push.maxPushDescriptors, limits.maxPerStageDescriptorStorageBuffers);

  const VkPhysicalDeviceMemoryProperties& memory = s.memory_properties;
  constexpr VkMemoryPropertyFlags kLocal = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  constexpr VkMemoryPropertyFlags kHost =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  s.device_type = find_memory_type(memory, kLocal, 0);
  if (s.device_type == kNoMemoryType) s.device_type = find_memory_type(memory, 0, 0);
  // Cached host memory makes host reads fast; the device reads it over the bus anyway.
  s.host_type = find_memory_type(memory, kHost, VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
  s.staging_type = s.host_type;
  s.shared_type = find_memory_type(memory, kHost | kLocal, 0);
  if (s.shared_type == kNoMemoryType) s.shared_type = s.host_type;
  s.map_device_buffers =
      s.device_type != kNoMemoryType &&
      (memory.memoryTypes[s.device_type].propertyFlags & kHost) == kHost &&
      !env_flag("UDAL_VULKAN_FORCE_STAGING");

  uint64_t device_bytes = 0, host_visible_bytes = 0;
  for (uint32_t h = 0; h < memory.memoryHeapCount; ++h) {
    bool host_visible = false;
    for (uint32_t t = 0; t < memory.memoryTypeCount; ++t) {
      if (memory.memoryTypes[t].heapIndex == h &&
          (memory.memoryTypes[t].propertyFlags & kHost) == kHost)
        host_visible = true;
    }
    if (h == memory.memoryTypes[s.device_type].heapIndex) device_bytes += memory.memoryHeaps[h].size;
    if (host_visible) host_visible_bytes += memory.memoryHeaps[h].size;
  }
  s.max_allocation = std::min<uint64_t>(maintenance3.maxMemoryAllocationSize,
                                        std::max(device_bytes, host_visible_bytes));
  s.memory = std::make_unique<MemoryPool>(vk_device, memory, s.min_alignment);

  udal_device_info_t& info = s.info;
  info.struct_size = sizeof(info);
  copy_string(info.name, sizeof(info.name), properties.deviceName);
  const char* vendor = vendor_name(properties.vendorID);
  copy_string(info.vendor, sizeof(info.vendor),
              vendor ? std::string(vendor) : fmt::format("0x{:04x}", properties.vendorID));
  copy_string(info.driver_name, sizeof(info.driver_name), driver_name);
  info.driver_version = driver_version;
  info.abi_version = UDAL_ABI_VERSION;
  info.type = device_type_of(properties.deviceType);
  std::memcpy(info.uuid, ids.deviceUUID, UDAL_UUID_SIZE);
  info.device_memory_bytes = device_bytes;
  info.host_visible_memory_bytes = host_visible_bytes;
  for (int axis = 0; axis < 3; ++axis) {
    info.max_group_size[axis] =
        std::min(limits.maxComputeWorkGroupSize[axis], limits.maxComputeWorkGroupInvocations);
    info.max_group_count[axis] = limits.maxComputeWorkGroupCount[axis];
  }
  info.max_group_invocations = limits.maxComputeWorkGroupInvocations;
  info.max_local_memory_bytes = limits.maxComputeSharedMemorySize;
  info.max_allocation_bytes = s.max_allocation;
  // Each value argument takes at least one byte of the push-constant block.
  info.max_kernel_arguments = s.max_buffer_arguments + limits.maxPushConstantsSize;
  info.max_value_argument_bytes = limits.maxPushConstantsSize;
  info.min_buffer_alignment = s.min_alignment;
  info.module_format_count = 1;
  info.module_formats[0] = UDAL_MODULE_FORMAT_SPIRV_COMPUTE;
  info.features = UDAL_DEVICE_FEATURE_LOCAL_MEMORY;
  if (s.timestamp_valid_bits > 0) info.features |= UDAL_DEVICE_FEATURE_TIMESTAMPS;
  if (s.host_type != kNoMemoryType) {
    info.features |= UDAL_DEVICE_FEATURE_HOST_BUFFERS | UDAL_DEVICE_FEATURE_SHARED_BUFFERS;
  }
  if (features.features.shaderFloat64) info.features |= UDAL_DEVICE_FEATURE_FLOAT64;
  if (features.features.shaderInt64) info.features |= UDAL_DEVICE_FEATURE_INT64;
  info.numa_node = -1;
  if (pci_info) {
    const PciAddress address{pci.pciDomain, pci.pciBus, pci.pciDevice, pci.pciFunction};
    copy_string(info.pci_bus_id, sizeof(info.pci_bus_id), format_pci_bus_id(address));
    info.numa_node = numa_node_of(address);
    s.render_node = drm_render_node(address);
  }

  auto device = std::make_unique<Device>();
  device->dispatch = dispatch;
  device->state = std::move(state);
  return device;
}

udal_result_t device_get_info(udal_device_t handle, udal_device_info_t* out_info) {
  if (out_info == nullptr) {
    return udal::sdk::fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_device_get_info: out_info is NULL");
  }
  if (out_info->struct_size < offsetof(udal_device_info_t, name)) {
    return udal::sdk::fail(UDAL_ERROR_INVALID_ARGUMENT,
                           "udal_device_get_info: out_info->struct_size {} is smaller than "
                           "the struct's header ({} bytes)",
                           out_info->struct_size, offsetof(udal_device_info_t, name));
  }
  udal::sdk::write_struct(out_info, to_device(handle)->state->info);
  return UDAL_SUCCESS;
}

}  // namespace udal::vulkan
