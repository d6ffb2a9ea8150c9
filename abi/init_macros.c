/*
 * Every UDAL_*_INIT macro of the public headers, compiled with -Wmissing-field-initializers
 * -Werror (abi/CMakeLists.txt), as C99 and as C++: a macro that misses a field, or has one
 * too many, fails the build. Run as the test abi.init_macros, it also checks what each
 * macro fills: the right type tag, struct_size = sizeof, next NULL, reserved fields zero,
 * the documented defaults; and that every struct of the frozen ABI 1.0 still has at least
 * its 1.0 size (the frozen ones exactly), as docs/spec.md lists them.
 *
 * A new struct with an INIT macro is one more CHECK_HEADER line here.
 */
#include "udal/udal.h"
#include "udal/udal_driver.h"
#include "udal/udal_host_kernel.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static int failures = 0;

static void expect(int ok, const char* what, const char* detail) {
  if (!ok) {
    fprintf(stderr, "abi.init_macros: FAILED: %s (%s)\n", what, detail);
    ++failures;
  }
}

/* The header every INIT macro fills, checked on a struct |s| of type |T|. */
#define CHECK_HEADER(T, s, expected_type)                                                          \
  do {                                                                                             \
    expect((s).type == (expected_type), #T " type", "the INIT macro sets the wrong type tag");    \
    expect((s).struct_size == (uint32_t)sizeof(T), #T " struct_size", "not sizeof(" #T ")");      \
    expect((s).next == NULL, #T " next", "not NULL");                                              \
  } while (0)

/* Frozen ABI 1.0 sizes on LP64 (x86-64 and AArch64 Linux, the platforms UDAL supports).
 * A struct may only grow (appended fields), except those whose size is frozen. */
#define CHECK_SIZE(T, size_1_0)                                                                    \
  expect(sizeof(T) >= (size_1_0), #T " size", "smaller than its ABI 1.0 size " #size_1_0)
#define CHECK_FROZEN_SIZE(T, size_1_0)                                                             \
  expect(sizeof(T) == (size_1_0), #T " size", "its size is frozen at " #size_1_0)

static void check_sizes(void) {
#if UINTPTR_MAX == UINT64_MAX
  CHECK_SIZE(udal_instance_desc_t, 40);
  CHECK_SIZE(udal_driver_status_t, 72);
  CHECK_SIZE(udal_device_info_t, 864);
  CHECK_SIZE(udal_memory_usage_t, 48);
  CHECK_SIZE(udal_buffer_desc_t, 48);
  CHECK_SIZE(udal_buffer_info_t, 56);
  CHECK_SIZE(udal_event_desc_t, 24);
  CHECK_SIZE(udal_module_image_t, 48);
  CHECK_SIZE(udal_module_desc_t, 48);
  CHECK_SIZE(udal_module_info_t, 24);
  CHECK_SIZE(udal_kernel_info_t, 48);
  CHECK_SIZE(udal_kernel_arg_info_t, 32);
  CHECK_SIZE(udal_launch_desc_t, 64);
  CHECK_SIZE(udal_stream_desc_t, 24);
  CHECK_SIZE(udal_driver_create_desc_t, 56);
  CHECK_SIZE(udal_driver_table_t, 320);
  CHECK_SIZE(udal_host_dispatch_t, 80);
  CHECK_SIZE(udal_layer_status_t, 80); /* its first size: added in 1.1 */
  CHECK_FROZEN_SIZE(udal_base_in_t, 16);
  CHECK_FROZEN_SIZE(udal_base_out_t, 16);
  CHECK_FROZEN_SIZE(udal_kernel_arg_t, 64);
  CHECK_FROZEN_SIZE(udal_specialization_constant_t, 16);
  CHECK_FROZEN_SIZE(udal_host_arg_decl_t, 16);
  CHECK_FROZEN_SIZE(udal_host_kernel_decl_t, 24);
#endif
  /* The header is a prefix of every struct, so a chain can be walked through it. */
  expect(offsetof(udal_buffer_desc_t, next) == offsetof(udal_base_in_t, next), "header layout",
         "next is not where udal_base_in_t has it");
  expect(offsetof(udal_device_info_t, next) == offsetof(udal_base_out_t, next), "header layout",
         "next is not where udal_base_out_t has it");
}

static void check_inputs(void) {
  udal_instance_desc_t instance = UDAL_INSTANCE_DESC_INIT;
  udal_buffer_desc_t buffer = UDAL_BUFFER_DESC_INIT;
  udal_event_desc_t event = UDAL_EVENT_DESC_INIT;
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  udal_module_desc_t module = UDAL_MODULE_DESC_INIT;
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  udal_stream_desc_t stream = UDAL_STREAM_DESC_INIT;

  CHECK_HEADER(udal_instance_desc_t, instance, UDAL_STRUCTURE_TYPE_INSTANCE_DESC);
  expect(instance.flags == 0 && instance.driver_paths == NULL && instance.driver_path_count == 0 &&
             instance.reserved0 == 0,
         "UDAL_INSTANCE_DESC_INIT", "defaults: no flags, no driver paths");

  CHECK_HEADER(udal_buffer_desc_t, buffer, UDAL_STRUCTURE_TYPE_BUFFER_DESC);
  expect(buffer.size == 0 && buffer.alignment == 0 && buffer.flags == 0 &&
             buffer.kind == UDAL_BUFFER_KIND_DEVICE && buffer.reserved0 == 0,
         "UDAL_BUFFER_DESC_INIT", "defaults: a DEVICE buffer, device alignment, no flags");

  CHECK_HEADER(udal_event_desc_t, event, UDAL_STRUCTURE_TYPE_EVENT_DESC);
  expect(event.flags == 0, "UDAL_EVENT_DESC_INIT", "defaults: no flags (no timing)");

  CHECK_HEADER(udal_module_image_t, image, UDAL_STRUCTURE_TYPE_MODULE_IMAGE);
  expect(image.data == NULL && image.size == 0 && image.path == NULL &&
             image.format == UDAL_MODULE_FORMAT_NONE && image.reserved0 == 0,
         "UDAL_MODULE_IMAGE_INIT", "defaults: no image, format NONE");

  CHECK_HEADER(udal_module_desc_t, module, UDAL_STRUCTURE_TYPE_MODULE_DESC);
  expect(module.images == NULL && module.build_options == NULL &&
             module.specialization_constants == NULL &&
             module.specialization_constant_count == 0 && module.image_count == 0,
         "UDAL_MODULE_DESC_INIT", "defaults: no images, no options, no constants");

  CHECK_HEADER(udal_launch_desc_t, launch, UDAL_STRUCTURE_TYPE_LAUNCH_DESC);
  expect(launch.group_count[0] == 1 && launch.group_count[1] == 1 && launch.group_count[2] == 1 &&
             launch.group_size[0] == 1 && launch.group_size[1] == 1 && launch.group_size[2] == 1 &&
             launch.local_memory_bytes == 0 && launch.args == NULL && launch.arg_count == 0 &&
             launch.reserved0 == 0,
         "UDAL_LAUNCH_DESC_INIT", "defaults: one group of one item, no arguments");

  CHECK_HEADER(udal_stream_desc_t, stream, UDAL_STRUCTURE_TYPE_STREAM_DESC);
  expect(stream.flags == 0, "UDAL_STREAM_DESC_INIT", "defaults: no flags");
}

static void check_outputs(void) {
  udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
  udal_device_info_t device = UDAL_DEVICE_INFO_INIT;
  udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
  udal_buffer_info_t buffer = UDAL_BUFFER_INFO_INIT;
  udal_module_info_t module = UDAL_MODULE_INFO_INIT;
  udal_kernel_info_t kernel = UDAL_KERNEL_INFO_INIT;
  udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
  udal_layer_status_t layer = UDAL_LAYER_STATUS_INIT;

  CHECK_HEADER(udal_layer_status_t, layer, UDAL_STRUCTURE_TYPE_LAYER_STATUS);
  expect(layer.state == UDAL_LAYER_STATE_OFF && layer.sources == 0 && layer.flags == 0 &&
             layer.name == NULL && layer.output_path == NULL && layer.reason == NULL,
         "UDAL_LAYER_STATUS_INIT", "outputs start empty");

  CHECK_HEADER(udal_driver_status_t, status, UDAL_STRUCTURE_TYPE_DRIVER_STATUS);
  expect(status.name == NULL && status.reason == NULL && status.device_count == 0 &&
             status.reserved0 == 0,
         "UDAL_DRIVER_STATUS_INIT", "outputs start empty");

  CHECK_HEADER(udal_device_info_t, device, UDAL_STRUCTURE_TYPE_DEVICE_INFO);
  expect(device.name[0] == '\0' && device.features == 0 &&
             device.buffer_argument_offset_alignment == 0 && device.subgroup_size_count == 0 &&
             device.module_format_count == 0 && device.reserved0 == 0,
         "UDAL_DEVICE_INFO_INIT", "outputs start empty");

  CHECK_HEADER(udal_memory_usage_t, usage, UDAL_STRUCTURE_TYPE_MEMORY_USAGE);
  expect(usage.device_allocated_bytes == 0 && usage.device_budget_bytes == 0 &&
             usage.host_visible_allocated_bytes == 0 && usage.host_visible_budget_bytes == 0,
         "UDAL_MEMORY_USAGE_INIT", "outputs start empty");

  CHECK_HEADER(udal_buffer_info_t, buffer, UDAL_STRUCTURE_TYPE_BUFFER_INFO);
  expect(buffer.device == NULL && buffer.size == 0 && buffer.reserved0 == 0,
         "UDAL_BUFFER_INFO_INIT", "outputs start empty");

  CHECK_HEADER(udal_module_info_t, module, UDAL_STRUCTURE_TYPE_MODULE_INFO);
  expect(module.format == UDAL_MODULE_FORMAT_NONE && module.image_index == 0,
         "UDAL_MODULE_INFO_INIT", "outputs start empty");

  CHECK_HEADER(udal_kernel_info_t, kernel, UDAL_STRUCTURE_TYPE_KERNEL_INFO);
  expect(kernel.flags == 0 && kernel.argument_count == 0 && kernel.required_group_size[0] == 0 &&
             kernel.reserved0 == 0,
         "UDAL_KERNEL_INFO_INIT", "outputs start empty");

  CHECK_HEADER(udal_kernel_arg_info_t, arg, UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO);
  expect(arg.kind == UDAL_ARG_KIND_UNKNOWN && arg.value_size == 0 &&
             arg.access == UDAL_ARG_ACCESS_NONE && arg.reserved0 == 0,
         "UDAL_KERNEL_ARG_INFO_INIT", "outputs start empty");
}

/* The argument helpers fill every field of the frozen udal_kernel_arg_t as libudal checks. */
static void check_argument_helpers(void) {
  static const uint32_t value = 7;
  const udal_kernel_arg_t read_write = udal_arg_buffer(NULL, 16);
  const udal_kernel_arg_t read_only = udal_arg_buffer_access(NULL, 0, UDAL_ARG_ACCESS_READ);
  const udal_kernel_arg_t by_value = udal_arg_value(&value, sizeof value);
  expect(read_write.kind == UDAL_ARG_KIND_BUFFER && read_write.offset == 16 &&
             read_write.access == UDAL_ARG_ACCESS_READ_WRITE && read_write.value == NULL &&
             read_write.value_size == 0 && read_write.reserved0 == 0 &&
             read_write.reserved1[0] == 0 && read_write.reserved1[2] == 0,
         "udal_arg_buffer", "a READ_WRITE buffer argument with zero reserved fields");
  expect(read_only.access == UDAL_ARG_ACCESS_READ, "udal_arg_buffer_access",
         "keeps the access it is given");
  expect(by_value.kind == UDAL_ARG_KIND_VALUE && by_value.value == &value &&
             by_value.value_size == sizeof value && by_value.buffer == NULL &&
             by_value.offset == 0 && by_value.access == UDAL_ARG_ACCESS_NONE &&
             by_value.reserved0 == 0 && by_value.reserved1[1] == 0,
         "udal_arg_value", "a VALUE argument with access NONE and zero reserved fields");
}

/* UDAL_HOST_ARG_* fill every field of udal_host_arg_decl_t (and -Wmissing-field-initializers
 * checks they still do). */
static void check_host_declarations(void) {
  expect(UDAL_HOST_ACCESS_READ == (uint32_t)UDAL_ARG_ACCESS_READ &&
             UDAL_HOST_ACCESS_WRITE == (uint32_t)UDAL_ARG_ACCESS_WRITE &&
             UDAL_HOST_ACCESS_READ_WRITE == (uint32_t)UDAL_ARG_ACCESS_READ_WRITE,
         "UDAL_HOST_ACCESS_*", "equal to udal.h's UDAL_ARG_ACCESS_*");
  static const udal_host_arg_decl_t decls[] = {UDAL_HOST_ARG_BUFFER(UDAL_ARG_ACCESS_WRITE),
                                               UDAL_HOST_ARG_VALUE(uint16_t)};
  expect(decls[0].kind == (uint32_t)UDAL_ARG_KIND_BUFFER &&
             decls[0].access == (uint32_t)UDAL_ARG_ACCESS_WRITE && decls[0].value_size == 0,
         "UDAL_HOST_ARG_BUFFER", "kind and access as udal.h numbers them");
  expect(decls[1].kind == (uint32_t)UDAL_ARG_KIND_VALUE &&
             decls[1].access == (uint32_t)UDAL_ARG_ACCESS_NONE && decls[1].value_size == 2,
         "UDAL_HOST_ARG_VALUE", "kind and size as udal.h numbers them");
}

int main(void) {
  check_sizes();
  check_inputs();
  check_outputs();
  check_argument_helpers();
  check_host_declarations();
  if (failures == 0)
    printf("abi.init_macros: every INIT macro, helper and 1.0 size checked\n");
  return failures == 0 ? 0 : 1;
}
