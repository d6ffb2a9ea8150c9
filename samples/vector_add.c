/*
 * vector_add.c — c = a + b on the first device that takes one of this sample's kernel
 * images, written the way a framework uses UDAL: only libudal, only udal.h.
 *
 *   vector_add [host-module.so]
 *
 * The HOST_NATIVE module built from vector_add_kernels.c is found at the path given at
 * compile time (VECTOR_ADD_HOST_MODULE), or at argv[1] when given.
 */
#include <udal/udal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef VECTOR_ADD_HOST_MODULE
#error "define VECTOR_ADD_HOST_MODULE as the path of the vector_add_kernels host module"
#endif

/* Prime, so no group size above 1 divides it: the last group is always partial, which is
 * what the kernel's bounds check and the driver's grid handling must get right. */
#define ELEMENT_COUNT 1000003u
/* Elements past the end of |c| that the kernel must leave alone. */
#define GUARD_COUNT 64u
#define PREFERRED_GROUP_SIZE 64u
#define SENTINEL (-1.0f)
/* A hung driver fails the sample instead of stalling it. */
#define SYNC_TIMEOUT_NS (60ull * 1000 * 1000 * 1000)

/* The same kernel in every format this sample ships, in order of preference; the device
 * is the first that accepts any of them, and udal_module_create takes the first it
 * accepts. Adding a format (SPIR-V for the Vulkan driver, ...) is one more entry here. */
typedef struct kernel_image_t {
  udal_module_format_t format;
  const char* path;
} kernel_image_t;

enum { IMAGE_HOST_NATIVE, IMAGE_COUNT };

typedef struct sample_t {
  udal_instance_t instance;
  udal_device_t device;
  udal_device_info_t device_info;
  udal_stream_t stream;
  udal_buffer_t a, b, c;
  udal_module_t module;
  udal_kernel_t kernel;
  float *host_a, *host_b, *host_c;
} sample_t;

/* Prints |what| failed with the result's name and libudal's message; returns 0 so
 * callers can write `return fail(...)`. */
static int fail(const char* what, udal_result_t result) {
  fprintf(stderr, "vector_add: %s failed: %s: %s\n", what, udal_result_name(result),
          udal_last_error_message());
  return 0;
}

#define CHECK(call)                                                                                \
  do {                                                                                             \
    udal_result_t check_result_ = (call);                                                          \
    if (check_result_ != UDAL_SUCCESS) {                                                           \
      return fail(#call, check_result_);                                                           \
    }                                                                                              \
  } while (0)

static int device_accepts(const udal_device_info_t* info, udal_module_format_t format) {
  uint32_t i;
  for (i = 0; i < info->module_format_count && i < UDAL_MAX_MODULE_FORMATS; ++i) {
    if (info->module_formats[i] == format)
      return 1;
  }
  return 0;
}

/* "No device" is useless without why: list every driver with its state and reason. */
static void explain_drivers(udal_instance_t instance) {
  uint32_t driver_count = 0, i;
  if (udal_instance_get_driver_count(instance, &driver_count) != UDAL_SUCCESS)
    return;
  if (driver_count == 0)
    fprintf(stderr, "vector_add: no UDAL driver was found (see udal-info)\n");
  for (i = 0; i < driver_count; ++i) {
    udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
    if (udal_instance_get_driver_status(instance, i, &status) != UDAL_SUCCESS)
      continue;
    if (status.state == UDAL_DRIVER_STATE_LOADED) {
      fprintf(stderr, "vector_add:   driver '%s': loaded, %u device(s)\n", status.name,
              status.device_count);
    } else {
      fprintf(stderr, "vector_add:   driver '%s': %s (%s): %s\n", status.name,
              status.state == UDAL_DRIVER_STATE_FILTERED ? "filtered" : "failed",
              udal_result_name(status.result), status.reason);
    }
  }
}

static int pick_device(sample_t* s, const kernel_image_t* images, uint32_t image_count) {
  uint32_t device_count = 0, d, i;
  CHECK(udal_instance_get_device_count(s->instance, &device_count));
  for (d = 0; d < device_count; ++d) {
    udal_device_t device = NULL;
    udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
    CHECK(udal_instance_get_device(s->instance, d, &device));
    CHECK(udal_device_get_info(device, &info));
    for (i = 0; i < image_count; ++i) {
      if (device_accepts(&info, images[i].format)) {
        s->device = device;
        s->device_info = info;
        return 1;
      }
    }
  }
  fprintf(stderr, "vector_add: none of the %u devices accepts this sample's kernel formats\n",
          device_count);
  explain_drivers(s->instance);
  return 0;
}

static int create_buffer(sample_t* s, uint64_t bytes, udal_buffer_t* out) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.kind = UDAL_BUFFER_KIND_DEVICE;
  desc.size = bytes;
  CHECK(udal_buffer_create(s->device, &desc, out));
  return 1;
}

