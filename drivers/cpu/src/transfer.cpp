#include "transfer.h"

#include <algorithm>
#include <cstring>

namespace udal::cpu {
namespace {

// Below this a copy or fill is not worth waking workers for: it takes about as long as
// the wake-up itself at memory bandwidth.
constexpr uint64_t kParallelBytes = uint64_t{8} << 20;
constexpr uint64_t kChunkBytes = uint64_t{2} << 20;

// Fills [dst, dst + size) with the pattern starting at its byte |phase|.
void fill_serial(std::byte* dst, uint64_t size, const FillPattern& pattern, uint32_t phase) {
  if (size == 0) return;
  if (pattern.size == 1) {
    std::memset(dst, pattern.bytes[0], size);
    return;
  }
  // Write one 256-byte tile (a multiple of every pattern size, so it ends in phase), then
  // copy it over the rest; the last copy truncates the last repetition.
  std::byte tile[256];
  for (uint32_t i = 0; i < sizeof(tile); ++i) {
    tile[i] = static_cast<std::byte>(pattern.bytes[(phase + i) % pattern.size]);
  }
  for (uint64_t done = 0; done < size; done += sizeof(tile)) {
    std::memcpy(dst + done, tile, std::min<uint64_t>(sizeof(tile), size - done));
  }
}

}  // namespace

void copy_bytes(ExecContext& context, std::byte* dst, const std::byte* src, uint64_t size) noexcept {
  if (size < kParallelBytes || context.pool.worker_count() == 0) {
    std::memcpy(dst, src, size);
    return;
  }
  const uint64_t chunks = (size + kChunkBytes - 1) / kChunkBytes;
  WorkerPool::Body body = [&](uint64_t begin, uint64_t end, LocalMemory&) {
    const uint64_t first = begin * kChunkBytes;
    const uint64_t last = std::min(size, end * kChunkBytes);
    std::memcpy(dst + first, src + first, last - first);
  };
  context.pool.parallel_for(chunks, 1, body, context.local);
}

void fill_bytes(ExecContext& context, std::byte* dst, uint64_t size,
                const FillPattern& pattern) noexcept {
  if (size < kParallelBytes || context.pool.worker_count() == 0) {
    fill_serial(dst, size, pattern, 0);
    return;
  }
  const uint64_t chunks = (size + kChunkBytes - 1) / kChunkBytes;
  WorkerPool::Body body = [&](uint64_t begin, uint64_t end, LocalMemory&) {
    const uint64_t first = begin * kChunkBytes;
    const uint64_t last = std::min(size, end * kChunkBytes);
    fill_serial(dst + first, last - first, pattern, static_cast<uint32_t>(first % pattern.size));
  };
  context.pool.parallel_for(chunks, 1, body, context.local);
}

}  // namespace udal::cpu
