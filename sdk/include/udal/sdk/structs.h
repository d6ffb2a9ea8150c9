// structs.h — reading and writing versioned structs across the ABI.
//
// A caller built against an older header passes a smaller struct_size. A callee reads only
// the bytes inside it (the rest of its copy is zero, which every appended field takes as
// "default"), and writes only the bytes inside an out struct's struct_size.
#ifndef UDAL_SDK_STRUCTS_H_
#define UDAL_SDK_STRUCTS_H_

#include <cstddef>
#include <cstring>
#include <type_traits>

namespace udal::sdk {

// A full copy of |in|: the fields inside in->struct_size, zeros past it. A null |in| gives
// a zeroed struct with struct_size = sizeof(T) (the "defaults" of an optional desc).
template <typename T>
T read_struct(const T* in) noexcept {
  static_assert(std::is_trivially_copyable_v<T> && offsetof(T, struct_size) == 0);
  T copy;
  std::memset(static_cast<void*>(&copy), 0, sizeof(T));
  if (in == nullptr) {
    copy.struct_size = sizeof(T);
    return copy;
  }
  std::size_t n = in->struct_size < sizeof(T) ? in->struct_size : sizeof(T);
  std::memcpy(static_cast<void*>(&copy), in, n);
  return copy;
}

// Whether |field| of T lies wholly inside |struct_size| bytes.
#define UDAL_SDK_HAS_FIELD(T, struct_size, field) \
  ((struct_size) >= offsetof(T, field) + sizeof(((T*)nullptr)->field))

// Writes |value| into |out|, only the bytes inside out->struct_size; out's own struct_size
// and next are kept.
template <typename T>
void write_struct(T* out, const T& value) noexcept {
  static_assert(std::is_trivially_copyable_v<T> && offsetof(T, struct_size) == 0 &&
                offsetof(T, next) == sizeof(std::size_t));
  constexpr std::size_t header = offsetof(T, next) + sizeof(const void*);
  std::size_t n = out->struct_size < sizeof(T) ? out->struct_size : sizeof(T);
  if (n > header) {
    std::memcpy(reinterpret_cast<char*>(out) + header,
                reinterpret_cast<const char*>(&value) + header, n - header);
  }
}

// Clears the bytes of |out| past its header and inside its struct_size (outputs are
// cleared on entry, even on failure).
template <typename T>
void clear_struct(T* out) noexcept {
  constexpr std::size_t header = offsetof(T, next) + sizeof(const void*);
  std::size_t n = out->struct_size < sizeof(T) ? out->struct_size : sizeof(T);
  if (n > header) std::memset(reinterpret_cast<char*>(out) + header, 0, n - header);
}

}  // namespace udal::sdk

#endif  // UDAL_SDK_STRUCTS_H_
