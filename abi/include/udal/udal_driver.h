/*
 * udal_driver.h — what a UDAL driver implements, ABI 1.0 (frozen).
 *
 * A driver is a shared library that exports exactly one symbol, udal_driver_negotiate.
 * libudal loads it, calls udal_driver_negotiate with a zeroed function table (type
 * UDAL_STRUCTURE_TYPE_DRIVER_TABLE, struct_size libudal's sizeof(udal_driver_table_t)), and
 * the driver fills the entries that fit (min of both sizes), states its ABI and own version,
 * and returns.
 *
 * Dispatch: every handle a driver returns (udal_driver_t, devices, buffers, streams, events,
 * modules, kernels) points to an object whose first member is the `const
 * udal_driver_table_t*` libudal passed to table->driver_create. libudal reads that pointer
 * and calls the entry: one load and one indirect call, no wrapping. Objects created from
 * an object carry their parent's table pointer. In C++, the object must be standard-layout
 * with that pointer at offset 0 (no virtual functions); the SDK asserts it.
 *
 * libudal makes the stateless checks before it calls a driver: NULL handles and pointers,
 * struct sizes, enum ranges, zero sizes and counts, handles of another driver. A driver
 * need not repeat them; it must reject what only it can know (offsets past a buffer's end,
 * objects of another of its devices, formats it does not take, exhausted memory, chained
 * structs of the vendor range it does not know) with the right code and its own message:
 * an error returned without a message is a conformance failure.
 *
 * The full contract, with numbered rules, is docs/driver-guide.md.
 */
#ifndef UDAL_UDAL_DRIVER_H_
#define UDAL_UDAL_DRIVER_H_

#include "udal/udal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The one symbol a driver exports. */
#define UDAL_DRIVER_EXPORT __attribute__((visibility("default")))
#define UDAL_DRIVER_NEGOTIATE_SYMBOL "udal_driver_negotiate"

/* A driver's own root object, created once per instance that loads it. */
typedef struct udal_driver_s* udal_driver_t;
typedef struct udal_driver_table_t udal_driver_table_t;

typedef enum udal_log_level_t {
  UDAL_LOG_LEVEL_DEBUG = 0,
  UDAL_LOG_LEVEL_INFO = 1,
  UDAL_LOG_LEVEL_WARNING = 2,
  UDAL_LOG_LEVEL_ERROR = 3,
  UDAL_LOG_LEVEL_FORCE_32BIT = 0x7fffffff
} udal_log_level_t;

typedef void (*udal_log_fn)(void* user_data, udal_log_level_t level, const char* message);

typedef struct udal_driver_create_desc_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC */
  uint32_t struct_size;
  const void* next;
  uint32_t loader_abi_version; /* UDAL_ABI_VERSION of the libudal that loads the driver */
  uint32_t reserved0;
  const char* driver_name;     /* the name libudal knows the driver by (from its manifest) */
  const char* library_path;    /* the path the driver was loaded from */
  udal_log_fn log;             /* [optional] where a driver writes diagnostics */
  void* log_user_data;
} udal_driver_create_desc_t;

/* ==========================================================================================
 * The one list of entries
 * =========================================================================================
 *
 * Every entry of the table but last_error_message, in table order, as an X-macro list:
 *   X(name, required, public, params, args)
 *     name      the table field; udal_pfn_<name> is its type
 *     required  1: a driver without it is refused at load time
 *     public    1: udal.h declares udal_<name> with the same parameters
 *     params    the parenthesized parameter list
 *     args      the parenthesized argument names, to forward a call
 * The table, the entry types, libudal's dispatch, the SDK's table fill and the test doubles
 * all derive from it, so a new entry is one line here (appended: the table's layout is
 * frozen) plus its implementations. Every entry returns a udal_result_t and follows the
 * rules of udal.h (outputs last, cleared on entry, a message on failure). */
