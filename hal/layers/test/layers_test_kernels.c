/* Host kernels of the layer tests, for the CPU driver. */
#include <udal/udal_host_kernel.h>

UDAL_HOST_MODULE();

/* dst[i] = 2 * src[i] for i < n. */
UDAL_HOST_KERNEL_ARGS(twice, 0, UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ),
                      UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_WRITE), UDAL_HOST_ARG_VALUE(uint32_t)) {
  const uint32_t* src = UDAL_ARG_BUFFER(d, 0, const uint32_t);
  uint32_t* dst = UDAL_ARG_BUFFER(d, 1, uint32_t);
  const uint32_t n = UDAL_ARG_VALUE(d, 2, uint32_t);
  UDAL_FOR_EACH_ITEM(d, x, y, z) {
    const uint64_t i = udal_global_id(d, 0, x);
    if (i < n)
      dst[i] = 2u * src[i];
  }
}
