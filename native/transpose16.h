// A 16×16 float transpose on AVX-512, shared by the GEMM's packing of transposed operands
// and the direct convolution's transposed output gradient.
#pragma once
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

namespace mg {

// The 16×16 shuffle network: r[j] holds column j on entry; row q of the transpose is left in
// out[q]. The loads and stores are the callers' (plain, masked or gathered).
__attribute__((target("avx512f"), always_inline)) inline void transpose16_regs(__m512* r, __m512* out) {
  __m512 t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
    __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
  }
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++) {
      t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
      t[8 * i + 4 + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0xdd);
    }
  for (int j = 0; j < 8; j++) {
    out[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
    out[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
  }
}

// A 16×16 float transpose: 16 columns of B (column j at src[j], its rows contiguous) become
// 16 rows of a packed sliver (row q at out + q*ldo).
__attribute__((target("avx512f"), always_inline)) inline void transpose16_f32_rows(const float* const* src, float* out, int64_t ldo) {
  __m512 r[16], o[16];
  for (int j = 0; j < 16; j++) r[j] = _mm512_loadu_ps(src[j]);
  transpose16_regs(r, o);
  for (int q = 0; q < 16; q++) _mm512_storeu_ps(out + q * ldo, o[q]);
}

__attribute__((target("avx512f"))) inline void transpose16_f32(const float* src, int64_t cs, float* out, int64_t ldo) {
  const float* cols[16];
  for (int j = 0; j < 16; j++) cols[j] = src + j * cs;
  transpose16_f32_rows(cols, out, ldo);
}

}  // namespace mg
#endif