static const char* access_name(udal_arg_access_t access) {
  switch (access) {
  case UDAL_ARG_ACCESS_READ:
    return "read";
  case UDAL_ARG_ACCESS_WRITE:
    return "write";
  case UDAL_ARG_ACCESS_READ_WRITE:
    return "read-write";
  default:
    return "none";
  }
}

/* Prints what the driver knows of the kernel's arguments, when it says (a framework would
 * check its own argument list against this once, at kernel creation). */
static int describe_kernel(udal_kernel_t kernel) {
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  uint32_t i;
  CHECK(udal_kernel_get_info(kernel, &info));
  if (!(info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO)) {
    printf("vector_add: the driver does not describe the kernel's arguments\n");
    return 1;
  }
  printf("vector_add: kernel vector_add(");
  for (i = 0; i < info.argument_count; ++i) {
    udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
    CHECK(udal_kernel_get_argument_info(kernel, i, &arg));
    if (arg.kind == UDAL_ARG_KIND_BUFFER)
      printf("%sbuffer %s", i ? ", " : "", access_name(arg.access));
    else if (arg.kind == UDAL_ARG_KIND_VALUE)
      printf("%svalue of %u bytes", i ? ", " : "", arg.value_size);
    else
      printf("%sunknown", i ? ", " : "");
  }
  printf(")\n");
  return 1;
}

static int load_kernel(sample_t* s, const kernel_image_t* images, uint32_t image_count) {
  udal_module_image_t module_images[IMAGE_COUNT];
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  uint32_t i;
  for (i = 0; i < image_count; ++i) {
    const udal_module_image_t init = UDAL_MODULE_IMAGE_INIT;
    module_images[i] = init;
    module_images[i].format = images[i].format;
    module_images[i].path = images[i].path;
  }
  desc.images = module_images;
  desc.image_count = image_count;
  CHECK(udal_module_create(s->device, &desc, &s->module));
  CHECK(udal_kernel_create(s->module, "vector_add", &s->kernel));
  return describe_kernel(s->kernel);
}

static uint32_t min_u32(uint32_t a, uint32_t b) {
  return a < b ? a : b;
}

