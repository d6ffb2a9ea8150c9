#version 450
#extension GL_EXT_buffer_reference : require
// Writes value + i through a device address taken as a 64-bit value argument, n items.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(buffer_reference, std430, buffer_reference_align = 4) buffer Words { uint w[]; };
layout(push_constant) uniform Args { Words out_; uint value; uint n; };
void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < n) out_.w[i] = value + i;
}
