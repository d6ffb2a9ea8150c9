/* udal_template_check <manifest> <device name> — loads only |manifest| and succeeds when
 * its driver loaded and reports exactly one device of that name. */
#include <stdio.h>
#include <string.h>

#include <udal/udal.h>

#include "consumer.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <manifest> <device name>\n", argv[0]);
    return 2;
  }
  udal_instance_t instance = NULL;
  if (open_one_manifest(argv[1], &instance) != UDAL_SUCCESS) return 1;
  udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
  udal_result_t r = udal_instance_get_driver_status(instance, 0, &status);
  if (r != UDAL_SUCCESS || status.state != UDAL_DRIVER_STATE_LOADED) {
    fprintf(stderr, "the driver did not load: %s\n", r == UDAL_SUCCESS ? status.reason : udal_last_error_message());
    return 1;
  }
  uint32_t count = 0;
  udal_instance_get_device_count(instance, &count);
  if (count != 1) {
    fprintf(stderr, "expected 1 device, got %u\n", count);
    return 1;
  }
  udal_device_t device = NULL;
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  if (udal_instance_get_device(instance, 0, &device) != UDAL_SUCCESS ||
      udal_device_get_info(device, &info) != UDAL_SUCCESS) {
    fprintf(stderr, "device info: %s\n", udal_last_error_message());
    return 1;
  }
  if (strcmp(info.name, argv[2]) != 0) {
    fprintf(stderr, "device is named '%s', expected '%s'\n", info.name, argv[2]);
    return 1;
  }
  if (info.device_type != UDAL_DEVICE_TYPE_ACCELERATOR || info.subgroup_size_count != 1 ||
      info.buffer_argument_offset_alignment == 0) {
    fprintf(stderr, "device info lacks the 1.0 fields: type %d, %u subgroup sizes, offset alignment %llu\n",
            (int)info.device_type, info.subgroup_size_count,
            (unsigned long long)info.buffer_argument_offset_alignment);
    return 1;
  }
  /* A vendor struct chained on an output reaches the driver, which refuses the type it does
   * not know, with its own message. */
  struct {
    udal_structure_type_t type;
    uint32_t struct_size;
    void* next;
    uint64_t payload;
  } vendor = {(udal_structure_type_t)(UDAL_STRUCTURE_TYPE_VENDOR_BEGIN + 7), sizeof(vendor), NULL, 0};
  info.next = &vendor;
  r = udal_device_get_info(device, &info);
  if (r != UDAL_ERROR_INVALID_ARGUMENT || strstr(udal_last_error_message(), "0x10007") == NULL) {
    fprintf(stderr, "a chained vendor struct: expected UDAL_ERROR_INVALID_ARGUMENT naming 0x10007, got %s: %s\n",
            udal_result_name(r), udal_last_error_message());
    return 1;
  }
  info.next = NULL;
  if (udal_device_get_info(device, &info) != UDAL_SUCCESS) {
    fprintf(stderr, "device info without the vendor struct: %s\n", udal_last_error_message());
    return 1;
  }
  /* What the template does not do is refused with a code and a message, never a crash:
   * it has DEVICE buffers only. */
  udal_buffer_desc_t buffer_desc = UDAL_BUFFER_DESC_INIT;
  buffer_desc.size = 64;
  buffer_desc.kind = UDAL_BUFFER_KIND_HOST;
  udal_buffer_t buffer = NULL;
  r = udal_buffer_create(device, &buffer_desc, &buffer);
  if (r != UDAL_ERROR_UNSUPPORTED || udal_last_error_message()[0] == '\0') {
    fprintf(stderr, "a HOST buffer: expected UDAL_ERROR_UNSUPPORTED with a message, got %s\n",
            udal_result_name(r));
    return 1;
  }
  printf("driver '%s' %u.%u: device '%s' (%s)\n", status.name, UDAL_VERSION_MAJOR(status.driver_version),
         UDAL_VERSION_MINOR(status.driver_version), info.name, info.vendor);
  udal_instance_release(instance);
  return 0;
}
