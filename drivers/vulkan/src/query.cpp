#include "query.h"

namespace udal::vulkan {
namespace {

constexpr uint32_t kQueriesPerPool = 256;

}  // namespace

TimestampQuery::~TimestampQuery() { owner_->release(pool_, index_); }

std::shared_ptr<TimestampQuery> TimestampQueries::acquire(VkResult* error) {
  std::lock_guard lock(mutex_);
  if (free_.empty()) {
    VkQueryPoolCreateInfo info{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    info.queryType = VK_QUERY_TYPE_TIMESTAMP;
    info.queryCount = kQueriesPerPool;
    VkQueryPool pool = VK_NULL_HANDLE;
    *error = vkCreateQueryPool(device_, &info, nullptr, &pool);
    if (*error != VK_SUCCESS) return nullptr;
    pools_.emplace_back(device_, pool);
    free_.reserve(pools_.size() * kQueriesPerPool);
    for (uint32_t i = kQueriesPerPool; i-- > 0;) free_.emplace_back(pool, i);
  }
  auto [pool, index] = free_.back();
  // Built before the slot leaves the free list, so a failed allocation loses nothing.
  auto query = std::make_shared<TimestampQuery>(this, pool, index);
  free_.pop_back();
  return query;
}

void TimestampQueries::release(VkQueryPool pool, uint32_t index) noexcept {
  std::lock_guard lock(mutex_);
  // Reserved when the pool was made, so this never allocates.
  free_.emplace_back(pool, index);
}

}  // namespace udal::vulkan
