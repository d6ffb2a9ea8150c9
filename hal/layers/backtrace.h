// Where an object was created (or destroyed, or mapped), for the validation layer's
// findings and leak report: glibc backtrace() at the call, symbolized only when a message
// needs it.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace udal::hal::layers {

struct Frames {
  static constexpr uint32_t kMax = 32;
  std::array<void*, kMax> pc{};
  uint32_t count = 0;

  bool empty() const { return count == 0; }
};

// The calling thread's stack: a few frames (enough to get past libudal to the caller), or
// up to Frames::kMax with |full|.
Frames capture_frames(bool full) noexcept;

// The first frame outside libudal, as "symbol+0x1f (/path/to/app)" or, for a program
// without exported symbols, "/path/to/app+0x1234" (an offset addr2line takes). "an
// unknown caller" when there is none.
std::string caller_text(const Frames& frames);

// Every frame outside libudal, one per line, each line starting with |indent|.
std::string stack_text(const Frames& frames, const char* indent);

} // namespace udal::hal::layers
