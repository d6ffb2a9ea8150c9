/* The CTS's test kernels for HOST_NATIVE. Each kernel has the same meaning in every format
 * (glsl/<kernel>.comp, opencl/cts_kernels.cl); kernels/README.md states the meaning and the
 * argument list. A work-group function runs every item of its group itself. */
#define _POSIX_C_SOURCE 199309L
#include <udal/udal_host_kernel.h>

#include <string.h>
#include <time.h>

UDAL_HOST_MODULE();

/* (out: u32[], n: u32, base: u32) — out[i] = base + i for each global x id i < n. */
UDAL_HOST_KERNEL(fill_index, 3) {
  uint32_t* out = UDAL_ARG_BUFFER(d, 0, uint32_t);
  uint32_t n = UDAL_ARG_VALUE(d, 1, uint32_t);
  uint32_t base = UDAL_ARG_VALUE(d, 2, uint32_t);
  UDAL_FOR_EACH_ITEM(d, x, y, z) {
    (void)y;
    (void)z;
    uint64_t i = udal_global_id(d, 0, x);
    if (i < n) out[i] = base + (uint32_t)i;
  }
}

/* (out: u32[4 * items], items: u32) — for the item with global id (x, y, z) and linear id
 * l = x + y·X + z·X·Y (X, Y: global sizes), out[4l..4l+3] = {x, y, z, lx | ly<<10 | lz<<20}. */
UDAL_HOST_KERNEL(global_ids, 2) {
  uint32_t* out = UDAL_ARG_BUFFER(d, 0, uint32_t);
  uint32_t items = UDAL_ARG_VALUE(d, 1, uint32_t);
  uint64_t size_x = (uint64_t)d->group_count[0] * d->group_size[0];
  uint64_t size_y = (uint64_t)d->group_count[1] * d->group_size[1];
  UDAL_FOR_EACH_ITEM(d, lx, ly, lz) {
    uint64_t x = udal_global_id(d, 0, lx);
    uint64_t y = udal_global_id(d, 1, ly);
    uint64_t z = udal_global_id(d, 2, lz);
    uint64_t l = x + y * size_x + z * size_x * size_y;
    if (l < items) {
      out[4 * l + 0] = (uint32_t)x;
      out[4 * l + 1] = (uint32_t)y;
      out[4 * l + 2] = (uint32_t)z;
      out[4 * l + 3] = lx | (ly << 10) | (lz << 20);
    }
  }
}

/* (y: f32[], x: f32[], a: f32, n: u32) — y[i] = a·x[i] + y[i] for i < n. */
UDAL_HOST_KERNEL(saxpy, 4) {
  float* y = UDAL_ARG_BUFFER(d, 0, float);
  const float* x = UDAL_ARG_BUFFER(d, 1, const float);
  float a = UDAL_ARG_VALUE(d, 2, float);
  uint32_t n = UDAL_ARG_VALUE(d, 3, uint32_t);
  UDAL_FOR_EACH_ITEM(d, ix, iy, iz) {
    (void)iy;
    (void)iz;
    uint64_t i = udal_global_id(d, 0, ix);
    if (i < n) y[i] = a * x[i] + y[i];
  }
}

/* (data: u32[], value: u32, n: u32) — data[i] += value for i < n. */
UDAL_HOST_KERNEL(add_u32, 3) {
  uint32_t* data = UDAL_ARG_BUFFER(d, 0, uint32_t);
  uint32_t value = UDAL_ARG_VALUE(d, 1, uint32_t);
  uint32_t n = UDAL_ARG_VALUE(d, 2, uint32_t);
  UDAL_FOR_EACH_ITEM(d, x, y, z) {
    (void)y;
    (void)z;
    uint64_t i = udal_global_id(d, 0, x);
    if (i < n) data[i] += value;
  }
}

/* (out: u32[9], a: u32, b: u32, c: u32, d: u32, in1: u32[], e: i32, f: f32, in2: u32[],
 *  g: u32) — arguments of both kinds interleaved, so that any reordering shows. Item 0
 * writes out = {a, b, c, d, in1[0], (u32)e, bits(f), in2[0], g}. */
UDAL_HOST_KERNEL(arg_order, 10) {
  if (d->group_id[0] != 0 || d->group_id[1] != 0 || d->group_id[2] != 0) return;
  uint32_t* out = UDAL_ARG_BUFFER(d, 0, uint32_t);
  float f = UDAL_ARG_VALUE(d, 7, float);
  uint32_t f_bits;
  memcpy(&f_bits, &f, sizeof f_bits);
  out[0] = UDAL_ARG_VALUE(d, 1, uint32_t);
  out[1] = UDAL_ARG_VALUE(d, 2, uint32_t);
  out[2] = UDAL_ARG_VALUE(d, 3, uint32_t);
  out[3] = UDAL_ARG_VALUE(d, 4, uint32_t);
  out[4] = UDAL_ARG_BUFFER(d, 5, const uint32_t)[0];
  out[5] = (uint32_t)UDAL_ARG_VALUE(d, 6, int32_t);
  out[6] = f_bits;
  out[7] = UDAL_ARG_BUFFER(d, 8, const uint32_t)[0];
  out[8] = UDAL_ARG_VALUE(d, 9, uint32_t);
}

/* (out: u32[31], v0 … v30: u32) — 32 arguments; out[k] = v_k. */
UDAL_HOST_KERNEL(many_args, 32) {
  if (d->group_id[0] != 0 || d->group_id[1] != 0 || d->group_id[2] != 0) return;
  uint32_t* out = UDAL_ARG_BUFFER(d, 0, uint32_t);
  for (uint32_t k = 0; k < 31; ++k) out[k] = UDAL_ARG_VALUE(d, k + 1, uint32_t);
}

/* (data: u32[]) with group_size[0]·4 bytes of dynamic local memory — each group reverses
 * its own slice of group_size[0] words through local memory: two phases, as a device kernel
 * with a barrier between them would. */
UDAL_HOST_KERNEL(local_reverse, 1) {
  uint32_t* data = UDAL_ARG_BUFFER(d, 0, uint32_t);
  uint32_t* scratch = (uint32_t*)d->local_memory;
  uint32_t size = d->group_size[0];
  uint64_t base = (uint64_t)d->group_id[0] * size;
  if (scratch == NULL || d->local_memory_bytes < (uint64_t)size * 4) return;
  for (uint32_t l = 0; l < size; ++l) scratch[l] = data[base + l];
  for (uint32_t l = 0; l < size; ++l) data[base + l] = scratch[size - 1 - l];
}

/* (out: u32[1], microseconds: u32) — takes at least |microseconds| of time, then adds 1 to
 * out[0]. Work the host can observe as still running. Launch it with one item. */
UDAL_HOST_KERNEL(delay, 2) {
  uint32_t* out = UDAL_ARG_BUFFER(d, 0, uint32_t);
  uint32_t microseconds = UDAL_ARG_VALUE(d, 1, uint32_t);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t elapsed_ns = (int64_t)(now.tv_sec - start.tv_sec) * 1000000000 +
                         (now.tv_nsec - start.tv_nsec);
    if (elapsed_ns >= (int64_t)microseconds * 1000) break;
  }
  out[0] += 1;
}
