#include "launch.h"

#include <algorithm>
#include <vector>

#include "buffer.h"
#include "udal/sdk/checks.h"

namespace udal::cpu {

using udal::sdk::fail;

namespace {

// Launches of at most this many groups run on the stream's thread itself: waking the pool
// would cost more than the groups.
constexpr uint64_t kDirectGroups = 2;

struct LaunchWork {
  udal::sdk::HostLaunch launch;
  std::vector<std::shared_ptr<Memory>> memory; // every buffer argument's bytes

  void run(ExecContext& context) const noexcept {
    const uint64_t groups = launch.group_total();
    const uint64_t local_bytes = launch.local_memory_bytes();
    if (groups <= kDirectGroups || context.pool.worker_count() == 0) {
      launch.run_groups(0, groups, context.local.get(local_bytes));
      return;
    }
    // Several chunks per thread, so a slow group does not leave the others idle.
    const uint64_t threads = uint64_t{context.pool.worker_count()} + 1;
    const uint64_t chunk = std::max<uint64_t>(1, groups / (threads * 4));
    auto body = [this, local_bytes](uint64_t begin, uint64_t end, LocalMemory& local) noexcept {
      launch.run_groups(begin, end, local.get(local_bytes));
    };
    context.pool.parallel_for(groups, chunk, body, context.local);
  }
};

} // namespace

udal_result_t enqueue_launch(Device& device, const Kernel& kernel, const udal_launch_desc_t& desc,
                             StreamWork& work) {
  const udal_device_info_t& info = device.info;
  constexpr const char* kFn = "udal_stream_launch";
  if (kernel.device != &device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: kernel '{}' ({}) belongs to device '{}', not to the stream's device '{}'", kFn,
                kernel.host.name, fmt::ptr(&kernel), kernel.device->info.name, info.name);
  }
  auto resolve = [&](uint32_t i, udal_buffer_t handle, udal::sdk::BufferView& view) {
    const Buffer* buffer = to_buffer(handle);
    if (buffer->dispatch != device.dispatch || buffer->device != &device) {
      return fail(UDAL_ERROR_INVALID_HANDLE,
                  "{}: args[{}] is buffer {} of device '{}', not of the stream's device '{}'", kFn,
                  i, fmt::ptr(buffer), buffer->device->info.name, info.name);
    }
    view = {buffer, buffer->size};
    return UDAL_SUCCESS;
  };
  udal::sdk::LaunchSummary summary;
  if (udal_result_t r =
          udal::sdk::check_launch(kFn, info, kernel.host.signature(), desc, resolve, &summary)) {
    return r;
  }
  LaunchWork captured{udal::sdk::HostLaunch(kernel.host, desc), {}};
  captured.memory.reserve(summary.buffer_count);
  for (uint32_t i = 0; i < desc.arg_count; ++i) {
    const udal_kernel_arg_t& arg = desc.args[i];
    if (arg.kind != UDAL_ARG_KIND_BUFFER)
      continue;
    const Buffer* buffer = to_buffer(arg.buffer);
    captured.launch.set_buffer(i, buffer->memory->data() + arg.offset, buffer->size - arg.offset);
    captured.memory.push_back(buffer->memory);
  }
  work.executor.submit([context = &work.context, captured = std::move(captured)]() noexcept {
    captured.run(*context);
  });
  return UDAL_SUCCESS;
}

} // namespace udal::cpu