#define UDAL_DRIVER_ENTRIES(X)                                                                 \
  X(driver_create, 1, 0,                                                                       \
    (const udal_driver_table_t* dispatch, const udal_driver_create_desc_t* desc,               \
     udal_driver_t* out_driver),                                                               \
    (dispatch, desc, out_driver))                                                              \
  X(driver_destroy, 1, 0, (udal_driver_t driver), (driver))                                    \
  X(driver_get_device_count, 1, 0, (udal_driver_t driver, uint32_t* out_count),                \
    (driver, out_count))                                                                       \
  X(driver_get_device, 1, 0, (udal_driver_t driver, uint32_t index, udal_device_t* out_device), \
    (driver, index, out_device))                                                               \
  X(device_get_info, 1, 1, (udal_device_t device, udal_device_info_t* out_info),               \
    (device, out_info))                                                                        \
  X(device_get_memory_usage, 0, 1, (udal_device_t device, udal_memory_usage_t* out_usage),     \
    (device, out_usage))                                                                       \
  X(buffer_create, 0, 1,                                                                       \
    (udal_device_t device, const udal_buffer_desc_t* desc, udal_buffer_t* out_buffer),         \
    (device, desc, out_buffer))                                                                \
  X(buffer_destroy, 0, 1, (udal_buffer_t buffer), (buffer))                                    \
  X(buffer_get_info, 0, 1, (udal_buffer_t buffer, udal_buffer_info_t* out_info),               \
    (buffer, out_info))                                                                        \
  X(buffer_map, 0, 1, (udal_buffer_t buffer, uint64_t offset, uint64_t size, void** out_ptr),  \
    (buffer, offset, size, out_ptr))                                                           \
  X(buffer_unmap, 0, 1, (udal_buffer_t buffer), (buffer))                                      \
  X(buffer_get_device_address, 0, 1, (udal_buffer_t buffer, uint64_t* out_address),            \
    (buffer, out_address))                                                                     \
  X(event_create, 0, 1,                                                                        \
    (udal_device_t device, const udal_event_desc_t* desc, udal_event_t* out_event),            \
    (device, desc, out_event))                                                                 \
  X(event_destroy, 0, 1, (udal_event_t event), (event))                                        \
  X(event_query, 0, 1, (udal_event_t event), (event))                                          \
  X(event_wait, 0, 1, (udal_event_t event, uint64_t timeout_ns), (event, timeout_ns))          \
  X(event_elapsed_ns, 0, 1, (udal_event_t start, udal_event_t end, uint64_t* out_ns),          \
    (start, end, out_ns))                                                                      \
  X(event_signal, 0, 1, (udal_event_t event), (event))                                         \
  X(module_create, 0, 1,                                                                       \
    (udal_device_t device, const udal_module_desc_t* desc, udal_module_t* out_module),         \
    (device, desc, out_module))                                                                \
  X(module_destroy, 0, 1, (udal_module_t module), (module))                                    \
  X(module_get_info, 0, 1, (udal_module_t module, udal_module_info_t* out_info),               \
    (module, out_info))                                                                        \
  X(kernel_create, 0, 1, (udal_module_t module, const char* name, udal_kernel_t* out_kernel),  \
    (module, name, out_kernel))                                                                \
  X(kernel_destroy, 0, 1, (udal_kernel_t kernel), (kernel))                                    \
  X(kernel_get_info, 0, 1, (udal_kernel_t kernel, udal_kernel_info_t* out_info),               \
    (kernel, out_info))                                                                        \
  X(kernel_get_argument_info, 0, 1,                                                            \
    (udal_kernel_t kernel, uint32_t index, udal_kernel_arg_info_t* out_info),                  \
    (kernel, index, out_info))                                                                 \
  X(stream_create, 0, 1,                                                                       \
    (udal_device_t device, const udal_stream_desc_t* desc, udal_stream_t* out_stream),         \
    (device, desc, out_stream))                                                                \
  X(stream_destroy, 0, 1, (udal_stream_t stream), (stream))                                    \
  X(stream_copy_buffer, 0, 1,                                                                  \
    (udal_stream_t stream, udal_buffer_t src, uint64_t src_offset, udal_buffer_t dst,          \
     uint64_t dst_offset, uint64_t size),                                                      \
    (stream, src, src_offset, dst, dst_offset, size))                                          \
  X(stream_fill_buffer, 0, 1,                                                                  \
    (udal_stream_t stream, udal_buffer_t dst, uint64_t offset, uint64_t size,                  \
     const void* pattern, uint32_t pattern_size),                                              \
    (stream, dst, offset, size, pattern, pattern_size))                                        \
  X(stream_write_buffer, 0, 1,                                                                 \
    (udal_stream_t stream, udal_buffer_t dst, uint64_t dst_offset, const void* src,            \
     uint64_t size),                                                                           \
    (stream, dst, dst_offset, src, size))                                                      \
  X(stream_read_buffer, 0, 1,                                                                  \
    (udal_stream_t stream, udal_buffer_t src, uint64_t src_offset, void* dst, uint64_t size),  \
    (stream, src, src_offset, dst, size))                                                      \
  X(stream_launch, 0, 1,                                                                       \
    (udal_stream_t stream, udal_kernel_t kernel, const udal_launch_desc_t* desc),              \
    (stream, kernel, desc))                                                                    \
  X(stream_record_event, 0, 1, (udal_stream_t stream, udal_event_t event), (stream, event))    \
  X(stream_wait_event, 0, 1, (udal_stream_t stream, udal_event_t event), (stream, event))      \
  X(stream_synchronize, 0, 1, (udal_stream_t stream, uint64_t timeout_ns),                     \
    (stream, timeout_ns))                                                                      \
  X(stream_enqueue_host_function, 0, 1,                                                        \
    (udal_stream_t stream, udal_host_function_t fn, void* user_data), (stream, fn, user_data))

