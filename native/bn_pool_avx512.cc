// Fused batch norm + ReLU + 2×2 stride-2 max-pool, forward and backward, float32 on AVX-512.
// The portable per-channel bodies in channel.cc gather each window's four values (16 windows
// per gather) and scatter the pooled gradient one value at a time; on an AMD Zen 4 that ran at
// 8 cycles a value. Here every plane is handled with contiguous loads instead: y of one plane
// lands in an L1 scratch, a row pair's 32 columns are split into even and odd columns by two
// permutes (16 windows), and the backward builds the plane's gradient row pair by row pair with
// the inverse permutes. Results equal the portable path's up to float summation order (the
// statistics' partial sums are 64 lanes wide here); window ties and NaN go as there: the first
// maximum in the order top-left, top-right, bottom-left, bottom-right, a NaN beating any number.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "bn_pool_avx512.h"

namespace mg {

#define MG_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#define MG_AVX512_INLINE MG_AVX512 inline __attribute__((always_inline))

namespace {

MG_AVX512_INLINE __mmask16 first_lanes(int64_t k) { return k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << k) - 1); }

MG_AVX512_INLINE double to_double_sum(__m512 v) {
  const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v)), hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
  return _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
}

// Rows of a channel lie n·c·s apart, each too short for the hardware prefetcher to reach full
// speed: the loops over a row that comes from memory prefetch the next row (`next`, or null)
MG_AVX512_INLINE void prefetch_lines(const float* next, int64_t j, int lines) {
  if (next)
    for (int l = 0; l < lines; l++) _mm_prefetch((const char*)(next + j + 16 * l), _MM_HINT_T0);
}

// Σ p over a row of len, four vector accumulators, summed in double at the row's end
MG_AVX512_INLINE double row_sum(const float* p, int64_t len, const float* next) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t j = 0;
  for (; j + 64 <= len; j += 64) {
    prefetch_lines(next, j, 4);
    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(p + j));
    a1 = _mm512_add_ps(a1, _mm512_loadu_ps(p + j + 16));
    a2 = _mm512_add_ps(a2, _mm512_loadu_ps(p + j + 32));
    a3 = _mm512_add_ps(a3, _mm512_loadu_ps(p + j + 48));
  }
  for (; j + 16 <= len; j += 16) {
    prefetch_lines(next, j, 1);
    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(p + j));
  }
  if (j < len) {
    prefetch_lines(next, j, 1);
    a1 = _mm512_add_ps(a1, _mm512_maskz_loadu_ps(first_lanes(len - j), p + j));
  }
  return to_double_sum(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

// Σ (p - mu)² over a row of len
MG_AVX512_INLINE double row_centred_squares(const float* p, int64_t len, float mu) {
  const __m512 vm = _mm512_set1_ps(mu);
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t j = 0;
  for (; j + 64 <= len; j += 64) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(p + j), vm), d1 = _mm512_sub_ps(_mm512_loadu_ps(p + j + 16), vm);
    const __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(p + j + 32), vm), d3 = _mm512_sub_ps(_mm512_loadu_ps(p + j + 48), vm);
    a0 = _mm512_fmadd_ps(d0, d0, a0);
    a1 = _mm512_fmadd_ps(d1, d1, a1);
    a2 = _mm512_fmadd_ps(d2, d2, a2);
    a3 = _mm512_fmadd_ps(d3, d3, a3);
  }
  for (; j + 16 <= len; j += 16) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(p + j), vm);
    a0 = _mm512_fmadd_ps(d0, d0, a0);
  }
  if (j < len) {
    const __mmask16 m = first_lanes(len - j);
    const __m512 d0 = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, p + j), vm);  // 0 in the lanes past the row
    a1 = _mm512_fmadd_ps(d0, d0, a1);
  }
  return to_double_sum(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

// Σ g and Σ g·x over a row of len, added to s1 and s2 (x from memory: next_x prefetched)
MG_AVX512_INLINE void row_sums2(const float* g, const float* x, int64_t len, const float* next_x, double& s1, double& s2) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
  int64_t j = 0;
  for (; j + 32 <= len; j += 32) {
    prefetch_lines(next_x, j, 2);
    const __m512 g0 = _mm512_loadu_ps(g + j), g1 = _mm512_loadu_ps(g + j + 16);
    a0 = _mm512_add_ps(a0, g0);
    a1 = _mm512_add_ps(a1, g1);
    b0 = _mm512_fmadd_ps(g0, _mm512_loadu_ps(x + j), b0);
    b1 = _mm512_fmadd_ps(g1, _mm512_loadu_ps(x + j + 16), b1);
  }
  for (; j < len; j += 16) {
    prefetch_lines(next_x, j, 1);
    const __mmask16 m = first_lanes(len - j);
    const __m512 g0 = _mm512_maskz_loadu_ps(m, g + j);
    a0 = _mm512_add_ps(a0, g0);
    b0 = _mm512_fmadd_ps(g0, _mm512_maskz_loadu_ps(m, x + j), b0);
  }
  s1 += to_double_sum(_mm512_add_ps(a0, a1));
  s2 += to_double_sum(_mm512_add_ps(b0, b1));
}

