// A 16×16 float transpose on AVX-512, shared by the GEMM's packing of transposed operands
// and the direct convolution's transposed output gradient.
#pragma once
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

namespace mg {

// A 16×16 float transpose: 16 columns of B (column j at src + j*cs, its rows contiguous)
// become 16 rows of a packed sliver (row q at out + q*ldo). The shuffle network leaves
// row q of the result in register q.
// The same with each column where it lies (column j at src[j]).
__attribute__((target("avx512f"), always_inline)) inline void transpose16_f32_rows(const float* const* src, float* out, int64_t ldo) {
  __m512 r[16], t[16];
  for (int j = 0; j < 16; j++) r[j] = _mm512_loadu_ps(src[j]);
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
    _mm512_storeu_ps(out + j * ldo, _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88));
    _mm512_storeu_ps(out + (8 + j) * ldo, _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd));
  }
}

__attribute__((target("avx512f"))) inline void transpose16_f32(const float* src, int64_t cs, float* out, int64_t ldo) {
  const float* cols[16];
  for (int j = 0; j < 16; j++) cols[j] = src + j * cs;
  transpose16_f32_rows(cols, out, ldo);
}

}  // namespace mg
#endif
