/* bench_kernels.c — the kernels of bench_cpu. */
#include <udal/udal_host_kernel.h>

UDAL_HOST_MODULE();

UDAL_HOST_KERNEL(empty, 0) { (void)d; }