// lanes where c replaces best: greater, or a NaN over a number
MG_AVX512_INLINE __mmask16 beats(__m512 c, __m512 best) {
  return _mm512_cmp_ps_mask(c, best, _CMP_GT_OQ) | (_mm512_cmp_ps_mask(c, c, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
}

// permutex2var indices: the even and odd columns of a 32-column pair of vectors, and the inverse
// (lanes 0-7, then 8-15, of two vectors interleaved)
MG_AVX512_INLINE __m512i even_columns() { return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30); }
MG_AVX512_INLINE __m512i odd_columns() { return _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31); }
MG_AVX512_INLINE __m512i interleave_low() { return _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23); }
MG_AVX512_INLINE __m512i interleave_high() { return _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31); }

// The pooled ReLU values and argmax of one plane y (h×w, in cache) into p, ix ((h/2)·(w/2) each)
MG_AVX512_INLINE void pool_plane(const float* y, int64_t h, int64_t w, float* p, int32_t* ix) {
  const int64_t oh = h / 2, ow = w / 2;
  const __m512i ev = even_columns(), od = odd_columns(), lane2 = _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1);
  const __m512i one = _mm512_set1_epi32(1), down = _mm512_set1_epi32((int32_t)w), down1 = _mm512_set1_epi32((int32_t)w + 1);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t i = 0; i < oh; i++) {
    const float* r0 = y + 2 * i * w;
    const float* r1 = r0 + w;
    for (int64_t k = 0; k < ow; k += 16) {
      const int64_t nw = std::min<int64_t>(16, ow - k), cols = 2 * nw;
      const __mmask16 lo = first_lanes(cols), hi = cols > 16 ? first_lanes(cols - 16) : 0;
      const __m512 t0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * k), t1 = _mm512_maskz_loadu_ps(hi, r0 + 2 * k + 16);
      const __m512 b0 = _mm512_maskz_loadu_ps(lo, r1 + 2 * k), b1 = _mm512_maskz_loadu_ps(hi, r1 + 2 * k + 16);
      const __m512 tl = _mm512_permutex2var_ps(t0, ev, t1), tr = _mm512_permutex2var_ps(t0, od, t1);
      const __m512 bl = _mm512_permutex2var_ps(b0, ev, b1), br = _mm512_permutex2var_ps(b0, od, b1);
      // the top row's winner, then the bottom row's, then the two: the first maximum in window order
      const __mmask16 mt = beats(tr, tl), mb = beats(br, bl);
      const __m512 top = _mm512_mask_blend_ps(mt, tl, tr), bot = _mm512_mask_blend_ps(mb, bl, br);
      const __m512i ti = _mm512_maskz_mov_epi32(mt, one), bi = _mm512_mask_blend_epi32(mb, down, down1);
      const __mmask16 m2 = beats(bot, top);
      const __m512 best = _mm512_mask_blend_ps(m2, top, bot);
      const __m512i off = _mm512_mask_blend_epi32(m2, ti, bi);
      const __mmask16 m = first_lanes(nw);
      // ReLU: kept where > 0 or NaN
      _mm512_mask_storeu_ps(p + i * ow + k, m, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(best, zero, _CMP_NLE_UQ), zero, best));
      const __m512i at = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(2 * i * w + 2 * k)), lane2);
      _mm512_mask_storeu_epi32(ix + i * ow + k, m, _mm512_add_epi32(at, off));
    }
  }
}

