// structs.h — reading, writing and checking the typed structs of the ABI.
//
// Every struct a caller passes or fills begins with the same header (udal.h):
//   udal_structure_type_t type;  uint32_t struct_size;  const void* next;
// A caller built against an older header passes a smaller struct_size. A callee reads only
// the bytes inside it (the rest of its copy is zero, which every appended field takes as
// "default"), and writes only the bytes inside an out struct's struct_size.
//
// libudal has already checked `type`, the struct_size against the 1.0 size, and refused
// every chained struct of a core type; chained structs of the vendor range reach the driver,
// which must refuse those it does not know. So the one call a driver makes per struct is
//   if (udal_result_t r = udal::sdk::check_struct("udal_buffer_create", "desc", desc)) return r;
// which checks the type (cheap, and it keeps a driver safe when called without libudal)
// and refuses every chained struct (check_chain), then reads it with read_struct; read_desc
// and read_optional_desc do both (and refuse a NULL struct) in one call.
#ifndef UDAL_SDK_STRUCTS_H_
#define UDAL_SDK_STRUCTS_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <type_traits>

#include "udal/sdk/error.h"
#include "udal/udal_driver.h"

namespace udal::sdk {

// ==========================================================================================
// The structure type of each struct
// ==========================================================================================

// The UDAL_STRUCTURE_TYPE_* of struct T (NONE for a type that is not a struct of the ABI).
template <typename T>
inline constexpr udal_structure_type_t structure_type_of = UDAL_STRUCTURE_TYPE_NONE;

// The C name of struct T, for messages.
template <typename T>
inline constexpr const char* struct_name_of = "(a struct)";

#define UDAL_SDK_STRUCT_(T, value)                                                          \
  template <>                                                                               \
  inline constexpr udal_structure_type_t structure_type_of<T> = value;                      \
  template <>                                                                               \
  inline constexpr const char* struct_name_of<T> = #T;
UDAL_SDK_STRUCT_(udal_instance_desc_t, UDAL_STRUCTURE_TYPE_INSTANCE_DESC)
UDAL_SDK_STRUCT_(udal_driver_status_t, UDAL_STRUCTURE_TYPE_DRIVER_STATUS)
UDAL_SDK_STRUCT_(udal_device_info_t, UDAL_STRUCTURE_TYPE_DEVICE_INFO)
UDAL_SDK_STRUCT_(udal_memory_usage_t, UDAL_STRUCTURE_TYPE_MEMORY_USAGE)
UDAL_SDK_STRUCT_(udal_buffer_desc_t, UDAL_STRUCTURE_TYPE_BUFFER_DESC)
UDAL_SDK_STRUCT_(udal_buffer_info_t, UDAL_STRUCTURE_TYPE_BUFFER_INFO)
UDAL_SDK_STRUCT_(udal_event_desc_t, UDAL_STRUCTURE_TYPE_EVENT_DESC)
UDAL_SDK_STRUCT_(udal_module_image_t, UDAL_STRUCTURE_TYPE_MODULE_IMAGE)
UDAL_SDK_STRUCT_(udal_module_desc_t, UDAL_STRUCTURE_TYPE_MODULE_DESC)
UDAL_SDK_STRUCT_(udal_module_info_t, UDAL_STRUCTURE_TYPE_MODULE_INFO)
UDAL_SDK_STRUCT_(udal_kernel_info_t, UDAL_STRUCTURE_TYPE_KERNEL_INFO)
UDAL_SDK_STRUCT_(udal_kernel_arg_info_t, UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO)
UDAL_SDK_STRUCT_(udal_launch_desc_t, UDAL_STRUCTURE_TYPE_LAUNCH_DESC)
UDAL_SDK_STRUCT_(udal_stream_desc_t, UDAL_STRUCTURE_TYPE_STREAM_DESC)
UDAL_SDK_STRUCT_(udal_driver_table_t, UDAL_STRUCTURE_TYPE_DRIVER_TABLE)
UDAL_SDK_STRUCT_(udal_driver_create_desc_t, UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC)
#undef UDAL_SDK_STRUCT_

// "UDAL_STRUCTURE_TYPE_BUFFER_DESC", "a vendor type" or "an unknown core type". Static.
inline const char* structure_type_name(udal_structure_type_t type) noexcept {
  switch (type) {
    case UDAL_STRUCTURE_TYPE_NONE: return "UDAL_STRUCTURE_TYPE_NONE";
    case UDAL_STRUCTURE_TYPE_INSTANCE_DESC: return "UDAL_STRUCTURE_TYPE_INSTANCE_DESC";
    case UDAL_STRUCTURE_TYPE_DRIVER_STATUS: return "UDAL_STRUCTURE_TYPE_DRIVER_STATUS";
    case UDAL_STRUCTURE_TYPE_DEVICE_INFO: return "UDAL_STRUCTURE_TYPE_DEVICE_INFO";
    case UDAL_STRUCTURE_TYPE_MEMORY_USAGE: return "UDAL_STRUCTURE_TYPE_MEMORY_USAGE";
    case UDAL_STRUCTURE_TYPE_BUFFER_DESC: return "UDAL_STRUCTURE_TYPE_BUFFER_DESC";
    case UDAL_STRUCTURE_TYPE_BUFFER_INFO: return "UDAL_STRUCTURE_TYPE_BUFFER_INFO";
    case UDAL_STRUCTURE_TYPE_EVENT_DESC: return "UDAL_STRUCTURE_TYPE_EVENT_DESC";
    case UDAL_STRUCTURE_TYPE_MODULE_IMAGE: return "UDAL_STRUCTURE_TYPE_MODULE_IMAGE";
    case UDAL_STRUCTURE_TYPE_MODULE_DESC: return "UDAL_STRUCTURE_TYPE_MODULE_DESC";
    case UDAL_STRUCTURE_TYPE_MODULE_INFO: return "UDAL_STRUCTURE_TYPE_MODULE_INFO";
    case UDAL_STRUCTURE_TYPE_KERNEL_INFO: return "UDAL_STRUCTURE_TYPE_KERNEL_INFO";
    case UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO: return "UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO";
    case UDAL_STRUCTURE_TYPE_LAUNCH_DESC: return "UDAL_STRUCTURE_TYPE_LAUNCH_DESC";
    case UDAL_STRUCTURE_TYPE_STREAM_DESC: return "UDAL_STRUCTURE_TYPE_STREAM_DESC";
    case UDAL_STRUCTURE_TYPE_DRIVER_TABLE: return "UDAL_STRUCTURE_TYPE_DRIVER_TABLE";
    case UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC: return "UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC";
    default:
      return static_cast<uint32_t>(type) >= UDAL_STRUCTURE_TYPE_VENDOR_BEGIN ? "a vendor type"
                                                                              : "an unknown core type";
  }
}

// Bytes of the header every struct begins with.
inline constexpr std::size_t kStructHeaderBytes = sizeof(udal_base_in_t);

// The longest `next` chain anyone walks; a longer one is taken for a cycle.
inline constexpr uint32_t kMaxChainLength = 64;

namespace detail {
template <typename T>
constexpr void assert_struct() {
  static_assert(std::is_trivially_copyable_v<T>, "ABI structs are plain C structs");
  static_assert(offsetof(T, type) == offsetof(udal_base_in_t, type) &&
                    offsetof(T, struct_size) == offsetof(udal_base_in_t, struct_size) &&
                    offsetof(T, next) == offsetof(udal_base_in_t, next),
                "T must begin with the struct header: type, struct_size, next");
  static_assert(structure_type_of<T> != UDAL_STRUCTURE_TYPE_NONE,
                "T is not a struct of udal.h / udal_driver.h");
}

#ifdef UDAL_DRIVER_NAME
inline constexpr const char* kDriverName = UDAL_DRIVER_NAME;
#else
inline constexpr const char* kDriverName = "(unnamed)";
#endif
}  // namespace detail

// ==========================================================================================
// Checks
// ==========================================================================================

// Refuses every struct chained on |next| (the `next` of the struct |what| passed to
// |function|) whose type is not in |known|: a driver must never ignore an extension it does
// not understand. Also refuses a chain longer than kMaxChainLength links (a cycle). |next|
// may be NULL (no chain). Sets the message and returns UDAL_ERROR_INVALID_ARGUMENT, e.g.
//   "udal_buffer_create: desc->next chains a struct of type 0x10001 (a vendor type), which
//    driver 'cpu' does not know"
inline udal_result_t check_chain(const char* function, const char* what, const void* next,
                                 std::initializer_list<udal_structure_type_t> known = {}) noexcept {
  const auto* link = static_cast<const udal_base_in_t*>(next);
  for (uint32_t index = 0; link != nullptr; ++index, link = link->next) {
    if (index == kMaxChainLength) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: the next chain of {} has more than {} links (a cycle?)", function, what,
                  kMaxChainLength);
    }
    bool is_known = false;
    for (udal_structure_type_t type : known) is_known = is_known || type == link->type;
    if (!is_known) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: {}->next chains (at link {}) a struct of type {:#x} ({}), which driver "
                  "'{}' does not know",
                  function, what, index, static_cast<uint32_t>(link->type),
                  structure_type_name(link->type), detail::kDriverName);
    }
  }
  return UDAL_SUCCESS;
}

