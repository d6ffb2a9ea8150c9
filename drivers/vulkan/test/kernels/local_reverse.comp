#version 450
// Reverses each group's items through dynamic local memory: specialization constant 3 is
// its size in 32-bit words.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const uint local_words = 1;
shared uint scratch[local_words];
layout(set = 0, binding = 0) buffer Data { uint data[]; };
void main() {
  uint size = gl_WorkGroupSize.x;
  uint l = gl_LocalInvocationID.x;
  uint base = gl_WorkGroupID.x * size;
  scratch[l] = data[base + l];
  barrier();
  data[base + l] = scratch[size - 1 - l];
}
