/* test_kernels.c — host kernels the CPU driver's tests launch. Most declare their arguments
 * (UDAL_HOST_KERNEL_ARGS), so the driver describes and checks them; `empty`, `increment` and
 * `identify` are plain UDAL_HOST_KERNEL kernels, which it cannot. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <udal/udal_host_kernel.h>

UDAL_HOST_MODULE();

#define READ UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ)
#define WRITE UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_WRITE)
#define READ_WRITE UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ_WRITE)

typedef struct block16 {
  uint8_t bytes[16];
} block16;

UDAL_HOST_KERNEL(empty, 0) { (void)d; }

/* (data, n): data[i] += 1 for every global x id below n. */
UDAL_HOST_KERNEL_ARGS(add_one, 0, READ_WRITE, UDAL_HOST_ARG_VALUE(uint32_t)) {
  uint32_t* data = UDAL_ARG_BUFFER(d, 0, uint32_t);
  const uint32_t n = UDAL_ARG_VALUE(d, 1, uint32_t);
  UDAL_FOR_EACH_ITEM(d, x, y, z) {
    const uint64_t i = udal_global_id(d, 0, x);
    if (i < n) data[i] += 1;
  }
}

/* (bytes, n): bytes[i] += 1 for every global x id below n; any offset is aligned for it. */
UDAL_HOST_KERNEL_ARGS(add_one_byte, 0, READ_WRITE, UDAL_HOST_ARG_VALUE(uint32_t)) {
  uint8_t* data = UDAL_ARG_BUFFER(d, 0, uint8_t);
  const uint32_t n = UDAL_ARG_VALUE(d, 1, uint32_t);
  UDAL_FOR_EACH_ITEM(d, x, y, z) {
    const uint64_t i = udal_global_id(d, 0, x);
    if (i < n) data[i] += 1;
  }
}

/* (a, b, c, n): c = a + b. */
UDAL_HOST_KERNEL_ARGS(vector_add, 0, READ, READ, WRITE, UDAL_HOST_ARG_VALUE(uint32_t)) {
  const float* a = UDAL_ARG_BUFFER(d, 0, const float);
  const float* b = UDAL_ARG_BUFFER(d, 1, const float);
  float* c = UDAL_ARG_BUFFER(d, 2, float);
  const uint32_t n = UDAL_ARG_VALUE(d, 3, uint32_t);
  UDAL_FOR_EACH_ITEM(d, x, y, z) {
    const uint64_t i = udal_global_id(d, 0, x);
    if (i < n) c[i] = a[i] + b[i];
  }
}

/* (out): out[linear group] = 1 + the group's linear id computed from group_id, and counts
 * the items the group ran in out[groups + linear group]. */
UDAL_HOST_KERNEL_ARGS(group_ids, 0, READ_WRITE) {
  uint32_t* out = UDAL_ARG_BUFFER(d, 0, uint32_t);
  const uint64_t groups = (uint64_t)d->group_count[0] * d->group_count[1] * d->group_count[2];
  const uint64_t linear = d->group_id[0] + (uint64_t)d->group_count[0] *
                          (d->group_id[1] + (uint64_t)d->group_count[1] * d->group_id[2]);
  out[linear] += (uint32_t)(1 + linear);
  UDAL_FOR_EACH_ITEM(d, x, y, z) { out[groups + linear] += 1; }
}

/* (out): each group fills its local memory with its id, sums it back, and records
 * out[3 * group] = sum, out[3 * group + 1] = whether local memory is 64-byte aligned,
 * out[3 * group + 2] = local_memory_bytes. Reads d->local_memory without a check: launched
 * without local memory it would crash, which the driver refuses. */
