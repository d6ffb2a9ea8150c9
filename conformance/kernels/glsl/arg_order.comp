#version 450
// Local size comes from specialization constants 0, 1, 2 (the launch's group_size).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0) writeonly buffer Out { uint out_[]; };
layout(set = 0, binding = 1) readonly buffer In1 { uint in1[]; };
layout(set = 0, binding = 2) readonly buffer In2 { uint in2[]; };
layout(push_constant) uniform Args { uint a; uint b; uint c; uint d; int e; float f; uint g; };
void main() {
  if (gl_GlobalInvocationID != uvec3(0)) return;
  out_[0] = a; out_[1] = b; out_[2] = c; out_[3] = d;
  out_[4] = in1[0];
  out_[5] = uint(e);
  out_[6] = floatBitsToUint(f);
  out_[7] = in2[0];
  out_[8] = g;
}
