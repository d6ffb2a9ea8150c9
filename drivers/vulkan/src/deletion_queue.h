// deletion_queue.h — what a stream's work in flight uses (buffers destroyed meanwhile,
// staging memory, kernels, timestamp queries, the points a submission waits on), kept alive
// until the stream's timeline reaches the value of the work that uses it.
//
// One queue per stream, keyed by values of the stream's timeline: an object is deferred to
// the value of the node that uses it, and the worker collects everything up to the value it
// has just seen completed. Values are deferred in non-decreasing order (a stream enqueues in
// order); were one out of order, it and what follows it would only be released later, never
// earlier.
#ifndef UDAL_VULKAN_DELETION_QUEUE_H_
#define UDAL_VULKAN_DELETION_QUEUE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <utility>
#include <vector>

namespace udal::vulkan {

using KeepAlive = std::vector<std::shared_ptr<const void>>;

class DeletionQueue {
 public:
  struct Entry {
    uint64_t value;
    KeepAlive objects;
  };
  using Entries = std::list<Entry>;

  // Keeps |objects| until collect() reaches |value|. Throws std::bad_alloc.
  void defer(uint64_t value, KeepAlive objects) {
    if (objects.empty()) return;
    if (!entries_.empty() && entries_.back().value == value) {
      KeepAlive& last = entries_.back().objects;
      last.insert(last.end(), std::make_move_iterator(objects.begin()),
                  std::make_move_iterator(objects.end()));
      return;
    }
    entries_.push_back(Entry{value, std::move(objects)});
  }

  // Moves what was kept for values up to |reached| into |*out| (no allocation, no throw), for
  // the caller to drop outside its locks.
  void collect(uint64_t reached, Entries* out) noexcept {
    auto end = entries_.begin();
    while (end != entries_.end() && end->value <= reached) ++end;
    out->splice(out->end(), entries_, entries_.begin(), end);
  }

  bool empty() const noexcept { return entries_.empty(); }

 private:
  Entries entries_;
};

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_DELETION_QUEUE_H_
