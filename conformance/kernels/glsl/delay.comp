#version 450
// Local size comes from specialization constants 0, 1, 2 (the launch's group_size).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
// A device has no clock a shader may portably read: the delay is a dependent loop of about
// 100 iterations per microsecond asked for.
layout(set = 0, binding = 0) buffer Out { uint out_[]; };
layout(push_constant) uniform Args { uint microseconds; };
void main() {
  uint x = 1u;
  for (uint k = 0u; k < microseconds * 100u; ++k) x = x * 1664525u + 1013904223u;
  out_[0] += (x == 0xffffffffu && microseconds == 0u) ? 2u : 1u;
}
