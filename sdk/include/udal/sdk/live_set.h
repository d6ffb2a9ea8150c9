// live_set.h — the objects of one type a driver handed out and the application has not
// destroyed yet. Header-only.
//
// Nothing of a driver may run once driver_destroy returns (libudal may unload it), so
// driver_destroy takes what the application left behind and destroys it: streams first
// (their destructors finish the queued work and stop their threads), after releasing the
// HOST_SIGNAL events a stream may be waiting on, then kernels, modules, events, buffers.
//
//   struct Driver { ...; udal::sdk::LiveSet<Stream> streams; udal::sdk::LiveSet<Buffer> buffers; };
//   create:  driver->buffers.add(buffer.get());          // may throw std::bad_alloc
//   destroy: driver->buffers.remove(buffer);
//   driver_destroy: driver->streams.destroy_all(); ... driver->buffers.destroy_all();
// or, for a driver whose objects follow the template's shape, destroy_left_behind(*driver).
#ifndef UDAL_SDK_LIVE_SET_H_
#define UDAL_SDK_LIVE_SET_H_

#include <memory>
#include <mutex>
#include <type_traits>
#include <unordered_set>

namespace udal::sdk {

template <typename T> class LiveSet {
public:
  // Throws std::bad_alloc.
  void add(T* object) {
    std::lock_guard<std::mutex> lock(mutex_);
    objects_.insert(object);
  }
  void remove(T* object) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    objects_.erase(object);
  }
  // Every object still live, and forgets them. Never allocates (driver_destroy cannot fail).
  std::unordered_set<T*> take_all() noexcept {
    std::unordered_set<T*> all;
    std::lock_guard<std::mutex> lock(mutex_);
    all.swap(objects_);
    return all;
  }
  // Deletes every object still live (each was made with std::make_unique<T> / new T).
  void destroy_all() noexcept {
    for (T* object : take_all())
      std::unique_ptr<T> owned(object);
  }

private:
  std::mutex mutex_;
  std::unordered_set<T*> objects_;
};

// driver_destroy's work for a driver shaped like sdk/template (and the CPU driver): |driver|
// has LiveSets `events`, `streams`, `kernels`, `modules` and `buffers`, and each event an
// executor EventState `state` (udal/sdk/executor.h). HOST_SIGNAL events left unsignalled
// release the streams waiting on them; then streams (finishing their work, stopping their
// threads), kernels, modules, events and buffers go, in that order.
template <typename Driver> void destroy_left_behind(Driver& driver) noexcept {
  const auto events = driver.events.take_all();
  for (auto* event : events)
    event->state.release_host_signal();
  driver.streams.destroy_all();
  driver.kernels.destroy_all();
  driver.modules.destroy_all();
  for (auto* event : events)
    std::unique_ptr<std::remove_pointer_t<decltype(event)>> owned(event);
  driver.buffers.destroy_all();
}

} // namespace udal::sdk

#endif // UDAL_SDK_LIVE_SET_H_
