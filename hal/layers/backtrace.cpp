#include "backtrace.h"

#include <fmt/format.h>

#include <cstdint>
#include <dlfcn.h>
#include <execinfo.h>

namespace udal::hal::layers {
namespace {

// Enough for capture_frames, the layer entries, libudal's udal_* function and the caller.
constexpr int kShortFrames = 10;

const void* libudal_base() noexcept {
  static const void* base = [] {
    Dl_info info{};
    return dladdr(reinterpret_cast<const void*>(&libudal_base), &info) != 0 ? info.dli_fbase
                                                                              : nullptr;
  }();
  return base;
}

bool inside_libudal(void* pc, Dl_info& info) noexcept {
  if (dladdr(pc, &info) == 0)
    return false;
  return info.dli_fbase == libudal_base();
}

std::string frame_text(void* pc, const Dl_info& info) {
  // backtrace() gives return addresses; the call is the instruction before.
  auto address = reinterpret_cast<uintptr_t>(pc);
  const char* file = info.dli_fname ? info.dli_fname : "?";
  if (info.dli_sname != nullptr && info.dli_saddr != nullptr) {
    return fmt::format("{}+{:#x} ({})", info.dli_sname,
                       address - reinterpret_cast<uintptr_t>(info.dli_saddr), file);
  }
  if (info.dli_fbase != nullptr)
    return fmt::format("{}+{:#x}", file, address - 1 - reinterpret_cast<uintptr_t>(info.dli_fbase));
  return fmt::format("{:#x}", address);
}

} // namespace

Frames capture_frames(bool full) noexcept {
  Frames frames;
  int n = backtrace(frames.pc.data(), full ? static_cast<int>(Frames::kMax) : kShortFrames);
  frames.count = n > 0 ? static_cast<uint32_t>(n) : 0;
  return frames;
}

// The index of the first frame past libudal's own (the frames before them are backtrace()
// itself, or a sanitizer's interceptor of it), or |frames.count|.
uint32_t first_caller_frame(const Frames& frames) {
  bool seen_libudal = false;
  for (uint32_t i = 0; i < frames.count; ++i) {
    Dl_info info{};
    bool inside = inside_libudal(frames.pc[i], info);
    if (inside)
      seen_libudal = true;
    else if (seen_libudal)
      return i;
  }
  return frames.count;
}

std::string caller_text(const Frames& frames) {
  uint32_t i = first_caller_frame(frames);
  if (i == frames.count)
    return "an unknown caller";
  Dl_info info{};
  if (dladdr(frames.pc[i], &info) == 0 || info.dli_fbase == nullptr)
    return fmt::format("{}", frames.pc[i]);
  return frame_text(frames.pc[i], info);
}

std::string stack_text(const Frames& frames, const char* indent) {
  std::string text;
  uint32_t shown = 0;
  for (uint32_t i = first_caller_frame(frames); i < frames.count; ++i) {
    Dl_info info{};
    if (dladdr(frames.pc[i], &info) == 0)
      info = Dl_info{};
    text += fmt::format("{}#{} {}\n", indent, shown++, frame_text(frames.pc[i], info));
  }
  if (text.empty())
    text = fmt::format("{}(no frame outside libudal)\n", indent);
  return text;
}

} // namespace udal::hal::layers
