// The filter gradient of a stride-1 3×3 float convolution with 1–3 input channels per group:
//   dW[co][ci][ky][kx] = Σ_j Σ_(oy,ox) dY[j][co][oy][ox] · Xpad[j][ci][oy + ky][ox + kx]
// The unfolding path makes this a GEMM only 9–27 rows tall (its register tiles mostly empty)
// and copies dY, by far the larger operand, once more before reading it. Here dY is read in
// place, row by row in 16-float chunks (AVX2: 8), each chunk multiplied into nine accumulators
// per output channel against the nine shifted rows of the zero-padded input, which stay in
// registers while a tile of output channels uses them. A block of padded images (small: one
// input channel) stays in L2 while every channel tile passes over it; each thread takes its
// own images and accumulators, summed in a fixed order, so a thread count gives one result.
#include "conv_thin_filter.h"
#include "conv_scratch.h"

#include <algorithm>
#include <vector>

#include "simd.h"
#include "threadpool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MG_X86 1
#endif

namespace mg {

#ifdef MG_X86
namespace {

constexpr int kTaps = 9;

// The zero-padded planes of one image: rows hp = h + 2·ph, pitch wp = w + 2·pw.
struct Padded {
  int64_t hp, wp, plane;
  explicit Padded(const ConvGeom& g) : hp(g.h + 2 * g.ph), wp(g.w + 2 * g.pw), plane(hp * wp) {}
};

// Input channels c0 .. c0+cig of image i into Xp[c][hp][wp], borders zero.
void pad_image(const float* X, const ConvGeom& g, int64_t i, int64_t c0, int64_t cig, const Padded& p, float* Xp) {
  std::fill(Xp, Xp + cig * p.plane, 0.f);
  for (int64_t c = 0; c < cig; c++) {
    const float* s = X + (i * g.cIn + c0 + c) * g.h * g.w;
    float* d = Xp + c * p.plane + g.ph * p.wp + g.pw;
    for (int64_t y = 0; y < g.h; y++) std::copy(s + y * g.w, s + (y + 1) * g.w, d + y * p.wp);
  }
}

// One 16-column chunk of an output row for CT channels: the nine input rows it needs, times
// each channel's dY chunk. Full chunks use plain loads: masked loads of dY, which comes from
// memory, ran 3× slower on an AMD EPYC (the prefetchers seem not to follow them).
template <int CT, bool Bias, bool Masked>
__attribute__((target("avx512f"), always_inline)) inline void chunk_avx512(const float* xr, const float* dr, int64_t wp, int64_t ohw, __mmask16 m,
                                                                          __m512 (&a)[CT][kTaps], __m512 (&b)[CT]) {
  __m512 r[kTaps];
#pragma GCC unroll 9
  for (int k = 0; k < kTaps; k++) r[k] = Masked ? _mm512_maskz_loadu_ps(m, xr + (k / 3) * wp + k % 3) : _mm512_loadu_ps(xr + (k / 3) * wp + k % 3);
#pragma GCC unroll 4
  for (int c = 0; c < CT; c++) {
    const __m512 v = Masked ? _mm512_maskz_loadu_ps(m, dr + c * ohw) : _mm512_loadu_ps(dr + c * ohw);
#pragma GCC unroll 9
    for (int k = 0; k < kTaps; k++) a[c][k] = _mm512_fmadd_ps(r[k], v, a[c][k]);
    if (Bias) b[c] = _mm512_add_ps(b[c], v);
  }
}

// One image, one input channel, CT output channels: x the padded plane, dy the first channel's
// plane (channels ohw apart). The vector accumulators live in acc between calls (so that dY is
// read image by image, in order, not channel tile by channel tile across images): channel c's
// tap k at acc + (c·ld + k)·16, its Σ dY (when Bias) at acc + (c·ld + bias)·16.
// A row's partial last chunk loads masked, zeros from both operands, so its masked-off lanes
// add 0·0, whatever lies past the row; a full chunk's taps stay inside the padded row
// (column ox + 15 + 2 < ow + 2 = wp).
template <int CT, bool Bias>
__attribute__((target("avx512f"))) void tile_avx512(const float* x, const float* dy, const ConvGeom& g, int64_t wp, float* acc, int64_t ld, int64_t bias) {
  const int64_t oh = g.oh, ow = g.ow, ohw = oh * ow, full = ow / 16 * 16;
  const __mmask16 m = (__mmask16)((1u << (ow - full)) - 1);
  // every loop over a and b is unrolled, so that they stay registers (an indexed access
  // would put them in memory, stored on every chunk)
  __m512 a[CT][kTaps], b[CT];
#pragma GCC unroll 4
  for (int c = 0; c < CT; c++) {
#pragma GCC unroll 9
    for (int k = 0; k < kTaps; k++) a[c][k] = _mm512_loadu_ps(acc + (c * ld + k) * 16);
    b[c] = Bias ? _mm512_loadu_ps(acc + (c * ld + bias) * 16) : _mm512_setzero_ps();
  }
  for (int64_t oy = 0; oy < oh; oy++) {
    const float* xr = x + oy * wp;
    const float* dr = dy + oy * ow;
    for (int64_t ox = 0; ox < full; ox += 16) chunk_avx512<CT, Bias, false>(xr + ox, dr + ox, wp, ohw, m, a, b);
    if (full < ow) chunk_avx512<CT, Bias, true>(xr + full, dr + full, wp, ohw, m, a, b);
  }
#pragma GCC unroll 4
  for (int c = 0; c < CT; c++) {
#pragma GCC unroll 9
    for (int k = 0; k < kTaps; k++) _mm512_storeu_ps(acc + (c * ld + k) * 16, a[c][k]);
    if (Bias) _mm512_storeu_ps(acc + (c * ld + bias) * 16, b[c]);
  }
}

// The same for one output channel with 8-float chunks (sixteen registers: nine accumulators,
// Σ dY, the chunk of dY; the input rows are read from L1 by the FMAs themselves). A row's last
// partial chunk goes through masked loads, which read nothing past the row.
template <bool Bias>
__attribute__((target("avx2,fma"))) void tile_avx2(const float* x, const float* dy, const ConvGeom& g, int64_t wp, float* acc, int64_t bias) {
  const int64_t oh = g.oh, ow = g.ow, full = ow / 8 * 8;
  __m256 a[kTaps];
#pragma GCC unroll 9
  for (int k = 0; k < kTaps; k++) a[k] = _mm256_loadu_ps(acc + k * 8);
  __m256 b = Bias ? _mm256_loadu_ps(acc + bias * 8) : _mm256_setzero_ps();
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(ow - full)), lane);
  for (int64_t oy = 0; oy < oh; oy++) {
    const float* xr = x + oy * wp;
    const float* dr = dy + oy * ow;
    for (int64_t ox = 0; ox < full; ox += 8) {
      const __m256 v = _mm256_loadu_ps(dr + ox);
#pragma GCC unroll 9
      for (int k = 0; k < kTaps; k++) a[k] = _mm256_fmadd_ps(_mm256_loadu_ps(xr + (k / 3) * wp + k % 3 + ox), v, a[k]);
      if (Bias) b = _mm256_add_ps(b, v);
    }
    if (full < ow) {
      const __m256 v = _mm256_maskload_ps(dr + full, tail);
#pragma GCC unroll 9
      for (int k = 0; k < kTaps; k++) a[k] = _mm256_fmadd_ps(_mm256_maskload_ps(xr + (k / 3) * wp + k % 3 + full, tail), v, a[k]);
      if (Bias) b = _mm256_add_ps(b, v);
    }
  }
#pragma GCC unroll 9
  for (int k = 0; k < kTaps; k++) _mm256_storeu_ps(acc + k * 8, a[k]);
  if (Bias) _mm256_storeu_ps(acc + bias * 8, b);
}

