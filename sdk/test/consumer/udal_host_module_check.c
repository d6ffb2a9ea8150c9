/* udal_host_module_check <manifest> <module.so> — loads only |manifest|, and on its first
 * device that takes HOST_NATIVE runs kernel `saxpy` of |module.so| over a partial last group;
 * succeeds when every element is right. A framework's whole use of a host module. */
#include <stdio.h>

#include <udal/udal.h>

#include "consumer.h"

#define COUNT 1000u
#define GROUP 64u
#define TIMEOUT_NS (60ull * 1000 * 1000 * 1000)

#define CHECK(call)                                                                          \
  do {                                                                                       \
    udal_result_t r_ = (call);                                                               \
    if (r_ != UDAL_SUCCESS) {                                                                \
      fprintf(stderr, "%s: %s: %s\n", #call, udal_result_name(r_), udal_last_error_message()); \
      return 1;                                                                              \
    }                                                                                        \
  } while (0)

static int run(udal_instance_t instance, const char* module_path) {
  udal_device_t device = NULL;
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  uint32_t count = 0;
  CHECK(udal_instance_get_device_count(instance, &count));
  for (uint32_t d = 0; d < count && device == NULL; ++d) {
    udal_device_t candidate = NULL;
    CHECK(udal_instance_get_device(instance, d, &candidate));
    CHECK(udal_device_get_info(candidate, &info));
    for (uint32_t f = 0; f < info.module_format_count && f < UDAL_MAX_MODULE_FORMATS; ++f) {
      if (info.module_formats[f] == UDAL_MODULE_FORMAT_HOST_NATIVE) device = candidate;
    }
  }
  if (device == NULL) {
    fprintf(stderr, "none of %u devices takes HOST_NATIVE\n", count);
    return 1;
  }
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  image.path = module_path;
  udal_module_desc_t module_desc = UDAL_MODULE_DESC_INIT;
  module_desc.images = &image;
  module_desc.image_count = 1;
  udal_module_t module = NULL;
  udal_kernel_t kernel = NULL;
  udal_stream_t stream = NULL;
  udal_buffer_t x = NULL, y = NULL;
  CHECK(udal_module_create(device, &module_desc, &module));
  CHECK(udal_kernel_create(module, "saxpy", &kernel));
  CHECK(udal_stream_create(device, NULL, &stream));
  udal_buffer_desc_t buffer_desc = UDAL_BUFFER_DESC_INIT;
  buffer_desc.size = COUNT * sizeof(float);
  CHECK(udal_buffer_create(device, &buffer_desc, &x));
  CHECK(udal_buffer_create(device, &buffer_desc, &y));
  static float host_x[COUNT], host_y[COUNT];
  for (uint32_t i = 0; i < COUNT; ++i) {
    host_x[i] = (float)i;
    host_y[i] = 1.0f;
  }
  CHECK(udal_stream_write_buffer(stream, x, 0, host_x, sizeof host_x));
  CHECK(udal_stream_write_buffer(stream, y, 0, host_y, sizeof host_y));
  const float a = 2.0f;
  const uint32_t n = COUNT;
  udal_kernel_arg_t args[4] = {udal_arg_value(&a, sizeof a),
                               udal_arg_buffer_access(x, 0, UDAL_ARG_ACCESS_READ),
                               udal_arg_buffer(y, 0), udal_arg_value(&n, sizeof n)};
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  launch.group_count[0] = (COUNT + GROUP - 1) / GROUP;
  launch.group_size[0] = GROUP;
  launch.args = args;
  launch.arg_count = 4;
  CHECK(udal_stream_launch(stream, kernel, &launch));
  CHECK(udal_stream_read_buffer(stream, y, 0, host_y, sizeof host_y));
  CHECK(udal_stream_synchronize(stream, TIMEOUT_NS));
  for (uint32_t i = 0; i < COUNT; ++i) {
    if (host_y[i] != 2.0f * (float)i + 1.0f) {
      fprintf(stderr, "y[%u] = %g, expected %g\n", i, host_y[i], 2.0f * (float)i + 1.0f);
      return 1;
    }
  }
  CHECK(udal_stream_destroy(stream));
  CHECK(udal_buffer_destroy(x));
  CHECK(udal_buffer_destroy(y));
  CHECK(udal_kernel_destroy(kernel));
  CHECK(udal_module_destroy(module));
  printf("saxpy of %u elements on '%s' (%s): right\n", COUNT, info.name, info.driver_name);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <manifest> <module.so>\n", argv[0]);
    return 2;
  }
  udal_instance_t instance = NULL;
  if (open_one_manifest(argv[1], &instance) != UDAL_SUCCESS) return 1;
  int rc = run(instance, argv[2]);
  udal_instance_release(instance);
  return rc;
}
