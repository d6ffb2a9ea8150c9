// A CPU driver with one planted bug, chosen at build time by CTS_BUG (one library per bug).
//
// The CPU reference driver's objects are linked in with their udal_driver_negotiate renamed
// to udal_cpu_inner_negotiate. This file's udal_driver_negotiate lets the CPU driver fill
// libudal's table and keeps those entries as `real`. The bug driver is a complete layer over
// them, derived from UDAL_DRIVER_ENTRIES: every entry gets a forwarder (a new entry in the
// list gets one without a change here), and the planted bug replaces one or a few of them
// with wrappers that break the contract in one precise way. Every object dispatches through
// that table, so the bug is seen exactly where a real driver's would be. Only the public
// entry points are used: no bug depends on the CPU driver's internals.
#include "udal/udal_driver.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
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

// Set by a bug wrapper that returns an error whose message it "forgot"; every forwarder
// clears it, so it holds only for the call that set it (libudal reads the message at once).
thread_local bool forget_message = false;

const char* last_error_message() { return forget_message ? "" : real.last_error_message(); }

// The forwarders: one per entry of the list.
#define CTS_FORWARD(name, required, is_public, params, args) \
  udal_result_t forward_##name params {                    \
    forget_message = false;                                \
    return real.name args;                                 \
  }
UDAL_DRIVER_ENTRIES(CTS_FORWARD)
#undef CTS_FORWARD

// ---------------------------------------------------------------------------------------
// Helpers the bugs share, through the CPU driver's own entries.
// ---------------------------------------------------------------------------------------

udal_buffer_info_t InfoOf(udal_buffer_t buffer) {
  udal_buffer_info_t info = UDAL_BUFFER_INFO_INIT;
  real.buffer_get_info(buffer, &info);
  return info;
}

uint64_t SizeOf(udal_buffer_t buffer) { return InfoOf(buffer).size; }

// Runs |work| on a private stream of |device| and waits for it: work done "at once",
// ahead of everything the caller's streams hold.
template <typename Work> void RunNow(udal_device_t device, Work work) {
  udal_stream_t stream = nullptr;
  if (real.stream_create(device, nullptr, &stream) != UDAL_SUCCESS) return;
  work(stream);
  real.stream_synchronize(stream, UDAL_TIMEOUT_INFINITE);
  real.stream_destroy(stream);
}

// Which device each stream belongs to, and which events are host-signalled (bugs that need
// to know record them at creation).
std::mutex objects_mutex;
std::map<udal_stream_t, udal_device_t> stream_devices;
std::set<udal_event_t> host_signal_events;

udal_result_t stream_create_remembered(udal_device_t device, const udal_stream_desc_t* desc,
                                       udal_stream_t* out) {
  udal_result_t result = real.stream_create(device, desc, out);
  if (result == UDAL_SUCCESS) {
    std::lock_guard lock(objects_mutex);
    stream_devices[*out] = device;
  }
  return result;
}

udal_result_t stream_destroy_remembered(udal_stream_t stream) {
  {
    std::lock_guard lock(objects_mutex);
    stream_devices.erase(stream);
  }
  return real.stream_destroy(stream);
}

udal_device_info_t DeviceInfoOfStream(udal_stream_t stream) {
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  udal_device_t device = nullptr;
  {
    std::lock_guard lock(objects_mutex);
    auto found = stream_devices.find(stream);
    if (found != stream_devices.end()) device = found->second;
  }
  if (device != nullptr) real.device_get_info(device, &info);
  return info;
}

udal_result_t event_create_remembered(udal_device_t device, const udal_event_desc_t* desc,
                                      udal_event_t* out) {
  udal_result_t result = real.event_create(device, desc, out);
  if (result == UDAL_SUCCESS && desc != nullptr && (desc->flags & UDAL_EVENT_FLAG_HOST_SIGNAL) != 0) {
    std::lock_guard lock(objects_mutex);
    host_signal_events.insert(*out);
  }
  return result;
}

