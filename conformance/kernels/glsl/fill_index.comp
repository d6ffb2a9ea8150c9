#version 450
// Local size comes from specialization constants 0, 1, 2 (the launch's group_size).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0) writeonly buffer Out { uint out_[]; };
layout(push_constant) uniform Args { uint n; uint base; };
void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < n) out_[i] = base + i;
}
