#include "event.h"

#include "stream.h"

namespace udal::vulkan {
namespace {

using udal::sdk::fail;

udal_result_t wait_result(const char* fn, VkResult r, uint64_t timeout_ns) {
  if (r == VK_SUCCESS) return UDAL_SUCCESS;
  if (r == VK_TIMEOUT) {
    return fail(UDAL_TIMEOUT, "{}: the event's record did not complete within {} ns", fn,
                timeout_ns);
  }
  return fail(udal_code_of(r), "{}: the work the event waits for failed ({})", fn,
              vk_result_name(r));
}

// Marks a HOST_SIGNAL event's point complete: its timeline goes to 1 and waiting streams
// go on. Called with the event's mutex held; returns the streams to wake.
VkResult signal_host_point(EventState& event, std::vector<std::weak_ptr<StreamEngine>>* wake) {
  VkSemaphoreSignalInfo info{VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO};
  info.semaphore = event.latest->timeline()->get();
  info.value = event.latest->value();
  const VkResult r = vkSignalSemaphore(event.device->vk(), &info);
  if (r != VK_SUCCESS) return r;
  event.signalled = true;
  *wake = event.latest->mark_queued();
  return VK_SUCCESS;
}

}  // namespace

// ===========================================================================================
// Sync points
// ===========================================================================================

std::vector<std::weak_ptr<StreamEngine>> SyncPoint::mark_queued() {
  std::lock_guard lock(mutex_);
  queued_.store(true, std::memory_order_release);
  return std::move(waiters_);
}

bool SyncPoint::notify_when_queued(std::weak_ptr<StreamEngine> stream) {
  std::lock_guard lock(mutex_);
  if (queued_.load(std::memory_order_relaxed)) return false;
  waiters_.push_back(std::move(stream));
  return true;
}

VkResult SyncPoint::failure() const noexcept {
  if (health_ == nullptr) return VK_SUCCESS;
  const auto error = static_cast<VkResult>(health_->error.load(std::memory_order_acquire));
  if (error != VK_SUCCESS && value_ >= health_->failed_from.load(std::memory_order_acquire)) {
    return error;
  }
  return VK_SUCCESS;
}

VkResult SyncPoint::status(VkDevice device) const {
  uint64_t reached = 0;
  if (VkResult r = vkGetSemaphoreCounterValue(device, timeline_->get(), &reached); r != VK_SUCCESS) {
    return r;
  }
  if (reached < value_) return VK_NOT_READY;
  const VkResult failed = failure();
  return failed;
}

VkResult SyncPoint::wait(VkDevice device, uint64_t timeout_ns) const {
  if (VkResult r = wait_timeline(device, timeline_->get(), value_, timeout_ns); r != VK_SUCCESS) {
    return r;
  }
  return failure();
}

void wake_streams(std::vector<std::weak_ptr<StreamEngine>>& streams) {
  for (auto& weak : streams) {
    if (auto stream = weak.lock()) stream->poke();
  }
  streams.clear();
}

VkResult wait_timeline(VkDevice device, VkSemaphore timeline, uint64_t value,
                       uint64_t timeout_ns) {
  if (value == 0) return VK_SUCCESS;
  VkSemaphoreWaitInfo info{VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO};
  info.semaphoreCount = 1;
  info.pSemaphores = &timeline;
  info.pValues = &value;
  return vkWaitSemaphores(device, &info, timeout_ns);
}

std::shared_ptr<UniqueSemaphore> make_timeline(VkDevice device, uint64_t initial, VkResult* error) {
  VkSemaphoreTypeCreateInfo type{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO};
  type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  type.initialValue = initial;
  VkSemaphoreCreateInfo info{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
  info.pNext = &type;
  VkSemaphore semaphore = VK_NULL_HANDLE;
  *error = vkCreateSemaphore(device, &info, nullptr, &semaphore);
  if (*error != VK_SUCCESS) return nullptr;
  // Owned before anything may throw: a failed allocation destroys it here.
  UniqueSemaphore owner(device, semaphore);
  return std::make_shared<UniqueSemaphore>(std::move(owner));
}

// ===========================================================================================
// Entries
// ===========================================================================================

udal_result_t event_create(udal_device_t device_handle, const udal_event_desc_t* desc_in,
                           udal_event_t* out_event) {
  constexpr const char* fn = "udal_event_create";
  if (out_event == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_event is NULL", fn);
  *out_event = nullptr;
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const udal_event_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc_in != nullptr) {
      if (udal_result_t r = refuse_chain(fn, "desc", desc_in->next); r != UDAL_SUCCESS) return r;
    }
    DeviceState& device = *to_device(device_handle)->state;
    constexpr udal_event_flags_t kKnown = UDAL_EVENT_FLAG_TIMING | UDAL_EVENT_FLAG_HOST_SIGNAL;
    if (desc.flags & ~kKnown) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: flags {:#x} has bits no UDAL_EVENT_FLAG_* "
                  "defines ({:#x})", fn, desc.flags, desc.flags & ~kKnown);
    }
    if ((desc.flags & kKnown) == kKnown) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: UDAL_EVENT_FLAG_TIMING and "
                  "UDAL_EVENT_FLAG_HOST_SIGNAL cannot be combined (a host signal has no device "
                  "time)", fn);
    }
    if ((desc.flags & UDAL_EVENT_FLAG_TIMING) && !(device.info.features & UDAL_DEVICE_FEATURE_TIMESTAMPS)) {
      return fail(UDAL_ERROR_UNSUPPORTED, "{}: UDAL_EVENT_FLAG_TIMING needs timestamps, which "
                  "the compute queue of device {} lacks (timestampValidBits is 0)", fn,
                  device.info.name);
    }
    auto state = std::make_unique<EventState>();
    state->device = &device;
    state->flags = desc.flags;
    if (desc.flags & UDAL_EVENT_FLAG_HOST_SIGNAL) {
      VkResult error = VK_SUCCESS;
      auto timeline = make_timeline(device.vk(), 0, &error);
      if (!timeline) return fail_vk(fn, "vkCreateSemaphore", error);
      state->latest = std::make_shared<SyncPoint>(std::move(timeline), 1, nullptr, nullptr);
    }
    auto event = std::make_unique<Event>();
    event->dispatch = to_device(device_handle)->dispatch;
    event->state = std::move(state);
    {
      std::lock_guard lock(device.events_mutex);
      device.events.insert(event.get());
    }
    *out_event = udal::sdk::to_handle<udal_event_t>(event.release());
    return UDAL_SUCCESS;
  });
}

