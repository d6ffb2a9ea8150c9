/* bench_kernels.c — udal-bench's HOST_NATIVE kernels. The SPIR-V twins are empty.comp and
 * saxpy.comp; the OpenCL C twins are in src/opencl_peer.cpp. Same arguments everywhere. */
#include <udal/udal_host_kernel.h>

UDAL_HOST_MODULE();

UDAL_HOST_KERNEL(empty, 0) {
  (void)d;
}

/* saxpy(x, y, a, n): y = a·x + y. The loop body is what a compiler vectorizes, so the
 * kernel is as fast as the hand-written std::thread limit when the driver adds nothing.
 * Declared, so the driver checks every launch against it, as it does for SPIR-V. */
UDAL_HOST_KERNEL_ARGS(saxpy, 0, UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ),
                      UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ_WRITE), UDAL_HOST_ARG_VALUE(float),
                      UDAL_HOST_ARG_VALUE(uint32_t)) {
  const float* restrict x = UDAL_ARG_BUFFER(d, 0, const float);
  float* restrict y = UDAL_ARG_BUFFER(d, 1, float);
  const float a = UDAL_ARG_VALUE(d, 2, float);
  const uint32_t n = UDAL_ARG_VALUE(d, 3, uint32_t);
  const uint64_t first = udal_global_id(d, 0, 0);
  if (first >= n)
    return;
  uint64_t count = d->group_size[0];
  if (first + count > n)
    count = n - first;
  for (uint64_t i = 0; i < count; ++i)
    y[first + i] = a * x[first + i] + y[first + i];
}
