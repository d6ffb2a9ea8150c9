#version 450
// Uses binding 1 only: binding 0 still takes a buffer argument (declared READ).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 1) buffer Out { uint out_[]; };
layout(push_constant) uniform Args { uint value; };
void main() { out_[0] = value; }
