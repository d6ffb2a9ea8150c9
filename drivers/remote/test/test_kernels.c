/* test_kernels.c — host kernels of the remote driver's tests. */
#include <udal/udal.h>
#include <udal/udal_host_kernel.h>

UDAL_HOST_MODULE();

/* c[i] = a[i] + b[i] for i < n. */
UDAL_HOST_KERNEL_ARGS(vector_add, 0, UDAL_HOST_ARG_BUFFER(UDAL_ARG_ACCESS_READ),
                      UDAL_HOST_ARG_BUFFER(UDAL_ARG_ACCESS_READ),
                      UDAL_HOST_ARG_BUFFER(UDAL_ARG_ACCESS_WRITE), UDAL_HOST_ARG_VALUE(uint32_t)) {
  const float* a = UDAL_ARG_BUFFER(d, 0, const float);
  const float* b = UDAL_ARG_BUFFER(d, 1, const float);
  float* c = UDAL_ARG_BUFFER(d, 2, float);
  const uint32_t n = UDAL_ARG_VALUE(d, 3, uint32_t);
  UDAL_FOR_EACH_ITEM(d, x, y, z) {
    const uint64_t i = udal_global_id(d, 0, x);
    if (i < n) c[i] = a[i] + b[i];
  }
}

/* counter[0] += 1: launched many times in a row, it counts the launches that ran. */
UDAL_HOST_KERNEL_ARGS(increment, 0, UDAL_HOST_ARG_BUFFER(UDAL_ARG_ACCESS_READ_WRITE)) {
  uint32_t* counter = UDAL_ARG_BUFFER(d, 0, uint32_t);
  counter[0] += 1;
}
