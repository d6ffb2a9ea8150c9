#version 450
// A storage image: the driver binds only storage buffers.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0, r32ui) uniform uimage2D image_;
void main() { imageStore(image_, ivec2(gl_GlobalInvocationID.xy), uvec4(1u)); }