void destroy_event_object(Event* event) noexcept { std::unique_ptr<Event> owner(event); }

udal_result_t event_destroy(udal_event_t handle) {
  std::unique_ptr<Event> event(to_event(handle));
  EventState& state = *event->state;
  {
    std::lock_guard lock(state.device->events_mutex);
    state.device->events.erase(event.get());
  }
  std::vector<std::weak_ptr<StreamEngine>> wake;
  VkResult r = VK_SUCCESS;
  {
    std::lock_guard lock(state.mutex);
    // An unsignalled HOST_SIGNAL event releases its waiters as if signalled. A pending
    // record of another event holds its semaphore and query through the batch writing it.
    if ((state.flags & UDAL_EVENT_FLAG_HOST_SIGNAL) && !state.signalled) {
      r = signal_host_point(state, &wake);
    }
  }
  wake_streams(wake);
  if (r != VK_SUCCESS) {
    return fail_vk("udal_event_destroy", "vkSignalSemaphore (releasing the event's waiters)", r);
  }
  return UDAL_SUCCESS;
}

udal_result_t event_signal(udal_event_t handle) {
  constexpr const char* fn = "udal_event_signal";
  EventState& event = *to_event(handle)->state;
  if (!(event.flags & UDAL_EVENT_FLAG_HOST_SIGNAL)) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: event {} was created without "
                "UDAL_EVENT_FLAG_HOST_SIGNAL; only the work it records completes it", fn,
                static_cast<void*>(handle));
  }
  std::vector<std::weak_ptr<StreamEngine>> wake;
  VkResult r = VK_SUCCESS;
  {
    std::lock_guard lock(event.mutex);
    if (event.signalled) {
      return fail(UDAL_ERROR_INVALID_STATE, "{}: event {} was already signalled (a HOST_SIGNAL "
                  "event completes once)", fn, static_cast<void*>(handle));
    }
    r = signal_host_point(event, &wake);
  }
  // Wakes streams outside every lock: each takes its own.
  udal::sdk::guard(fn, [&] {
    wake_streams(wake);
    return UDAL_SUCCESS;
  });
  if (r != VK_SUCCESS) return fail_vk(fn, "vkSignalSemaphore", r);
  return UDAL_SUCCESS;
}

