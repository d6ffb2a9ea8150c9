// Launches: every check of a launch against the device and the kernel's reflected
// arguments (before anything is copied), then one dispatch with push descriptors and push
// constants.
#include <algorithm>
#include <cstring>

#include "buffer.h"
#include "kernel.h"
#include "stream.h"

namespace udal::vulkan {
namespace {

using udal::sdk::fail;

const char* access_name(uint32_t access) noexcept {
  switch (access) {
    case UDAL_ARG_ACCESS_NONE: return "NONE";
    case UDAL_ARG_ACCESS_READ: return "READ";
    case UDAL_ARG_ACCESS_WRITE: return "WRITE";
    case UDAL_ARG_ACCESS_READ_WRITE: return "READ_WRITE";
    default: return "(not a udal_arg_access_t)";
  }
}

udal_result_t check_groups(const char* fn, const udal_launch_desc_t& desc,
                           const udal_device_info_t& info, const EntryPoint& entry) {
  uint64_t invocations = 1;
  for (int axis = 0; axis < 3; ++axis) {
    if (desc.group_count[axis] == 0 || desc.group_size[axis] == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: group_count[{}] and group_size[{}] must be at "
                  "least 1 (they are {} and {})", fn, axis, axis, desc.group_count[axis],
                  desc.group_size[axis]);
    }
    if (desc.group_size[axis] > info.max_group_size[axis]) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: group_size[{}] = {} is over the device's "
                  "max_group_size[{}] = {}", fn, axis, desc.group_size[axis], axis,
                  info.max_group_size[axis]);
    }
    if (desc.group_count[axis] > info.max_group_count[axis]) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: group_count[{}] = {} is over the device's "
                  "max_group_count[{}] = {}", fn, axis, desc.group_count[axis], axis,
                  info.max_group_count[axis]);
    }
    invocations *= desc.group_size[axis];
  }
  if (invocations > info.max_group_invocations) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: a group of {}x{}x{} = {} items is over the "
                "device's max_group_invocations = {}", fn, desc.group_size[0], desc.group_size[1],
                desc.group_size[2], invocations, info.max_group_invocations);
  }
  if (const auto& fixed = entry.fixed_group_size;
      fixed && ((*fixed)[0] != desc.group_size[0] || (*fixed)[1] != desc.group_size[1] ||
                (*fixed)[2] != desc.group_size[2])) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kernel '{}' requires group size {}x{}x{} (fixed "
                "in the shader: no local_size_x_id = 0, ...), the launch asks for {}x{}x{}", fn,
                entry.name, (*fixed)[0], (*fixed)[1], (*fixed)[2], desc.group_size[0],
                desc.group_size[1], desc.group_size[2]);
  }
  if (desc.local_memory_bytes > info.max_local_memory_bytes) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: local_memory_bytes {} is over the device's "
                "max_local_memory_bytes {}", fn, desc.local_memory_bytes,
                info.max_local_memory_bytes);
  }
  if (entry.uses_local_memory && desc.local_memory_bytes == 0) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kernel '{}' uses dynamic local memory (a shared "
                "array sized by specialization constant 3) and the launch gives "
                "local_memory_bytes 0", fn, entry.name);
  }
  return UDAL_SUCCESS;
}

}  // namespace

