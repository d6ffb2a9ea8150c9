#include "launch.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "buffer.h"
#include "kernel.h"

namespace udal::cpu {

using udal::sdk::fail;

namespace {

// Launches of at most this many groups run on the stream's executor itself: waking the
// pool would cost more than the groups.
constexpr uint64_t kDirectGroups = 2;

class LaunchOperation final : public Operation {
 public:
  void run(ExecContext& context) noexcept override {
    const uint64_t groups = uint64_t{group_count_[0]} * group_count_[1] * group_count_[2];
    if (groups <= kDirectGroups || context.pool.worker_count() == 0) {
      run_groups(0, groups, context.local);
      return;
    }
    // Several chunks per thread, so a slow group does not leave the others idle.
    const uint64_t threads = uint64_t{context.pool.worker_count()} + 1;
    const uint64_t chunk = std::max<uint64_t>(1, groups / (threads * 4));
    auto body = [this](uint64_t begin, uint64_t end, LocalMemory& local) noexcept {
      run_groups(begin, end, local);
    };
    context.pool.parallel_for(groups, chunk, body, context.local);
  }

  void run_groups(uint64_t begin, uint64_t end, LocalMemory& local) const noexcept {
    udal_host_dispatch_t d;
    std::memset(&d, 0, sizeof(d));
    d.struct_size = sizeof(d);
    std::memcpy(d.group_count, group_count_, sizeof(d.group_count));
    std::memcpy(d.group_size, group_size_, sizeof(d.group_size));
    d.arg_count = static_cast<uint32_t>(args_.size());
    d.args = args_.data();
    d.arg_sizes = arg_sizes_.data();
    d.local_memory = local.get(local_memory_bytes_);
    d.local_memory_bytes = local_memory_bytes_;
    const uint64_t xy = uint64_t{group_count_[0]} * group_count_[1];
    for (uint64_t i = begin; i < end; ++i) {
      d.group_id[0] = static_cast<uint32_t>(i % group_count_[0]);
      d.group_id[1] = static_cast<uint32_t>((i / group_count_[0]) % group_count_[1]);
      d.group_id[2] = static_cast<uint32_t>(i / xy);
      function_(&d);
    }
  }

