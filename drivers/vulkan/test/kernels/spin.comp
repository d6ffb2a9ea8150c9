#version 450
// Slow on purpose: |iterations| dependent steps, then out[0] += 1 per group (out[1]
// is written only in the unlikely case x hits one value). For ordering and timeouts.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0) buffer Out { uint out_[]; };
layout(push_constant) uniform Args { uint iterations; };
void main() {
  uint x = 1u;
  for (uint k = 0u; k < iterations; ++k) x = x * 1664525u + 1013904223u;
  // The store depends on x, so the loop cannot be optimized away. Lavapipe caps every
  // loop at 65535 iterations: longer work is more groups.
  if (gl_LocalInvocationIndex == 0u) atomicAdd(out_[0], 1u);
  if (x == 0x9e3779b9u) out_[1] = x;
}