udal_result_t stream_launch(udal_stream_t handle, udal_kernel_t kernel_handle,
                            const udal_launch_desc_t* desc_in) {
  constexpr const char* fn = "udal_stream_launch";
  if (desc_in == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", fn);
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const udal_launch_desc_t desc = udal::sdk::read_struct(desc_in);
    if (udal_result_t r = refuse_chain(fn, "desc", desc_in->next); r != UDAL_SUCCESS) return r;
    StreamEngine& stream = *to_stream(handle)->state;
    DeviceState& device = *stream.device();
    const udal_device_info_t& info = device.info;
    const std::shared_ptr<KernelState>& kernel = to_kernel(kernel_handle)->state;
    if (kernel->device() != &device) {
      return fail(UDAL_ERROR_INVALID_HANDLE, "{}: kernel {} ('{}') belongs to device {}, not to "
                  "the stream's device ({})", fn, static_cast<void*>(kernel_handle),
                  kernel->entry().name, kernel->device()->info.name, info.name);
    }
    const EntryPoint& entry = kernel->entry();
    if (udal_result_t r = check_groups(fn, desc, info, entry); r != UDAL_SUCCESS) return r;
    if (desc.arg_count > 0 && desc.args == nullptr) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args is NULL but arg_count is {}", fn,
                  desc.arg_count);
    }

    // Arguments: buffers to bindings in order, values packed as docs/spec.md 14.1 states.
    // Everything is checked before a byte is copied.
    struct BufferBinding {
      const Buffer* buffer;
      uint64_t offset;
    };
    std::vector<BufferBinding> buffers;
    std::vector<uint32_t> value_offsets;
    uint64_t packed = 0;
    size_t next_value = 0;  // the kernel's next declared value (entry.values)
    for (uint32_t i = 0; i < desc.arg_count; ++i) {
      const udal_kernel_arg_t& arg = desc.args[i];
      if (arg.kind == UDAL_ARG_KIND_BUFFER) {
        if (arg.buffer == nullptr) {
          return fail(UDAL_ERROR_INVALID_HANDLE, "{}: args[{}] is a buffer argument with a NULL "
                      "buffer", fn, i);
        }
        const Buffer& buffer = *to_buffer(arg.buffer);
        if (buffer.device != &device) {
          return fail(UDAL_ERROR_INVALID_HANDLE, "{}: args[{}]: buffer {} belongs to device {}, "
                      "not to the stream's device ({})", fn, i, static_cast<void*>(arg.buffer),
                      buffer.device->info.name, info.name);
        }
        if (arg.offset >= buffer.size) {
          return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: args[{}]: offset {} is not inside buffer {} "
                      "({} bytes)", fn, i, arg.offset, static_cast<void*>(arg.buffer), buffer.size);
        }
        if (arg.offset % device.storage_offset_alignment != 0) {
          return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}]: offset {} is not a multiple of "
                      "the device's buffer_argument_offset_alignment {} "
                      "(minStorageBufferOffsetAlignment)", fn, i, arg.offset,
                      device.storage_offset_alignment);
        }
        const size_t binding = buffers.size();
        if (binding < entry.buffers.size()) {
          const uint32_t declared = entry.buffers[binding].access;
          const uint32_t given = static_cast<uint32_t>(arg.access);
          if (declared & ~given) {
            return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] (binding {} of kernel '{}') is "
                        "passed with access {}, but the kernel {} it (it declares {})", fn, i,
                        binding, entry.name, access_name(given),
                        (declared & ~given & UDAL_ARG_ACCESS_WRITE) ? "writes" : "reads",
                        access_name(declared));
          }
        }
        buffers.push_back({&buffer, arg.offset});
      } else if (arg.kind == UDAL_ARG_KIND_VALUE) {
        if (arg.value == nullptr || arg.value_size == 0) {
          return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] is a value argument with {}", fn,
                      i, arg.value == nullptr ? "a NULL value" : "value_size 0");
        }
        // Alignment: the largest power of two dividing the size, at most 16.
        const uint32_t alignment = std::min(16u, arg.value_size & (~arg.value_size + 1));
        const uint64_t at = (packed + alignment - 1) / alignment * alignment;
        packed = at + arg.value_size;
        if (packed > info.max_value_argument_bytes) {
          return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: the value arguments up to args[{}] pack "
                      "into {} bytes, over the device's max_value_argument_bytes {}", fn, i,
                      packed, info.max_value_argument_bytes);
        }
        if (entry.values) {
          // The next member the kernel declares; an array member may also come whole.
          const std::vector<ValueArgument>& declared = *entry.values;
          if (next_value >= declared.size()) {
            return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] is a value argument past the "
                        "{} value arguments of kernel '{}' (members of its push-constant block)",
                        fn, i, declared.size(), entry.name);
          }
          const ValueArgument& member = declared[next_value];
          const uint64_t whole = uint64_t{member.size} * member.array_elements;
          if (arg.value_size == member.size) {
            next_value += 1;
          } else if (member.array_elements > 1 && arg.value_size == whole) {
            next_value += member.array_elements;
          } else {
            return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] is value argument {} of kernel "
                        "'{}', which takes {} bytes there{}; the launch passes {}", fn, i,
                        next_value, entry.name, member.size,
                        member.array_elements > 1
                            ? fmt::format(" (or {} for its whole array)", whole)
                            : std::string(),
                        arg.value_size);
          }
          if (at != member.offset) {
            return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] ({} bytes) packs at offset {} "
                        "of the push-constant block, where kernel '{}' has its member at {}", fn,
                        i, arg.value_size, at, entry.name, member.offset);
          }
        }
        value_offsets.push_back(static_cast<uint32_t>(at));
      } else {
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}].kind {} is not BUFFER or VALUE", fn,
                    i, static_cast<int>(arg.kind));
      }
    }
    packed = (packed + 3) / 4 * 4;
    if (buffers.size() != entry.buffers.size()) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kernel '{}' takes {} buffer arguments "
                  "(storage buffers at set 0), the launch passes {}", fn, entry.name,
                  entry.buffers.size(), buffers.size());
    }
    if (entry.values && next_value != entry.values->size()) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kernel '{}' takes {} value arguments (members "
                  "of its push-constant block), the launch passes {}", fn, entry.name,
                  entry.values->size(), value_offsets.size());
    }
    if (packed != entry.push_constant_bytes) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kernel '{}' has a push-constant block of {} "
                  "bytes, the launch's value arguments pack into {}", fn, entry.name,
                  entry.push_constant_bytes, packed);
    }
    std::vector<uint8_t> values(packed, 0);
    for (uint32_t i = 0, v = 0; i < desc.arg_count; ++i) {
      const udal_kernel_arg_t& arg = desc.args[i];
      if (arg.kind != UDAL_ARG_KIND_VALUE) continue;
      std::memcpy(values.data() + value_offsets[v++], arg.value, arg.value_size);
    }

    const uint32_t local_words = static_cast<uint32_t>((desc.local_memory_bytes + 3) / 4);
    VkPipeline pipeline = VK_NULL_HANDLE;
    if (VkResult r = kernel->pipeline(desc.group_size, local_words, &pipeline); r != VK_SUCCESS) {
      return fail_vk(fn, "vkCreateComputePipelines", r);
    }
    KeepAlive keep = {kernel};
    keep.reserve(buffers.size() + 1);
    std::vector<VkDescriptorBufferInfo> buffer_infos(buffers.size());
    for (size_t b = 0; b < buffers.size(); ++b) {
      const Buffer& buffer = *buffers[b].buffer;
      keep.push_back(buffer.allocation);
      // A storage buffer's range may not exceed maxStorageBufferRange: a kernel sees at most
      // that much of a larger buffer from its offset.
      const uint64_t range = std::min(buffer.size - buffers[b].offset, device.max_storage_range);
      buffer_infos[b] = {buffer.allocation->buffer(), buffers[b].offset, range};
    }
    std::vector<VkWriteDescriptorSet> writes(buffers.size());
    for (size_t b = 0; b < buffers.size(); ++b) {
      writes[b] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
      writes[b].dstBinding = static_cast<uint32_t>(b);
      writes[b].descriptorCount = 1;
      writes[b].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      writes[b].pBufferInfo = &buffer_infos[b];
    }
    return stream.record(fn, [&](VkCommandBuffer cb) {
      if (!writes.empty()) {
        device.push_descriptor_set(cb, VK_PIPELINE_BIND_POINT_COMPUTE, kernel->layout(), 0,
                                  static_cast<uint32_t>(writes.size()), writes.data());
      }
      if (!values.empty()) {
        vkCmdPushConstants(cb, kernel->layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0,
                           static_cast<uint32_t>(values.size()), values.data());
      }
      vkCmdDispatch(cb, desc.group_count[0], desc.group_count[1], desc.group_count[2]);
    }, std::move(keep), pipeline);
  });
}

}  // namespace udal::vulkan
