#version 450
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
// Local size comes from specialization constants 0, 1, 2 (the launch's group_size).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
// |table| is the device address of two device addresses {src, dst}: dst[i] = src[i] + i for
// i < n, dst reached by pointer arithmetic on its address. No buffer is bound.
layout(buffer_reference, std430, buffer_reference_align = 4) buffer Words { uint w[]; };
layout(buffer_reference, std430, buffer_reference_align = 8) readonly buffer Table { uint64_t p[]; };
layout(push_constant) uniform Args { uint64_t table; uint n; };
void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= n) return;
  Table t = Table(table);
  Words src = Words(t.p[0]);
  Words dst = Words(t.p[1] + 4ul * uint64_t(i));
  dst.w[0] = src.w[i] + i;
}