udal_result_t event_destroy_remembered(udal_event_t event) {
  {
    std::lock_guard lock(objects_mutex);
    host_signal_events.erase(event);
  }
  return real.event_destroy(event);
}

bool IsHostSignal(udal_event_t event) {
  std::lock_guard lock(objects_mutex);
  return host_signal_events.count(event) != 0;
}

// ---------------------------------------------------------------------------------------
// Transfers
// ---------------------------------------------------------------------------------------

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

// The fill happens when it is enqueued, ahead of everything queued before it.
udal_result_t fill_runs_ahead_of_queue(udal_stream_t s, udal_buffer_t dst, uint64_t offset,
                                       uint64_t size, const void* pattern, uint32_t pattern_size) {
  udal_buffer_info_t info = InfoOf(dst);
  if (offset > info.size || size > info.size - offset) {
    return real.stream_fill_buffer(s, dst, offset, size, pattern, pattern_size);
  }
  udal_result_t result = UDAL_SUCCESS;
  RunNow(info.device, [&](udal_stream_t now) {
    result = real.stream_fill_buffer(now, dst, offset, size, pattern, pattern_size);
  });
  return result;
}

// Out-of-range copies "succeed": whatever fits is copied, the rest dropped silently.
udal_result_t copy_accepts_out_of_range(udal_stream_t s, udal_buffer_t src, uint64_t src_offset,
                                        udal_buffer_t dst, uint64_t dst_offset, uint64_t size) {
  uint64_t src_size = SizeOf(src), dst_size = SizeOf(dst);
  if (src_offset >= src_size || dst_offset >= dst_size) return UDAL_SUCCESS;
  size = std::min({size, src_size - src_offset, dst_size - dst_offset});
  return real.stream_copy_buffer(s, src, src_offset, dst, dst_offset, size);
}

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

// An out-of-range copy is refused with the right code, but without a message: libudal then
// substitutes its "without a message (driver guide rule 7)" text.
udal_result_t copy_error_without_message(udal_stream_t s, udal_buffer_t src, uint64_t src_offset,
                                         udal_buffer_t dst, uint64_t dst_offset, uint64_t size) {
  udal_result_t result = real.stream_copy_buffer(s, src, src_offset, dst, dst_offset, size);
  forget_message = result < 0;
  return result;
}

// ---------------------------------------------------------------------------------------
// Objects of another device
// ---------------------------------------------------------------------------------------

// Every refusal of an object of another device is turned into a silent success.
udal_result_t Accept(udal_result_t result) {
  return result == UDAL_ERROR_INVALID_HANDLE ? UDAL_SUCCESS : result;
}
udal_result_t copy_accepts_foreign(udal_stream_t s, udal_buffer_t src, uint64_t so, udal_buffer_t dst,
                                   uint64_t d, uint64_t size) {
  return Accept(real.stream_copy_buffer(s, src, so, dst, d, size));
}
udal_result_t fill_accepts_foreign(udal_stream_t s, udal_buffer_t dst, uint64_t o, uint64_t size,
                                   const void* p, uint32_t ps) {
  return Accept(real.stream_fill_buffer(s, dst, o, size, p, ps));
}
udal_result_t write_accepts_foreign(udal_stream_t s, udal_buffer_t dst, uint64_t o, const void* src,
                                    uint64_t size) {
  return Accept(real.stream_write_buffer(s, dst, o, src, size));
}
udal_result_t read_accepts_foreign(udal_stream_t s, udal_buffer_t src, uint64_t o, void* dst, uint64_t size) {
  return Accept(real.stream_read_buffer(s, src, o, dst, size));
}
udal_result_t launch_accepts_foreign(udal_stream_t s, udal_kernel_t k, const udal_launch_desc_t* desc) {
  return Accept(real.stream_launch(s, k, desc));
}
udal_result_t record_accepts_foreign(udal_stream_t s, udal_event_t e) {
  return Accept(real.stream_record_event(s, e));
}
udal_result_t wait_accepts_foreign(udal_stream_t s, udal_event_t e) {
  return Accept(real.stream_wait_event(s, e));
}
udal_result_t elapsed_accepts_foreign(udal_event_t a, udal_event_t b, uint64_t* out) {
  return Accept(real.event_elapsed_ns(a, b, out));
}

