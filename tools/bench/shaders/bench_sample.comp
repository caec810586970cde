#version 450
// interop-fd bench: the consumer's use of a frame. Reads the 32 pixels whose
// positions the host chose into the same buffer, for the host to check
// (tools/bench/bench_vk.c). tools/bench/bench_gl.c holds the same shader for GL.
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