/* The entry types: udal_pfn_<name>. */
typedef const char* (*udal_pfn_last_error_message)(void);
#define UDAL_DRIVER_ENTRY_TYPEDEF_(name, required, is_public, params, args)                    \
  typedef udal_result_t(*udal_pfn_##name) params;
UDAL_DRIVER_ENTRIES(UDAL_DRIVER_ENTRY_TYPEDEF_)
#undef UDAL_DRIVER_ENTRY_TYPEDEF_

/* The function table, in the order of UDAL_DRIVER_ENTRIES. Entries a driver leaves NULL
 * make libudal answer UDAL_ERROR_UNSUPPORTED, except the six marked required (the five of
 * the list and last_error_message): a driver without them is refused at load time. */
#define UDAL_DRIVER_ENTRY_FIELD_(name, required, is_public, params, args) udal_pfn_##name name;
struct udal_driver_table_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_DRIVER_TABLE, set by libudal */
  uint32_t struct_size;       /* set by libudal: the size of the table it passes */
  const void* next;           /* reserved: NULL */
  uint32_t abi_version;       /* set by the driver: the UDAL_ABI_VERSION it was built with */
  uint32_t driver_version;    /* set by the driver: its own version (UDAL_MAKE_VERSION) */

  /* The driver's thread-local message for its last failure on this thread; never NULL.
   * libudal copies it when an entry returns an error. Required. */
  udal_pfn_last_error_message last_error_message;

  UDAL_DRIVER_ENTRIES(UDAL_DRIVER_ENTRY_FIELD_)
};
#undef UDAL_DRIVER_ENTRY_FIELD_

/* The entry point every driver exports.
 *   loader_abi_version  [in] UDAL_ABI_VERSION of the calling libudal. A driver of another
 *                       major version returns UDAL_ERROR_INCOMPATIBLE_DRIVER.
 *   table               [in,out] zeroed by libudal, struct_size set. The driver writes
 *                       only the first min(table->struct_size, its sizeof) bytes.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INCOMPATIBLE_DRIVER, UDAL_ERROR_INVALID_ARGUMENT. */
typedef udal_result_t (*udal_pfn_driver_negotiate)(uint32_t loader_abi_version,
                                                  udal_driver_table_t* table);

UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate(uint32_t loader_abi_version,
                                                       udal_driver_table_t* table);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* UDAL_UDAL_DRIVER_H_ */
