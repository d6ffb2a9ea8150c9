#version 450
// Built once per push-constant size a device may have (VALUE_WORDS 32 and 64: 128 and 256
// bytes), so the CTS can launch with exactly max_value_argument_bytes of values.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0) writeonly buffer Out { uint out_[]; };
layout(push_constant) uniform Args { uint v[VALUE_WORDS]; };
void main() {
  if (gl_GlobalInvocationID != uvec3(0)) return;
  for (int k = 0; k < VALUE_WORDS; ++k) out_[k] = v[k];
}
