// Kernels of libze_udal's own tests (compiled to SPIR-V with clang-14 + llvm-spirv-14).
kernel void add(global int* out, global const int* in, int value) {
  const size_t i = get_global_id(0);
  out[i] = in[i] + value;
}

kernel void accumulate(global int* data, int value) {
  data[get_global_id(0)] += value;
}

// Two local buffers, neither last: libze_udal reshapes them into UDAL's one trailing local
// pointer.
kernel void two_locals(local int* first, global int* out, local int* second, int n) {
  const size_t l = get_local_id(0);
  first[l] = (int)l;
  second[l] = n - (int)l;
  barrier(CLK_LOCAL_MEM_FENCE);
  const size_t other = get_local_size(0) - 1 - l;
  out[get_global_id(0)] = first[other] * 1000 + second[other];
}

kernel __attribute__((reqd_work_group_size(4, 1, 1))) void fixed(global int* out) {
  out[get_global_id(0)] = (int)get_local_size(0);
}

// A pointer stored in memory (as a 64-bit address) and followed by the kernel.
kernel void follow(global const ulong* table, global int* out) {
  out[0] = *(global const int*)table[0];
}
