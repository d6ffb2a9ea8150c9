#version 450
// out[i] = value + i for i < n: checks where a buffer argument's offset puts the buffer.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0) buffer Out { uint out_[]; };
layout(push_constant) uniform Args { uint value; uint n; };
void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < n) out_[i] = value + i;
}
