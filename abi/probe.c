/*
 * The ABI probe: a library that exports one function per public type of the three headers,
 * each taking a pointer to that type. libudal's own exports never mention the driver table,
 * the host-kernel structs or several descriptors, so abidiff of libudal alone would not see
 * a change to them; abidiff of this probe does.
 *
 * One function per type (rather than one function taking them all) so that a type appended
 * in a later minor version is one more function, which the append-only gate allows, and the
 * signatures of the existing ones never change.
 */
#include "udal/udal.h"
#include "udal/udal_driver.h"
#include "udal/udal_host_kernel.h"

#define UDAL_ABI_PROBE(T)                                                                          \
  __attribute__((visibility("default"))) void udal_abi_probe__##T(T* value);                      \
  void udal_abi_probe__##T(T* value) {                                                            \
    (void)value;                                                                                   \
  }

/* ---- udal.h: structs ------------------------------------------------------------------- */
UDAL_ABI_PROBE(udal_base_in_t)
UDAL_ABI_PROBE(udal_base_out_t)
UDAL_ABI_PROBE(udal_instance_desc_t)
UDAL_ABI_PROBE(udal_driver_status_t)
UDAL_ABI_PROBE(udal_device_info_t)
UDAL_ABI_PROBE(udal_memory_usage_t)
UDAL_ABI_PROBE(udal_buffer_desc_t)
UDAL_ABI_PROBE(udal_buffer_info_t)
UDAL_ABI_PROBE(udal_event_desc_t)
UDAL_ABI_PROBE(udal_module_image_t)
UDAL_ABI_PROBE(udal_specialization_constant_t)
UDAL_ABI_PROBE(udal_module_desc_t)
UDAL_ABI_PROBE(udal_module_info_t)
UDAL_ABI_PROBE(udal_kernel_info_t)
UDAL_ABI_PROBE(udal_kernel_arg_t)
UDAL_ABI_PROBE(udal_kernel_arg_info_t)
UDAL_ABI_PROBE(udal_launch_desc_t)
UDAL_ABI_PROBE(udal_stream_desc_t)
UDAL_ABI_PROBE(udal_layer_status_t) /* 1.1 */

/* ---- udal.h: enums, flag types and function types --------------------------------------- */
UDAL_ABI_PROBE(udal_result_t)
UDAL_ABI_PROBE(udal_structure_type_t)
UDAL_ABI_PROBE(udal_driver_state_t)
UDAL_ABI_PROBE(udal_device_type_t)
UDAL_ABI_PROBE(udal_module_format_t)
UDAL_ABI_PROBE(udal_buffer_kind_t)
UDAL_ABI_PROBE(udal_arg_kind_t)
UDAL_ABI_PROBE(udal_arg_access_t)
UDAL_ABI_PROBE(udal_instance_flags_t)
UDAL_ABI_PROBE(udal_device_features_t)
UDAL_ABI_PROBE(udal_buffer_flags_t)
UDAL_ABI_PROBE(udal_event_flags_t)
UDAL_ABI_PROBE(udal_kernel_flags_t)
UDAL_ABI_PROBE(udal_host_function_t)
UDAL_ABI_PROBE(udal_layer_t)        /* 1.1 */
UDAL_ABI_PROBE(udal_layer_state_t)  /* 1.1 */
UDAL_ABI_PROBE(udal_layer_sources_t) /* 1.1 */
UDAL_ABI_PROBE(udal_layer_flags_t)  /* 1.1 */

/* ---- udal_driver.h ------------------------------------------------------------------------ */
UDAL_ABI_PROBE(udal_driver_table_t)
UDAL_ABI_PROBE(udal_driver_create_desc_t)
UDAL_ABI_PROBE(udal_log_level_t)
UDAL_ABI_PROBE(udal_log_fn)
UDAL_ABI_PROBE(udal_pfn_driver_negotiate)

/* ---- udal_host_kernel.h ------------------------------------------------------------------- */
UDAL_ABI_PROBE(udal_host_dispatch_t)
UDAL_ABI_PROBE(udal_host_kernel_fn)
UDAL_ABI_PROBE(udal_host_arg_decl_t)
UDAL_ABI_PROBE(udal_host_kernel_decl_t)
