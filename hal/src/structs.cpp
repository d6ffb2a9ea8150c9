#include "structs.h"

#include "error.h"

#include <string>

namespace udal::hal {

const char* structure_type_name(uint32_t type) noexcept {
  switch (type) {
#define UDAL_HAL_TYPE_NAME_(T)                                                                     \
  case T:                                                                                          \
    return #T;
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_NONE)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_INSTANCE_DESC)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_DRIVER_STATUS)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_DEVICE_INFO)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_MEMORY_USAGE)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_BUFFER_DESC)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_BUFFER_INFO)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_EVENT_DESC)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_MODULE_IMAGE)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_MODULE_DESC)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_MODULE_INFO)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_KERNEL_INFO)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_LAUNCH_DESC)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_STREAM_DESC)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_DRIVER_TABLE)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC)
    UDAL_HAL_TYPE_NAME_(UDAL_STRUCTURE_TYPE_LAYER_STATUS)
#undef UDAL_HAL_TYPE_NAME_
  default:
    break;
  }
  if (type >= UDAL_STRUCTURE_TYPE_VENDOR_BEGIN && type < UDAL_STRUCTURE_TYPE_FORCE_32BIT)
    return "a vendor type";
  return "not a udal_structure_type_t";
}

namespace {

bool is_vendor_type(uint32_t type) noexcept {
  return type >= UDAL_STRUCTURE_TYPE_VENDOR_BEGIN && type < UDAL_STRUCTURE_TYPE_FORCE_32BIT;
}

// "desc" / "desc->images[3]" as a message names it, with the separator before a field.
struct Name {
  const char* what;
  int64_t index;
};

} // namespace
} // namespace udal::hal

template <> struct fmt::formatter<udal::hal::Name> : fmt::formatter<fmt::string_view> {
  template <typename Context> auto format(const udal::hal::Name& n, Context& ctx) const {
    if (n.index >= 0)
      return fmt::format_to(ctx.out(), "{}[{}].", n.what, n.index);
    return fmt::format_to(ctx.out(), "{}->", n.what);
  }
};

namespace udal::hal {

udal_result_t check_struct_header(const char* function, const char* what, int64_t index,
                                  const void* s, udal_structure_type_t expected_type,
                                  uint32_t frozen_size, const char* struct_name,
                                  const char* expected_type_name) noexcept {
  const Name name{what, index};
  udal_base_in_t header;
  std::memcpy(&header, s, sizeof(header));
  uint32_t type = raw_enum(header.type);
  if (type != static_cast<uint32_t>(expected_type))
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: {}type is {} ({}), not {}", function, name,
                static_cast<int32_t>(type), structure_type_name(type), expected_type_name);
  if (header.struct_size < frozen_size)
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: {}struct_size {} is smaller than {} of UDAL 1.0 ({} bytes)", function, name,
                header.struct_size, struct_name, frozen_size);
  // Links seen so far, to tell a cycle from a long chain.
  const void* seen[kMaxChainLinks];
  const udal_base_in_t* link = header.next;
  for (uint32_t i = 0; link != nullptr; ++i) {
    if (i == kMaxChainLinks)
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: {}next chain is longer than {} links (a cycle, or not NUL-terminated)",
                  function, name, kMaxChainLinks);
    for (uint32_t j = 0; j < i; ++j) {
      if (seen[j] == link)
        return fail(UDAL_ERROR_INVALID_ARGUMENT,
                    "{}: {}next chain has a cycle: link {} ({}) is link {} again", function, name,
                    i, static_cast<const void*>(link), j);
    }
    seen[i] = link;
    uint32_t link_type = raw_enum(link->type);
    if (!is_vendor_type(link_type))
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: {}next chain link {} has type {} ({}), which is not an extension of {} "
                  "this libudal knows (UDAL 1.0 defines no core extension structs; vendor types "
                  "start at UDAL_STRUCTURE_TYPE_VENDOR_BEGIN 0x10000)",
                  function, name, i, static_cast<int32_t>(link_type),
                  structure_type_name(link_type), struct_name);
    link = link->next;
  }
  return UDAL_SUCCESS;
}

udal_result_t reserved_not_zero(const char* function, const char* field, uint64_t value) noexcept {
  return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: {} is {:#x}; reserved fields must be 0", function,
              field, value);
}

} // namespace udal::hal
