#version 450
// c = a + scale * b over n items. Group size from specialization constants 0, 1, 2.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0) readonly buffer A { float a[]; };
layout(set = 0, binding = 1) readonly buffer B { float b[]; };
layout(set = 0, binding = 2) writeonly buffer C { float c[]; };
layout(push_constant) uniform Args { uint n; float scale; };
void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < n) c[i] = a[i] + scale * b[i];
}
