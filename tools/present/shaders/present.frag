#version 450
// Shows the frame scaled to the target. The view's swizzle applies (R8 shows
// grey). An sRGB frame samples as linear colour; encode it again so the
// target (a UNORM image or swapchain) holds the same display colour as every
// other format does (tools/producer/cppn.h).
layout(binding = 0) uniform sampler2D frame;
layout(push_constant) uniform Push {
  vec2 target_size;
  uint srgb_encode;
} pc;
layout(location = 0) out vec4 out_color;

vec3 encode(vec3 c) {
  c = clamp(c, 0.0, 1.0);
  return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(vec3(0.0031308), c));
}

void main() {
  vec4 c = texture(frame, gl_FragCoord.xy / pc.target_size);
  if (pc.srgb_encode != 0u) c.rgb = encode(c.rgb);
  out_color = c;
}