// Output channels per tile on AVX-512: 2 × 9 tap and 2 bias accumulators, 9 input rows and a
// chunk of dY fill 31 of the 32 registers.
constexpr int kTile = 2;

// Channels co .. co+ct (ct ≤ kTile) of one input channel, by the widest kernel; acc as above
// with lanes floats per vector.
void tile(bool wide, int64_t ct, bool bias, const float* x, const float* dy, const ConvGeom& g, int64_t wp, float* acc, int64_t ld, int64_t slot) {
  if (wide) {
    if (ct == 2) bias ? tile_avx512<2, true>(x, dy, g, wp, acc, ld, slot) : tile_avx512<2, false>(x, dy, g, wp, acc, ld, slot);
    else bias ? tile_avx512<1, true>(x, dy, g, wp, acc, ld, slot) : tile_avx512<1, false>(x, dy, g, wp, acc, ld, slot);
    return;
  }
  const int64_t ohw = g.oh * g.ow;
  for (int64_t c = 0; c < ct; c++)
    bias ? tile_avx2<true>(x, dy + c * ohw, g, wp, acc + c * ld * 8, slot) : tile_avx2<false>(x, dy + c * ohw, g, wp, acc + c * ld * 8, slot);
}

}  // namespace
#endif

bool conv_thin_filter_applies(const ConvGeom& g) {
#ifdef MG_X86
  const int64_t cig = g.cIn / g.groups;
  return isa() != Isa::Scalar && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.kh == 3 && g.kw == 3 && g.ph <= 2 &&
         g.pw <= 2 && cig >= 1 && cig <= 3 && (double)g.n * g.cIn * (g.h + 2 * g.ph) * (g.w + 2 * g.pw) < 1e9;
#else
  (void)g;
  return false;
#endif
}