  udal_host_kernel_fn function_ = nullptr;
  std::shared_ptr<Library> library_;
  uint32_t group_count_[3] = {};
  uint32_t group_size_[3] = {};
  uint64_t local_memory_bytes_ = 0;
  std::vector<void*> args_;
  std::vector<uint64_t> arg_sizes_;
  std::vector<std::shared_ptr<Memory>> memory_;  // every buffer argument's bytes
  struct alignas(16) ValueSlot {
    std::byte bytes[16];
  };
  std::vector<ValueSlot> values_;  // value arguments, each starting 16-byte aligned
};

}  // namespace

udal_result_t prepare_launch(Device& device, const Kernel& kernel, const udal_launch_desc_t& desc,
                             std::unique_ptr<Operation>& out) {
  const udal_device_info_t& info = device.info;
  constexpr const char* kFn = "udal_stream_launch";
  if (kernel.device != &device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: kernel '{}' ({}) belongs to device '{}', not to the stream's device '{}'",
                kFn, kernel.name, fmt::ptr(&kernel), kernel.device->info.name, info.name);
  }
  if (desc.reserved0 != 0) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->reserved0 is {}, not 0", kFn,
                desc.reserved0);
  }
  uint64_t invocations = 1;
  static constexpr const char* kAxis[3] = {"x", "y", "z"};
  for (int axis = 0; axis < 3; ++axis) {
    if (desc.group_count[axis] == 0 || desc.group_size[axis] == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: group_{}[{}] ({}) is 0", kFn,
                  desc.group_count[axis] == 0 ? "count" : "size", axis, kAxis[axis]);
    }
    if (desc.group_size[axis] > info.max_group_size[axis]) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: group_size[{}] = {} is over the device's max_group_size[{}] = {}", kFn,
                  axis, desc.group_size[axis], axis, info.max_group_size[axis]);
    }
    if (desc.group_count[axis] > info.max_group_count[axis]) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: group_count[{}] = {} is over the device's max_group_count[{}] = {}", kFn,
                  axis, desc.group_count[axis], axis, info.max_group_count[axis]);
    }
    invocations *= desc.group_size[axis];
  }
  if (invocations > info.max_group_invocations) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: group size {}x{}x{} = {} work-items is over max_group_invocations {}", kFn,
                desc.group_size[0], desc.group_size[1], desc.group_size[2], invocations,
                info.max_group_invocations);
  }
  if (desc.local_memory_bytes > info.max_local_memory_bytes) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: local_memory_bytes {} is over the device's max_local_memory_bytes {}", kFn,
                desc.local_memory_bytes, info.max_local_memory_bytes);
  }
  // The kernel's group function reads d->local_memory as given: NULL would crash it.
  if (kernel.declared && (kernel.declared_flags & UDAL_HOST_KERNEL_USES_LOCAL_MEMORY) &&
      desc.local_memory_bytes == 0) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: kernel '{}' uses dynamic local memory (UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY) "
                "but the launch gives local_memory_bytes 0",
                kFn, kernel.name);
  }
  if (kernel.argument_count != UDAL_ARGUMENT_COUNT_UNKNOWN &&
      desc.arg_count != kernel.argument_count) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: the launch passes {} arguments but kernel '{}' takes {}", kFn, desc.arg_count,
                kernel.name, kernel.argument_count);
  }
  if (desc.arg_count > info.max_kernel_arguments) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: arg_count {} is over max_kernel_arguments {}",
                kFn, desc.arg_count, info.max_kernel_arguments);
  }
  if (desc.arg_count > 0 && desc.args == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args is NULL with arg_count {}", kFn,
                desc.arg_count);
  }

  // Every argument is checked before anything is captured: against the header's rules
  // (libudal checks them too; a driver called directly must not crash either), against
  // what the kernel declares, and against this device's buffers.
  uint64_t value_bytes = 0;
  std::size_t value_slots = 0;
  std::size_t buffer_count = 0;
  for (uint32_t i = 0; i < desc.arg_count; ++i) {
    const udal_kernel_arg_t& arg = desc.args[i];
    if (arg.reserved0 != 0 || arg.reserved1[0] != 0 || arg.reserved1[1] != 0 ||
        arg.reserved1[2] != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] has non-zero reserved fields", kFn, i);
    }
    if (arg.kind == UDAL_ARG_KIND_VALUE) {
      if (arg.value == nullptr || arg.value_size == 0) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] is a VALUE with {}", kFn, i,
                    arg.value == nullptr ? "a NULL value" : "value_size 0");
      }
      value_bytes += arg.value_size;
      value_slots += (arg.value_size + 15) / 16;
    } else if (arg.kind == UDAL_ARG_KIND_BUFFER) {
      if (arg.buffer == nullptr) {
        return fail(UDAL_ERROR_INVALID_HANDLE, "{}: args[{}] is a BUFFER with a NULL buffer", kFn,
                    i);
      }
      if (arg.access < UDAL_ARG_ACCESS_READ || arg.access > UDAL_ARG_ACCESS_READ_WRITE) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT,
                    "{}: args[{}] is a BUFFER with access {} (READ, WRITE or READ_WRITE)", kFn, i,
                    static_cast<int>(arg.access));
      }
      const Buffer* buffer = to_buffer(arg.buffer);
      if (buffer->dispatch != device.dispatch || buffer->device != &device) {
        return fail(UDAL_ERROR_INVALID_HANDLE,
                    "{}: args[{}] is buffer {} of device '{}', not of the stream's device '{}'",
                    kFn, i, fmt::ptr(buffer), buffer->device->info.name, info.name);
      }
      if (arg.offset >= buffer->size) {
        return fail(UDAL_ERROR_OUT_OF_RANGE,
                    "{}: args[{}] offset {} is past the end of buffer {} ({} bytes)", kFn, i,
                    arg.offset, fmt::ptr(buffer), buffer->size);
      }
      if (arg.offset % info.buffer_argument_offset_alignment != 0) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT,
                    "{}: args[{}] offset {} is not a multiple of the device's "
                    "buffer_argument_offset_alignment {}",
                    kFn, i, arg.offset, info.buffer_argument_offset_alignment);
      }
      ++buffer_count;
    } else {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}].kind {} is not BUFFER or VALUE", kFn,
                  i, static_cast<int>(arg.kind));
    }
    if (!kernel.declared) continue;
    // A host kernel reads its arguments as it declared them: anything else reads a value
    // as a pointer (or the reverse), or past the bytes given.
    const udal_host_arg_decl_t& declared = kernel.declared_args[i];
    if (declared.kind != static_cast<uint32_t>(arg.kind)) {
      if (declared.kind == UDAL_ARG_KIND_BUFFER) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT,
                    "{}: args[{}] is a VALUE of {} bytes but kernel '{}' declares argument {} a "
                    "BUFFER (arguments out of order?)",
                    kFn, i, arg.value_size, kernel.name, i);
      }
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: args[{}] is a BUFFER but kernel '{}' declares argument {} a VALUE of {} "
                  "bytes (arguments out of order?)",
                  kFn, i, kernel.name, i, declared.value_size);
    }
    if (arg.kind == UDAL_ARG_KIND_VALUE && arg.value_size != declared.value_size) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: args[{}] is a VALUE of {} bytes but kernel '{}' declares argument {} a "
                  "VALUE of {} bytes",
                  kFn, i, arg.value_size, kernel.name, i, declared.value_size);
    }
    const uint32_t missing = declared.access & ~static_cast<uint32_t>(arg.access);
    if (arg.kind == UDAL_ARG_KIND_BUFFER && missing != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: args[{}] is passed with access {} but kernel '{}' declares argument {} "
                  "{} (the kernel {} a buffer the caller said it only {})",
                  kFn, i, access_name(arg.access), kernel.name, i, access_name(declared.access),
                  (missing & UDAL_ARG_ACCESS_WRITE) ? "writes" : "reads",
                  arg.access == UDAL_ARG_ACCESS_READ ? "reads" : "writes");
    }
  }
  if (value_bytes > info.max_value_argument_bytes) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: the value arguments take {} bytes, over max_value_argument_bytes {}", kFn,
                value_bytes, info.max_value_argument_bytes);
  }

  auto op = std::make_unique<LaunchOperation>();
  op->function_ = kernel.function;
  op->library_ = kernel.library;
  std::memcpy(op->group_count_, desc.group_count, sizeof(op->group_count_));
  std::memcpy(op->group_size_, desc.group_size, sizeof(op->group_size_));
  op->local_memory_bytes_ = desc.local_memory_bytes;
  op->args_.resize(desc.arg_count);
  op->arg_sizes_.resize(desc.arg_count);
  op->values_.resize(value_slots);  // sized first: args_ points into it
  op->memory_.reserve(buffer_count);
  std::size_t slot = 0;
  for (uint32_t i = 0; i < desc.arg_count; ++i) {
    const udal_kernel_arg_t& arg = desc.args[i];
    if (arg.kind == UDAL_ARG_KIND_VALUE) {
      // A value longer than one slot runs on into the next ones (the vector is contiguous).
      auto* bytes = reinterpret_cast<std::byte*>(op->values_.data() + slot);
      std::memcpy(bytes, arg.value, arg.value_size);
      op->args_[i] = bytes;
      op->arg_sizes_[i] = arg.value_size;
      slot += (arg.value_size + 15) / 16;
      continue;
    }
    const Buffer* buffer = to_buffer(arg.buffer);
    op->args_[i] = buffer->memory->data() + arg.offset;
    op->arg_sizes_[i] = buffer->size - arg.offset;
    op->memory_.push_back(buffer->memory);
  }
  out = std::move(op);
  return UDAL_SUCCESS;
}

}  // namespace udal::cpu
