#version 450
// out[0] = the specialization constant with id 4 (a caller's constant, docs/spec.md 14.1).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 4) const uint answer = 7;
layout(set = 0, binding = 0) writeonly buffer Out { uint out_[]; };
void main() { out_[0] = answer; }
