// The CTS's test kernels in OpenCL C 1.2: the same meaning as host/cts_kernels.c and
// glsl/*.comp (see ../README.md). Compiled to SPIRV_KERNEL and shipped as OPENCL_C source.

kernel void fill_index(global uint* out, uint n, uint base) {
  uint i = (uint)get_global_id(0);
  if (i < n) out[i] = base + i;
}

kernel void global_ids(global uint* out, uint items) {
  size_t sx = get_global_size(0), sy = get_global_size(1);
  size_t x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  size_t i = x + y * sx + z * sx * sy;
  if (i < items) {
    out[4 * i + 0] = (uint)x;
    out[4 * i + 1] = (uint)y;
    out[4 * i + 2] = (uint)z;
    out[4 * i + 3] = (uint)(get_local_id(0) | (get_local_id(1) << 10) | (get_local_id(2) << 20));
  }
}

kernel void saxpy(global float* y, global const float* x, float a, uint n) {
  uint i = (uint)get_global_id(0);
  if (i < n) y[i] = a * x[i] + y[i];
}

kernel void add_u32(global uint* data, uint value, uint n) {
  uint i = (uint)get_global_id(0);
  if (i < n) data[i] += value;
}

kernel void arg_order(global uint* out, uint a, uint b, uint c, uint d, global const uint* in1,
                      int e, float f, global const uint* in2, uint g) {
  if (get_global_id(0) != 0 || get_global_id(1) != 0 || get_global_id(2) != 0) return;
  out[0] = a; out[1] = b; out[2] = c; out[3] = d;
  out[4] = in1[0];
  out[5] = (uint)e;
  out[6] = as_uint(f);
  out[7] = in2[0];
  out[8] = g;
}

kernel void many_args(global uint* out, uint v0, uint v1, uint v2, uint v3, uint v4, uint v5,
                      uint v6, uint v7, uint v8, uint v9, uint v10, uint v11, uint v12,
                      uint v13, uint v14, uint v15, uint v16, uint v17, uint v18, uint v19,
                      uint v20, uint v21, uint v22, uint v23, uint v24, uint v25, uint v26,
                      uint v27, uint v28, uint v29, uint v30) {
  if (get_global_id(0) != 0 || get_global_id(1) != 0 || get_global_id(2) != 0) return;
  uint v[31] = {v0,  v1,  v2,  v3,  v4,  v5,  v6,  v7,  v8,  v9,  v10, v11, v12, v13, v14, v15,
                v16, v17, v18, v19, v20, v21, v22, v23, v24, v25, v26, v27, v28, v29, v30};
  for (int k = 0; k < 31; ++k) out[k] = v[k];
}

// The launch's dynamic local memory arrives as the trailing __local argument, which a driver
// over OpenCL appends (clSetKernelArg with a NULL value and the launch's local bytes).
kernel void local_reverse(global uint* data, local uint* scratch) {
  uint size = (uint)get_local_size(0);
  uint l = (uint)get_local_id(0);
  uint base = (uint)get_group_id(0) * size;
  scratch[l] = data[base + l];
  barrier(CLK_LOCAL_MEM_FENCE);
  data[base + l] = scratch[size - 1 - l];
}

// out[0] += 1 for the first item of every group, out[1] += 1 for the last item of every
// group, and the grid's last item writes its global id to out[2..4].
kernel void grid_extent(global uint* out) {
  if (get_local_id(0) == 0 && get_local_id(1) == 0 && get_local_id(2) == 0) atomic_inc(&out[0]);
  if (get_local_id(0) == get_local_size(0) - 1 && get_local_id(1) == get_local_size(1) - 1 &&
      get_local_id(2) == get_local_size(2) - 1) {
    atomic_inc(&out[1]);
  }
  if (get_global_id(0) == get_global_size(0) - 1 && get_global_id(1) == get_global_size(1) - 1 &&
      get_global_id(2) == get_global_size(2) - 1) {
    out[2] = (uint)get_global_id(0);
    out[3] = (uint)get_global_id(1);
    out[4] = (uint)get_global_id(2);
  }
}

// |table| is the device address of two device addresses {src, dst}: dst[i] = src[i] + i for
// i < n, dst reached by pointer arithmetic on its address.
kernel void device_address(ulong table, uint n) {
  uint i = (uint)get_global_id(0);
  if (i >= n) return;
  global const ulong* addresses = (global const ulong*)table;
  global const uint* src = (global const uint*)addresses[0];
  global uint* dst = (global uint*)(addresses[1] + 4ul * i);
  *dst = src[i] + i;
}

// A fixed group size of 8 (reqd_work_group_size: SPIR-V LocalSize): every item writes it.
kernel __attribute__((reqd_work_group_size(8, 1, 1))) void fixed_group(global uint* out) {
  out[get_global_id(0)] = (uint)get_local_size(0);
}
