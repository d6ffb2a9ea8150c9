// Specialization constants in OpenCL C: llvm-spirv turns calls of __spirv_SpecConstant into
// OpSpecConstant with that SpecId. Compiled to SPIR-V only.
int __attribute__((overloadable)) __spirv_SpecConstant(int id, int default_value);
float __attribute__((overloadable)) __spirv_SpecConstant(int id, float default_value);

kernel void specialized(global int* out, global float* scale) {
  out[get_global_id(0)] = __spirv_SpecConstant(7, 42);
  if (get_global_id(0) == 0) scale[0] = __spirv_SpecConstant(8, 1.5f);
}
