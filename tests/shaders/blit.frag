#version 450
// Each fragment fetches the texel under it (the view's swizzle applies), so
// the framebuffer becomes a copy of the image as Vulkan samples it.
layout(binding = 0) uniform sampler2D tex;
layout(location = 0) out vec4 out_color;
void main() { out_color = texelFetch(tex, ivec2(gl_FragCoord.xy), 0); }
