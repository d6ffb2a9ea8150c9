#version 450
// saxpy(x, y, a, n): x at binding 0, y at binding 1, a and n in the push-constant block
// (docs/spec.md 14.1), the same arguments as the HOST_NATIVE and OpenCL C kernels.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(set = 0, binding = 1) buffer Y { float y[]; };
layout(push_constant) uniform Args { float a; uint n; };
void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < n) y[i] = a * x[i] + y[i];
}
