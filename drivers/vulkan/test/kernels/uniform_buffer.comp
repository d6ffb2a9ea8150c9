#version 450
// A uniform buffer: the driver passes values as push constants, not uniform buffers.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0) uniform Params { uint value; };
layout(set = 0, binding = 1) buffer Out { uint out_[]; };
void main() { out_[0] = value; }