// One plane's gradient gy (h×w) from its windows' pooled gradient gp, pooled values pv (the
// ReLU passes where > 0) and argmax ix. False (gy part written) when an index is not in its
// own window.
MG_AVX512_INLINE bool unpool_plane(const float* gp, const float* pv, const int32_t* ix, int64_t h, int64_t w, float* gy) {
  const int64_t oh = h / 2, ow = w / 2;
  const __m512i il = interleave_low(), ih = interleave_high();
  const __m512i lane2 = _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1);
  const __m512i one = _mm512_set1_epi32(1), down = _mm512_set1_epi32((int32_t)w), down1 = _mm512_set1_epi32((int32_t)w + 1);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t i = 0; i < oh; i++) {
    float* r0 = gy + 2 * i * w;
    float* r1 = r0 + w;
    for (int64_t k = 0; k < ow; k += 16) {
      const int64_t nw = std::min<int64_t>(16, ow - k), cols = 2 * nw, q = i * ow + k;
      const __mmask16 m = first_lanes(nw);
      const __m512 g = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m, pv + q), zero, _CMP_GT_OQ), _mm512_maskz_loadu_ps(m, gp + q));
      const __m512i off = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(m, ix + q), _mm512_add_epi32(_mm512_set1_epi32((int32_t)(2 * i * w + 2 * k)), lane2));
      const __mmask16 e0 = _mm512_cmpeq_epi32_mask(off, _mm512_setzero_si512()), e1 = _mm512_cmpeq_epi32_mask(off, one);
      const __mmask16 e2 = _mm512_cmpeq_epi32_mask(off, down), e3 = _mm512_cmpeq_epi32_mask(off, down1);
      if ((__mmask16)((e0 | e1 | e2 | e3) & m) != m) return false;
      const __m512 tl = _mm512_maskz_mov_ps(e0, g), tr = _mm512_maskz_mov_ps(e1, g), bl = _mm512_maskz_mov_ps(e2, g), br = _mm512_maskz_mov_ps(e3, g);
      const __mmask16 lo = first_lanes(cols), hi = cols > 16 ? first_lanes(cols - 16) : 0;
      _mm512_mask_storeu_ps(r0 + 2 * k, lo, _mm512_permutex2var_ps(tl, il, tr));
      _mm512_mask_storeu_ps(r0 + 2 * k + 16, hi, _mm512_permutex2var_ps(tl, ih, tr));
      _mm512_mask_storeu_ps(r1 + 2 * k, lo, _mm512_permutex2var_ps(bl, il, br));
      _mm512_mask_storeu_ps(r1 + 2 * k + 16, hi, _mm512_permutex2var_ps(bl, ih, br));
    }
    if (w % 2) r0[w - 1] = r1[w - 1] = 0.f;  // the column in no window
  }
  if (h % 2)
    for (int64_t j = 0; j < w; j++) gy[(h - 1) * w + j] = 0.f;  // the row in no window
  return true;
}

// 16 values of x̂ = (x - mu)·r at xh + j (lanes m; streamed when nt) and of y = x̂·g + b at
// ys + j (all 16: ys has room past the plane, and a later chunk overwrites what a masked one left)
MG_AVX512_INLINE void normalize_chunk(const float* x, float* xh, float* ys, int64_t j, __mmask16 m, bool nt, __m512 vm, __m512 vr, __m512 vg,
                                      __m512 vb) {
  const __m512 xv = m == (__mmask16)0xFFFF ? _mm512_loadu_ps(x + j) : _mm512_maskz_loadu_ps(m, x + j);
  const __m512 v = _mm512_mul_ps(_mm512_sub_ps(xv, vm), vr);
  if (nt)
    _mm512_stream_ps(xh + j, v);
  else
    _mm512_mask_storeu_ps(xh + j, m, v);
  _mm512_storeu_ps(ys + j, _mm512_add_ps(_mm512_mul_ps(v, vg), vb));
}

// x̂ and y over one plane of s values; with `stream`, x̂'s whole cache lines skip the caches (its
// head and tail, partial lines, are stored normally)
MG_AVX512_INLINE void normalize_plane(const float* x, float* xh, float* ys, int64_t s, float mu, float r, float g, float b, bool stream) {
  const __m512 vm = _mm512_set1_ps(mu), vr = _mm512_set1_ps(r), vg = _mm512_set1_ps(g), vb = _mm512_set1_ps(b);
  int64_t j = 0;
  if (stream) {
    const int64_t head = std::min<int64_t>(s, (int64_t)(((64 - ((uintptr_t)xh & 63)) & 63) / sizeof(float)));
    if (head) normalize_chunk(x, xh, ys, 0, first_lanes(head), false, vm, vr, vg, vb);
    j = head;
    for (; j + 16 <= s; j += 16) normalize_chunk(x, xh, ys, j, (__mmask16)0xFFFF, true, vm, vr, vg, vb);
  } else {
    for (; j + 16 <= s; j += 16) normalize_chunk(x, xh, ys, j, (__mmask16)0xFFFF, false, vm, vr, vg, vb);
  }
  if (j < s) normalize_chunk(x, xh, ys, j, first_lanes(s - j), false, vm, vr, vg, vb);
}

}  // namespace

