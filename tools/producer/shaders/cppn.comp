#version 450
// The demo's producer for the Vulkan backend: the network of tools/producer/cppn.h,
// evaluated per pixel and written into a frame in any of the 11 MAX_Format
// encodings (see cppn_pixel() and cppn_encode() in tools/producer/cppn.c, which this
// follows operation for operation). Compiled to SPIR-V at build time and
// embedded (tools/producer/producer.cmake); dispatched by tools/producer/producer.c.
//
// Memory: the frame is bound as 32-bit words, so each invocation owns whole
// words and no two invocations ever write the same word:
//  - 4, 8 and 16 bytes per pixel: one invocation per pixel (the row pitch is a
//    multiple of bytes_per_pixel, so pixels never share a word).
//  - 1 and 2 bytes per pixel: one invocation per word. A word belongs to the
//    row its first byte lies in (row = byte / row_pitch), so a word that
//    straddles two rows (a row pitch that is no multiple of 4) has exactly one
//    owner, which computes the pixels of both rows that fall in it. Bytes of a
//    word outside every row's first width * bpp bytes keep their old value
//    (read, merged and written back by the word's only owner).
// Large frames are drawn in bands of rows (maxStorageBufferRange may be as
// small as 128 MiB, e.g. on lavapipe): binding 0 then covers only the band,
// starting band_delta bytes before the band's first row.
//
// Weights: binding 1 is cppn_params, read as vec4s (every matrix and bias of
// cppn.h starts at a multiple of 4 floats) and copied once per workgroup into
// shared memory; the network then works on blocks of 4 units. On lavapipe this
// is about 3x faster, and 15x faster to compile, than one storage-buffer load
// per weight.
//
// Precision: sin and tanh are computed here from sources whose accuracy does
// not depend on the driver (the Vulkan spec allows sin an absolute error of
// 2^-11, and tanh may be a low-precision hardware instruction); exp and sqrt
// are the built-ins (a few ulp). Halves are converted with the integer
// round-to-nearest-even of cppn.c: the spec lets packHalf2x16 round toward
// zero on some implementations.

layout(local_size_x = 16, local_size_y = 16) in;

layout(std430, set = 0, binding = 0) buffer Frame { uint words[]; } frame;
// cppn_params.v, four floats at a time (the same bytes as std430 `float v[]`).
layout(std430, set = 0, binding = 1) readonly buffer Params { vec4 v[]; } params;

// cppn_frame_args (48 bytes, same order), then the band (tools/producer/producer.c).
layout(push_constant, std430) uniform Args {
  uint width, height, row_pitch, format, mode;
  float time_sin, time_cos;
  uint reserved;
  vec4 solid;
  uint band_row0;  // first row of this dispatch
  uint band_rows;  // rows in this dispatch
  uint band_delta; // byte offset of row band_row0 from the start of binding 0
} a;

// cppn.h
const int IN = 5, HIDDEN = 16, OUT = 3;
const int W1 = 0, B1 = W1 + HIDDEN * IN, W2 = B1 + HIDDEN, B2 = W2 + HIDDEN * HIDDEN,
          W3 = B2 + HIDDEN, B3 = W3 + HIDDEN * HIDDEN, W4 = B3 + HIDDEN, B4 = W4 + OUT * HIDDEN;
const float ZOOM = 1.5;
const uint PARAM_VEC4S = 173u; // CPPN_PARAM_COUNT / 4
const uint MODE_SOLID = 1u;

shared vec4 wts[PARAM_VEC4S]; // params.v, for the whole workgroup

// MAX_Format
const uint R8 = 1u, RG8 = 2u, RGBA8 = 3u, BGRA8 = 4u, SRGBA8 = 5u, R16F = 6u, RG16F = 7u,
           RGBA16F = 8u, R32F = 9u, RG32F = 10u, RGBA32F = 11u;

uint bytes_per_pixel(uint f) {
  switch (f) {
    case R8: return 1u;
    case RG8: case R16F: return 2u;
    case RGBA8: case BGRA8: case SRGBA8: case RG16F: case R32F: return 4u;
    case RGBA16F: case RG32F: return 8u;
    case RGBA32F: return 16u;
  }
  return 0u;
}

// sin with Cody-Waite reduction to [-pi/4, pi/4] and minimax polynomials
// (Cephes sinf/cosf), per component: about 1 ulp for |x| < 8192; the
// network's arguments are below 40 in magnitude.
vec4 sin4(vec4 x) {
  vec4 ax = abs(x);
  uvec4 j = uvec4(ax * 1.27323954473516); // 4 / pi
  j += j & 1u;
  vec4 k = vec4(j);
  bvec4 flip = greaterThan(j & 7u, uvec4(3u));
  bvec4 use_cos = notEqual((j + 1u) & 2u, uvec4(0u)); // j & 3 is 1 or 2
  precise vec4 r = ((ax - k * 0.78515625) - k * 2.4187564849853515625e-4) - k * 3.77489497744594108e-8;
  vec4 z = r * r;
  vec4 c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z -
           0.5 * z + 1.0;
  vec4 s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
  vec4 y = mix(s, c, use_cos);
  return mix(y, -y, notEqual(lessThan(x, vec4(0.0)), flip));
}