// ---------------------------------------------------------------------------------------
// Launches
// ---------------------------------------------------------------------------------------

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

// The local memory limit is not enforced: more than max_local_memory_bytes is quietly cut
// to the limit.
udal_result_t launch_ignores_local_memory_limit(udal_stream_t s, udal_kernel_t k,
                                                const udal_launch_desc_t* desc) {
  udal_device_info_t info = DeviceInfoOfStream(s);
  udal_launch_desc_t copy = *desc;
  if (info.max_local_memory_bytes != 0 && copy.local_memory_bytes > info.max_local_memory_bytes) {
    copy.local_memory_bytes = info.max_local_memory_bytes;
  }
  return real.stream_launch(s, k, &copy);
}

// The access a launch gives is not checked against what the kernel declares.
udal_result_t launch_ignores_access(udal_stream_t s, udal_kernel_t k, const udal_launch_desc_t* desc) {
  udal_launch_desc_t copy = *desc;
  std::vector<udal_kernel_arg_t> args(desc->args, desc->args + desc->arg_count);
  for (udal_kernel_arg_t& arg : args) {
    if (arg.kind == UDAL_ARG_KIND_BUFFER && arg.access != UDAL_ARG_ACCESS_NONE) arg.access = UDAL_ARG_ACCESS_READ_WRITE;
  }
  copy.args = args.data();
  return real.stream_launch(s, k, &copy);
}

// Value sizes are not checked: a value of another size than declared is cut or padded.
udal_result_t launch_ignores_value_sizes(udal_stream_t s, udal_kernel_t k, const udal_launch_desc_t* desc) {
  udal_launch_desc_t copy = *desc;
  std::vector<udal_kernel_arg_t> args(desc->args, desc->args + desc->arg_count);
  std::vector<std::vector<uint8_t>> storage(args.size());
  for (uint32_t i = 0; i < args.size(); ++i) {
    if (args[i].kind != UDAL_ARG_KIND_VALUE) continue;
    udal_kernel_arg_info_t declared = UDAL_KERNEL_ARG_INFO_INIT;
    if (real.kernel_get_argument_info(k, i, &declared) != UDAL_SUCCESS) continue;
    if (declared.kind != UDAL_ARG_KIND_VALUE || declared.value_size == args[i].value_size) continue;
    storage[i].assign(declared.value_size, 0);
    std::memcpy(storage[i].data(), args[i].value, std::min(declared.value_size, args[i].value_size));
    args[i].value = storage[i].data();
    args[i].value_size = declared.value_size;
  }
  copy.args = args.data();
  return real.stream_launch(s, k, &copy);
}

// A kernel that needs local memory is launched without any: the driver quietly gives it some.
udal_result_t launch_supplies_missing_local_memory(udal_stream_t s, udal_kernel_t k,
                                                   const udal_launch_desc_t* desc) {
  udal_launch_desc_t copy = *desc;
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  if (copy.local_memory_bytes == 0 && real.kernel_get_info(k, &info) == UDAL_SUCCESS &&
      (info.flags & UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY) != 0) {
    copy.local_memory_bytes = 4;
  }
  return real.stream_launch(s, k, &copy);
}

// ---------------------------------------------------------------------------------------
// Events and streams
// ---------------------------------------------------------------------------------------

udal_result_t event_signalled_early(udal_stream_t, udal_event_t) {
  return UDAL_SUCCESS;  // never recorded: complete at once, before the work it should follow
}

udal_result_t wait_ignores_timeout(udal_event_t event, uint64_t) {
  return real.event_wait(event, UDAL_TIMEOUT_INFINITE);
}

udal_result_t elapsed_always_zero(udal_event_t start, udal_event_t end, uint64_t* out_ns) {
  udal_result_t result = real.event_elapsed_ns(start, end, out_ns);
  if (result == UDAL_SUCCESS) *out_ns = 0;
  return result;
}

