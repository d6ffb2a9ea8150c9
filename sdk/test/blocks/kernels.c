/* kernels.c — host kernels the SDK's host-module tests load and call. */
#include <stdint.h>

#include <udal/udal_host_kernel.h>

UDAL_HOST_MODULE();

/* (data, factor): data[global x] *= factor for every work-item. */
UDAL_HOST_KERNEL_ARGS(scale, 0, UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ_WRITE),
                      UDAL_HOST_ARG_VALUE(uint32_t)) {
  uint32_t* data = UDAL_ARG_BUFFER(d, 0, uint32_t);
  const uint32_t factor = UDAL_ARG_VALUE(d, 1, uint32_t);
  UDAL_FOR_EACH_ITEM(d, x, y, z) { data[udal_global_id(d, 0, x)] *= factor; }
}

/* (groups): groups[linear group id] = 1 + x + 10 * y + 100 * z of that group. */
UDAL_HOST_KERNEL(group_ids, 1) {
  uint32_t* groups = UDAL_ARG_BUFFER(d, 0, uint32_t);
  const uint64_t linear = d->group_id[0] + (uint64_t)d->group_count[0] *
                                               (d->group_id[1] + (uint64_t)d->group_count[1] * d->group_id[2]);
  groups[linear] = 1 + d->group_id[0] + 10 * d->group_id[1] + 100 * d->group_id[2];
}

/* (out): out[0] = the local memory's first word after writing it (local memory usable). */
UDAL_HOST_KERNEL_ARGS(uses_local, UDAL_HOST_KERNEL_USES_LOCAL_MEMORY,
                      UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_WRITE)) {
  uint32_t* local = (uint32_t*)d->local_memory;
  local[0] = 7;
  UDAL_ARG_BUFFER(d, 0, uint32_t)[0] = local[0];
}