// tanh through exp: absolute error of a few 1e-8 (relative accuracy near 0 is
// not needed: the result only feeds the next layer's sums). +inf for large
// |x| gives exactly 1.
vec4 tanh4(vec4 x) {
  vec4 e = exp(2.0 * abs(x));
  vec4 t = 1.0 - 2.0 / (e + 1.0);
  return mix(t, -t, lessThan(x, vec4(0.0)));
}

// The layers work on blocks of 4 units, wts[i] holding floats 4i..4i+3 of
// cppn_params (every matrix and bias starts at a multiple of 4). Each
// unit's sum is accumulated in the order of cppn_pixel(), bias first, then
// input 0, 1, ..., and `precise` keeps every multiply and add separately
// rounded, as in the C reference.

// Units 4r..4r+3 of W1 in + b1 (rows of 5 weights: floats 20r..20r+19).
vec4 dense_in(int r, float x, float y, float rr, float ts, float tc) {
  vec4 q0 = wts[5 * r], q1 = wts[5 * r + 1], q2 = wts[5 * r + 2],
       q3 = wts[5 * r + 3], q4 = wts[5 * r + 4];
  precise vec4 s = wts[B1 / 4 + r];
  s += vec4(q0.x, q1.y, q2.z, q3.w) * x;  // weight 0 of units 4r..4r+3
  s += vec4(q0.y, q1.z, q2.w, q4.x) * y;
  s += vec4(q0.z, q1.w, q3.x, q4.y) * rr;
  s += vec4(q0.w, q2.x, q3.y, q4.z) * ts;
  s += vec4(q1.x, q2.y, q3.z, q4.w) * tc;
  return s;
}

// Inputs 4c..4c+3 (h) of units 4r..4r+3: rows start at vec4 `row` + 4m for
// unit 4r+m. rows == 3: the output layer, whose fourth unit does not exist.
void dense_chunk(inout vec4 s, int row, int rows, vec4 h) {
  mat4 t = transpose(mat4(wts[row], wts[row + 4], wts[row + 8],
                          rows == 4 ? wts[row + 12] : vec4(0.0)));
  precise vec4 acc = s;
  acc += t[0] * h.x;
  acc += t[1] * h.y;
  acc += t[2] * h.z;
  acc += t[3] * h.w;
  s = acc;
}

// Units 4r..4r+3 of W h + b for a 16-input layer (w, b: float offsets).
vec4 dense16(int w, int b, int r, int rows, vec4 h0, vec4 h1, vec4 h2, vec4 h3) {
  int row = w / 4 + 16 * r;
  vec4 s = wts[b / 4 + r];
  dense_chunk(s, row, rows, h0);
  dense_chunk(s, row + 1, rows, h1);
  dense_chunk(s, row + 2, rows, h2);
  dense_chunk(s, row + 3, rows, h3);
  return s;
}

// cppn_pixel()
vec4 pixel(uint px, uint py) {
  if (a.mode == MODE_SOLID) return a.solid;
  precise float w = float(a.width), h = float(a.height);
  precise float u = (float(px) + 0.5) / w * 2.0 - 1.0;
  precise float t = (float(py) + 0.5) / h * 2.0 - 1.0;
  precise float x = ZOOM * u * max(1.0, w / h);
  precise float y = ZOOM * t * max(1.0, h / w);
  precise float rr = x * x + y * y;
  float r = sqrt(rr);
  vec4 a0 = tanh4(dense_in(0, x, y, r, a.time_sin, a.time_cos));
  vec4 a1 = tanh4(dense_in(1, x, y, r, a.time_sin, a.time_cos));
  vec4 a2 = tanh4(dense_in(2, x, y, r, a.time_sin, a.time_cos));
  vec4 a3 = tanh4(dense_in(3, x, y, r, a.time_sin, a.time_cos));
  vec4 b0 = sin4(dense16(W2, B2, 0, 4, a0, a1, a2, a3));
  vec4 b1 = sin4(dense16(W2, B2, 1, 4, a0, a1, a2, a3));
  vec4 b2 = sin4(dense16(W2, B2, 2, 4, a0, a1, a2, a3));
  vec4 b3 = sin4(dense16(W2, B2, 3, 4, a0, a1, a2, a3));
  vec4 c0 = tanh4(dense16(W3, B3, 0, 4, b0, b1, b2, b3));
  vec4 c1 = tanh4(dense16(W3, B3, 1, 4, b0, b1, b2, b3));
  vec4 c2 = tanh4(dense16(W3, B3, 2, 4, b0, b1, b2, b3));
  vec4 c3 = tanh4(dense16(W3, B3, 3, 4, b0, b1, b2, b3));
  vec4 o = 1.0 / (1.0 + exp(-dense16(W4, B4, 0, 3, c0, c1, c2, c3)));
  return vec4(o.xyz, 1.0);
}