// end − start computed without the rule for an end that completed first: a wrapped value.
udal_result_t elapsed_wraps(udal_event_t start, udal_event_t end, uint64_t* out_ns) {
  udal_result_t result = real.event_elapsed_ns(start, end, out_ns);
  if (result == UDAL_SUCCESS && *out_ns == 0) {
    uint64_t reverse = 0;
    if (real.event_elapsed_ns(end, start, &reverse) == UDAL_SUCCESS && reverse > 0) *out_ns = 0 - reverse;
  }
  return result;
}

// Returns at once; the stream (and what its work uses) goes away later, on another thread.
udal_result_t stream_destroy_does_not_wait(udal_stream_t stream) {
  std::thread([stream] { real.stream_destroy(stream); }).detach();
  return UDAL_SUCCESS;
}

udal_result_t synchronize_returns_early(udal_stream_t, uint64_t) { return UDAL_SUCCESS; }

udal_result_t wait_event_ignored(udal_stream_t, udal_event_t) { return UDAL_SUCCESS; }

// The wait looks the event's record up when it runs, not when it was enqueued. The stream
// waits on a HOST_SIGNAL event H instead; a helper thread signals H once the stream has
// reached the wait and either the event's record of *that* moment has completed (the bug)
// or the record that was latest at enqueue has (captured by a private stream's real wait, so
// the bug driver never waits longer than a correct one and cannot deadlock).
std::mutex helpers_mutex;
std::vector<std::thread> helpers;
std::set<udal_event_t> destroyed_events;

udal_result_t event_destroy_tracked(udal_event_t event) {
  std::lock_guard lock(objects_mutex);
  host_signal_events.erase(event);
  destroyed_events.insert(event);
  return real.event_destroy(event);
}

udal_result_t event_create_tracked(udal_device_t device, const udal_event_desc_t* desc, udal_event_t* out) {
  udal_result_t result = event_create_remembered(device, desc, out);
  if (result == UDAL_SUCCESS) {
    std::lock_guard lock(objects_mutex);
    destroyed_events.erase(*out);  // an address may be reused
  }
  return result;
}