MG_AVX512 void bn_pool_forward_avx512(const float* X, const float* G, const float* B, const ChannelDims& d, int64_t h, int64_t w, double eps,
                                      bool stream, float* XH, float* P, int32_t* I, float* M, float* V, float* R, float* ys, int64_t c0,
                                      int64_t c1) {
  const int64_t s = d.s, ohw = (h / 2) * (w / 2);
  const double count = (double)(d.n * s);
  for (int64_t c = c0; c < c1; c++) {
    double s1 = 0;
    for (int64_t n = 0; n < d.n; n++) s1 += row_sum(X + (n * d.c + c) * s, s, n + 1 < d.n ? X + ((n + 1) * d.c + c) * s : nullptr);
    const double mu = s1 / count;
    const float tmu = (float)mu;
    double sq = 0;
    for (int64_t n = 0; n < d.n; n++) sq += row_centred_squares(X + (n * d.c + c) * s, s, tmu);
    const double v = sq / count, r = 1.0 / std::sqrt(v + eps);
    M[c] = tmu;
    V[c] = (float)v;
    R[c] = (float)r;
    for (int64_t n = 0; n < d.n; n++) {
      const int64_t o = (n * d.c + c) * s, q = (n * d.c + c) * ohw;
      normalize_plane(X + o, XH + o, ys, s, tmu, (float)r, G[c], B[c], stream);
      pool_plane(ys, h, w, P + q, I + q);
    }
  }
}

MG_AVX512 void bn_pool_backward_avx512(const float* GP, const float* P, const int32_t* I, const float* XH, const float* W, const ChannelDims& d,
                                       int64_t h, int64_t w, float* O, float* SG, float* SGX, float* gy, int64_t c0, int64_t c1) {
  const int64_t s = d.s, ohw = (h / 2) * (w / 2);
  const double count = (double)(d.n * s);
  for (int64_t c = c0; c < c1; c++) {
    double sg = 0, sgx = 0;
    for (int64_t n = 0; n < d.n; n++) {
      const int64_t o = (n * d.c + c) * s, q = (n * d.c + c) * ohw;
      float* g = gy + n * s;
      if (!unpool_plane(GP + q, P + q, I + q, h, w, g)) {
        // an index elsewhere in its plane: scattered (added) as maxPool2d's backward does
        for (int64_t j = 0; j < s; j++) g[j] = 0.f;
        for (int64_t k = 0; k < ohw; k++) g[I[q + k]] += P[q + k] > 0 ? GP[q + k] : 0.f;
      }
      row_sums2(g, XH + o, s, n + 1 < d.n ? XH + o + d.c * s : nullptr, sg, sgx);
    }
    SG[c] = (float)sg;
    SGX[c] = (float)sgx;
    const __m512 vmg = _mm512_set1_ps((float)(sg / count)), vmgx = _mm512_set1_ps((float)(sgx / count)), wc = _mm512_set1_ps(W[c]);
    for (int64_t n = 0; n < d.n; n++) {
      const int64_t o = (n * d.c + c) * s;
      const float *g = gy + n * s, *xh = XH + o;
      float* out = O + o;
      int64_t j = 0;
      for (; j + 16 <= s; j += 16) {
        const __m512 t = _mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(g + j), vmg), _mm512_mul_ps(_mm512_loadu_ps(xh + j), vmgx));
        _mm512_storeu_ps(out + j, _mm512_mul_ps(wc, t));
      }
      if (j < s) {
        const __mmask16 m = first_lanes(s - j);
        const __m512 t = _mm512_sub_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, g + j), vmg), _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xh + j), vmgx));
        _mm512_mask_storeu_ps(out + j, m, _mm512_mul_ps(wc, t));
      }
    }
  }
}

}  // namespace mg
#endif
