#version 450
// A storage buffer in descriptor set 1: not the driver's convention (set 0 only).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 1, binding = 0) buffer Out { uint out_[]; };
void main() { out_[gl_GlobalInvocationID.x] = 1u; }
