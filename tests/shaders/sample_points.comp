#version 450
// The ring stress test's use of a frame: fetches the 32 texels whose positions
// the host chose (tests/test_ring_stress.c) into the same buffer.
layout(local_size_x = 32) in;
layout(set = 0, binding = 0) uniform sampler2D frame;
layout(std430, set = 0, binding = 1) buffer Io {
  uvec2 pos[32];
  vec4 texel[32];
} io;

void main() {
  uint i = gl_LocalInvocationID.x;
  io.texel[i] = texelFetch(frame, ivec2(io.pos[i]), 0);
}
