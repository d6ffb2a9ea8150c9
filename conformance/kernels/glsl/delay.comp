#version 450
// Local size comes from specialization constants 0, 1, 2 (the launch's group_size).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
// A device has no clock a shader may portably read: the delay is about 4000 dependent
// iterations per microsecond asked for. The loops are nested so that none runs more than
// 4000 times: some compilers (llvmpipe's) cap a single loop's trip count.
layout(set = 0, binding = 0) buffer Out { uint out_[]; };
layout(push_constant) uniform Args { uint microseconds; };
void main() {
  uint x = 1u;
  uint ms = microseconds / 1000u;
  uint rest = microseconds % 1000u;
  for (uint m = 0u; m <= ms; ++m) {
    uint us = m < ms ? 1000u : rest;
    for (uint u = 0u; u < us; ++u) {
      for (uint k = 0u; k < 4000u; ++k) x = x * 1664525u + 1013904223u;
    }
  }
  out_[0] += 1u;
  // out_[1] is scratch: storing the loops' result there keeps a compiler from deleting
  // them (llvmpipe did, when nothing observable depended on x).
  out_[1] = x;
}
