// The Vulkan COPY path's copy: the producer's linear rows (a storage buffer on
// the imported memory) into the OPTIMAL image, through an unsigned-integer
// view of the texel's size (R8, R16, R32, R32G32 or R32G32B32A32 _UINT), so
// the bytes land unchanged whatever the format. One invocation per texel.
// The library embeds the SPIR-V built from this file (copy.comp.spv, checked
// in so that the library builds without a shader compiler); the test
// vk_copy_shader_current rebuilds it and compares.
#version 450

layout(local_size_x = 16, local_size_y = 16) in;

// Bytes per texel: 1, 2, 4, 8 or 16.
layout(constant_id = 0) const uint TEXEL_BYTES = 4;

layout(std430, set = 0, binding = 0) readonly buffer Rows { uint words[]; };
layout(set = 0, binding = 1) uniform writeonly uimage2D dst;

layout(push_constant) uniform Frame {
  uint width;
  uint height;
  uint row_pitch; // bytes, a multiple of TEXEL_BYTES
} frame;

void main() {
  uvec2 p = gl_GlobalInvocationID.xy;
  if (p.x >= frame.width || p.y >= frame.height) return;
  uint offset = p.y * frame.row_pitch + p.x * TEXEL_BYTES;
  uint w = offset >> 2;
  uvec4 texel = uvec4(0u);
  if (TEXEL_BYTES == 1u) {
    texel.x = (words[w] >> ((offset & 3u) * 8u)) & 0xffu;
  } else if (TEXEL_BYTES == 2u) {
    texel.x = (words[w] >> ((offset & 2u) * 8u)) & 0xffffu;
  } else if (TEXEL_BYTES == 4u) {
    texel.x = words[w];
  } else if (TEXEL_BYTES == 8u) {
    texel.xy = uvec2(words[w], words[w + 1u]);
  } else {
    texel = uvec4(words[w], words[w + 1u], words[w + 2u], words[w + 3u]);
  }
  imageStore(dst, ivec2(p), texel);
}
