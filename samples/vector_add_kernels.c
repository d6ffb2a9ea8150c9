/* vector_add_kernels.c — the HOST_NATIVE image of the vector_add sample: c = a + b. */
#include <udal/udal_host_kernel.h>

UDAL_HOST_MODULE();

/* (a, b, c, n), declared so that the driver can describe the arguments
 * (udal_kernel_get_argument_info) and refuse a launch that passes them wrongly. The grid
 * may cover more items than |n|, so every item checks its index. */
UDAL_HOST_KERNEL_ARGS(vector_add, 0, UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ),
                      UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ),
                      UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_WRITE), UDAL_HOST_ARG_VALUE(uint32_t)) {
  const float* a = UDAL_ARG_BUFFER(d, 0, const float);
  const float* b = UDAL_ARG_BUFFER(d, 1, const float);
  float* c = UDAL_ARG_BUFFER(d, 2, float);
  const uint32_t n = UDAL_ARG_VALUE(d, 3, uint32_t);
  UDAL_FOR_EACH_ITEM(d, x, y, z) {
    const uint64_t i = udal_global_id(d, 0, x);
    if (i < n)
      c[i] = a[i] + b[i];
  }
}
