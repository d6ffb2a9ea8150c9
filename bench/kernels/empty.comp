#version 450
// The empty kernel of the launch-latency and launch-throughput workloads.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
void main() {}
