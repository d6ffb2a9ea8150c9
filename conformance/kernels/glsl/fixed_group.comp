#version 450
// A fixed group size (SPIR-V LocalSize 8x1x1, no specialization constants): drivers report
// UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE and refuse a launch at another group size.
layout(local_size_x = 8, local_size_y = 1, local_size_z = 1) in;
layout(set = 0, binding = 0) writeonly buffer Out { uint out_[]; };
void main() { out_[gl_GlobalInvocationID.x] = gl_WorkGroupSize.x; }
