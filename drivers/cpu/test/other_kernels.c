/* other_kernels.c — a second module whose kernel differs from test_kernels.c's: tells
 * whether a module created from bytes is really the image given. */
#include <stdint.h>

#include <udal/udal_host_kernel.h>

UDAL_HOST_MODULE();

/* (out): out[0] = 7. */
UDAL_HOST_KERNEL(identify, 1) { UDAL_ARG_BUFFER(d, 0, uint32_t)[0] = 7; }