// round(clamp(c, 0, 1) * 255), ties to even, as lrintf in cppn.c
uint unorm8(float c) {
  precise float s = clamp(c, 0.0, 1.0) * 255.0;
  return uint(roundEven(s));
}

uint pack8(vec4 c) {
  return unorm8(c.x) | (unorm8(c.y) << 8) | (unorm8(c.z) << 16) | (unorm8(c.w) << 24);
}

// IEEE binary16, round to nearest even: half_from_float() of cppn.c.
uint half_rne(float f) {
  uint x = floatBitsToUint(f);
  uint sign = (x >> 16) & 0x8000u;
  uint ax = x & 0x7fffffffu;
  if (ax >= 0x47800000u) return sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u);
  if (ax < 0x38800000u) { // subnormal or zero: scale by 2^24 (exact) and round
    precise float s = uintBitsToFloat(ax) * 16777216.0;
    return sign | uint(roundEven(s));
  }
  uint m = ax + 0xc8000fffu + ((ax >> 13) & 1u);
  return sign | (m >> 13);
}

uint pack16(float lo, float hi) { return half_rne(lo) | (half_rne(hi) << 16); }

// The bytes of one pixel of 1 or 2 bytes (little-endian), in the low bits.
uint encode_small(vec4 c) {
  switch (a.format) {
    case R8: return unorm8(c.x);
    case RG8: return unorm8(c.x) | (unorm8(c.y) << 8);
    case R16F: return half_rne(c.x);
  }
  return 0u;
}

void main() {
  // The weights, once per workgroup (before any invocation returns).
  for (uint i = gl_LocalInvocationIndex; i < PARAM_VEC4S; i += gl_WorkGroupSize.x * gl_WorkGroupSize.y)
    wts[i] = params.v[i];
  barrier();

  uint bpp = bytes_per_pixel(a.format);
  uint band_y = gl_GlobalInvocationID.y;
  if (bpp == 0u || band_y >= a.band_rows) return;
  uint y = a.band_row0 + band_y;
  if (y >= a.height) return;
  uint row = a.band_delta + band_y * a.row_pitch; // byte of (0, y) in binding 0
  uint row_bytes = a.width * bpp;

  // wi: the (first) word this invocation writes; n: pixels it computes.
  // 4, 8, 16 bytes per pixel: pixel x = gl_GlobalInvocationID.x.
  // 1 or 2: the x-th word whose first byte lies in row y, and the 4 / bpp
  // pixels in it. Binding 0 starts at a multiple of 4 bytes of the frame, so
  // words of binding 0 are words of the frame.
  bool small = bpp < 4u;
  uint wi, n;
  if (small) {
    wi = ((row + 3u) >> 2) + gl_GlobalInvocationID.x;
    if (wi * 4u >= row + a.row_pitch) return; // its first byte is in the next row
    n = 4u / bpp;
  } else {
    if (gl_GlobalInvocationID.x >= a.width) return;
    wi = (row + gl_GlobalInvocationID.x * bpp) >> 2;
    n = 1u;
  }
  uint bits = 0u, mask = 0u;
  vec4 c = vec4(0.0);
  for (uint k = 0u; k < n; k++) {
    uint px = gl_GlobalInvocationID.x, py = y;
    if (small) {
      uint rel = wi * 4u + k * bpp - row; // bytes from (0, y); pixels are bpp-aligned
      py = y + rel / a.row_pitch;
      uint off = rel % a.row_pitch;
      if (py >= a.height || off >= row_bytes) continue; // row padding or past the frame
      px = off / bpp;
    }
    c = pixel(px, py);
    if (small) {
      uint m = bpp == 1u ? 0xffu : 0xffffu, shift = 8u * k * bpp;
      bits |= (encode_small(c) & m) << shift;
      mask |= m << shift;
    }
  }

  if (small) {
    if (mask == 0u) return;
    if (mask != 0xffffffffu) bits |= frame.words[wi] & ~mask; // keep the padding's bytes
    frame.words[wi] = bits;
    return;
  }
  switch (a.format) {
    case RGBA8: case SRGBA8: frame.words[wi] = pack8(c); break;
    case BGRA8: frame.words[wi] = pack8(c.zyxw); break;
    case RG16F: frame.words[wi] = pack16(c.x, c.y); break;
    case RGBA16F:
      frame.words[wi] = pack16(c.x, c.y);
      frame.words[wi + 1u] = pack16(c.z, c.w);
      break;
    case R32F: frame.words[wi] = floatBitsToUint(c.x); break;
    case RG32F:
      frame.words[wi] = floatBitsToUint(c.x);
      frame.words[wi + 1u] = floatBitsToUint(c.y);
      break;
    case RGBA32F:
      frame.words[wi] = floatBitsToUint(c.x);
      frame.words[wi + 1u] = floatBitsToUint(c.y);
      frame.words[wi + 2u] = floatBitsToUint(c.z);
      frame.words[wi + 3u] = floatBitsToUint(c.w);
      break;
  }
}