udal_result_t event_query(udal_event_t handle) {
  constexpr const char* fn = "udal_event_query";
  EventState& event = *to_event(handle)->state;
  auto point = event.record();
  if (!point) return UDAL_SUCCESS;
  const VkResult r = point->status(event.device->vk());
  if (r == VK_SUCCESS) return UDAL_SUCCESS;
  if (r == VK_NOT_READY) {
    return fail(UDAL_NOT_READY, "{}: the event's {} has not completed", fn,
                (event.flags & UDAL_EVENT_FLAG_HOST_SIGNAL) ? "host signal" : "latest record");
  }
  return fail(udal_code_of(r), "{}: the work the event waits for failed ({})", fn, vk_result_name(r));
}

udal_result_t event_wait(udal_event_t handle, uint64_t timeout_ns) {
  EventState& event = *to_event(handle)->state;
  auto point = event.record();
  if (!point) return UDAL_SUCCESS;
  return wait_result("udal_event_wait", point->wait(event.device->vk(), timeout_ns), timeout_ns);
}

udal_result_t event_elapsed_ns(udal_event_t start_handle, udal_event_t end_handle,
                               uint64_t* out_ns) {
  constexpr const char* fn = "udal_event_elapsed_ns";
  if (out_ns == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_ns is NULL", fn);
  *out_ns = 0;
  EventState& start = *to_event(start_handle)->state;
  EventState& end = *to_event(end_handle)->state;
  if (start.device != end.device) {
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: the start event belongs to device {} and the end "
                "event to another device ({})", fn, start.device->info.name, end.device->info.name);
  }
  for (const EventState* event : {&start, &end}) {
    if (!(event->flags & UDAL_EVENT_FLAG_TIMING)) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: the {} event was created without "
                  "UDAL_EVENT_FLAG_TIMING, so its records take no timestamp", fn,
                  event == &start ? "start" : "end");
    }
  }
  DeviceState& device = *start.device;
  auto a = start.record();
  auto b = end.record();
  if (!a || !b) {
    return fail(UDAL_ERROR_INVALID_STATE, "{}: the {} event was never recorded", fn,
                !a ? "start" : "end");
  }
  for (const SyncPoint* point : {a.get(), b.get()}) {
    const VkResult r = point->status(device.vk());
    const char* which = point == a.get() ? "start" : "end";
    if (r == VK_NOT_READY) {
      return fail(UDAL_NOT_READY, "{}: the {} event's record has not completed", fn, which);
    }
    if (r != VK_SUCCESS) {
      return fail(udal_code_of(r), "{}: the {} event's record failed ({})", fn, which,
                  vk_result_name(r));
    }
  }
  uint64_t ticks[2];
  int k = 0;
  for (const SyncPoint* point : {a.get(), b.get()}) {
    const VkResult r = vkGetQueryPoolResults(device.vk(), point->timestamp()->pool(),
                                             point->timestamp()->index(), 1, sizeof(uint64_t),
                                             &ticks[k++], sizeof(uint64_t),
                                             VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (r != VK_SUCCESS) return fail_vk(fn, "vkGetQueryPoolResults", r);
  }
  const uint32_t bits = device.timestamp_valid_bits;
  const uint64_t mask = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  // An end that completed before its start (on another stream that ran first) is 0. With
  // fewer than 64 valid bits the counter may wrap: a delta of more than half its range is
  // read as "end first".
  const uint64_t delta = (ticks[1] - ticks[0]) & mask;
  const bool end_first = bits >= 64 ? ticks[1] < ticks[0] : delta > mask / 2;
  *out_ns = end_first ? 0
                      : static_cast<uint64_t>(static_cast<double>(delta) *
                                              device.properties.limits.timestampPeriod);
  return UDAL_SUCCESS;
}

}  // namespace udal::vulkan
