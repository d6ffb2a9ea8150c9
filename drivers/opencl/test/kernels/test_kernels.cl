// The OpenCL driver's test kernels, in OpenCL C 1.2. Built at module creation (OPENCL_C) and
// compiled to SPIR-V with clang + llvm-spirv at build time (SPIRV_KERNEL).

kernel void vector_add(global const float* a, global const float* b, global float* c, uint n) {
  uint i = (uint)get_global_id(0);
  if (i < n) c[i] = a[i] + b[i];
}

kernel void add_u32(global uint* data, uint value, uint n) {
  uint i = (uint)get_global_id(0);
  if (i < n) data[i] += value;
}

// Dynamic local memory arrives as the trailing local pointer.
kernel void local_reverse(global uint* data, local uint* scratch) {
  uint size = (uint)get_local_size(0);
  uint l = (uint)get_local_id(0);
  uint base = (uint)get_group_id(0) * size;
  scratch[l] = data[base + l];
  barrier(CLK_LOCAL_MEM_FENCE);
  data[base + l] = scratch[size - 1 - l];
}

kernel void fixed_size(global uint* out) __attribute__((reqd_work_group_size(4, 1, 1)));
kernel void fixed_size(global uint* out) { out[get_global_id(0)] = (uint)get_local_size(0); }

// A buffer reached only through its device address, passed as a 64-bit value.
kernel void store_through_address(ulong address, uint value, uint n) {
  global uint* p = (global uint*)address;
  uint i = (uint)get_global_id(0);
  if (i < n) p[i] = value + i;
}

// Busy work long enough to outlast an enqueue: |rounds| dependent steps per item.
kernel void spin(global uint* out, uint rounds) {
  uint x = (uint)get_global_id(0) + 1u;
  for (uint r = 0; r < rounds; ++r) x = x * 1664525u + 1013904223u;
  out[get_global_id(0)] = x;
}

// Every scalar size, a vector, and the 64-bit types, each stored to show it arrived.
kernel void value_sizes(global ulong* out, uchar a, ushort b, uint c, ulong d, float4 e,
                        double f) {
  if (get_global_id(0) != 0) return;
  out[0] = a;
  out[1] = b;
  out[2] = c;
  out[3] = d;
  out[4] = as_uint(e.w);
  out[5] = as_ulong(f);
}

typedef struct {
  int first;
  int second;
} pair_t;

// A struct by value: launchable, but its size is not something the driver can tell from the
// type's name, so the kernel has no argument information.
kernel void by_struct(global int* out, pair_t pair) {
  if (get_global_id(0) == 0) out[0] = pair.first + pair.second;
}

// A local pointer that is not last: the launch cannot pass it.
kernel void local_first(local uint* scratch, global uint* out) {
  scratch[get_local_id(0)] = 1u;
  barrier(CLK_LOCAL_MEM_FENCE);
  out[get_global_id(0)] = scratch[0];
}

// An image: UDAL does not model images.
kernel void uses_image(read_only image2d_t image, global float4* out) {
  out[0] = read_imagef(image, (int2)(0, 0));
}
