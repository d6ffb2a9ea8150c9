/*
 * udal_driver.h — what a UDAL driver implements, version 1.
 *
 * A driver is a shared library that exports exactly one symbol, udal_driver_negotiate.
 * libudal loads it, calls udal_driver_negotiate with a zeroed function table whose
 * struct_size is libudal's sizeof(udal_driver_table_t), and the driver fills the entries
 * that fit (min of both sizes), states its ABI and own version, and returns.
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
 * formats it does not take, exhausted memory) with the right code and a message.
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
  size_t struct_size;
  const void* next;
  uint32_t loader_abi_version; /* UDAL_ABI_VERSION of the libudal that loads the driver */
  const char* driver_name;     /* the name libudal knows the driver by (from its manifest) */
  const char* library_path;    /* the path the driver was loaded from */
  udal_log_fn log;             /* [optional] where a driver writes diagnostics */
  void* log_user_data;
} udal_driver_create_desc_t;

/* Entry types. Every entry but last_error_message returns a udal_result_t and follows the
 * rules of udal.h (outputs last, cleared on entry, a message on failure). */
typedef const char* (*udal_pfn_last_error_message)(void);
typedef udal_result_t (*udal_pfn_driver_create)(const udal_driver_table_t* dispatch,
                                               const udal_driver_create_desc_t* desc,
                                               udal_driver_t* out_driver);
typedef udal_result_t (*udal_pfn_driver_destroy)(udal_driver_t driver);
typedef udal_result_t (*udal_pfn_driver_get_device_count)(udal_driver_t driver,
                                                         uint32_t* out_count);
typedef udal_result_t (*udal_pfn_driver_get_device)(udal_driver_t driver, uint32_t index,
                                                   udal_device_t* out_device);
typedef udal_result_t (*udal_pfn_device_get_info)(udal_device_t device,
                                                 udal_device_info_t* out_info);
typedef udal_result_t (*udal_pfn_buffer_create)(udal_device_t device,
                                               const udal_buffer_desc_t* desc,
                                               udal_buffer_t* out_buffer);
typedef udal_result_t (*udal_pfn_buffer_destroy)(udal_buffer_t buffer);
typedef udal_result_t (*udal_pfn_buffer_get_info)(udal_buffer_t buffer,
                                                 udal_buffer_info_t* out_info);
typedef udal_result_t (*udal_pfn_buffer_map)(udal_buffer_t buffer, uint64_t offset,
                                            uint64_t size, void** out_ptr);
typedef udal_result_t (*udal_pfn_buffer_unmap)(udal_buffer_t buffer);
typedef udal_result_t (*udal_pfn_event_create)(udal_device_t device, const udal_event_desc_t* desc,
                                              udal_event_t* out_event);
typedef udal_result_t (*udal_pfn_event_destroy)(udal_event_t event);
typedef udal_result_t (*udal_pfn_event_query)(udal_event_t event);
typedef udal_result_t (*udal_pfn_event_wait)(udal_event_t event, uint64_t timeout_ns);
typedef udal_result_t (*udal_pfn_event_elapsed_ns)(udal_event_t start, udal_event_t end,
                                                  uint64_t* out_ns);
typedef udal_result_t (*udal_pfn_module_create)(udal_device_t device,
                                               const udal_module_desc_t* desc,
                                               udal_module_t* out_module);
typedef udal_result_t (*udal_pfn_module_destroy)(udal_module_t module);
typedef udal_result_t (*udal_pfn_module_get_info)(udal_module_t module,
                                                 udal_module_info_t* out_info);
typedef udal_result_t (*udal_pfn_kernel_create)(udal_module_t module, const char* name,
                                               udal_kernel_t* out_kernel);
typedef udal_result_t (*udal_pfn_kernel_destroy)(udal_kernel_t kernel);
typedef udal_result_t (*udal_pfn_kernel_get_info)(udal_kernel_t kernel,
                                                 udal_kernel_info_t* out_info);
typedef udal_result_t (*udal_pfn_stream_create)(udal_device_t device,
                                               const udal_stream_desc_t* desc,
                                               udal_stream_t* out_stream);
