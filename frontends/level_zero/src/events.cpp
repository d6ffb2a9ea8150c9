// Lanes (a UDAL stream and its waits), events, event pools and fences.
//
// A Level Zero event is host state: signalled, reset, waited on by the host and by command
// lists, many times over. UDAL events complete once per record and host-signalled ones only
// once, so each wait a lane enqueues gets a fresh HOST_SIGNAL UDAL event (a Waiter): a host
// function in stream order "arms" it (signals it at once if the Level Zero event is already
// signalled, else files it with the event), the stream waits on it, and a later host
// function destroys it. Signalling a Level Zero event fires every waiter filed with it.
// Destroying a lane or an event fires the waiters left, so nothing waits for ever on an
// object that no longer exists.
#include <algorithm>
#include <chrono>

#include "ze_udal.h"

namespace udal::ze {

namespace {

std::mutex g_event_mutex;
// Every waiter not yet retired (guarded by g_event_mutex). Nodes never move.
std::list<Waiter> g_waiters;

void fire(std::vector<udal_event_t>& signals) noexcept {
  for (udal_event_t w : signals) udal_event_signal(w);
  signals.clear();
}

struct HostCall {
  std::function<void()> fn;
};

void run_host_call(void* user_data) {
  std::unique_ptr<HostCall> call(static_cast<HostCall*>(user_data));
  try {
    call->fn();
  } catch (...) {
    log_message("a host function of libze_udal threw; its effect is lost");
  }
}

}  // namespace

std::mutex& event_mutex() noexcept { return g_event_mutex; }

// ----- lanes ----------------------------------------------------------------------------

ze_result_t make_lane(Device* device, std::unique_ptr<Lane>* out, const char* function) {
  auto lane = std::make_unique<Lane>();
  lane->device = device;
  udal_result_t r = udal_stream_create(device->udal, nullptr, &lane->stream);
  if (r != UDAL_SUCCESS) return from_udal(r, function);
  *out = std::move(lane);
  return ZE_RESULT_SUCCESS;
}

Lane::~Lane() {
  std::vector<udal_event_t> signals;
  {
    std::lock_guard lock(g_event_mutex);
    for (Waiter& w : g_waiters) {
      if (w.lane != this || w.fired) continue;
      w.fired = true;
      if (w.event != nullptr) {
        auto& list = w.event->waiters;
        list.erase(std::remove(list.begin(), list.end(), &w), list.end());
      }
      signals.push_back(w.signal);
    }
  }
  fire(signals);
  if (stream != nullptr) udal_stream_destroy(stream);  // waits for the work, retires waiters
  if (helper != nullptr) udal_stream_destroy(helper);
}

namespace {
void signal_event(void* event) { udal_event_signal(static_cast<udal_event_t>(event)); }
}  // namespace

ze_result_t Lane::deferred(std::function<void(udal_stream_t)> issue, const char* function) {
  if (helper == nullptr) {
    udal_result_t r = udal_stream_create(device->udal, nullptr, &helper);
    if (r != UDAL_SUCCESS) return from_udal(r, function);
  }
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t done = nullptr;
  udal_result_t r = udal_event_create(device->udal, &desc, &done);
  if (r != UDAL_SUCCESS) return from_udal(r, function);
  udal_stream_t on = helper;
  ze_result_t z = host(
      [issue = std::move(issue), on, done] {
        issue(on);
        if (udal_stream_enqueue_host_function(on, signal_event, done) != UDAL_SUCCESS) {
          udal_stream_synchronize(on, UDAL_TIMEOUT_INFINITE);
          udal_event_signal(done);
        }
      },
      function);
  if (z != ZE_RESULT_SUCCESS) {
    udal_event_destroy(done);
    return z;
  }
  r = udal_stream_wait_event(stream, done);
  if (r != UDAL_SUCCESS) {
    synchronize(UINT64_MAX, function);
    udal_event_destroy(done);
    return from_udal(r, function);
  }
  return host([done] { udal_event_destroy(done); }, function);
}

ze_result_t Lane::host(std::function<void()> fn, const char* function) {
  auto call = std::make_unique<HostCall>();
  call->fn = std::move(fn);
  udal_result_t r = udal_stream_enqueue_host_function(stream, run_host_call, call.get());
  if (r != UDAL_SUCCESS) return from_udal(r, function);
  call.release();
  return ZE_RESULT_SUCCESS;
}

ze_result_t Lane::wait(Event* event, const char* function) {
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t signal = nullptr;
  udal_result_t r = udal_event_create(device->udal, &desc, &signal);
  if (r != UDAL_SUCCESS) return from_udal(r, function);
  Waiter* waiter = nullptr;
  try {
    std::lock_guard lock(g_event_mutex);
    g_waiters.push_back(Waiter{signal, event, this, false});
    waiter = &g_waiters.back();
  } catch (...) {
    udal_event_destroy(signal);
    throw;
  }
  // Armed in stream order: the event's state counts when the stream gets there.
  ze_result_t z = host(
      [waiter] {
        udal_event_t now = nullptr;
        {
          std::lock_guard lock(g_event_mutex);
          if (waiter->fired) return;
          if (waiter->event == nullptr || waiter->event->signaled) {
            waiter->fired = true;
            now = waiter->signal;
          } else {
            waiter->event->waiters.push_back(waiter);
          }
        }
        if (now != nullptr) udal_event_signal(now);
      },
      function);
  if (z == ZE_RESULT_SUCCESS) {
    r = udal_stream_wait_event(stream, signal);
    if (r != UDAL_SUCCESS) z = from_udal(r, function);
  }
  // Retired after the wait (or at once when the wait could not be enqueued).
  auto retire = [waiter] {
    udal_event_t signal_event = nullptr;
    bool unfired = false;
    {
      std::lock_guard lock(g_event_mutex);
      if (waiter->event != nullptr) {
        auto& list = waiter->event->waiters;
        list.erase(std::remove(list.begin(), list.end(), waiter), list.end());
      }
      unfired = !waiter->fired;
      signal_event = waiter->signal;
      for (auto it = g_waiters.begin(); it != g_waiters.end(); ++it) {
        if (&*it == waiter) {
          g_waiters.erase(it);
          break;
        }
      }
    }
    (void)unfired;
    udal_event_destroy(signal_event);  // an unfired one releases its stream as if signalled
  };
  if (z != ZE_RESULT_SUCCESS || host(retire, function) != ZE_RESULT_SUCCESS) {
    // The stream may already wait on it: destroying it releases that wait.
    retire();
    return z != ZE_RESULT_SUCCESS ? z : ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
  }
  return ZE_RESULT_SUCCESS;
}

ze_result_t Lane::signal(Event* event, udal_event_t start, const char* function) {
  if (event == nullptr) return ZE_RESULT_SUCCESS;
  udal_event_t end = nullptr;
  if (start != nullptr) {
    udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
    desc.flags = UDAL_EVENT_FLAG_TIMING;
    udal_result_t r = udal_event_create(device->udal, &desc, &end);
    if (r == UDAL_SUCCESS) r = udal_stream_record_event(stream, end);
    if (r != UDAL_SUCCESS) {
      if (end != nullptr) udal_event_destroy(end);
      end = nullptr;
    }
  }
  Device* dev = device;
  const bool timestamps = event->pool != nullptr && event->pool->timestamps();
  const uint64_t host_start = timestamps && start == nullptr ? dev->now_ns() : 0;
  ze_result_t z = host(
      [event, start, end, dev, timestamps, host_start] {
        if (timestamps) {
          const uint64_t begin = start != nullptr ? dev->device_ns(start) : host_start;
          uint64_t finish = end != nullptr ? dev->device_ns(end) : dev->device_ns(nullptr);
          if (finish < begin) finish = begin;
          std::lock_guard lock(g_event_mutex);
          event->timestamp.global = {begin, finish};
          event->timestamp.context = {begin, finish};
          event->has_timestamp = true;
        }
        if (start != nullptr) udal_event_destroy(start);
        if (end != nullptr) udal_event_destroy(end);
        event->host_signal();
      },
      function);
  if (z != ZE_RESULT_SUCCESS) {
    if (start != nullptr) udal_event_destroy(start);
    if (end != nullptr) udal_event_destroy(end);
  }
  return z;
}

ze_result_t Lane::synchronize(uint64_t timeout_ns, const char* function) {
  udal_result_t r = udal_stream_synchronize(stream, timeout_ns);
  if (r == UDAL_TIMEOUT) return ZE_RESULT_NOT_READY;
  return r == UDAL_SUCCESS ? ZE_RESULT_SUCCESS : from_udal(r, function);
}

// ----- events ---------------------------------------------------------------------------

void Event::host_signal() noexcept {
  std::vector<udal_event_t> signals;
  {
    std::lock_guard lock(g_event_mutex);
    signaled = true;
    for (Waiter* w : waiters) {
      if (w->fired) continue;
      w->fired = true;
      signals.push_back(w->signal);
    }
    waiters.clear();
  }
  changed.notify_all();
  fire(signals);
}

void Event::host_reset() noexcept {
  std::lock_guard lock(g_event_mutex);
  signaled = false;
  has_timestamp = false;
  timestamp = {};
}

ze_result_t Event::host_wait(uint64_t timeout_ns) noexcept {
  std::unique_lock lock(g_event_mutex);
  if (signaled) return ZE_RESULT_SUCCESS;
  if (timeout_ns == 0) return ZE_RESULT_NOT_READY;
  if (timeout_ns == UINT64_MAX) {
    changed.wait(lock, [&] { return signaled; });
    return ZE_RESULT_SUCCESS;
  }
  const bool done = changed.wait_for(lock, std::chrono::nanoseconds(timeout_ns > INT64_MAX ? INT64_MAX : timeout_ns),
                                     [&] { return signaled; });
  return done ? ZE_RESULT_SUCCESS : ZE_RESULT_NOT_READY;
}

namespace {

void destroy_event(Event* event) noexcept {
  std::vector<udal_event_t> signals;
  {
    std::lock_guard lock(g_event_mutex);
    for (Waiter& w : g_waiters) {
      if (w.event != event) continue;
      w.event = nullptr;
      if (!w.fired) {
        w.fired = true;
        signals.push_back(w.signal);
      }
    }
    event->waiters.clear();
    event->magic = 0;
    if (event->pool != nullptr) {
      auto& list = event->pool->events;
      list.erase(std::remove(list.begin(), list.end(), event), list.end());
    }
  }
  fire(signals);
  std::unique_ptr<Event> owned(event);
}

ze_result_t ZE_APICALL event_pool_create(ze_context_handle_t hContext,
                                         const ze_event_pool_desc_t* desc, uint32_t numDevices,
                                         ze_device_handle_t* phDevices,
                                         ze_event_pool_handle_t* phEventPool) {
  static constexpr const char* fn = "zeEventPoolCreate";
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_NOT_NULL(desc, fn);
  ZE_NOT_NULL(phEventPool, fn);
  *phEventPool = nullptr;
  if (numDevices > 0 && phDevices == nullptr) {
    return fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "{}: phDevices is NULL with {} devices", fn,
                numDevices);
  }
  if (desc->count == 0) return fail(ZE_RESULT_ERROR_INVALID_SIZE, "{}: desc->count is 0", fn);
  const ze_event_pool_flags_t known =
      ZE_EVENT_POOL_FLAG_HOST_VISIBLE | ZE_EVENT_POOL_FLAG_IPC | ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP;
  if (desc->flags & ~known) {
    return fail(ZE_RESULT_ERROR_INVALID_ENUMERATION, "{}: desc->flags {:#x} has unknown bits", fn,
                desc->flags);
  }
  if (desc->flags & ZE_EVENT_POOL_FLAG_IPC) {
    return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "{}: libze_udal has no IPC event pools", fn);
  }
  for (uint32_t i = 0; i < numDevices; ++i) {
    Device* device = from_handle<Device>(phDevices[i]);
    if (device == nullptr) {
      return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "{}: phDevices[{}] is not a device", fn, i);
    }
  }
  return guard(fn, [&] {
    auto pool = std::make_unique<EventPool>();
    pool->context = context;
    pool->flags = desc->flags;
    pool->count = desc->count;
    pool->magic = EventPool::kMagic;
    *phEventPool = to_handle<ze_event_pool_handle_t>(pool.release());
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL event_pool_destroy(ze_event_pool_handle_t hEventPool) {
  static constexpr const char* fn = "zeEventPoolDestroy";
  ZE_OBJECT(EventPool, pool, hEventPool, fn);
  std::vector<Event*> left;
  {
    std::lock_guard lock(g_event_mutex);
    left = pool->events;
  }
  for (Event* e : left) destroy_event(e);  // as the application should have
  pool->magic = 0;
  std::unique_ptr<EventPool> owned(pool);
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL event_create(ze_event_pool_handle_t hEventPool, const ze_event_desc_t* desc,
                                    ze_event_handle_t* phEvent) {
  static constexpr const char* fn = "zeEventCreate";
  ZE_OBJECT(EventPool, pool, hEventPool, fn);
  ZE_NOT_NULL(desc, fn);
  ZE_NOT_NULL(phEvent, fn);
  *phEvent = nullptr;
  if (desc->index >= pool->count) {
    return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: desc->index {} is not below the pool's {}",
                fn, desc->index, pool->count);
  }
  return guard(fn, [&] {
    auto event = std::make_unique<Event>();
    event->pool = pool;
    event->index = desc->index;
    event->magic = Event::kMagic;
    // Intel's driver lets an index be created again (the events then share a slot); here
    // each is its own event.
    std::lock_guard lock(g_event_mutex);
    pool->events.push_back(event.get());
    *phEvent = to_handle<ze_event_handle_t>(event.release());
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL event_destroy(ze_event_handle_t hEvent) {
  static constexpr const char* fn = "zeEventDestroy";
  ZE_OBJECT(Event, event, hEvent, fn);
  destroy_event(event);
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL event_host_signal(ze_event_handle_t hEvent) {
  static constexpr const char* fn = "zeEventHostSignal";
  ZE_OBJECT(Event, event, hEvent, fn);
  event->host_signal();
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL event_host_synchronize(ze_event_handle_t hEvent, uint64_t timeout) {
  static constexpr const char* fn = "zeEventHostSynchronize";
  ZE_OBJECT(Event, event, hEvent, fn);
  return event->host_wait(timeout);
}

ze_result_t ZE_APICALL event_query_status(ze_event_handle_t hEvent) {
  static constexpr const char* fn = "zeEventQueryStatus";
  ZE_OBJECT(Event, event, hEvent, fn);
  return event->host_wait(0);
}

ze_result_t ZE_APICALL event_host_reset(ze_event_handle_t hEvent) {
  static constexpr const char* fn = "zeEventHostReset";
  ZE_OBJECT(Event, event, hEvent, fn);
  event->host_reset();
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL event_query_kernel_timestamp(ze_event_handle_t hEvent,
                                                    ze_kernel_timestamp_result_t* dstptr) {
  static constexpr const char* fn = "zeEventQueryKernelTimestamp";
  ZE_OBJECT(Event, event, hEvent, fn);
  ZE_NOT_NULL(dstptr, fn);
  if (!event->pool->timestamps()) {
    return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,
                "{}: the event's pool was created without ZE_EVENT_POOL_FLAG_KERNEL_TIMESTAMP", fn);
  }
  std::lock_guard lock(g_event_mutex);
  if (!event->signaled) return ZE_RESULT_NOT_READY;
  *dstptr = event->timestamp;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL event_pool_get_ipc_handle(ze_event_pool_handle_t hEventPool,
                                                 ze_ipc_event_pool_handle_t*) {
  static constexpr const char* fn = "zeEventPoolGetIpcHandle";
  ZE_OBJECT(EventPool, pool, hEventPool, fn);
  (void)pool;
  return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "{}: libze_udal has no IPC", fn);
}

// ----- fences ---------------------------------------------------------------------------

ze_result_t ZE_APICALL fence_create(ze_command_queue_handle_t hCommandQueue,
                                    const ze_fence_desc_t* desc, ze_fence_handle_t* phFence) {
  static constexpr const char* fn = "zeFenceCreate";
  ZE_OBJECT(Queue, queue, hCommandQueue, fn);
  ZE_NOT_NULL(desc, fn);
  ZE_NOT_NULL(phFence, fn);
  *phFence = nullptr;
  if (desc->flags & ~static_cast<ze_fence_flags_t>(ZE_FENCE_FLAG_SIGNALED)) {
    return fail(ZE_RESULT_ERROR_INVALID_ENUMERATION, "{}: desc->flags {:#x} has unknown bits", fn,
                desc->flags);
  }
  return guard(fn, [&] {
    auto fence = std::make_unique<Fence>();
    fence->queue = queue;
    fence->signaled = (desc->flags & ZE_FENCE_FLAG_SIGNALED) != 0;
    fence->magic = Fence::kMagic;
    *phFence = to_handle<ze_fence_handle_t>(fence.release());
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL fence_destroy(ze_fence_handle_t hFence) {
  static constexpr const char* fn = "zeFenceDestroy";
  ZE_OBJECT(Fence, fence, hFence, fn);
  {
    // A submission still to signal it would write freed memory: wait for it.
    std::unique_lock lock(fence->mutex);
    fence->changed.wait(lock, [&] { return fence->pending == 0; });
  }
  fence->magic = 0;
  std::unique_ptr<Fence> owned(fence);
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL fence_host_synchronize(ze_fence_handle_t hFence, uint64_t timeout) {
  static constexpr const char* fn = "zeFenceHostSynchronize";
  ZE_OBJECT(Fence, fence, hFence, fn);
  std::unique_lock lock(fence->mutex);
  if (fence->signaled) return ZE_RESULT_SUCCESS;
  if (timeout == 0) return ZE_RESULT_NOT_READY;
  if (timeout == UINT64_MAX) {
    fence->changed.wait(lock, [&] { return fence->signaled; });
    return ZE_RESULT_SUCCESS;
  }
  const bool done =
      fence->changed.wait_for(lock, std::chrono::nanoseconds(timeout > INT64_MAX ? INT64_MAX : timeout),
                              [&] { return fence->signaled; });
  return done ? ZE_RESULT_SUCCESS : ZE_RESULT_NOT_READY;
}

ze_result_t ZE_APICALL fence_query_status(ze_fence_handle_t hFence) {
  static constexpr const char* fn = "zeFenceQueryStatus";
  ZE_OBJECT(Fence, fence, hFence, fn);
  std::lock_guard lock(fence->mutex);
  return fence->signaled ? ZE_RESULT_SUCCESS : ZE_RESULT_NOT_READY;
}

ze_result_t ZE_APICALL fence_reset(ze_fence_handle_t hFence) {
  static constexpr const char* fn = "zeFenceReset";
  ZE_OBJECT(Fence, fence, hFence, fn);
  std::lock_guard lock(fence->mutex);
  fence->signaled = false;
  return ZE_RESULT_SUCCESS;
}

}  // namespace

void fill(ze_event_pool_dditable_t* t) noexcept {
  t->pfnCreate = event_pool_create;
  t->pfnDestroy = event_pool_destroy;
  t->pfnGetIpcHandle = event_pool_get_ipc_handle;
}

void fill(ze_event_dditable_t* t) noexcept {
  t->pfnCreate = event_create;
  t->pfnDestroy = event_destroy;
  t->pfnHostSignal = event_host_signal;
  t->pfnHostSynchronize = event_host_synchronize;
  t->pfnQueryStatus = event_query_status;
  t->pfnHostReset = event_host_reset;
  t->pfnQueryKernelTimestamp = event_query_kernel_timestamp;
}

void fill(ze_fence_dditable_t* t) noexcept {
  t->pfnCreate = fence_create;
  t->pfnDestroy = fence_destroy;
  t->pfnHostSynchronize = fence_host_synchronize;
  t->pfnQueryStatus = fence_query_status;
  t->pfnReset = fence_reset;
}

}  // namespace udal::ze