void conv_thin_filter(const float* X, const float* DY, const ConvGeom& g, float* DW, float* DB) {
#ifdef MG_X86
  const int64_t cig = g.cIn / g.groups, cog = g.cOut / g.groups, kk = cig * kTaps, ohw = g.oh * g.ow;
  const bool wide = isa() == Isa::Avx512;
  const int64_t lanes = wide ? 16 : 8;
  const Padded p(g);
  const int64_t T = std::min<int64_t>(ThreadPool::get().threads(), g.n);
  // per thread, per output channel: kk tap vectors, then Σ dY's (slot kk); images split evenly
  const int64_t ld = kk + 1, per = g.cOut * ld * lanes;
  std::vector<float> acc(T * per, 0.f);
  auto images = [&](int64_t t) {
    float* a = acc.data() + t * per;
    float* Xp = conv_scratch<float, 0>(cig * p.plane);
    for (int64_t i = g.n * t / T; i < g.n * (t + 1) / T; i++)
      for (int64_t gr = 0; gr < g.groups; gr++) {
        pad_image(X, g, i, gr * cig, cig, p, Xp);
        for (int64_t co = 0; co < cog; co += kTile) {
          const int64_t ct = std::min<int64_t>(kTile, cog - co);
          const float* dy = DY + (i * g.cOut + gr * cog + co) * ohw;
          for (int64_t ci = 0; ci < cig; ci++)
            tile(wide, ct, DB && ci == 0, Xp + ci * p.plane, dy, g, p.wp, a + ((gr * cog + co) * ld + ci * kTaps) * lanes, ld, kk - ci * kTaps);
        }
      }
  };
  if (T <= 1) images(0);
  else ThreadPool::get().parallel_for(T, images);
  // lanes, then threads, summed in double in a fixed order
  for (int64_t co = 0; co < g.cOut; co++)
    for (int64_t k = 0; k <= kk; k++) {
      double s = 0;
      for (int64_t t = 0; t < T; t++) {
        const float* v = acc.data() + t * per + (co * ld + k) * lanes;
        for (int64_t l = 0; l < lanes; l++) s += v[l];
      }
      if (k < kk) DW[co * kk + k] = (float)s;
      else if (DB) DB[co] = (float)s;
    }
#else
  (void)X, (void)DY, (void)g, (void)DW, (void)DB;
  throw KernelError("conv2dBackwardFilter: the thin-filter kernel needs x86");
#endif
}

}  // namespace mg