static int run(sample_t* s, const kernel_image_t* images, uint32_t image_count) {
  const uint64_t bytes = (uint64_t)ELEMENT_COUNT * sizeof(float);
  const uint64_t c_bytes = (uint64_t)(ELEMENT_COUNT + GUARD_COUNT) * sizeof(float);
  const uint32_t n = ELEMENT_COUNT;
  const float sentinel = SENTINEL;
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  udal_kernel_arg_t args[4];
  uint32_t group_size, i, bad = 0;

  CHECK(udal_instance_create(NULL, &s->instance));
  if (!pick_device(s, images, image_count))
    return 0;
  CHECK(udal_stream_create(s->device, NULL, &s->stream));
  if (!create_buffer(s, bytes, &s->a) || !create_buffer(s, bytes, &s->b) ||
      !create_buffer(s, c_bytes, &s->c))
    return 0;
  if (!load_kernel(s, images, image_count))
    return 0;

  s->host_a = malloc(bytes);
  s->host_b = malloc(bytes);
  s->host_c = malloc(c_bytes);
  if (!s->host_a || !s->host_b || !s->host_c) {
    fprintf(stderr, "vector_add: out of host memory\n");
    return 0;
  }
  for (i = 0; i < n; ++i) {
    /* Integers below 2^24 keep float sums exact, so the check can be exact too. */
    s->host_a[i] = (float)i;
    s->host_b[i] = (float)(2u * i);
  }

  CHECK(udal_stream_write_buffer(s->stream, s->a, 0, s->host_a, bytes));
  CHECK(udal_stream_write_buffer(s->stream, s->b, 0, s->host_b, bytes));
  /* The sentinel shows both elements the kernel missed and writes past |n|. */
  CHECK(udal_stream_fill_buffer(s->stream, s->c, 0, c_bytes, &sentinel, sizeof(sentinel)));

  group_size = min_u32(PREFERRED_GROUP_SIZE, min_u32(s->device_info.max_group_size[0],
                                                     s->device_info.max_group_invocations));
  launch.group_size[0] = group_size;
  launch.group_count[0] = (n + group_size - 1) / group_size;
  /* Say how the kernel uses each buffer: drivers order work and place barriers by it, and
   * one that knows the kernel's declarations refuses a launch that promises less. */
  args[0] = udal_arg_buffer_access(s->a, 0, UDAL_ARG_ACCESS_READ);
  args[1] = udal_arg_buffer_access(s->b, 0, UDAL_ARG_ACCESS_READ);
  args[2] = udal_arg_buffer_access(s->c, 0, UDAL_ARG_ACCESS_WRITE);
  args[3] = udal_arg_value(&n, sizeof(n));
  launch.args = args;
  launch.arg_count = 4;
  CHECK(udal_stream_launch(s->stream, s->kernel, &launch));

  CHECK(udal_stream_read_buffer(s->stream, s->c, 0, s->host_c, c_bytes));
  CHECK(udal_stream_synchronize(s->stream, SYNC_TIMEOUT_NS));

  for (i = 0; i < n + GUARD_COUNT; ++i) {
    const float expected = i < n ? s->host_a[i] + s->host_b[i] : SENTINEL;
    if (s->host_c[i] != expected) {
      if (bad < 10) {
        fprintf(stderr, "vector_add: c[%u] = %g, expected %g%s\n", i, (double)s->host_c[i],
                (double)expected, i < n ? "" : " (past the end: must stay untouched)");
      }
      ++bad;
    }
  }
  if (bad) {
    fprintf(stderr, "vector_add: %u of %u elements wrong on %s\n", bad, n + GUARD_COUNT,
            s->device_info.name);
    return 0;
  }
  printf("vector_add: driver %s, %u groups of %u items for %u elements\n",
         s->device_info.driver_name, launch.group_count[0], group_size, n);
  printf("vector_add: %u elements OK on %s\n", n, s->device_info.name);
  return 1;
}

/* Destroys in dependency order; the stream first because destroying it waits for its
 * work, which may still use the buffers when run() stopped half way. */
static void release(sample_t* s) {
  if (s->stream)
    udal_stream_destroy(s->stream);
  if (s->kernel)
    udal_kernel_destroy(s->kernel);
  if (s->module)
    udal_module_destroy(s->module);
  if (s->c)
    udal_buffer_destroy(s->c);
  if (s->b)
    udal_buffer_destroy(s->b);
  if (s->a)
    udal_buffer_destroy(s->a);
  if (s->instance)
    udal_instance_release(s->instance);
  free(s->host_a);
  free(s->host_b);
  free(s->host_c);
}

int main(int argc, char** argv) {
  kernel_image_t images[IMAGE_COUNT];
  sample_t sample;
  int ok;
  images[IMAGE_HOST_NATIVE].format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  images[IMAGE_HOST_NATIVE].path = argc > 1 ? argv[1] : VECTOR_ADD_HOST_MODULE;
  memset(&sample, 0, sizeof(sample));
  ok = run(&sample, images, IMAGE_COUNT);
  release(&sample);
  return ok ? 0 : 1;
}
