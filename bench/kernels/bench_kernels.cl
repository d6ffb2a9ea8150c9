// bench_kernels.cl — udal-bench's OpenCL C kernels: the one text the OpenCL peer builds with
// clBuildProgram, the OPENCL_C image of udal-bench's modules, and (clang + llvm-spirv at build
// time) their SPIRV_KERNEL image. The twins are bench_kernels.c (HOST_NATIVE) and
// empty.comp / saxpy.comp (SPIRV_COMPUTE); the arguments are the same everywhere.
kernel void empty(void) {}

kernel void saxpy(global const float* x, global float* y, float a, uint n) {
  uint i = get_global_id(0);
  if (i < n)
    y[i] = a * x[i] + y[i];
}
