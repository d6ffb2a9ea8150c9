#include "convert.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace udal::remote {

namespace {

template <std::size_t N>
void copy_text(char (&dst)[N], const flatbuffers::String* src) {
  std::memset(dst, 0, N);
  if (src == nullptr) return;
  std::memcpy(dst, src->data(), std::min<std::size_t>(src->size(), N - 1));
}

}  // namespace

flatbuffers::Offset<wire::DeviceInfo> to_wire(flatbuffers::FlatBufferBuilder& builder,
                                              const udal_device_info_t& info) {
  const auto name = builder.CreateString(info.name, strnlen(info.name, sizeof(info.name)));
  const auto vendor = builder.CreateString(info.vendor, strnlen(info.vendor, sizeof(info.vendor)));
  const auto driver =
      builder.CreateString(info.driver_name, strnlen(info.driver_name, sizeof(info.driver_name)));
  const auto uuid = builder.CreateVector(info.uuid, UDAL_UUID_SIZE);
  const auto group_size = builder.CreateVector(info.max_group_size, 3);
  const auto group_count = builder.CreateVector(info.max_group_count, 3);
  const auto subgroups = builder.CreateVector(
      info.subgroup_sizes, std::min<uint32_t>(info.subgroup_size_count, UDAL_MAX_SUBGROUP_SIZES));
  std::vector<int32_t> formats;
  for (uint32_t i = 0; i < std::min<uint32_t>(info.module_format_count, UDAL_MAX_MODULE_FORMATS);
       ++i) {
    formats.push_back(static_cast<int32_t>(info.module_formats[i]));
  }
  const auto module_formats = builder.CreateVector(formats);
  wire::DeviceInfoBuilder b(builder);
  b.add_name(name);
  b.add_vendor(vendor);
  b.add_driver_name(driver);
  b.add_uuid(uuid);
  b.add_driver_version(info.driver_version);
  b.add_abi_version(info.abi_version);
  b.add_device_type(static_cast<int32_t>(info.device_type));
  b.add_numa_node(info.numa_node);
  b.add_features(info.features);
  b.add_device_memory_bytes(info.device_memory_bytes);
  b.add_host_visible_memory_bytes(info.host_visible_memory_bytes);
  b.add_max_local_memory_bytes(info.max_local_memory_bytes);
  b.add_max_allocation_bytes(info.max_allocation_bytes);
  b.add_min_buffer_alignment(info.min_buffer_alignment);
  b.add_buffer_argument_offset_alignment(info.buffer_argument_offset_alignment);
  b.add_max_group_size(group_size);
  b.add_max_group_invocations(info.max_group_invocations);
  b.add_max_group_count(group_count);
  b.add_max_kernel_arguments(info.max_kernel_arguments);
  b.add_max_value_argument_bytes(info.max_value_argument_bytes);
  b.add_compute_unit_count(info.compute_unit_count);
  b.add_preferred_group_size_multiple(info.preferred_group_size_multiple);
  b.add_subgroup_sizes(subgroups);
  b.add_module_formats(module_formats);
  return b.Finish();
}

bool from_wire(const wire::DeviceInfo& in, udal_device_info_t& out, std::string& why) {
  copy_text(out.name, in.name());
  copy_text(out.vendor, in.vendor());
  copy_text(out.driver_name, in.driver_name());
  if (in.uuid() == nullptr || in.uuid()->size() != UDAL_UUID_SIZE) {
    why = "the device's uuid is not 16 bytes";
    return false;
  }
  std::memcpy(out.uuid, in.uuid()->data(), UDAL_UUID_SIZE);
  out.driver_version = in.driver_version();
  out.abi_version = in.abi_version();
  out.device_type = static_cast<udal_device_type_t>(in.device_type());
  out.numa_node = in.numa_node();
  out.features = in.features();
  out.device_memory_bytes = in.device_memory_bytes();
  out.host_visible_memory_bytes = in.host_visible_memory_bytes();
  out.max_local_memory_bytes = in.max_local_memory_bytes();
  out.max_allocation_bytes = in.max_allocation_bytes();
  out.min_buffer_alignment = in.min_buffer_alignment();
  out.buffer_argument_offset_alignment = in.buffer_argument_offset_alignment();
  if (in.max_group_size() == nullptr || in.max_group_size()->size() != 3 ||
      in.max_group_count() == nullptr || in.max_group_count()->size() != 3) {
    why = "the device's max_group_size or max_group_count does not have 3 entries";
    return false;
  }
  for (uint32_t axis = 0; axis < 3; ++axis) {
    out.max_group_size[axis] = in.max_group_size()->Get(axis);
    out.max_group_count[axis] = in.max_group_count()->Get(axis);
  }
  out.max_group_invocations = in.max_group_invocations();
  out.max_kernel_arguments = in.max_kernel_arguments();
  out.max_value_argument_bytes = in.max_value_argument_bytes();
  out.compute_unit_count = in.compute_unit_count();
  out.preferred_group_size_multiple = in.preferred_group_size_multiple();
  const auto* subgroups = in.subgroup_sizes();
  if (subgroups == nullptr || subgroups->size() == 0 ||
      subgroups->size() > UDAL_MAX_SUBGROUP_SIZES) {
    why = "the device lists no subgroup size, or more than 8";
    return false;
  }
  out.subgroup_size_count = subgroups->size();
  for (uint32_t i = 0; i < subgroups->size(); ++i) out.subgroup_sizes[i] = subgroups->Get(i);
  const auto* formats = in.module_formats();
  if (formats != nullptr && formats->size() > UDAL_MAX_MODULE_FORMATS) {
    why = "the device lists more than 16 module formats";
    return false;
  }
  out.module_format_count = formats == nullptr ? 0 : formats->size();
  for (uint32_t i = 0; i < out.module_format_count; ++i) {
    out.module_formats[i] = static_cast<udal_module_format_t>(formats->Get(i));
  }
  if (out.max_local_memory_bytes == 0 || out.max_allocation_bytes == 0 ||
      out.min_buffer_alignment == 0 || out.buffer_argument_offset_alignment == 0 ||
      out.max_group_invocations == 0 || out.max_kernel_arguments == 0 ||
      out.max_value_argument_bytes == 0) {
    why = fmt::format("device '{}' reports a limit of 0", out.name);
    return false;
  }
  return true;
}

flatbuffers::Offset<wire::MemoryUsage> to_wire(flatbuffers::FlatBufferBuilder& builder,
                                               const udal_memory_usage_t& usage) {
  return wire::CreateMemoryUsage(builder, usage.device_allocated_bytes, usage.device_budget_bytes,
                                 usage.host_visible_allocated_bytes,
                                 usage.host_visible_budget_bytes);
}

}  // namespace udal::remote
