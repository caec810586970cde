// The Vulkan COPY path's copy: the producer's linear rows (a storage buffer on
// the imported memory) into the OPTIMAL image, through an unsigned-integer
// view of the texel's size (R8, R16, R32, R32G32 or R32G32B32A32 _UINT), so
// the bytes land unchanged whatever the format. Each invocation copies a run
// of texels of one row.
// The library embeds the SPIR-V built from this file (copy.comp.spv, checked
// in so that the library builds without a shader compiler); the test
// vk_copy_shader_current rebuilds it and compares.
#version 450

layout(local_size_x_id = 2, local_size_y_id = 3) in;

// Bytes per texel: 1, 2, 4, 8 or 16.
layout(constant_id = 0) const uint TEXEL_BYTES = 4;
// Texels per invocation, a group's width apart in a row: fewer invocations
// for small texels.
layout(constant_id = 1) const uint RUN = 1;

layout(std430, set = 0, binding = 0) readonly buffer Rows { uint words[]; };
// FORMAT: the storage view's format qualifier (r8ui, r16ui, r32ui, rg32ui or
// rgba32ui), given when compiling: one module per texel size, since Vulkan
// before 1.3 allows no storage write without a format.
layout(set = 0, binding = 1, FORMAT) uniform writeonly uimage2D dst;

layout(push_constant) uniform Frame {
  uint width;
  uint height;
  uint row_pitch; // bytes, a multiple of TEXEL_BYTES
} frame;

void main() {
  uint y = gl_GlobalInvocationID.y;
  if (y >= frame.height) return;
  // A group copies RUN x gl_WorkGroupSize.x texels of each of its rows; each
  // step of the loop copies gl_WorkGroupSize.x adjacent ones, so loads and
  // stores of neighbouring invocations stay adjacent in memory.
  uint x0 = gl_WorkGroupID.x * RUN * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  for (uint i = 0u; i < RUN; i++) {
    uint x = x0 + i * gl_WorkGroupSize.x;
    if (x >= frame.width) return;
    uint offset = y * frame.row_pitch + x * TEXEL_BYTES;
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
    imageStore(dst, ivec2(x, y), texel);
  }
}