UDAL_HOST_KERNEL_ARGS(local_sum, UDAL_HOST_KERNEL_USES_LOCAL_MEMORY, WRITE) {
  uint32_t* out = UDAL_ARG_BUFFER(d, 0, uint32_t);
  uint32_t* local = (uint32_t*)d->local_memory;
  const uint64_t count = d->local_memory_bytes / sizeof(uint32_t);
  local[0] = 0;
  for (uint64_t i = 0; i < count; ++i) local[i] = d->group_id[0];
  uint32_t sum = 0;
  for (uint64_t i = 0; i < count; ++i) sum += local[i];
  out[3 * d->group_id[0]] = sum;
  out[3 * d->group_id[0] + 1] = ((uintptr_t)d->local_memory % 64) == 0;
  out[3 * d->group_id[0] + 2] = (uint32_t)d->local_memory_bytes;
}

/* (out, u8, u64, 16-byte block): copies the values and their alignment checks into out. */
UDAL_HOST_KERNEL_ARGS(values, 0, WRITE, UDAL_HOST_ARG_VALUE(uint8_t), UDAL_HOST_ARG_VALUE(uint64_t),
                      UDAL_HOST_ARG_VALUE(block16)) {
  uint64_t* out = UDAL_ARG_BUFFER(d, 0, uint64_t);
  out[0] = UDAL_ARG_VALUE(d, 1, uint8_t);
  out[1] = UDAL_ARG_VALUE(d, 2, uint64_t);
  memcpy(&out[2], d->args[3], 16);
  out[4] = ((uintptr_t)d->args[1] % 16 == 0) && ((uintptr_t)d->args[2] % 16 == 0) &&
           ((uintptr_t)d->args[3] % 16 == 0);
  out[5] = d->arg_sizes[0];
  out[6] = d->arg_sizes[1];
  out[7] = d->arg_sizes[3];
}

/* (milliseconds): sleeps; gives two timing records a distance. */
UDAL_HOST_KERNEL_ARGS(sleep_ms, 0, UDAL_HOST_ARG_VALUE(uint32_t)) {
  const uint32_t ms = UDAL_ARG_VALUE(d, 0, uint32_t);
  struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
}

/* (counter): counter[0] += 1, with group count 1: checks stream order and counts. */
UDAL_HOST_KERNEL(increment, 1) {
  uint64_t* counter = UDAL_ARG_BUFFER(d, 0, uint64_t);
  counter[0] += 1;
}

/* (data, step): data[0] = data[0] * 3 + step: order-sensitive, so any reordering shows. */
UDAL_HOST_KERNEL_ARGS(mix, 0, READ_WRITE, UDAL_HOST_ARG_VALUE(uint32_t)) {
  uint64_t* data = UDAL_ARG_BUFFER(d, 0, uint64_t);
  data[0] = data[0] * 3 + UDAL_ARG_VALUE(d, 1, uint32_t);
}

/* (address, index, value): ((uint32_t*)address)[index] = value, through a device address. */
UDAL_HOST_KERNEL_ARGS(store_at_address, 0, UDAL_HOST_ARG_VALUE(uint64_t),
                      UDAL_HOST_ARG_VALUE(uint32_t), UDAL_HOST_ARG_VALUE(uint32_t)) {
  uint32_t* target = (uint32_t*)(uintptr_t)UDAL_ARG_VALUE(d, 0, uint64_t);
  target[UDAL_ARG_VALUE(d, 1, uint32_t)] = UDAL_ARG_VALUE(d, 2, uint32_t);
}

/* (table, out): table[0] holds the device address of a uint32_t array, stored in memory by
 * the host; out[0] = that array's [1]. Addresses stored in buffers work as pointers. */
UDAL_HOST_KERNEL_ARGS(follow_address, 0, READ, WRITE) {
  const uint64_t* table = UDAL_ARG_BUFFER(d, 0, const uint64_t);
  uint32_t* out = UDAL_ARG_BUFFER(d, 1, uint32_t);
  out[0] = ((const uint32_t*)(uintptr_t)table[0])[1];
}

/* (out): out[0] = 1; other_kernels.c's kernel of the same name writes 7. */
UDAL_HOST_KERNEL(identify, 1) { UDAL_ARG_BUFFER(d, 0, uint32_t)[0] = 1; }
