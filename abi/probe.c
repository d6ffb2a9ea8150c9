/*
 * The ABI probe: a library whose only export takes a pointer to every struct of the three
 * public headers. libudal's own exports never mention the driver table, the host-kernel
 * dispatch struct or several descriptors, so abidiff of libudal alone would not see a
 * change to them; abidiff of this probe does.
 */
#include "udal/udal.h"
#include "udal/udal_driver.h"
#include "udal/udal_host_kernel.h"

__attribute__((visibility("default"))) void udal_abi_probe(
    udal_driver_table_t* table, udal_driver_create_desc_t* create_desc,
    udal_host_dispatch_t* dispatch, udal_host_kernel_fn kernel, udal_log_fn log,
    udal_instance_desc_t* instance_desc, udal_driver_status_t* driver_status,
    udal_device_info_t* device_info, udal_buffer_desc_t* buffer_desc,
    udal_buffer_info_t* buffer_info, udal_event_desc_t* event_desc,
    udal_module_image_t* module_image, udal_module_desc_t* module_desc,
    udal_module_info_t* module_info, udal_kernel_info_t* kernel_info, udal_kernel_arg_t* arg,
    udal_launch_desc_t* launch_desc, udal_stream_desc_t* stream_desc,
    udal_log_level_t log_level, udal_driver_state_t driver_state, udal_device_type_t device_type,
    udal_module_format_t module_format, udal_buffer_kind_t buffer_kind, udal_arg_kind_t arg_kind,
    udal_result_t result);

void udal_abi_probe(udal_driver_table_t* table, udal_driver_create_desc_t* create_desc,
                    udal_host_dispatch_t* dispatch, udal_host_kernel_fn kernel, udal_log_fn log,
                    udal_instance_desc_t* instance_desc, udal_driver_status_t* driver_status,
                    udal_device_info_t* device_info, udal_buffer_desc_t* buffer_desc,
                    udal_buffer_info_t* buffer_info, udal_event_desc_t* event_desc,
                    udal_module_image_t* module_image, udal_module_desc_t* module_desc,
                    udal_module_info_t* module_info, udal_kernel_info_t* kernel_info,
                    udal_kernel_arg_t* arg, udal_launch_desc_t* launch_desc,
                    udal_stream_desc_t* stream_desc, udal_log_level_t log_level,
                    udal_driver_state_t driver_state, udal_device_type_t device_type,
                    udal_module_format_t module_format, udal_buffer_kind_t buffer_kind,
                    udal_arg_kind_t arg_kind, udal_result_t result) {
  (void)table, (void)create_desc, (void)dispatch, (void)kernel, (void)log, (void)instance_desc;
  (void)driver_status, (void)device_info, (void)buffer_desc, (void)buffer_info, (void)event_desc;
  (void)module_image, (void)module_desc, (void)module_info, (void)kernel_info, (void)arg;
  (void)launch_desc, (void)stream_desc, (void)log_level, (void)driver_state, (void)device_type;
  (void)module_format, (void)buffer_kind, (void)arg_kind, (void)result;
}
