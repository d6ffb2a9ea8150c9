#include "event.h"

namespace udal::vulkan {
namespace {

using udal::sdk::fail;

// UDAL_SUCCESS / UDAL_NOT_READY for |record|, or DEVICE_LOST with a message.
udal_result_t query_record(const char* fn, VkDevice device, const EventRecord& record) {
  uint64_t value = 0;
  const VkResult r = vkGetSemaphoreCounterValue(device, record.timeline->get(), &value);
  if (r != VK_SUCCESS) return fail_vk(fn, "vkGetSemaphoreCounterValue", r);
  return value >= record.value ? UDAL_SUCCESS : UDAL_NOT_READY;
}

}  // namespace

VkResult wait_timeline(VkDevice device, VkSemaphore timeline, uint64_t value,
                       uint64_t timeout_ns) {
  if (value == 0) return VK_SUCCESS;
  VkSemaphoreWaitInfo info{VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO};
  info.semaphoreCount = 1;
  info.pSemaphores = &timeline;
  info.pValues = &value;
  return vkWaitSemaphores(device, &info, timeout_ns);
}

udal_result_t event_create(udal_device_t device_handle, const udal_event_desc_t* desc_in,
                           udal_event_t* out_event) {
  constexpr const char* fn = "udal_event_create";
  if (out_event == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_event is NULL", fn);
  *out_event = nullptr;
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    const udal_event_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.flags != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: flags {:#x} are not defined (must be 0)", fn,
                  desc.flags);
    }
    auto event = std::make_unique<Event>();
    event->dispatch = to_device(device_handle)->dispatch;
    event->state = std::make_unique<EventState>();
    event->state->device = to_device(device_handle)->state.get();
    *out_event = udal::sdk::to_handle<udal_event_t>(event.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t event_destroy(udal_event_t handle) {
  // A pending record holds its semaphore and query pool through the batch that writes it.
  std::unique_ptr<Event> event(to_event(handle));
  return UDAL_SUCCESS;
}

udal_result_t event_query(udal_event_t handle) {
  EventState& event = *to_event(handle)->state;
  auto record = event.latest();
  if (!record) return UDAL_SUCCESS;
  return query_record("udal_event_query", event.device->vk(), *record);
}

udal_result_t event_wait(udal_event_t handle, uint64_t timeout_ns) {
  EventState& event = *to_event(handle)->state;
  auto record = event.latest();
  if (!record) return UDAL_SUCCESS;
  const VkResult r = wait_timeline(event.device->vk(), record->timeline->get(), record->value,
                                   timeout_ns);
  if (r == VK_SUCCESS) return UDAL_SUCCESS;
  if (r == VK_TIMEOUT) {
    return fail(UDAL_TIMEOUT, "udal_event_wait: the event's record did not complete within {} ns",
                timeout_ns);
  }
  return fail_vk("udal_event_wait", "vkWaitSemaphores", r);
}

udal_result_t event_elapsed_ns(udal_event_t start_handle, udal_event_t end_handle,
                               uint64_t* out_ns) {
  constexpr const char* fn = "udal_event_elapsed_ns";
  if (out_ns == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_ns is NULL", fn);
  *out_ns = 0;
  EventState& start = *to_event(start_handle)->state;
  EventState& end = *to_event(end_handle)->state;
  if (start.device != end.device) {
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: the two events belong to different devices", fn);
  }
  DeviceState& device = *start.device;
  if (!(device.info.features & UDAL_DEVICE_FEATURE_TIMESTAMPS)) {
    return fail(UDAL_ERROR_UNSUPPORTED, "{}: device {} has no timestamps on its compute queue",
                fn, device.info.name);
  }
  auto a = start.latest();
  auto b = end.latest();
  if (!a || !b) {
    return fail(UDAL_ERROR_INVALID_STATE, "{}: the {} event was never recorded", fn,
                !a ? "start" : "end");
  }
  for (const EventRecord* record : {&*a, &*b}) {
    const udal_result_t r = query_record(fn, device.vk(), *record);
    if (r == UDAL_NOT_READY) {
      return fail(UDAL_NOT_READY, "{}: the {} event's record has not completed", fn,
                  record == &*a ? "start" : "end");
    }
    if (r != UDAL_SUCCESS) return r;
  }
  uint64_t ticks[2];
  int k = 0;
  for (const EventRecord* record : {&*a, &*b}) {
    const VkResult r = vkGetQueryPoolResults(device.vk(), record->timestamp->get(), 0, 1,
                                             sizeof(uint64_t), &ticks[k++], sizeof(uint64_t),
                                             VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (r != VK_SUCCESS) return fail_vk(fn, "vkGetQueryPoolResults", r);
  }
  const uint64_t mask = device.timestamp_valid_bits >= 64
                            ? ~uint64_t{0}
                            : (uint64_t{1} << device.timestamp_valid_bits) - 1;
  // Counters wrap at timestampValidBits; an end before its start (on another stream) is 0.
  const uint64_t delta = (ticks[1] - ticks[0]) & mask;
  const bool before = (ticks[1] & mask) < (ticks[0] & mask) && device.timestamp_valid_bits >= 64;
  *out_ns = before ? 0
                   : static_cast<uint64_t>(static_cast<double>(delta) *
                                           device.properties.limits.timestampPeriod);
  return UDAL_SUCCESS;
}

}  // namespace udal::vulkan
