#version 450
// Local size comes from specialization constants 0, 1, 2 (the launch's group_size).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0) buffer Out { uint out_[]; };
layout(push_constant) uniform Args { uint v[31]; };
void main() {
  if (gl_GlobalInvocationID != uvec3(0)) return;
  for (int k = 0; k < 31; ++k) out_[k] = v[k];
}