udal_result_t wait_uses_record_at_run_time(udal_stream_t s, udal_event_t e) {
  if (IsHostSignal(e)) return real.stream_wait_event(s, e);
  udal_device_t device = nullptr;
  {
    std::lock_guard lock(objects_mutex);
    auto found = stream_devices.find(s);
    if (found != stream_devices.end()) device = found->second;
  }
  udal_stream_t proxy = nullptr;
  udal_event_t captured = nullptr, reached = nullptr, release = nullptr;
  udal_event_desc_t host = UDAL_EVENT_DESC_INIT;
  host.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  if (device == nullptr || real.stream_create(device, nullptr, &proxy) != UDAL_SUCCESS ||
      real.event_create(device, nullptr, &captured) != UDAL_SUCCESS ||
      real.event_create(device, nullptr, &reached) != UDAL_SUCCESS ||
      real.event_create(device, &host, &release) != UDAL_SUCCESS) {
    return real.stream_wait_event(s, e);
  }
  real.stream_wait_event(proxy, e);
  real.stream_record_event(proxy, captured);
  real.stream_record_event(s, reached);
  udal_result_t result = real.stream_wait_event(s, release);
  std::lock_guard lock(helpers_mutex);
  helpers.emplace_back([=] {
    real.event_wait(reached, UDAL_TIMEOUT_INFINITE);
    for (;;) {
      {
        std::lock_guard objects(objects_mutex);
        if (destroyed_events.count(e) == 0 && real.event_query(e) == UDAL_SUCCESS) break;
      }
      if (real.event_query(captured) == UDAL_SUCCESS) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    real.event_signal(release);
    real.stream_destroy(proxy);
    real.event_destroy(captured);
    real.event_destroy(reached);
    real.event_destroy(release);
  });
  return result;
}

udal_result_t driver_destroy_joining_helpers(udal_driver_t driver) {
  std::vector<std::thread> joining;
  {
    std::lock_guard lock(helpers_mutex);
    joining.swap(helpers);
  }
  for (std::thread& helper : joining) helper.join();
  return real.driver_destroy(driver);
}

// HOST_SIGNAL events are made as ordinary ones: never recorded, so complete at once.
udal_result_t host_signal_complete_at_once(udal_device_t device, const udal_event_desc_t* desc,
                                           udal_event_t* out) {
  udal_event_desc_t copy = UDAL_EVENT_DESC_INIT;
  if (desc != nullptr) copy = *desc;
  bool host_signal = (copy.flags & UDAL_EVENT_FLAG_HOST_SIGNAL) != 0;
  copy.flags &= ~UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_result_t result = real.event_create(device, &copy, out);
  if (result == UDAL_SUCCESS && host_signal) {
    std::lock_guard lock(objects_mutex);
    host_signal_events.insert(*out);
  }
  return result;
}

udal_result_t signal_of_fake_host_signal(udal_event_t event) {
  return IsHostSignal(event) ? UDAL_SUCCESS : real.event_signal(event);
}

udal_result_t second_signal_accepted(udal_event_t event) {
  udal_result_t result = real.event_signal(event);
  return result == UDAL_ERROR_INVALID_STATE ? UDAL_SUCCESS : result;
}

// The function runs at once on the calling thread, before the stream's earlier work.
udal_result_t host_function_runs_early(udal_stream_t, udal_host_function_t fn, void* user_data) {
  fn(user_data);
  return UDAL_SUCCESS;
}

// ---------------------------------------------------------------------------------------
// Buffers, memory, modules, devices
// ---------------------------------------------------------------------------------------

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

// The view goes with the buffer only: a destroy the driver refuses (the buffer is still
// mapped) leaves the mapped view in the caller's hands.
udal_result_t destroy_buffer_of_stale_view(udal_buffer_t buffer) {
  udal_result_t result = real.buffer_destroy(buffer);
  if (result == UDAL_SUCCESS) {
    std::lock_guard lock(stale_mutex);
    stale_views.erase(buffer);
    stale_real.erase(buffer);
  }
  return result;
}

// The memory is given up at destroy although work that uses it is pending: whoever gets it
// next writes over it at once (a fill on a private stream stands for the next owner).
udal_result_t buffer_freed_at_destroy(udal_buffer_t buffer) {
  udal_buffer_info_t info = InfoOf(buffer);
  if (info.size > 0) {
    const uint32_t junk = 0xdddddddd;
    // The first 64 KiB are enough to show it (and filling a huge buffer would commit memory).
    uint64_t size = std::min<uint64_t>(info.size, 64 << 10);
    RunNow(info.device, [&](udal_stream_t now) { real.stream_fill_buffer(now, buffer, 0, size, &junk, 4); });
  }
  return real.buffer_destroy(buffer);
}

// A mapped buffer is destroyed anyway (unmapped first) instead of INVALID_STATE.
udal_result_t destroy_of_mapped_buffer_accepted(udal_buffer_t buffer) {
  udal_result_t result = real.buffer_destroy(buffer);
  if (result != UDAL_ERROR_INVALID_STATE) return result;
  real.buffer_unmap(buffer);
  return real.buffer_destroy(buffer);
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

// Extension structs of the vendor range are dropped instead of refused.
udal_result_t buffer_create_ignores_chain(udal_device_t device, const udal_buffer_desc_t* desc,
                                          udal_buffer_t* out) {
  udal_buffer_desc_t copy = *desc;
  copy.next = nullptr;
  return real.buffer_create(device, &copy, out);
}

udal_result_t device_address_off_by_16(udal_buffer_t buffer, uint64_t* out) {
  udal_result_t result = real.buffer_get_device_address(buffer, out);
  if (result == UDAL_SUCCESS) *out += 16;
  return result;
}

udal_result_t memory_usage_not_counted(udal_device_t device, udal_memory_usage_t* out) {
  udal_result_t result = real.device_get_memory_usage(device, out);
  if (result == UDAL_SUCCESS) {
    out->device_allocated_bytes = 0;
    out->host_visible_allocated_bytes = 0;
  }
  return result;
}

udal_result_t argument_access_always_read_write(udal_kernel_t kernel, uint32_t index, udal_kernel_arg_info_t* out) {
  udal_result_t result = real.kernel_get_argument_info(kernel, index, out);
  if (result == UDAL_SUCCESS && out->kind == UDAL_ARG_KIND_BUFFER) out->access = UDAL_ARG_ACCESS_READ_WRITE;
  return result;
}

udal_result_t kernel_not_found_wrong_code(udal_module_t module, const char* name, udal_kernel_t* out) {
  udal_result_t result = real.kernel_create(module, name, out);
  return result == UDAL_ERROR_KERNEL_NOT_FOUND ? UDAL_ERROR_INVALID_ARGUMENT : result;
}

udal_result_t uuid_all_zero(udal_device_t device, udal_device_info_t* info) {
  udal_result_t result = real.device_get_info(device, info);
  if (result == UDAL_SUCCESS && info->struct_size >= offsetof(udal_device_info_t, driver_version)) {
    std::memset(info->uuid, 0, sizeof info->uuid);
  }
  return result;
}

// Tries the images last to first: the device's choice ignores the order the caller gave.
udal_result_t module_takes_last_image(udal_device_t device, const udal_module_desc_t* desc, udal_module_t* out) {
  udal_module_desc_t copy = *desc;
  std::vector<udal_module_image_t> images(desc->images, desc->images + desc->image_count);
  std::reverse(images.begin(), images.end());
  copy.images = images.data();
  return real.module_create(device, &copy, out);
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

void Plant(udal_driver_table_t* t) {
  // Transfers.
  if constexpr (Is("copy_ignores_src_offset")) t->stream_copy_buffer = copy_ignores_src_offset;
  if constexpr (Is("fill_drops_partial_pattern")) t->stream_fill_buffer = fill_drops_partial_pattern;
  if constexpr (Is("fill_runs_ahead_of_queue")) t->stream_fill_buffer = fill_runs_ahead_of_queue;
  if constexpr (Is("copy_accepts_out_of_range")) t->stream_copy_buffer = copy_accepts_out_of_range;
  if constexpr (Is("write_ignores_dst_offset")) t->stream_write_buffer = write_ignores_dst_offset;
  if constexpr (Is("read_drops_last_byte")) t->stream_read_buffer = read_drops_last_byte;
  if constexpr (Is("error_without_message")) t->stream_copy_buffer = copy_error_without_message;
  // Objects of another device.
  if constexpr (Is("accepts_other_devices_objects")) {
    t->stream_copy_buffer = copy_accepts_foreign;
    t->stream_fill_buffer = fill_accepts_foreign;
    t->stream_write_buffer = write_accepts_foreign;
    t->stream_read_buffer = read_accepts_foreign;
    t->stream_launch = launch_accepts_foreign;
    t->stream_record_event = record_accepts_foreign;
    t->stream_wait_event = wait_accepts_foreign;
    t->event_elapsed_ns = elapsed_accepts_foreign;
  }
  // Launches.
  if constexpr (Is("launch_swaps_value_args")) t->stream_launch = launch_swaps_value_args;
  if constexpr (Is("launch_drops_last_group")) t->stream_launch = launch_drops_last_group;
  if constexpr (Is("launch_swaps_y_and_z")) t->stream_launch = launch_swaps_y_and_z;
  if constexpr (Is("launch_without_local_memory")) t->stream_launch = launch_without_local_memory;
  if constexpr (Is("local_memory_limit_not_enforced")) {
    t->stream_create = stream_create_remembered;
    t->stream_destroy = stream_destroy_remembered;
    t->stream_launch = launch_ignores_local_memory_limit;
  }
  if constexpr (Is("launch_access_not_checked")) t->stream_launch = launch_ignores_access;
  if constexpr (Is("launch_value_size_not_checked")) t->stream_launch = launch_ignores_value_sizes;
  if constexpr (Is("launch_local_memory_not_required")) t->stream_launch = launch_supplies_missing_local_memory;
  // Events and streams.
  if constexpr (Is("event_signalled_early")) t->stream_record_event = event_signalled_early;
  if constexpr (Is("wait_ignores_timeout")) t->event_wait = wait_ignores_timeout;
  if constexpr (Is("elapsed_always_zero")) t->event_elapsed_ns = elapsed_always_zero;
  if constexpr (Is("elapsed_wraps_when_end_is_first")) t->event_elapsed_ns = elapsed_wraps;
  if constexpr (Is("stream_destroy_does_not_wait")) t->stream_destroy = stream_destroy_does_not_wait;
  if constexpr (Is("synchronize_returns_early")) t->stream_synchronize = synchronize_returns_early;
  if constexpr (Is("wait_event_ignored")) t->stream_wait_event = wait_event_ignored;
  if constexpr (Is("wait_uses_record_at_run_time")) {
    t->stream_create = stream_create_remembered;
    t->stream_destroy = stream_destroy_remembered;
    t->event_create = event_create_tracked;
    t->event_destroy = event_destroy_tracked;
    t->stream_wait_event = wait_uses_record_at_run_time;
    t->driver_destroy = driver_destroy_joining_helpers;
  }
  if constexpr (Is("host_signal_complete_at_once")) {
    t->event_create = host_signal_complete_at_once;
    t->event_destroy = event_destroy_remembered;
    t->event_signal = signal_of_fake_host_signal;
  }
  if constexpr (Is("second_signal_accepted")) t->event_signal = second_signal_accepted;
  if constexpr (Is("host_function_runs_early")) t->stream_enqueue_host_function = host_function_runs_early;
  // Buffers, memory, modules, devices.
  if constexpr (Is("map_returns_stale_view")) {
    t->buffer_map = map_returns_stale_view;
    t->buffer_unmap = unmap_of_stale_view;
    t->buffer_destroy = destroy_buffer_of_stale_view;
  }
  if constexpr (Is("buffer_freed_at_destroy")) t->buffer_destroy = buffer_freed_at_destroy;
  if constexpr (Is("destroy_of_mapped_buffer_accepted")) t->buffer_destroy = destroy_of_mapped_buffer_accepted;
  if constexpr (Is("alignment_ignored")) t->buffer_create = alignment_ignored;
  if constexpr (Is("out_of_memory_wrong_code")) t->buffer_create = out_of_memory_wrong_code;
  if constexpr (Is("vendor_chain_ignored")) t->buffer_create = buffer_create_ignores_chain;
  if constexpr (Is("device_address_off_by_16")) t->buffer_get_device_address = device_address_off_by_16;
  if constexpr (Is("memory_usage_not_counted")) t->device_get_memory_usage = memory_usage_not_counted;
  if constexpr (Is("argument_access_always_read_write")) t->kernel_get_argument_info = argument_access_always_read_write;
  if constexpr (Is("kernel_not_found_wrong_code")) t->kernel_create = kernel_not_found_wrong_code;
  if constexpr (Is("uuid_all_zero")) t->device_get_info = uuid_all_zero;
  if constexpr (Is("module_takes_last_image")) t->module_create = module_takes_last_image;
}

}  // namespace

extern "C" UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(uint32_t loader_abi_version,
                                                                  udal_driver_table_t* table) {
  udal_result_t result = udal_cpu_inner_negotiate(loader_abi_version, table);
  if (result != UDAL_SUCCESS) return result;
  std::memcpy(&real, table, std::min<size_t>(sizeof real, table->struct_size));
  // The layer: every entry the CPU driver filled goes through its forwarder, then the bug.
  table->last_error_message = last_error_message;
#define CTS_LAYER(name, required, is_public, params, args) \
  if (real.name != nullptr) table->name = forward_##name;
  UDAL_DRIVER_ENTRIES(CTS_LAYER)
#undef CTS_LAYER
  Plant(table);
  return UDAL_SUCCESS;
}
