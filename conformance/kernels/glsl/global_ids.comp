#version 450
// Local size comes from specialization constants 0, 1, 2 (the launch's group_size).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0) writeonly buffer Out { uint out_[]; };
layout(push_constant) uniform Args { uint items; };
void main() {
  uvec3 size = gl_NumWorkGroups * gl_WorkGroupSize;
  uvec3 g = gl_GlobalInvocationID;
  uvec3 l = gl_LocalInvocationID;
  uint i = g.x + g.y * size.x + g.z * size.x * size.y;
  if (i < items) {
    out_[4 * i + 0] = g.x;
    out_[4 * i + 1] = g.y;
    out_[4 * i + 2] = g.z;
    out_[4 * i + 3] = l.x | (l.y << 10) | (l.z << 20);
  }
}
