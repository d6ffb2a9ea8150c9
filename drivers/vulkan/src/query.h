// query.h — timestamp queries for TIMING events, taken from a few large query pools and
// given back when the last record that uses one is gone (no pool per record).
#ifndef UDAL_VULKAN_QUERY_H_
#define UDAL_VULKAN_QUERY_H_

#include <memory>
#include <mutex>
#include <vector>

#include "vk_util.h"

namespace udal::vulkan {

class TimestampQueries;

// One timestamp query. Held by the event record that owns it and by the batch that
// writes it; returns to its pool when both are done.
class TimestampQuery {
 public:
  TimestampQuery(TimestampQueries* owner, VkQueryPool pool, uint32_t index) noexcept
      : owner_(owner), pool_(pool), index_(index) {}
  ~TimestampQuery();
  TimestampQuery(const TimestampQuery&) = delete;
  TimestampQuery& operator=(const TimestampQuery&) = delete;

  VkQueryPool pool() const noexcept { return pool_; }
  uint32_t index() const noexcept { return index_; }

 private:
  TimestampQueries* owner_;
  VkQueryPool pool_;
  uint32_t index_;
};

class TimestampQueries {
 public:
  explicit TimestampQueries(VkDevice device) noexcept : device_(device) {}
  TimestampQueries(const TimestampQueries&) = delete;
  TimestampQueries& operator=(const TimestampQueries&) = delete;

  // A free query, or nullptr with the VkResult in |*error|. Throws std::bad_alloc.
  std::shared_ptr<TimestampQuery> acquire(VkResult* error);

 private:
  friend class TimestampQuery;
  void release(VkQueryPool pool, uint32_t index) noexcept;

  VkDevice device_;
  std::mutex mutex_;
  std::vector<UniqueQueryPool> pools_;
  std::vector<std::pair<VkQueryPool, uint32_t>> free_;
};

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_QUERY_H_
