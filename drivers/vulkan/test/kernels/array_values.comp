#version 450
// out[k] = v[k] for k < 4, out[4] = n: the array may come as four values or one of 16 bytes.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0) writeonly buffer Out { uint out_[]; };
layout(push_constant) uniform Args { uint v[4]; uint n; };
void main() {
  for (int k = 0; k < 4; ++k) out_[k] = v[k];
  out_[4] = n;
}
