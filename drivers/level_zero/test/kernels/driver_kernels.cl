// Kernels of the Level Zero driver's own tests (clang-14 + llvm-spirv-14 → SPIRV_KERNEL).
kernel void fill_index(global uint* out, uint n, uint base) {
  const uint i = get_global_id(0);
  if (i < n) out[i] = base + i;
}

kernel void add(global uint* data, global const uint* in, uint value) {
  const size_t i = get_global_id(0);
  data[i] += in[i] + value;
}

kernel void reverse_local(global uint* data, local uint* scratch) {
  const size_t l = get_local_id(0);
  const size_t n = get_local_size(0);
  scratch[l] = data[get_global_id(0)];
  barrier(CLK_LOCAL_MEM_FENCE);
  data[get_global_id(0)] = scratch[n - 1 - l];
}

kernel __attribute__((reqd_work_group_size(8, 1, 1))) void fixed(global uint* out) {
  out[get_global_id(0)] = get_local_size(0);
}

kernel void with_image(read_only image2d_t image, global uint* out) {
  out[0] = get_image_width(image);
}
