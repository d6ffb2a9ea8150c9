#version 450
// Local size comes from specialization constants 0, 1, 2 (the launch's group_size).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(set = 0, binding = 0) writeonly buffer Out { uint out_[]; };
// 31 members, one value argument each (an array would be one argument of 124 bytes).
layout(push_constant) uniform Args {
  uint v0; uint v1; uint v2; uint v3; uint v4; uint v5; uint v6; uint v7; uint v8; uint v9; uint v10; uint v11; uint v12; uint v13; uint v14; uint v15; uint v16; uint v17; uint v18; uint v19; uint v20; uint v21; uint v22; uint v23; uint v24; uint v25; uint v26; uint v27; uint v28; uint v29; uint v30;
};
void main() {
  if (gl_GlobalInvocationID != uvec3(0)) return;
  out_[0] = v0;
  out_[1] = v1;
  out_[2] = v2;
  out_[3] = v3;
  out_[4] = v4;
  out_[5] = v5;
  out_[6] = v6;
  out_[7] = v7;
  out_[8] = v8;
  out_[9] = v9;
  out_[10] = v10;
  out_[11] = v11;
  out_[12] = v12;
  out_[13] = v13;
  out_[14] = v14;
  out_[15] = v15;
  out_[16] = v16;
  out_[17] = v17;
  out_[18] = v18;
  out_[19] = v19;
  out_[20] = v20;
  out_[21] = v21;
  out_[22] = v22;
  out_[23] = v23;
  out_[24] = v24;
  out_[25] = v25;
  out_[26] = v26;
  out_[27] = v27;
  out_[28] = v28;
  out_[29] = v29;
  out_[30] = v30;
}
