// A CPU driver with one planted bug, chosen at build time by CTS_BUG (one library per bug).
//
// The CPU reference driver's objects are linked in with their udal_driver_negotiate renamed
// to udal_cpu_inner_negotiate. This file's udal_driver_negotiate lets the CPU driver fill
// libudal's table, keeps the real entries, and replaces one or two with wrappers that break
// the contract in one precise way. Every object dispatches through that table, so the bug is
// seen exactly where a real driver's would be. Bugs that cannot be expressed at the table
// use the CPU driver's internal headers (the "fill runs ahead of the queue" bug).
#include "udal/udal_driver.h"

#include "buffer.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

extern "C" udal_result_t udal_cpu_inner_negotiate(uint32_t loader_abi_version,
                                                  udal_driver_table_t* table);

namespace {

// The CPU driver's entries, as it filled them.
udal_driver_table_t real;

constexpr std::string_view kBug = CTS_BUG;
constexpr bool Is(std::string_view name) { return kBug == name; }

udal_result_t copy_ignores_src_offset(udal_stream_t s, udal_buffer_t src, uint64_t /*src_offset*/,
                                      udal_buffer_t dst, uint64_t dst_offset, uint64_t size) {
  return real.stream_copy_buffer(s, src, 0, dst, dst_offset, size);
}

udal_result_t fill_drops_partial_pattern(udal_stream_t s, udal_buffer_t dst, uint64_t offset,
                                         uint64_t size, const void* pattern, uint32_t pattern_size) {
  if (pattern_size > 1 && size % pattern_size != 0 && size > pattern_size) {
    size -= size % pattern_size;
  }
  return real.stream_fill_buffer(s, dst, offset, size, pattern, pattern_size);
}

udal_result_t event_signalled_early(udal_stream_t, udal_event_t) {
  return UDAL_SUCCESS;  // never recorded: complete at once, before the work it should follow
}

// The fill happens when it is enqueued, ahead of everything queued before it.
udal_result_t fill_runs_ahead_of_queue(udal_stream_t s, udal_buffer_t dst, uint64_t offset,
                                       uint64_t size, const void* pattern, uint32_t pattern_size) {
  udal::cpu::Buffer* buffer = udal::cpu::to_buffer(dst);
  if (offset > buffer->size || size > buffer->size - offset) {
    return real.stream_fill_buffer(s, dst, offset, size, pattern, pattern_size);
  }
  auto* bytes = reinterpret_cast<uint8_t*>(buffer->memory->data()) + offset;
  for (uint64_t i = 0; i < size; ++i) bytes[i] = static_cast<const uint8_t*>(pattern)[i % pattern_size];
  return UDAL_SUCCESS;
}

udal_result_t launch_swaps_value_args(udal_stream_t s, udal_kernel_t k, const udal_launch_desc_t* desc) {
  udal_launch_desc_t copy = *desc;
  std::vector<udal_kernel_arg_t> args(desc->args, desc->args + desc->arg_count);
  if (args.size() >= 3 && args[1].kind == UDAL_ARG_KIND_VALUE && args[2].kind == UDAL_ARG_KIND_VALUE &&
      args[1].value_size == args[2].value_size) {
    std::swap(args[1], args[2]);
  }
  copy.args = args.data();
  return real.stream_launch(s, k, &copy);
}

udal_result_t launch_drops_last_group(udal_stream_t s, udal_kernel_t k, const udal_launch_desc_t* desc) {
  udal_launch_desc_t copy = *desc;
  if (copy.group_count[0] > 1) --copy.group_count[0];
  return real.stream_launch(s, k, &copy);
}

udal_result_t launch_swaps_y_and_z(udal_stream_t s, udal_kernel_t k, const udal_launch_desc_t* desc) {
  udal_launch_desc_t copy = *desc;
  std::swap(copy.group_count[1], copy.group_count[2]);
  std::swap(copy.group_size[1], copy.group_size[2]);
  return real.stream_launch(s, k, &copy);
}

udal_result_t launch_without_local_memory(udal_stream_t s, udal_kernel_t k, const udal_launch_desc_t* desc) {
  udal_launch_desc_t copy = *desc;
  copy.local_memory_bytes = 0;
  return real.stream_launch(s, k, &copy);
}

uint64_t SizeOf(udal_buffer_t buffer) {
  udal_buffer_info_t info{sizeof(udal_buffer_info_t), nullptr, nullptr, UDAL_BUFFER_KIND_DEVICE, 0, 0};
  real.buffer_get_info(buffer, &info);
  return info.size;
}

// Out-of-range copies "succeed": whatever fits is copied, the rest dropped silently.
udal_result_t copy_accepts_out_of_range(udal_stream_t s, udal_buffer_t src, uint64_t src_offset,
                                        udal_buffer_t dst, uint64_t dst_offset, uint64_t size) {
  uint64_t src_size = SizeOf(src), dst_size = SizeOf(dst);
  if (src_offset >= src_size || dst_offset >= dst_size) return UDAL_SUCCESS;
  size = std::min({size, src_size - src_offset, dst_size - dst_offset});
  return real.stream_copy_buffer(s, src, src_offset, dst, dst_offset, size);
}

udal_result_t wait_ignores_timeout(udal_event_t event, uint64_t) {
  return real.event_wait(event, UDAL_TIMEOUT_INFINITE);
}

udal_result_t elapsed_always_zero(udal_event_t start, udal_event_t end, uint64_t* out_ns) {
  udal_result_t result = real.event_elapsed_ns(start, end, out_ns);
  if (result == UDAL_SUCCESS) *out_ns = 0;
  return result;
}

// The first map of a buffer takes a snapshot; later maps show that snapshot again.
std::mutex stale_mutex;
std::map<udal_buffer_t, std::vector<uint8_t>> stale_views;
std::map<udal_buffer_t, std::pair<void*, uint64_t>> stale_real;

udal_result_t map_returns_stale_view(udal_buffer_t buffer, uint64_t offset, uint64_t size, void** out_ptr) {
  udal_result_t result = real.buffer_map(buffer, offset, size, out_ptr);
  if (result != UDAL_SUCCESS) return result;
  std::lock_guard lock(stale_mutex);
  uint64_t whole = SizeOf(buffer);
  auto* base = static_cast<uint8_t*>(*out_ptr) - offset;
  auto [view, fresh] = stale_views.try_emplace(buffer, std::vector<uint8_t>(base, base + whole));
  (void)fresh;
  stale_real[buffer] = {base, whole};
  *out_ptr = view->second.data() + offset;
  return UDAL_SUCCESS;
}

udal_result_t unmap_of_stale_view(udal_buffer_t buffer) {
  {
    std::lock_guard lock(stale_mutex);
    auto view = stale_views.find(buffer);
    auto target = stale_real.find(buffer);
    if (view != stale_views.end() && target != stale_real.end()) {
      std::memcpy(target->second.first, view->second.data(), target->second.second);
    }
  }
  return real.buffer_unmap(buffer);
}

udal_result_t destroy_buffer_of_stale_view(udal_buffer_t buffer) {
  {
    std::lock_guard lock(stale_mutex);
    stale_views.erase(buffer);
    stale_real.erase(buffer);
  }
  return real.buffer_destroy(buffer);
}

// Returns at once; the stream (and what its work uses) goes away later, on another thread.
udal_result_t stream_destroy_does_not_wait(udal_stream_t stream) {
  std::thread([stream] { real.stream_destroy(stream); }).detach();
  return UDAL_SUCCESS;
}

udal_result_t synchronize_returns_early(udal_stream_t, uint64_t) { return UDAL_SUCCESS; }

udal_result_t wait_event_ignored(udal_stream_t, udal_event_t) { return UDAL_SUCCESS; }

udal_result_t write_ignores_dst_offset(udal_stream_t s, udal_buffer_t dst, uint64_t dst_offset,
                                       const void* src, uint64_t size) {
  uint64_t dst_size = SizeOf(dst);
  if (dst_offset > dst_size || size > dst_size - dst_offset) {
    return real.stream_write_buffer(s, dst, dst_offset, src, size);  // keeps the range check
  }
  return real.stream_write_buffer(s, dst, 0, src, size);
}

udal_result_t read_drops_last_byte(udal_stream_t s, udal_buffer_t src, uint64_t src_offset, void* dst,
                                   uint64_t size) {
  return real.stream_read_buffer(s, src, src_offset, dst, size > 1 ? size - 1 : size);
}

udal_result_t kernel_not_found_wrong_code(udal_module_t module, const char* name, udal_kernel_t* out) {
  udal_result_t result = real.kernel_create(module, name, out);
  return result == UDAL_ERROR_KERNEL_NOT_FOUND ? UDAL_ERROR_INVALID_ARGUMENT : result;
}

udal_result_t uuid_all_zero(udal_device_t device, udal_device_info_t* info) {
  udal_result_t result = real.device_get_info(device, info);
  if (result == UDAL_SUCCESS && info->struct_size >= offsetof(udal_device_info_t, device_memory_bytes)) {
    std::memset(info->uuid, 0, sizeof info->uuid);
  }
  return result;
}

udal_result_t alignment_ignored(udal_device_t device, const udal_buffer_desc_t* desc, udal_buffer_t* out) {
  udal_buffer_desc_t copy = *desc;
  copy.alignment = 0;
  return real.buffer_create(device, &copy, out);
}

udal_result_t out_of_memory_wrong_code(udal_device_t device, const udal_buffer_desc_t* desc, udal_buffer_t* out) {
  udal_result_t result = real.buffer_create(device, desc, out);
  return result == UDAL_ERROR_OUT_OF_DEVICE_MEMORY ? UDAL_ERROR_OUT_OF_HOST_MEMORY : result;
}

// Tries the images last to first: the device's choice ignores the order the caller gave.
udal_result_t module_takes_last_image(udal_device_t device, const udal_module_desc_t* desc, udal_module_t* out) {
  udal_module_desc_t copy = *desc;
  std::vector<udal_module_image_t> images(desc->images, desc->images + desc->image_count);
  std::reverse(images.begin(), images.end());
  copy.images = images.data();
  return real.module_create(device, &copy, out);
}

void Plant(udal_driver_table_t* t) {
  if constexpr (Is("copy_ignores_src_offset")) t->stream_copy_buffer = copy_ignores_src_offset;
  if constexpr (Is("fill_drops_partial_pattern")) t->stream_fill_buffer = fill_drops_partial_pattern;
  if constexpr (Is("event_signalled_early")) t->stream_record_event = event_signalled_early;
  if constexpr (Is("fill_runs_ahead_of_queue")) t->stream_fill_buffer = fill_runs_ahead_of_queue;
  if constexpr (Is("launch_swaps_value_args")) t->stream_launch = launch_swaps_value_args;
  if constexpr (Is("launch_drops_last_group")) t->stream_launch = launch_drops_last_group;
  if constexpr (Is("launch_swaps_y_and_z")) t->stream_launch = launch_swaps_y_and_z;
  if constexpr (Is("launch_without_local_memory")) t->stream_launch = launch_without_local_memory;
  if constexpr (Is("copy_accepts_out_of_range")) t->stream_copy_buffer = copy_accepts_out_of_range;
  if constexpr (Is("wait_ignores_timeout")) t->event_wait = wait_ignores_timeout;
  if constexpr (Is("elapsed_always_zero")) t->event_elapsed_ns = elapsed_always_zero;
  if constexpr (Is("map_returns_stale_view")) {
    t->buffer_map = map_returns_stale_view;
    t->buffer_unmap = unmap_of_stale_view;
    t->buffer_destroy = destroy_buffer_of_stale_view;
  }
  if constexpr (Is("stream_destroy_does_not_wait")) t->stream_destroy = stream_destroy_does_not_wait;
  if constexpr (Is("synchronize_returns_early")) t->stream_synchronize = synchronize_returns_early;
  if constexpr (Is("wait_event_ignored")) t->stream_wait_event = wait_event_ignored;
  if constexpr (Is("write_ignores_dst_offset")) t->stream_write_buffer = write_ignores_dst_offset;
  if constexpr (Is("read_drops_last_byte")) t->stream_read_buffer = read_drops_last_byte;
  if constexpr (Is("kernel_not_found_wrong_code")) t->kernel_create = kernel_not_found_wrong_code;
  if constexpr (Is("uuid_all_zero")) t->device_get_info = uuid_all_zero;
  if constexpr (Is("alignment_ignored")) t->buffer_create = alignment_ignored;
  if constexpr (Is("out_of_memory_wrong_code")) t->buffer_create = out_of_memory_wrong_code;
  if constexpr (Is("module_takes_last_image")) t->module_create = module_takes_last_image;
}

}  // namespace

extern "C" UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(uint32_t loader_abi_version,
                                                                  udal_driver_table_t* table) {
  udal_result_t result = udal_cpu_inner_negotiate(loader_abi_version, table);
  if (result != UDAL_SUCCESS) return result;
  std::memcpy(&real, table, std::min(sizeof real, table->struct_size));
  Plant(table);
  return UDAL_SUCCESS;
}