// Checks the header of |s|, the struct |what| passed to |function|: its type is T's, its
// struct_size holds at least the header, and its chain holds only |known| types. |s| must
// not be NULL (an optional desc that is NULL needs no check).
template <typename T>
udal_result_t check_struct(const char* function, const char* what, const T* s,
                           std::initializer_list<udal_structure_type_t> known = {}) noexcept {
  detail::assert_struct<T>();
  if (s->type != structure_type_of<T>) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: {}->type is {} ({}), not {}", function, what,
                static_cast<uint32_t>(s->type), structure_type_name(s->type),
                structure_type_name(structure_type_of<T>));
  }
  if (s->struct_size < kStructHeaderBytes) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: {}->struct_size {} is smaller than the struct header ({} bytes) of {}",
                function, what, s->struct_size, kStructHeaderBytes, struct_name_of<T>);
  }
  return check_chain(function, what, s->next, known);
}

// ==========================================================================================
// Reading and writing
// ==========================================================================================

// A full copy of |in|: the fields inside in->struct_size, zeros past it. A null |in| gives
// the defaults of an optional desc: zeros, with type and struct_size = sizeof(T) set.
template <typename T>
T read_struct(const T* in) noexcept {
  detail::assert_struct<T>();
  T copy;
  std::memset(static_cast<void*>(&copy), 0, sizeof(T));
  if (in == nullptr) {
    copy.type = structure_type_of<T>;
    copy.struct_size = sizeof(T);
    return copy;
  }
  const std::size_t n = in->struct_size < sizeof(T) ? in->struct_size : sizeof(T);
  std::memcpy(static_cast<void*>(&copy), in, n);
  return copy;
}

