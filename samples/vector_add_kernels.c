/* vector_add_kernels.c — the HOST_NATIVE image of the vector_add sample: c = a + b. */
#include <udal/udal_host_kernel.h>

UDAL_HOST_MODULE();

/* (a, b, c, n). The grid may cover more items than |n|, so every item checks its index. */
UDAL_HOST_KERNEL(vector_add, 4) {
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