typedef udal_result_t (*udal_pfn_stream_destroy)(udal_stream_t stream);
typedef udal_result_t (*udal_pfn_stream_copy_buffer)(udal_stream_t stream, udal_buffer_t src,
                                                    uint64_t src_offset, udal_buffer_t dst,
                                                    uint64_t dst_offset, uint64_t size);
typedef udal_result_t (*udal_pfn_stream_fill_buffer)(udal_stream_t stream, udal_buffer_t dst,
                                                    uint64_t offset, uint64_t size,
                                                    const void* pattern, uint32_t pattern_size);
typedef udal_result_t (*udal_pfn_stream_write_buffer)(udal_stream_t stream, udal_buffer_t dst,
                                                     uint64_t dst_offset, const void* src,
                                                     uint64_t size);
typedef udal_result_t (*udal_pfn_stream_read_buffer)(udal_stream_t stream, udal_buffer_t src,
                                                    uint64_t src_offset, void* dst,
                                                    uint64_t size);
typedef udal_result_t (*udal_pfn_stream_launch)(udal_stream_t stream, udal_kernel_t kernel,
                                               const udal_launch_desc_t* desc);
typedef udal_result_t (*udal_pfn_stream_record_event)(udal_stream_t stream, udal_event_t event);
typedef udal_result_t (*udal_pfn_stream_wait_event)(udal_stream_t stream, udal_event_t event);
typedef udal_result_t (*udal_pfn_stream_synchronize)(udal_stream_t stream, uint64_t timeout_ns);

/* The function table. New entries are only appended. Entries a driver leaves NULL make
 * libudal answer UDAL_ERROR_UNSUPPORTED, except the six marked [required]: a driver
 * without them is refused at load time. */
struct udal_driver_table_t {
  size_t struct_size;      /* set by libudal: the size of the table it passes */
  const void* next;        /* reserved: NULL */
  uint32_t abi_version;    /* set by the driver: the UDAL_ABI_VERSION it was built with */
  uint32_t driver_version; /* set by the driver: its own version (UDAL_MAKE_VERSION) */

  /* The driver's thread-local message for its last failure on this thread; never NULL.
   * libudal copies it when an entry returns an error. [required] */
  udal_pfn_last_error_message last_error_message;

  udal_pfn_driver_create driver_create;                   /* [required] */
  udal_pfn_driver_destroy driver_destroy;                 /* [required] */
  udal_pfn_driver_get_device_count driver_get_device_count; /* [required] */
  udal_pfn_driver_get_device driver_get_device;           /* [required] */
  udal_pfn_device_get_info device_get_info;               /* [required] */

  udal_pfn_buffer_create buffer_create;
  udal_pfn_buffer_destroy buffer_destroy;
  udal_pfn_buffer_get_info buffer_get_info;
  udal_pfn_buffer_map buffer_map;
  udal_pfn_buffer_unmap buffer_unmap;

  udal_pfn_event_create event_create;
  udal_pfn_event_destroy event_destroy;
  udal_pfn_event_query event_query;
  udal_pfn_event_wait event_wait;
  udal_pfn_event_elapsed_ns event_elapsed_ns;

  udal_pfn_module_create module_create;
  udal_pfn_module_destroy module_destroy;
  udal_pfn_module_get_info module_get_info;
  udal_pfn_kernel_create kernel_create;
  udal_pfn_kernel_destroy kernel_destroy;
  udal_pfn_kernel_get_info kernel_get_info;

  udal_pfn_stream_create stream_create;
  udal_pfn_stream_destroy stream_destroy;
  udal_pfn_stream_copy_buffer stream_copy_buffer;
  udal_pfn_stream_fill_buffer stream_fill_buffer;
  udal_pfn_stream_write_buffer stream_write_buffer;
  udal_pfn_stream_read_buffer stream_read_buffer;
  udal_pfn_stream_launch stream_launch;
  udal_pfn_stream_record_event stream_record_event;
  udal_pfn_stream_wait_event stream_wait_event;
  udal_pfn_stream_synchronize stream_synchronize;
};

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
