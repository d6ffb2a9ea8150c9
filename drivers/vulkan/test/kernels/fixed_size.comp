#version 450
// A shader that fixes its group size (not the UDAL convention): launches must match it.
layout(local_size_x = 8) in;
layout(set = 0, binding = 0) buffer Out { uint out_[]; };
void main() { out_[gl_GlobalInvocationID.x] = gl_LocalInvocationID.x; }
