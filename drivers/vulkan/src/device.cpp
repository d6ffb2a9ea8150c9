#include "device.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "pci.h"
#include "event.h"
#include "stream.h"

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

// Work-groups that run at once, roughly: the CPU's threads for a CPU device (llvmpipe
// runs one per core), the shader core count where AMD or NVIDIA extensions give it, else 1.
uint32_t compute_units(const VkPhysicalDeviceProperties& properties,
                       const VkPhysicalDeviceShaderCorePropertiesAMD* amd,
                       const VkPhysicalDeviceShaderSMBuiltinsPropertiesNV* nv) {
  if (amd != nullptr && amd->computeUnitsPerShaderArray > 0) {
    return amd->shaderEngineCount * amd->shaderArraysPerEngineCount * amd->computeUnitsPerShaderArray;
  }
  if (nv != nullptr && nv->shaderSMCount > 0) return nv->shaderSMCount;
  if (properties.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU) {
    return std::max(1u, std::thread::hardware_concurrency());
  }
  return 1;
}

}  // namespace

std::unique_ptr<Device> make_device(const udal_driver_table_t* dispatch,
                                    VkPhysicalDevice physical, const char* driver_name,
                                    uint32_t driver_version, uint32_t copy, uint32_t copies,
                                    const LogFunction& log, std::string* why) {
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
  const bool memory_budget = has_extension(extensions, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  const bool subgroup_size_control =
      has_extension(extensions, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
  const bool maintenance4 = has_extension(extensions, VK_KHR_MAINTENANCE_4_EXTENSION_NAME);
  const bool amd_cores = has_extension(extensions, VK_AMD_SHADER_CORE_PROPERTIES_EXTENSION_NAME);
  const bool nv_sms = has_extension(extensions, VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME);

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

  // Physical-device properties of extensions the device has are chained only then.
  VkPhysicalDevicePushDescriptorPropertiesKHR push{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PUSH_DESCRIPTOR_PROPERTIES_KHR};
  VkPhysicalDevicePCIBusInfoPropertiesEXT pci{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PCI_BUS_INFO_PROPERTIES_EXT};
  VkPhysicalDeviceMaintenance3Properties maintenance3{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
  VkPhysicalDeviceMaintenance4PropertiesKHR maintenance4_properties{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES_KHR};
  VkPhysicalDeviceIDProperties ids{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
  VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceSubgroupSizeControlPropertiesEXT subgroup_sizes{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT};
  VkPhysicalDeviceShaderCorePropertiesAMD amd{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_AMD};
  VkPhysicalDeviceShaderSMBuiltinsPropertiesNV nv{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV};
  VkPhysicalDeviceProperties2 properties2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  void** tail = &properties2.pNext;
  auto chain = [&tail](auto& s) {
    *tail = &s;
    tail = &s.pNext;
  };
  chain(ids);
  chain(maintenance3);
  chain(push);
  chain(subgroup);
  if (pci_info) chain(pci);
  if (maintenance4) chain(maintenance4_properties);
  if (subgroup_size_control) chain(subgroup_sizes);
  if (amd_cores) chain(amd);
  if (nv_sms) chain(nv);
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
  enable12.bufferDeviceAddress = features12.bufferDeviceAddress;
  enable12.scalarBlockLayout = features12.scalarBlockLayout;
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
#ifdef UDAL_VULKAN_ROBUST_BUFFER_ACCESS
  // The fuzz build (fuzz/): kernels made of mutated SPIR-V index past their buffers.
  enable.features.robustBufferAccess = features.features.robustBufferAccess;
#endif

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  queue_info.queueFamilyIndex = family;
  queue_info.queueCount = 1;
  queue_info.pQueuePriorities = &priority;
  std::vector<const char*> enabled_extensions = {VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME};
  if (memory_budget) enabled_extensions.push_back(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  VkDeviceCreateInfo device_info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  device_info.pNext = &enable;
  device_info.queueCreateInfoCount = 1;
  device_info.pQueueCreateInfos = &queue_info;
  device_info.enabledExtensionCount = static_cast<uint32_t>(enabled_extensions.size());
  device_info.ppEnabledExtensionNames = enabled_extensions.data();
  // The state exists before the VkDevice, so whatever fails later (an allocation too)
  // destroys the device with it.
  auto state = std::make_unique<DeviceState>();
  DeviceState& s = *state;
  VkDevice vk_device = VK_NULL_HANDLE;
  const VkResult created = vkCreateDevice(physical, &device_info, nullptr, &vk_device);
  if (created != VK_SUCCESS) {
    *why = fmt::format("{}: vkCreateDevice failed with {}", properties.deviceName,
                       vk_result_name(created));
    return nullptr;
  }
  s.device = vk_device;
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
  s.device_address = features12.bufferDeviceAddress == VK_TRUE;
  s.memory_budget = memory_budget;
  const VkPhysicalDeviceLimits& limits = properties.limits;
  s.storage_offset_alignment = std::max<uint64_t>(1, limits.minStorageBufferOffsetAlignment);
  s.max_storage_range = limits.maxStorageBufferRange;
  // 64 bytes at least: a cache line, what the host-visible kinds are mapped at.
  s.min_alignment = std::max<uint64_t>(64, limits.minStorageBufferOffsetAlignment);
  s.max_buffer_arguments =
      std::min(push.maxPushDescriptors, limits.maxPerStageDescriptorStorageBuffers);
  // The instance asks for Vulkan 1.2, so that is the version modules are validated for.
  s.spirv_limits.vulkan_api_version = std::min<uint32_t>(properties.apiVersion, VK_API_VERSION_1_2);
  s.spirv_limits.max_push_constant_bytes = limits.maxPushConstantsSize;
  s.spirv_limits.scalar_block_layout = features12.scalarBlockLayout == VK_TRUE;
  for (int axis = 0; axis < 3; ++axis) {
    s.spirv_limits.max_group_size[axis] = limits.maxComputeWorkGroupSize[axis];
  }
  s.spirv_limits.max_group_invocations = limits.maxComputeWorkGroupInvocations;

  const VkPhysicalDeviceMemoryProperties& memory = s.memory_properties;
  constexpr VkMemoryPropertyFlags kLocal = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  constexpr VkMemoryPropertyFlags kHost =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  s.device_type = find_memory_type(memory, kLocal, 0);
  if (s.device_type == kNoMemoryType) s.device_type = find_memory_type(memory, 0, 0);
  if (s.device_type == kNoMemoryType) {
    *why = fmt::format("{}: no memory type for buffers", properties.deviceName);
    return nullptr;
  }
  // Cached host memory makes host reads fast; the device reads it over the bus anyway.
  s.host_type = find_memory_type(memory, kHost, VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
  s.staging_type = s.host_type;
  s.shared_type = find_memory_type(memory, kHost | kLocal, 0);
  if (s.shared_type == kNoMemoryType) s.shared_type = s.host_type;
  s.map_device_buffers =
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
  if (maintenance4) s.max_allocation = std::min(s.max_allocation, maintenance4_properties.maxBufferSize);
  DeviceState* raw_state = &s;
  s.memory = std::make_unique<MemoryPool>(vk_device, memory, s.min_alignment, s.device_address,
                                          [raw_state](uint32_t heap) { return raw_state->heap_budget(heap); });
  s.queries = std::make_unique<TimestampQueries>(vk_device);
  VkResult cache_error = VK_SUCCESS;
  s.pipeline_cache = PipelineCache::open(vk_device, properties, ids.deviceUUID, log, &cache_error);
  if (!s.pipeline_cache) {
    *why = fmt::format("{}: vkCreatePipelineCache failed with {}", properties.deviceName,
                       vk_result_name(cache_error));
    return nullptr;
  }

  udal_device_info_t& info = s.info;
  info.type = UDAL_STRUCTURE_TYPE_DEVICE_INFO;
  info.struct_size = sizeof(info);
  copy_string(info.name, sizeof(info.name),
              copies > 1 ? fmt::format("{} (copy {} of {})", properties.deviceName, copy + 1, copies)
                         : std::string(properties.deviceName));
  const char* vendor = vendor_name(properties.vendorID);
  copy_string(info.vendor, sizeof(info.vendor),
              vendor ? std::string(vendor) : fmt::format("0x{:04x}", properties.vendorID));
  copy_string(info.driver_name, sizeof(info.driver_name), driver_name);
  info.driver_version = driver_version;
  info.abi_version = UDAL_ABI_VERSION;
  info.device_type = device_type_of(properties.deviceType);
  std::memcpy(info.uuid, ids.deviceUUID, UDAL_UUID_SIZE);
  info.uuid[UDAL_UUID_SIZE - 1] ^= static_cast<uint8_t>(copy);  // copies have UUIDs of their own
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
  info.buffer_argument_offset_alignment = s.storage_offset_alignment;
  info.compute_unit_count = compute_units(properties, amd_cores ? &amd : nullptr, nv_sms ? &nv : nullptr);
  info.preferred_group_size_multiple = std::max(1u, subgroup.subgroupSize);
  // Sizes a kernel may run at: the one size, or every power of two in the range the
  // device may pick from when it varies them.
  uint32_t low = info.preferred_group_size_multiple, high = low;
  if (subgroup_size_control && subgroup_sizes.minSubgroupSize > 0 &&
      (subgroup_sizes.requiredSubgroupSizeStages & VK_SHADER_STAGE_COMPUTE_BIT)) {
    low = std::min(low, subgroup_sizes.minSubgroupSize);
    high = std::max(high, subgroup_sizes.maxSubgroupSize);
  }
  for (uint32_t size = low; size <= high && info.subgroup_size_count < UDAL_MAX_SUBGROUP_SIZES; size *= 2) {
    info.subgroup_sizes[info.subgroup_size_count++] = size;
  }
  info.module_format_count = 1;
  info.module_formats[0] = UDAL_MODULE_FORMAT_SPIRV_COMPUTE;
  info.features = UDAL_DEVICE_FEATURE_LOCAL_MEMORY | UDAL_DEVICE_FEATURE_MEMORY_USAGE |
                  UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO;
  if (s.timestamp_valid_bits > 0) info.features |= UDAL_DEVICE_FEATURE_TIMESTAMPS;
  if (s.host_type != kNoMemoryType) {
    info.features |= UDAL_DEVICE_FEATURE_HOST_BUFFERS | UDAL_DEVICE_FEATURE_SHARED_BUFFERS;
  }
  if (features.features.shaderFloat64) info.features |= UDAL_DEVICE_FEATURE_FLOAT64;
  if (features.features.shaderInt64) info.features |= UDAL_DEVICE_FEATURE_INT64;
  // The small types count when kernels can both compute with them and keep them in buffers.
  if (features12.shaderFloat16 && features11.storageBuffer16BitAccess) {
    info.features |= UDAL_DEVICE_FEATURE_FLOAT16;
  }
  if (features12.shaderInt8 && features12.storageBuffer8BitAccess) {
    info.features |= UDAL_DEVICE_FEATURE_INT8;
  }
  if (features.features.shaderInt16 && features11.storageBuffer16BitAccess) {
    info.features |= UDAL_DEVICE_FEATURE_INT16;
  }
  if (s.device_address) info.features |= UDAL_DEVICE_FEATURE_DEVICE_ADDRESS;
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

DeviceState::~DeviceState() {
  // 1. Streams: their workers wait on the queue and retire work; each waits for what it
  //    has in flight and drops what a host-signalled event still holds back.
  std::vector<Stream*> live;
  {
    std::lock_guard lock(streams_mutex);
    live.assign(streams.begin(), streams.end());
    streams.clear();
  }
  for (Stream* stream : live) destroy_stream_object(stream);
  std::vector<Event*> leaked;
  {
    std::lock_guard lock(events_mutex);
    leaked.assign(events.begin(), events.end());
    events.clear();
  }
  for (Event* event : leaked) destroy_event_object(event);
  if (device == VK_NULL_HANDLE) return;
  // 2. Nothing may be pending on the queue when what it uses goes.
  vkDeviceWaitIdle(device);
  // 3. What was made from the VkDevice, users before what they use: command pools and
  //    timelines of retired streams, query pools, the pipeline cache (saved first), then
  //    the memory blocks.
  retired_streams.clear();
  queries.reset();
  if (pipeline_cache) pipeline_cache->save();
  pipeline_cache.reset();
  memory.reset();
  // 4. The VkDevice itself.
  vkDestroyDevice(device, nullptr);
}

uint64_t DeviceState::heap_budget(uint32_t heap) const noexcept {
  const uint64_t size = memory_properties.memoryHeaps[heap].size;
  if (!memory_budget) return size;
  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
  VkPhysicalDeviceMemoryProperties2 heaps{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
  heaps.pNext = &budget;
  vkGetPhysicalDeviceMemoryProperties2(physical, &heaps);
  return budget.heapBudget[heap] > 0 ? std::min(size, budget.heapBudget[heap]) : size;
}

udal_result_t device_get_info(udal_device_t handle, udal_device_info_t* out_info) {
  constexpr const char* fn = "udal_device_get_info";
  if (out_info == nullptr) return udal::sdk::fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", fn);
  udal::sdk::clear_struct(out_info);
  if (udal_result_t r = refuse_chain(fn, "out_info", out_info->next); r != UDAL_SUCCESS) return r;
  udal::sdk::write_struct(out_info, to_device(handle)->state->info);
  return UDAL_SUCCESS;
}

udal_result_t device_get_memory_usage(udal_device_t handle, udal_memory_usage_t* out_usage) {
  constexpr const char* fn = "udal_device_get_memory_usage";
  if (out_usage == nullptr) return udal::sdk::fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_usage is NULL", fn);
  udal::sdk::clear_struct(out_usage);
  if (udal_result_t r = refuse_chain(fn, "out_usage", out_usage->next); r != UDAL_SUCCESS) return r;
  const DeviceState& device = *to_device(handle)->state;
  const VkPhysicalDeviceMemoryProperties& memory = device.memory_properties;
  udal_memory_usage_t usage{};
  usage.type = UDAL_STRUCTURE_TYPE_MEMORY_USAGE;
  usage.struct_size = sizeof(usage);
  usage.device_allocated_bytes = device.device_buffer_bytes.load(std::memory_order_relaxed);
  usage.host_visible_allocated_bytes = device.host_visible_buffer_bytes.load(std::memory_order_relaxed);
  usage.device_budget_bytes = device.heap_budget(memory.memoryTypes[device.device_type].heapIndex);
  if (device.host_type != kNoMemoryType) {
    usage.host_visible_budget_bytes = device.heap_budget(memory.memoryTypes[device.host_type].heapIndex);
  }
  udal::sdk::write_struct(out_usage, usage);
  return UDAL_SUCCESS;
}

}  // namespace udal::vulkan
