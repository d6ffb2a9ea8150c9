/* The CTS's test kernels for HOST_NATIVE. Each kernel has the same meaning in every format
 * (glsl/<kernel>.comp, opencl/cts_kernels.cl); kernels/README.md states the meaning and the
 * argument list. A work-group function runs every item of its group itself.
 *
 * Every kernel but value_bytes declares its arguments (UDAL_HOST_KERNEL_ARGS), so drivers
 * describe them (udal_kernel_get_argument_info) and check launches against them; value_bytes
 * is a plain UDAL_HOST_KERNEL, which takes value arguments of any size and has no argument
 * information. */
#include <udal/udal_host_kernel.h>

#include <string.h>

UDAL_HOST_MODULE();

#define CTS_READ UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ)
#define CTS_WRITE UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_WRITE)
#define CTS_READ_WRITE UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ_WRITE)
#define CTS_U32 UDAL_HOST_ARG_VALUE(uint32_t)

/* (out: u32[], n: u32, base: u32) — out[i] = base + i for each global x id i < n. */
UDAL_HOST_KERNEL_ARGS(fill_index, 0, CTS_WRITE, CTS_U32, CTS_U32) {
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
UDAL_HOST_KERNEL_ARGS(global_ids, 0, CTS_WRITE, CTS_U32) {
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
UDAL_HOST_KERNEL_ARGS(saxpy, 0, CTS_READ_WRITE, CTS_READ, UDAL_HOST_ARG_VALUE(float), CTS_U32) {
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
UDAL_HOST_KERNEL_ARGS(add_u32, 0, CTS_READ_WRITE, CTS_U32, CTS_U32) {
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
UDAL_HOST_KERNEL_ARGS(arg_order, 0, CTS_WRITE, CTS_U32, CTS_U32, CTS_U32, CTS_U32, CTS_READ,
                      UDAL_HOST_ARG_VALUE(int32_t), UDAL_HOST_ARG_VALUE(float), CTS_READ,
                      CTS_U32) {
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
#define CTS_U32_X8 CTS_U32, CTS_U32, CTS_U32, CTS_U32, CTS_U32, CTS_U32, CTS_U32, CTS_U32
UDAL_HOST_KERNEL_ARGS(many_args, 0, CTS_WRITE, CTS_U32_X8, CTS_U32_X8, CTS_U32_X8, CTS_U32,
                      CTS_U32, CTS_U32, CTS_U32, CTS_U32, CTS_U32, CTS_U32) {
  if (d->group_id[0] != 0 || d->group_id[1] != 0 || d->group_id[2] != 0) return;
  uint32_t* out = UDAL_ARG_BUFFER(d, 0, uint32_t);
  for (uint32_t k = 0; k < 31; ++k) out[k] = UDAL_ARG_VALUE(d, k + 1, uint32_t);
}

/* (data: u32[]) with group_size[0]·4 bytes of dynamic local memory — each group reverses
 * its own slice of group_size[0] words through local memory: two phases, as a device kernel
 * with a barrier between them would. */
UDAL_HOST_KERNEL_ARGS(local_reverse, UDAL_HOST_KERNEL_USES_LOCAL_MEMORY, CTS_READ_WRITE) {
  uint32_t* data = UDAL_ARG_BUFFER(d, 0, uint32_t);
  uint32_t* scratch = (uint32_t*)d->local_memory;
  uint32_t size = d->group_size[0];
  uint64_t base = (uint64_t)d->group_id[0] * size;
  if (scratch == NULL || d->local_memory_bytes < (uint64_t)size * 4) return;
  for (uint32_t l = 0; l < size; ++l) scratch[l] = data[base + l];
  for (uint32_t l = 0; l < size; ++l) data[base + l] = scratch[size - 1 - l];
}

/* (out: u32[8], zero-filled) — out[0] += 1 for the first item of every group, out[1] += 1
 * for the last item of every group (atomically), and the item whose global id is the grid's
 * last on every axis writes that id to out[2..4]. Grids of more than 2^32 items and of the
 * most groups a device takes are checked with it. A work-group function knows its group's
 * first and last item without visiting the items between them. */
UDAL_HOST_KERNEL_ARGS(grid_extent, 0, CTS_READ_WRITE) {
  uint32_t* out = UDAL_ARG_BUFFER(d, 0, uint32_t);
  __atomic_fetch_add(&out[0], 1u, __ATOMIC_RELAXED);
  __atomic_fetch_add(&out[1], 1u, __ATOMIC_RELAXED);
  int last = 1;
  uint32_t id[3];
  for (int axis = 0; axis < 3; ++axis) {
    id[axis] = (uint32_t)udal_global_id(d, axis, d->group_size[axis] - 1);
    if (d->group_id[axis] + 1 != d->group_count[axis]) last = 0;
  }
  if (last) {
    out[2] = id[0];
    out[3] = id[1];
    out[4] = id[2];
  }
}

/* (table: u64 device address, n: u32) — table points at two device addresses {src, dst};
 * dst[i] = src[i] + i for i < n, dst reached by pointer arithmetic on its address. */
UDAL_HOST_KERNEL_ARGS(device_address, 0, UDAL_HOST_ARG_VALUE(uint64_t), CTS_U32) {
  uint64_t table = UDAL_ARG_VALUE(d, 0, uint64_t);
  uint32_t n = UDAL_ARG_VALUE(d, 1, uint32_t);
  const uint64_t* addresses = (const uint64_t*)(uintptr_t)table;
  const uint32_t* src = (const uint32_t*)(uintptr_t)addresses[0];
  UDAL_FOR_EACH_ITEM(d, x, y, z) {
    (void)y;
    (void)z;
    uint64_t i = udal_global_id(d, 0, x);
    if (i < n) {
      uint32_t* dst = (uint32_t*)(uintptr_t)(addresses[1] + 4 * i);
      *dst = src[i] + (uint32_t)i;
    }
  }
}

/* (out: u32[]) — every item writes its group's size on x: out[i] = group_size[0]. The
 * device formats fix the group size at 8 (SPIR-V LocalSize, reqd_work_group_size); a host
 * kernel cannot, so here it takes any. */
UDAL_HOST_KERNEL_ARGS(fixed_group, 0, CTS_WRITE) {
  uint32_t* out = UDAL_ARG_BUFFER(d, 0, uint32_t);
  UDAL_FOR_EACH_ITEM(d, x, y, z) {
    (void)y;
    (void)z;
    out[udal_global_id(d, 0, x)] = d->group_size[0];
  }
}

/* (out: u8[], bytes: any size) — item 0 copies the value argument's bytes to out. Declares
 * nothing: a plain UDAL_HOST_KERNEL takes value arguments of any size. */
UDAL_HOST_KERNEL(value_bytes, 2) {
  if (d->group_id[0] != 0 || d->group_id[1] != 0 || d->group_id[2] != 0) return;
  memcpy(d->args[0], d->args[1], (size_t)d->arg_sizes[1]);
}

/* (out: u32[63], v0 … v62: u32) — 64 arguments, as many as the CPU driver's
 * max_kernel_arguments; out[k] = v_k. HOST_NATIVE only. */
UDAL_HOST_KERNEL_ARGS(args_64, 0, CTS_WRITE, CTS_U32_X8, CTS_U32_X8, CTS_U32_X8, CTS_U32_X8,
                      CTS_U32_X8, CTS_U32_X8, CTS_U32_X8, CTS_U32, CTS_U32, CTS_U32, CTS_U32,
                      CTS_U32, CTS_U32, CTS_U32) {
  if (d->group_id[0] != 0 || d->group_id[1] != 0 || d->group_id[2] != 0) return;
  uint32_t* out = UDAL_ARG_BUFFER(d, 0, uint32_t);
  for (uint32_t k = 0; k < 63; ++k) out[k] = UDAL_ARG_VALUE(d, k + 1, uint32_t);
}
