// transfer.h — the bytes-moving work of copy, fill, write and read operations.
#ifndef UDAL_CPU_TRANSFER_H_
#define UDAL_CPU_TRANSFER_H_

#include <cstddef>
#include <cstdint>

#include "worker_pool.h"

namespace udal::cpu {

// A fill pattern as captured at enqueue time.
struct FillPattern {
  uint8_t bytes[16];
  uint32_t size;  // 1, 2, 4, 8 or 16
};

// memcpy of |size| bytes; big copies are split over the device's workers.
void copy_bytes(ExecContext& context, std::byte* dst, const std::byte* src, uint64_t size) noexcept;

// Fills |size| bytes at |dst| with |pattern| repeated from dst[0]; the last repetition is
// truncated. Big fills are split over the device's workers.
void fill_bytes(ExecContext& context, std::byte* dst, uint64_t size,
                const FillPattern& pattern) noexcept;

}  // namespace udal::cpu

#endif  // UDAL_CPU_TRANSFER_H_
