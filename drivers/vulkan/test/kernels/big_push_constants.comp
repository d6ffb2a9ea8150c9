#version 450
// A push-constant block of 132 bytes: over the 128 Vulkan guarantees (and lavapipe gives).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0) buffer Out { uint out_[]; };
layout(push_constant) uniform Args { uint v[33]; };
void main() { out_[0] = v[32]; }