// The whole reading of an input struct, the one call most entries make:
//   udal_buffer_desc_t desc;
//   if (udal_result_t r = udal::sdk::read_desc(kFn, "desc", desc_in, &desc)) return r;
// refuses a NULL |in| and a bad header (as check_struct: |in| is the struct |what| passed to
// |function|, its chain may hold only |known| types), then copies it into |*out| as
// read_struct does. On failure |*out| holds the defaults.
template <typename T>
udal_result_t read_desc(const char* function, const char* what, const T* in, T* out,
                        std::initializer_list<udal_structure_type_t> known = {}) noexcept {
  *out = read_struct<T>(nullptr);
  if (in == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: {} is NULL", function, what);
  if (udal_result_t r = check_struct(function, what, in, known))
    return r;
  *out = read_struct(in);
  return UDAL_SUCCESS;
}

// read_desc for a desc the ABI makes optional (udal_stream_create's, udal_event_create's):
// a NULL |in| gives the defaults (read_struct(nullptr)) and succeeds.
template <typename T>
udal_result_t read_optional_desc(const char* function, const char* what, const T* in, T* out,
                                 std::initializer_list<udal_structure_type_t> known = {}) noexcept {
  if (in == nullptr) {
    *out = read_struct<T>(nullptr);
    return UDAL_SUCCESS;
  }
  return read_desc(function, what, in, out, known);
}

// A zeroed T with its header set (type, struct_size = sizeof(T), next NULL): the value an
// entry fills before write_struct.
template <typename T>
T make_struct() noexcept {
  return read_struct<T>(nullptr);
}

// Whether |field| of T lies wholly inside |struct_size| bytes.
#define UDAL_SDK_HAS_FIELD(T, struct_size, field) \
  ((struct_size) >= offsetof(T, field) + sizeof(((T*)nullptr)->field))

// Writes |value| into |out|, only the bytes inside out->struct_size; out's own header (type,
// struct_size, next) is kept.
template <typename T>
void write_struct(T* out, const T& value) noexcept {
  detail::assert_struct<T>();
  const std::size_t n = out->struct_size < sizeof(T) ? out->struct_size : sizeof(T);
  if (n > kStructHeaderBytes) {
    std::memcpy(reinterpret_cast<char*>(out) + kStructHeaderBytes,
                reinterpret_cast<const char*>(&value) + kStructHeaderBytes,
                n - kStructHeaderBytes);
  }
}

// The whole answer of a query entry (device_get_info, module_get_info, ...): refuses a NULL
// |out| and a bad header (|out| is the struct |what| passed to |function|), then writes
// |value| into it as write_struct does.
template <typename T>
udal_result_t answer_struct(const char* function, const char* what, T* out,
                            const T& value) noexcept {
  if (out == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: {} is NULL", function, what);
  if (udal_result_t r = check_struct(function, what, out))
    return r;
  write_struct(out, value);
  return UDAL_SUCCESS;
}

// Clears the bytes of |out| past its header and inside its struct_size (outputs are
// cleared on entry, even on failure).
template <typename T>
void clear_struct(T* out) noexcept {
  detail::assert_struct<T>();
  const std::size_t n = out->struct_size < sizeof(T) ? out->struct_size : sizeof(T);
  if (n > kStructHeaderBytes) {
    std::memset(reinterpret_cast<char*>(out) + kStructHeaderBytes, 0, n - kStructHeaderBytes);
  }
}

}  // namespace udal::sdk

#endif  // UDAL_SDK_STRUCTS_H_
