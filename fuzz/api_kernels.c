/* api_kernels.c — the host kernels fuzz_api launches. Every access is bounded by what the
 * driver says it passed (d->arg_sizes, d->local_memory_bytes), so an out-of-bounds access
 * here is the driver lying about an argument, not the kernel's fault. */
#include <stdint.h>
#include <string.h>

#include <udal/udal_host_kernel.h>

UDAL_HOST_MODULE();

UDAL_HOST_KERNEL(empty, 0) { (void)d; }

/* (bytes, n): bytes[i] += 1 for every global x id below n and below the buffer's end. */
UDAL_HOST_KERNEL_ARGS(touch, 0, UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ_WRITE),
                      UDAL_HOST_ARG_VALUE(uint32_t)) {
  uint8_t* data = UDAL_ARG_BUFFER(d, 0, uint8_t);
  const uint32_t n = UDAL_ARG_VALUE(d, 1, uint32_t);
  UDAL_FOR_EACH_ITEM(d, x, y, z) {
    const uint64_t i = udal_global_id(d, 0, x);
    if (i < n && i < d->arg_sizes[0]) data[i] += 1;
  }
}

/* (src, dst): every group copies what both buffers hold of its x slice. */
UDAL_HOST_KERNEL_ARGS(copy, 0, UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ),
                      UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_WRITE)) {
  const uint8_t* src = UDAL_ARG_BUFFER(d, 0, const uint8_t);
  uint8_t* dst = UDAL_ARG_BUFFER(d, 1, uint8_t);
  const uint64_t n = d->arg_sizes[0] < d->arg_sizes[1] ? d->arg_sizes[0] : d->arg_sizes[1];
  UDAL_FOR_EACH_ITEM(d, x, y, z) {
    const uint64_t i = udal_global_id(d, 0, x);
    if (i < n) dst[i] = src[i];
  }
}

/* (out, value): fills the group's local memory, writes its sum and |value| to out. */
UDAL_HOST_KERNEL_ARGS(local, UDAL_HOST_KERNEL_USES_LOCAL_MEMORY,
                      UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_WRITE), UDAL_HOST_ARG_VALUE(uint64_t)) {
  uint8_t* out = UDAL_ARG_BUFFER(d, 0, uint8_t);
  uint8_t* local = (uint8_t*)d->local_memory;
  uint64_t sum = UDAL_ARG_VALUE(d, 1, uint64_t);
  memset(local, (int)d->group_id[0], (size_t)d->local_memory_bytes);
  for (uint64_t i = 0; i < d->local_memory_bytes; ++i) sum += local[i];
  if (d->arg_sizes[0] >= sizeof sum) memcpy(out, &sum, sizeof sum);
}

/* A 16-byte value argument beside a read-only buffer. */
typedef struct block16 {
  uint8_t bytes[16];
} block16;
UDAL_HOST_KERNEL_ARGS(block, 0, UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ),
                      UDAL_HOST_ARG_VALUE(block16)) {
  const uint8_t* in = UDAL_ARG_BUFFER(d, 0, const uint8_t);
  const block16 value = UDAL_ARG_VALUE(d, 1, block16);
  volatile uint8_t sink = value.bytes[15];
  if (d->arg_sizes[0] > 0) sink = (uint8_t)(sink + in[d->arg_sizes[0] - 1]);
  (void)sink;
}

/* Undeclared arguments (the driver cannot check them): reads every byte of every argument
 * the driver passed, as far as it says each one reaches. */
UDAL_HOST_KERNEL(sum_bytes, 2) {
  uint64_t sum = 0;
  for (uint32_t a = 0; a < d->arg_count; ++a) {
    const uint8_t* bytes = (const uint8_t*)d->args[a];
    for (uint64_t i = 0; i < d->arg_sizes[a]; ++i) sum += bytes[i];
  }
  volatile uint64_t sink = sum;
  (void)sink;
}
