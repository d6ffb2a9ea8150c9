#include "transfer.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace udal::cpu {
namespace {

// Below this a copy or fill is not worth waking workers for: it takes about as long as
// the wake-up itself at memory bandwidth.
constexpr uint64_t kParallelBytes = uint64_t{8} << 20;

// Above this a copy or a patterned fill uses non-temporal stores (the data would not stay
// in cache).
constexpr uint64_t kStreamingBytes = uint64_t{4} << 20;

// One piece per thread (the caller takes part), not many small chunks: glibc's memcpy and
// memset switch to non-temporal stores only above a size threshold of several MiB, and
// 2 MiB chunks stayed below it, which cost a third of the bandwidth at 256 MiB (6.5 GB/s
// against memcpy's 11.4 GB/s, measured on this project's 2-core build machines).
uint64_t piece_bytes(const ExecContext& context, uint64_t size) noexcept {
  const uint64_t parts = uint64_t{context.pool.worker_count()} + 1;
  const uint64_t piece = (size + parts - 1) / parts;
  return (piece + 4095) & ~uint64_t{4095};
}

// Fills [dst, dst + size) with the pattern starting at its byte |phase|.
void fill_serial(std::byte* dst, uint64_t size, const FillPattern& pattern, uint32_t phase) noexcept {
  if (size == 0) return;
  // A pattern of one repeated byte (zeroing, most often) is a memset, which streams.
  if (std::all_of(pattern.bytes, pattern.bytes + pattern.size,
                  [&](auto byte) { return byte == pattern.bytes[0]; })) {
    std::memset(dst, static_cast<int>(pattern.bytes[0]), size);
    return;
  }
#if defined(__x86_64__)
  // Large fills of a pattern of up to 8 bytes use a string store (rep stosq), as glibc's
  // memset does for its large sizes: like streaming stores it does not read the lines it
  // writes, and it was 5 % faster than 16-byte streaming stores at 256 MiB on the 2-core
  // build machines (udal-bench fill/udal:cpu 47.x against 44.8 GB/s, limit:cores 47.5).
  // Every pattern size up to 8 divides 8, so one 8-byte word in the right phase fills every
  // aligned word.
  if (size >= kStreamingBytes && pattern.size <= 8) {
    const uint64_t head = (8 - (reinterpret_cast<uintptr_t>(dst) & 7)) & 7;
    for (uint64_t i = 0; i < head; ++i) {
      dst[i] = static_cast<std::byte>(pattern.bytes[(phase + i) % pattern.size]);
    }
    uint64_t word = 0;
    for (uint32_t i = 0; i < 8; ++i) {
      word |= uint64_t{pattern.bytes[(phase + head + i) % pattern.size]} << (8 * i);
    }
    const uint64_t words = (size - head) / 8;
    void* at = dst + head;
    uint64_t count = words;
    asm volatile("rep stosq" : "+D"(at), "+c"(count) : "a"(word) : "memory");
    for (uint64_t i = head + words * 8; i < size; ++i) {
      dst[i] = static_cast<std::byte>(pattern.bytes[(phase + i) % pattern.size]);
    }
    return;
  }
#endif
#if defined(__SSE2__)
  // Large fills stream: ordinary stores first read every destination line, which cost a
  // fifth of memset's bandwidth at 256 MiB. Every pattern size divides 16, so one 16-byte
  // vector in the right phase fills every aligned block.
  if (size >= kStreamingBytes) {
    const uint64_t head = (16 - (reinterpret_cast<uintptr_t>(dst) & 15)) & 15;
    for (uint64_t i = 0; i < head; ++i) {
      dst[i] = static_cast<std::byte>(pattern.bytes[(phase + i) % pattern.size]);
    }
    alignas(16) uint8_t block[16];
    for (uint32_t i = 0; i < 16; ++i) block[i] = pattern.bytes[(phase + head + i) % pattern.size];
    const __m128i vector = _mm_load_si128(reinterpret_cast<const __m128i*>(block));
    const uint64_t body_end = head + ((size - head) & ~uint64_t{15});
    for (uint64_t at = head; at < body_end; at += 16) {
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + at), vector);
    }
    _mm_sfence();  // streamed stores are weakly ordered: publish them before completion
    for (uint64_t at = body_end; at < size; ++at) {
      dst[at] = static_cast<std::byte>(pattern.bytes[(phase + at) % pattern.size]);
    }
    return;
  }
#endif
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

// Copies |size| bytes. Large copies stream their stores: glibc's memcpy writes through the
// cache below its own (larger, per-thread) threshold, so every destination line is first
// read, and at 256 MiB split over the cores that cost a third of the bandwidth the host
// reaches with streaming stores (udal-bench copy/limit:cores-nt, 29.4 against 18.6 GB/s).
void copy_serial(std::byte* dst, const std::byte* src, uint64_t size) noexcept {
#if defined(__SSE2__)
  if (size >= kStreamingBytes) {
    const uint64_t head = (16 - (reinterpret_cast<uintptr_t>(dst) & 15)) & 15;
    std::memcpy(dst, src, head);
    const uint64_t body_end = head + ((size - head) & ~uint64_t{63});
    for (uint64_t at = head; at < body_end; at += 64) {
      const auto* s = reinterpret_cast<const __m128i*>(src + at);
      auto* d = reinterpret_cast<__m128i*>(dst + at);
      const __m128i a = _mm_loadu_si128(s);
      const __m128i b = _mm_loadu_si128(s + 1);
      const __m128i c = _mm_loadu_si128(s + 2);
      const __m128i e = _mm_loadu_si128(s + 3);
      _mm_stream_si128(d, a);
      _mm_stream_si128(d + 1, b);
      _mm_stream_si128(d + 2, c);
      _mm_stream_si128(d + 3, e);
    }
    _mm_sfence();  // streamed stores are weakly ordered: publish them before completion
    std::memcpy(dst + body_end, src + body_end, size - body_end);
    return;
  }
#endif
  std::memcpy(dst, src, size);
}

}  // namespace

void copy_bytes(ExecContext& context, std::byte* dst, const std::byte* src, uint64_t size) noexcept {
  if (size < kParallelBytes || context.pool.worker_count() == 0) {
    copy_serial(dst, src, size);
    return;
  }
  const uint64_t piece = piece_bytes(context, size);
  const uint64_t chunks = (size + piece - 1) / piece;
  auto body = [&](uint64_t begin, uint64_t end, LocalMemory&) noexcept {
    const uint64_t first = begin * piece;
    const uint64_t last = std::min(size, end * piece);
    copy_serial(dst + first, src + first, last - first);
  };
  context.pool.parallel_for(chunks, 1, body, context.local);
}

void fill_bytes(ExecContext& context, std::byte* dst, uint64_t size,
                const FillPattern& pattern) noexcept {
  if (size < kParallelBytes || context.pool.worker_count() == 0) {
    fill_serial(dst, size, pattern, 0);
    return;
  }
  const uint64_t piece = piece_bytes(context, size);
  const uint64_t chunks = (size + piece - 1) / piece;
  auto body = [&](uint64_t begin, uint64_t end, LocalMemory&) noexcept {
    const uint64_t first = begin * piece;
    const uint64_t last = std::min(size, end * piece);
    fill_serial(dst + first, last - first, pattern, static_cast<uint32_t>(first % pattern.size));
  };
  context.pool.parallel_for(chunks, 1, body, context.local);
}

}  // namespace udal::cpu
