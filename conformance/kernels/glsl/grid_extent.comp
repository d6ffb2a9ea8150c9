#version 450
// Local size comes from specialization constants 0, 1, 2 (the launch's group_size).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
// out_[0] += 1 for the first item of every group, out_[1] += 1 for the last item of every
// group, and the grid's last item writes its global id to out_[2..4].
layout(set = 0, binding = 0) buffer Out { uint out_[]; };
void main() {
  if (gl_LocalInvocationIndex == 0u) atomicAdd(out_[0], 1u);
  if (gl_LocalInvocationID == gl_WorkGroupSize - 1u) atomicAdd(out_[1], 1u);
  if (gl_GlobalInvocationID == gl_NumWorkGroups * gl_WorkGroupSize - 1u) {
    out_[2] = gl_GlobalInvocationID.x;
    out_[3] = gl_GlobalInvocationID.y;
    out_[4] = gl_GlobalInvocationID.z;
  }
}
