/* host_module_kernels.c — a HOST_NATIVE module built with nothing but
 * `pkg-config --cflags --libs udal-host-module` (no CMake function): y[i] = a * x[i] + y[i]. */
#include <udal/udal_host_kernel.h>

UDAL_HOST_MODULE();

/* Not exported: the module's hidden default visibility keeps helpers out of the driver's
 * dlsym, and the check asserts that only the UDAL symbols are dynamic. */
float consumer_saxpy_element(float a, float x, float y) { return a * x + y; }

UDAL_HOST_KERNEL_ARGS(saxpy, 0, UDAL_HOST_ARG_VALUE(float),
                      UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ),
                      UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ_WRITE),
                      UDAL_HOST_ARG_VALUE(uint32_t)) {
  const float a = UDAL_ARG_VALUE(d, 0, float);
  const float* x = UDAL_ARG_BUFFER(d, 1, const float);
  float* y = UDAL_ARG_BUFFER(d, 2, float);
  const uint32_t n = UDAL_ARG_VALUE(d, 3, uint32_t);
  UDAL_FOR_EACH_ITEM(d, ix, iy, iz) {
    const uint64_t i = udal_global_id(d, 0, ix);
    if (i < n) y[i] = consumer_saxpy_element(a, x[i], y[i]);
  }
}
