// Stride-1 float convolutions without an unfolded matrix (AVX-512, AVX2). A fold of images is laid
// out once, zero-padded and flat, per input channel: row pitch wp = w + pw, ph zero rows
// between images. In that layout output (oy, ox) of image j is flat column
// q = (top + j·pitch + oy)·wp + ox and its tap (c, ky, kx) is padded input q + off(c, ky, kx),
// with one offset per tap for every column. So the GEMM's B operand is the padded fold read
// at K shifted addresses, and the micro-kernels load it in place: no unfolding, no packing.
// The price is the junk columns (each row's pad columns, the rows between images), computed
// and dropped: 13% of the columns at 14×14, 23% at 7×7, which costs less than the unfolding.
//   forward:  Y[co][q] = Σ_k W[co][k] · Xp[q + off(k)]       tiles of 8 channels × 32 columns
//             (AVX2: 6 real output pixels × 16 channels, the filter rows vectors and the
//             pixels' taps broadcast, so no junk column is computed: pixel_forward_avx2)
//   filter:   dW[co][k] = Σ_q dY[q][co] · Xp[q + off(k)]     tiles of 6 or 8 taps × 16·Q channels
//             (AVX2: 6 × 16 per pass),
//             over the real output columns only, dY transposed to [pixel][co], each tap
//             over the outputs where it lies inside the image
// Batches of planes up to 512 pixels go image-per-lane instead (AVX-512): 16 images side by
// side, so the tiles are real output pixels only, each skipping the taps that lie in its
// padding (lanes_forward).
// The backward input of a stride-1 conv is a forward conv (conv.cc), so it runs here too.
#include "conv_direct.h"
#include "conv_scratch.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <vector>

#include "simd.h"
#include "threadpool.h"
#include "transpose16.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MG_X86 1
#endif

namespace mg {

namespace {

// The padded flat layout of a fold of nb images (one group's channels).
struct Flat {
  int64_t wp, pitch, top, rows, cstride;  // row pitch, rows per image, rows before image 0, rows, floats per channel
  int64_t q0, q1;                         // output columns of the fold: [q0, q1)
  Flat(const ConvGeom& g, int64_t nb, int64_t overrun) {
    wp = g.w + g.pw;
    pitch = g.h + g.ph;
    top = g.ph + 1;  // one more zero row: the first row's left taps read before it
    q0 = top * wp;
    q1 = (top + (nb - 1) * pitch + g.oh - 1) * wp + g.ow;
    // below the last image: its bottom taps, then the overrun of the last tile
    rows = top + nb * pitch + g.kh + (overrun + wp - 1) / wp + 1;
    cstride = (rows * wp + 15) / 16 * 16 + 16;  // off a multiple of 4 KiB, so channels do not alias in L1
  }
  int64_t at(int64_t j, int64_t y) const { return (top + j * pitch + y) * wp; }
  // the flat offset of tap (ky, kx) of input channel c
  int64_t off(const ConvGeom& g, int64_t c, int64_t ky, int64_t kx) const {
    return c * cstride + (ky - g.ph) * wp + (kx - g.pw);
  }
};

// Scratch slots (conv_scratch.h) 0: the laid-out input; 1: the output block or transposed dY.

// Channels c0 .. c0+cig of images i0 .. i0+nb of X ([n][cIn][h][w]) into the flat layout.
void lay_out(const float* X, const ConvGeom& g, int64_t i0, int64_t nb, int64_t c0, int64_t cig, const Flat& f, float* Xp) {
  for (int64_t c = 0; c < cig; c++) {
    float* d = Xp + c * f.cstride;
    std::fill(d, d + f.at(0, 0), 0.f);
    for (int64_t j = 0; j < nb; j++) {
      const float* s = X + ((i0 + j) * g.cIn + c0 + c) * g.h * g.w;
      for (int64_t y = 0; y < g.h; y++) {
        float* r = d + f.at(j, y);
        std::copy(s + y * g.w, s + (y + 1) * g.w, r);
        std::fill(r + g.w, r + f.wp, 0.f);
      }
      std::fill(d + f.at(j, g.h), d + f.at(j + 1, 0), 0.f);  // the ph rows below image j
    }
    std::fill(d + f.at(nb, 0), d + f.cstride, 0.f);
  }
}

#ifdef MG_X86
// Every group's filter packed once for the forward tiles: [group][panel][tap][rows channels],
// channels past cog zero, 64-byte aligned (the AVX2 pixel tiles load its rows aligned).
struct PackedFilter {
  std::unique_ptr<float, decltype(&std::free)> data{nullptr, &std::free};
  int64_t panels, kk, rows;
  PackedFilter(const float* W, const ConvGeom& g, int64_t rows_) : rows(rows_) {
    const int64_t cog = g.cOut / g.groups;
    kk = g.cIn / g.groups * g.kh * g.kw;
    panels = (cog + rows - 1) / rows;
    const int64_t n = g.groups * panels * kk * rows;
    data.reset((float*)std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64));
    if (!data) throw std::bad_alloc();
    // in the order it is written (a scatter by rows took 4% of a 3×3-plane conv): each k reads
    // one value of `rows` filter rows, lines that the next 15 k read again
    float* A = data.get();
    for (int64_t gr = 0; gr < g.groups; gr++)
      for (int64_t pn = 0; pn < panels; pn++) {
        const int64_t co0 = pn * rows, real = std::min(rows, cog - co0);
        const float* w = W + (gr * cog + co0) * kk;
        for (int64_t k = 0; k < kk; k++, A += rows) {
          int64_t r = 0;
          for (; r < real; r++) A[r] = w[r * kk + k];
          for (; r < rows; r++) A[r] = 0.f;
        }
      }
  }
  // panel pn of group gr
  const float* panel(int64_t gr, int64_t pn) const { return data.get() + (gr * panels + pn) * kk * rows; }
};

// Each forward tap's offset in the flat layout, in the filter's (c, ky, kx) order.
std::vector<int64_t> tap_offsets(const ConvGeom& g, const Flat& f) {
  std::vector<int64_t> off(g.cIn / g.groups * g.kh * g.kw);
  for (int64_t c = 0; c < g.cIn / g.groups; c++)
    for (int64_t ky = 0; ky < g.kh; ky++)
      for (int64_t kx = 0; kx < g.kw; kx++) off[(c * g.kh + ky) * g.kw + kx] = f.off(g, c, ky, kx);
  return off;
}
#endif

// Images per fold: the fold's padded input a share of L2 (measured: 512 KiB on the AVX-512
// machine, 1 MiB L2; 128 KiB on an AVX2 Zen, 512 KiB L2, where 512 KiB ran 13% slower),
// folds a multiple of the threads.
struct Plan {
  int64_t nb, count;
};
Plan plan(const ConvGeom& g, int64_t cig) {
  const int64_t threads = ThreadPool::get().threads();
  const int64_t per = std::max<int64_t>(1, cig * (g.h + g.ph) * (g.w + g.pw));
  const int64_t floats = isa() == Isa::Avx512 ? 1 << 17 : 1 << 15;
  int64_t nb = std::max<int64_t>(1, floats / per);
  int64_t count = (g.n + nb - 1) / nb;
  // a whole number of folds per thread, so that none waits for another's extra fold
  count = std::min<int64_t>(g.n, (count + threads - 1) / threads * threads);
  nb = (g.n + count - 1) / count;
  return {nb, (g.n + nb - 1) / nb};
}

// fn(first image, images, thread) for each fold, folds spread over the threads.
template <typename F>
void over_folds(const Plan& p, int64_t n, F&& fn) {
  ThreadPool& pool = ThreadPool::get();
  const int64_t T = std::min<int64_t>(pool.threads(), p.count);
  if (T <= 1) {
    for (int64_t c = 0; c < p.count; c++) fn(c * p.nb, std::min(p.nb, n - c * p.nb), 0);
    return;
  }
  pool.parallel_for(T, [&](int64_t t) {
    for (int64_t c = t; c < p.count; c += T) fn(c * p.nb, std::min(p.nb, n - c * p.nb), t);
  });
}

// The outputs [lo, hi) of a stride-1, undilated axis (n inputs, `out` outputs, padding pad)
// whose tap k lies inside the image, o − pad + k ∈ [0, n): where the taps in the padding start
// and end, for the tiles that skip them.
struct Span {
  int64_t lo, hi;
};
Span inside_span(int64_t pad, int64_t k, int64_t n, int64_t out) {
  return {std::max<int64_t>(0, pad - k), std::min<int64_t>(out, n + pad - k)};
}

#ifdef MG_X86
// 8 channels × 32 columns: 16 accumulators; 48 columns measured no faster
constexpr int kFwdRows = 8, kFwdQ = 2, kFwdCols = 16 * kFwdQ;

// C[8][16·Q] = Σ_p A[p][0..8) ⊗ B[off[p] .. off[p]+16·Q): A packed 8 channels per tap.
template <int Q>
__attribute__((target("avx512f,fma"))) void fwd_tile(int64_t kk, const float* __restrict a, const float* b,
                                                     const int64_t* __restrict off, float* c, int64_t ldc) {
  __m512 r[kFwdRows][Q];
#pragma GCC unroll 8
  for (int i = 0; i < kFwdRows; i++)
#pragma GCC unroll 4
    for (int q = 0; q < Q; q++) r[i][q] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kk; p++) {
    const float* bp = b + off[p];
    __m512 bv[Q];
#pragma GCC unroll 4
    for (int q = 0; q < Q; q++) bv[q] = _mm512_loadu_ps(bp + 16 * q);
#pragma GCC unroll 8
    for (int i = 0; i < kFwdRows; i++) {
      const __m512 av = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
      for (int q = 0; q < Q; q++) r[i][q] = _mm512_fmadd_ps(av, bv[q], r[i][q]);
    }
    a += kFwdRows;
  }
#pragma GCC unroll 8
  for (int i = 0; i < kFwdRows; i++)
#pragma GCC unroll 4
    for (int q = 0; q < Q; q++) _mm512_storeu_ps(c + i * ldc + 16 * q, r[i][q]);
}

// taps per filter tile: 6 (AVX-512 with 48-64 output channels, 24 accumulators; AVX2), or 8 where
// they divide the input channels and 16-32 output channels leave the registers for them (no
// scratch rows in a tile of 32 channels' taps)
constexpr int kFilterRows = 6, kFilterRowsNarrow = 8;
// output columns per filter block: 64 measured best on the AVX-512 machine; on an AVX2 Zen
// (16 registers, so 4 passes over the block for 64 channels) 512 ran 10-20% faster
constexpr int64_t kFilterBlock = 64, kFilterBlockAvx2 = 512;

// C[R][16·Q] += Σ over output rows r ∈ rs of Σ_{l0≤l<l0+len} x_i[q[r] + l] ⊗ D[r·ow + l][0..16·Q):
// R tap rows of the padded input against the transposed output gradient. Only real output
// columns are visited: a junk column would multiply a zero by an input pixel the true sum
// never reads, and a NaN or infinity there would leak into dW. The R taps share their
// (ky, kx), so rs and l0 .. l0+len are the pixels where that tap lies inside the image: the
// products with the padding are skipped, as the reference skips them.
template <int R, int Q>
__attribute__((target("avx512f,fma"))) void filter_tile(const int64_t* q, const int64_t* rs, int64_t rows, int64_t l0,
                                                        int64_t len, int64_t ow, const float* const* x,
                                                        const float* __restrict D, int64_t ldd, float* c, int64_t ldc) {
  __m512 r[R][Q];
#pragma GCC unroll 8
  for (int i = 0; i < R; i++)
#pragma GCC unroll 4
    for (int j = 0; j < Q; j++) r[i][j] = _mm512_setzero_ps();
  for (int64_t row = 0; row < rows; row++) {
    const int64_t rr = rs[row];
    const float* xs[R];
#pragma GCC unroll 8
    for (int i = 0; i < R; i++) xs[i] = x[i] + q[rr] + l0;
    const float* d = D + (rr * ow + l0) * ldd;
    for (int64_t l = 0; l < len; l++) {
      __m512 dv[Q];
#pragma GCC unroll 4
      for (int j = 0; j < Q; j++) dv[j] = _mm512_loadu_ps(d + j * 16);
      // one broadcast live at a time: R·Q accumulators, Q gradient rows and it fit the 32 registers
#pragma GCC unroll 8
      for (int i = 0; i < R; i++) {
        const __m512 a = _mm512_set1_ps(xs[i][l]);
#pragma GCC unroll 4
        for (int j = 0; j < Q; j++) r[i][j] = _mm512_fmadd_ps(a, dv[j], r[i][j]);
      }
      d += ldd;
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; i++)
#pragma GCC unroll 4
    for (int j = 0; j < Q; j++) {
      float* ci = c + i * ldc + j * 16;
      _mm512_storeu_ps(ci, _mm512_add_ps(r[i][j], _mm512_loadu_ps(ci)));
    }
}

// The AVX2 tiles: 16 registers. Forward 6 channels × 16 columns (12 accumulators, like the
// AVX2 GEMM); filter 6 taps × 16 output channels per pass.
constexpr int kFwdRowsAvx2 = 6, kFwdColsAvx2 = 16;
__attribute__((target("avx2,fma"))) void fwd_tile_avx2(int64_t kk, const float* __restrict a, const float* b,
                                                       const int64_t* __restrict off, float* c, int64_t ldc) {
  __m256 r[kFwdRowsAvx2][2];
#pragma GCC unroll 6
  for (int i = 0; i < kFwdRowsAvx2; i++) r[i][0] = r[i][1] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kk; p++) {
    const float* bp = b + off[p];
    const __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kFwdRowsAvx2; i++) {
      const __m256 av = _mm256_broadcast_ss(a + i);
      r[i][0] = _mm256_fmadd_ps(av, b0, r[i][0]);
      r[i][1] = _mm256_fmadd_ps(av, b1, r[i][1]);
    }
    a += kFwdRowsAvx2;
  }
#pragma GCC unroll 6
  for (int i = 0; i < kFwdRowsAvx2; i++) {
    _mm256_storeu_ps(c + i * ldc, r[i][0]);
    _mm256_storeu_ps(c + i * ldc + 8, r[i][1]);
  }
}

__attribute__((target("avx2,fma"))) void filter_tile_avx2(const int64_t* q, const int64_t* rs, int64_t rows, int64_t l0,
                                                          int64_t len, int64_t ow, const float* const* x,
                                                          const float* __restrict D, int64_t ldd, float* c, int64_t ldc) {
  __m256 r[kFilterRows][2];
#pragma GCC unroll 6
  for (int i = 0; i < kFilterRows; i++) r[i][0] = r[i][1] = _mm256_setzero_ps();
  for (int64_t row = 0; row < rows; row++) {
    const int64_t rr = rs[row];
    const float* xs[kFilterRows];
#pragma GCC unroll 6
    for (int i = 0; i < kFilterRows; i++) xs[i] = x[i] + q[rr] + l0;
    const float* d = D + (rr * ow + l0) * ldd;
    for (int64_t l = 0; l < len; l++) {
      const __m256 d0 = _mm256_loadu_ps(d), d1 = _mm256_loadu_ps(d + 8);
#pragma GCC unroll 6
      for (int i = 0; i < kFilterRows; i++) {
        const __m256 av = _mm256_broadcast_ss(xs[i] + l);
        r[i][0] = _mm256_fmadd_ps(av, d0, r[i][0]);
        r[i][1] = _mm256_fmadd_ps(av, d1, r[i][1]);
      }
      d += ldd;
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < kFilterRows; i++) {
    float* ci = c + i * ldc;
    _mm256_storeu_ps(ci, _mm256_add_ps(r[i][0], _mm256_loadu_ps(ci)));
    _mm256_storeu_ps(ci + 8, _mm256_add_ps(r[i][1], _mm256_loadu_ps(ci + 8)));
  }
}

// The AVX2 forward by output pixels: C[6 pixels][16 channels] = Σ_p X[x_i + off[p]] ⊗ W[p][0..16),
// the filter packed [tap][16 channels] per panel. Each pixel's taps are broadcasts from the flat
// layout and every filter row is one aligned load, so only real output pixels are computed
// (no junk columns) and no load straddles a cache line.
constexpr int kPixRows = 6, kPixVecs = 2, kPixCols = 8 * kPixVecs;
// METAGRAD_CONV_PIX=0: the AVX2 forward on the flat layout's column tiles instead (A/B runs)
bool pixel_tiles() {
  static const bool on = [] {
    const char* e = std::getenv("METAGRAD_CONV_PIX");
    return !(e && e[0] == '0');
  }();
  return on;
}
__attribute__((target("avx2,fma"))) void pixel_tile_avx2(int64_t kk, const float* __restrict w, const float* const* xs,
                                                         const int64_t* __restrict off, float* c) {
  __m256 r[kPixRows][kPixVecs];
#pragma GCC unroll 8
  for (int i = 0; i < kPixRows; i++)
#pragma GCC unroll 4
    for (int v = 0; v < kPixVecs; v++) r[i][v] = _mm256_setzero_ps();
  const float* x[kPixRows];
#pragma GCC unroll 8
  for (int i = 0; i < kPixRows; i++) x[i] = xs[i];
  for (int64_t p = 0; p < kk; p++) {
    const int64_t o = off[p];
    __m256 wv[kPixVecs];
#pragma GCC unroll 4
    for (int v = 0; v < kPixVecs; v++) wv[v] = _mm256_load_ps(w + 8 * v);
#pragma GCC unroll 8
    for (int i = 0; i < kPixRows; i++) {
      const __m256 b = _mm256_broadcast_ss(x[i] + o);
#pragma GCC unroll 4
      for (int v = 0; v < kPixVecs; v++) r[i][v] = _mm256_fmadd_ps(b, wv[v], r[i][v]);
    }
    w += kPixCols;
  }
#pragma GCC unroll 8
  for (int i = 0; i < kPixRows; i++)
#pragma GCC unroll 4
    for (int v = 0; v < kPixVecs; v++) _mm256_storeu_ps(c + i * kPixCols + 8 * v, r[i][v]);
}
#endif

// Stride 1, undilated, padding under the kernel size (both layouts need it).
bool stride1_fits(const ConvGeom& g) {
  return g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.kh * g.kw > 1 && g.ph <= g.kh - 1 &&
         g.pw <= g.kw - 1 && (double)g.n * g.cIn * (g.h + 2 * g.ph + 2) * (g.w + 2 * g.pw) < 1e9;
}
// The flat layout: at least 70% of the computed columns real outputs. 3×3 planes (9 of 16) ran
// slower than unfolding, 7×7 (49 of 64) faster.
bool shape_fits(const ConvGeom& g) { return stride1_fits(g) && 10 * g.oh * g.ow >= 7 * (g.h + g.ph) * (g.w + g.pw); }

#ifdef MG_X86
// Images in the vector lanes, for batches of small planes: 16 images side by side, so an
// output pixel's 16 values are one register and every tap one aligned load; tiles are real
// output pixels, so no junk column is computed at all, and they skip the taps that fall in the
// padding, as the reference does (a 7×7 plane with a 3×3 kernel and padding 1 has 82% of its
// taps inside, a 3×3 plane 60%). Two panels at a time, a tile is one pixel × 16 channels, with
// exactly its own taps (n 75 64→64 @3: 384 → 339 µs at one thread against pairs); a single
// panel takes pairs of pixels × 8 channels, paired along a spiral from the border inwards so
// that the two pixels of a border pair share the side they lack, and skipping the taps in the
// padding for both.
constexpr int kLanes = 16;
// up to 512 output pixels: with the padding skipped, 21×21, 14×14 and 10×10 ran 7-25% faster than
// the flat layout on an AMD EPYC (Zen 4), 42×42 6% slower
constexpr int64_t kLanePlaneMax = 512;

// C0[8][16] (, C1[8][16]) = Σ_t A[ta[t]][0..8) ⊗ (B0[tb[t]], B1[tb[t]]): P pixels × 16 images.
template <int P>
__attribute__((target("avx512f,fma"))) void lane_tile(int64_t nt, const float* __restrict a, const float* b0,
                                                      const float* b1, const int32_t* __restrict tb,
                                                      const int32_t* __restrict ta, float* c0, float* c1, int64_t ldc) {
  __m512 r[kFwdRows][P];
#pragma GCC unroll 8
  for (int i = 0; i < kFwdRows; i++)
#pragma GCC unroll 2
    for (int j = 0; j < P; j++) r[i][j] = _mm512_setzero_ps();
  for (int64_t t = 0; t < nt; t++) {
    const float* at = a + ta[t];
    const __m512 v0 = _mm512_load_ps(b0 + tb[t]);
    const __m512 v1 = P == 2 ? _mm512_load_ps(b1 + tb[t]) : v0;
#pragma GCC unroll 8
    for (int i = 0; i < kFwdRows; i++) {
      const __m512 av = _mm512_set1_ps(at[i]);
      r[i][0] = _mm512_fmadd_ps(av, v0, r[i][0]);
      if (P == 2) r[i][P - 1] = _mm512_fmadd_ps(av, v1, r[i][P - 1]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < kFwdRows; i++) {
    _mm512_store_ps(c0 + i * ldc, r[i][0]);
    if (P == 2) _mm512_store_ps(c1 + i * ldc, r[i][P - 1]);
  }
}

// C0[8][16], C1[8][16] = Σ_t (A0[ta[t]], A1[ta[t]])[0..8) ⊗ B[tb[t]]: one pixel × 16 images for the
// 16 channels of two panels. The same loads per multiply-add as a pair of pixels on one panel,
// but each pixel runs exactly its own taps, never those its partner needs.
__attribute__((target("avx512f,fma"))) void lane_tile_16(int64_t nt, const float* __restrict a0, const float* __restrict a1,
                                                         const float* b, const int32_t* __restrict tb,
                                                         const int32_t* __restrict ta, float* c0, float* c1, int64_t ldc) {
  __m512 r[2][kFwdRows];
#pragma GCC unroll 8
  for (int i = 0; i < kFwdRows; i++) r[0][i] = r[1][i] = _mm512_setzero_ps();
  for (int64_t t = 0; t < nt; t++) {
    const float *x0 = a0 + ta[t], *x1 = a1 + ta[t];
    const __m512 v = _mm512_load_ps(b + tb[t]);
#pragma GCC unroll 8
    for (int i = 0; i < kFwdRows; i++) {
      r[0][i] = _mm512_fmadd_ps(_mm512_set1_ps(x0[i]), v, r[0][i]);
      r[1][i] = _mm512_fmadd_ps(_mm512_set1_ps(x1[i]), v, r[1][i]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < kFwdRows; i++) {
    _mm512_store_ps(c0 + i * ldc, r[0][i]);
    _mm512_store_ps(c1 + i * ldc, r[1][i]);
  }
}

// The output pixels of an oh × ow plane, clockwise from the outer ring inwards.
std::vector<int64_t> spiral_order(int64_t oh, int64_t ow) {
  std::vector<int64_t> s;
  s.reserve(oh * ow);
  for (int64_t t = 0, b = oh - 1, l = 0, r = ow - 1; t <= b && l <= r; t++, b--, l++, r--) {
    for (int64_t x = l; x <= r; x++) s.push_back(t * ow + x);
    for (int64_t y = t + 1; y <= b; y++) s.push_back(y * ow + r);
    if (t < b)
      for (int64_t x = r - 1; x >= l; x--) s.push_back(b * ow + x);
    if (l < r)
      for (int64_t y = b - 1; y > t; y--) s.push_back(y * ow + l);
  }
  return s;
}

// The lane layout of one group's channels: [c][hp][wp][16 images], fully padded; and the
// schedule of its tiles, the same for every lane group and every group, so built once per
// call: pixel pairs (p1 = -1: a single pixel), each with a list of the taps inside the plane
// for either pixel (tb: the input offset from the pixel's base, ta: the filter row's offset
// in a panel), lists shared by the pairs that have the same taps.
struct Lanes {
  int64_t hp, wp, plane;
  std::vector<int64_t> at;  // each output pixel's base
  struct Pair {
    int64_t p0, p1, list;
  };
  std::vector<Pair> pairs;    // for one panel at a time
  std::vector<Pair> singles;  // every pixel alone (p1 = -1) with its own taps, for two panels at a time
  std::vector<int64_t> start, count;  // each list's taps: tb/ta[start .. start + count)
  std::vector<int32_t> tb, ta;
  std::vector<int32_t> lay;  // where input value f of an image's group block, f = c·h·w + y·w + x, goes

  // bit ky·kw + kx: tap (ky, kx) of output pixel p reads inside the plane
  static uint64_t inside(const ConvGeom& g, int64_t p) {
    const int64_t oy = p / g.ow, ox = p % g.ow;
    uint64_t m = 0;
    for (int64_t ky = 0; ky < g.kh; ky++) {
      const Span ys = inside_span(g.ph, ky, g.h, g.oh);
      if (oy < ys.lo || oy >= ys.hi) continue;
      for (int64_t kx = 0; kx < g.kw; kx++) {
        const Span xs = inside_span(g.pw, kx, g.w, g.ow);
        if (ox >= xs.lo && ox < xs.hi) m |= uint64_t{1} << (ky * g.kw + kx);
      }
    }
    return m;
  }

  explicit Lanes(const ConvGeom& g) : hp(g.h + 2 * g.ph), wp(g.w + 2 * g.pw), plane(hp * wp * kLanes), at(g.oh * g.ow) {
    const int64_t cig = g.cIn / g.groups, khw = g.kh * g.kw;
    for (int64_t oy = 0; oy < g.oh; oy++)
      for (int64_t ox = 0; ox < g.ow; ox++) at[oy * g.ow + ox] = (oy * wp + ox) * kLanes;
    lay.resize(cig * g.h * g.w);
    for (int64_t c = 0; c < cig; c++)
      for (int64_t y = 0; y < g.h; y++)
        for (int64_t x = 0; x < g.w; x++) lay[(c * g.h + y) * g.w + x] = (int32_t)(((c * hp + y + g.ph) * wp + x + g.pw) * kLanes);
    std::vector<uint64_t> masks;
    auto list_of = [&](uint64_t m) {
      int64_t list = std::find(masks.begin(), masks.end(), m) - masks.begin();
      if (list == (int64_t)masks.size()) {
        masks.push_back(m);
        start.push_back((int64_t)tb.size());
        for (int64_t c = 0; c < cig; c++)
          for (int64_t k = 0; k < khw; k++)
            if (m >> k & 1) {
              tb.push_back((int32_t)(((c * hp + k / g.kw) * wp + k % g.kw) * kLanes));
              ta.push_back((int32_t)((c * khw + k) * kFwdRows));
            }
        count.push_back((int64_t)tb.size() - start.back());
      }
      return list;
    };
    const std::vector<int64_t> order = spiral_order(g.oh, g.ow);
    for (size_t i = 0; i < order.size(); i += 2) {
      const int64_t p0 = order[i], p1 = i + 1 < order.size() ? order[i + 1] : -1;
      pairs.push_back({p0, p1, list_of(inside(g, p0) | (p1 >= 0 ? inside(g, p1) : 0))});
    }
    for (int64_t p = 0; p < g.oh * g.ow; p++) singles.push_back({p, -1, list_of(inside(g, p))});
  }
  // the offsets fit the int32 lists, and the taps the 64-bit masks
  static bool fits(const ConvGeom& g) {
    const int64_t cig = g.cIn / g.groups;
    return g.kh * g.kw <= 64 && (double)cig * (g.h + 2 * g.ph) * (g.w + 2 * g.pw) * kLanes < 2e9 &&
           (double)cig * g.kh * g.kw * kFwdRows < 2e9;
  }
};

// Images i0 .. i0+nb (nb ≤ 16) of group gr into their lanes of Xl, 16 values of 16 images at a
// time by a transpose; lanes past nb get copies of the last image (computed, never stored).
__attribute__((target("avx512f"))) void lanes_lay_in(const float* X, const ConvGeom& g, const Lanes& L, int64_t i0, int64_t nb,
                                                     int64_t gr, float* Xl) {
  const int64_t cig = g.cIn / g.groups, len = cig * g.h * g.w;
  const float* img[kLanes];
  for (int64_t j = 0; j < kLanes; j++) img[j] = X + ((i0 + std::min(j, nb - 1)) * g.cIn + gr * cig) * g.h * g.w;
  const int32_t* lay = L.lay.data();
  alignas(64) float t[kLanes * 16];
  int64_t f = 0;
  for (; f + 16 <= len; f += 16) {
    const float* src[kLanes];
    for (int j = 0; j < kLanes; j++) src[j] = img[j] + f;
    transpose16_f32_rows(src, t, 16);
#pragma GCC unroll 16
    for (int q = 0; q < 16; q++) _mm512_store_ps(Xl + lay[f + q], _mm512_load_ps(t + 16 * q));
  }
  for (; f < len; f++)
    for (int64_t j = 0; j < nb; j++) Xl[lay[f] + j] = img[j][f];
}

// The lane results out[co][p][16 images] of group gr, channels co0 .. co1, to Y (+ bias), 16
// values of 16 images at a time.
__attribute__((target("avx512f"))) void lanes_lay_out(const float* out, const ConvGeom& g, int64_t i0, int64_t nb, int64_t gr,
                                                      int64_t co0, int64_t co1, const float* bias, float* Y) {
  const int64_t cog = g.cOut / g.groups, ohw = g.oh * g.ow, len = co1 * ohw;
  const float* b = bias ? bias + gr * cog : nullptr;
  alignas(64) float t[kLanes * 16], bv[16];
  int64_t f = co0 * ohw;
  for (; f + 16 <= len; f += 16) {
    const float* src[16];
    for (int q = 0; q < 16; q++) src[q] = out + (f + q) * kLanes;
    transpose16_f32_rows(src, t, 16);
    if (b)
      for (int q = 0; q < 16; q++) bv[q] = b[(f + q) / ohw];
    for (int64_t j = 0; j < nb; j++) {
      float* y = Y + ((i0 + j) * g.cOut + gr * cog) * ohw + f;
      const __m512 v = _mm512_load_ps(t + 16 * j);
      _mm512_storeu_ps(y, b ? _mm512_add_ps(v, _mm512_load_ps(bv)) : v);
    }
  }
  for (; f < len; f++)
    for (int64_t j = 0; j < nb; j++) {
      const float v = out[f * kLanes + j];
      Y[((i0 + j) * g.cOut + gr * cog) * ohw + f] = b ? v + b[f / ohw] : v;
    }
}

// Y for images i0 .. i0+nb (nb ≤ 16) of group gr and the output channels of panels pn0 .. pn1,
// with Ap the packed filter (8-channel panels).
void lanes_forward(const float* X, const float* Ap, const ConvGeom& g, const Lanes& L, int64_t i0, int64_t nb, int64_t gr,
                   int64_t pn0, int64_t pn1, float* Y, const float* bias) {
  const int64_t cig = g.cIn / g.groups, cog = g.cOut / g.groups, kk = cig * g.kh * g.kw, ohw = g.oh * g.ow;
  const int64_t plane = L.plane;
  const int64_t panels = (cog + kFwdRows - 1) / kFwdRows;
  float* Xl = conv_scratch<float, 0>(cig * plane);
  float* out = conv_scratch<float, 1>(panels * kFwdRows * ohw * kLanes);
  std::fill(Xl, Xl + cig * plane, 0.f);
  lanes_lay_in(X, g, L, i0, nb, gr, Xl);
  const int64_t* at = L.at.data();
  const int64_t ldc = ohw * kLanes;
  // two panels at a time by single pixels (a 3×3 plane: 49 pixel-taps computed, against 57 by
  // pairs, whose union of taps is wider than either pixel's), an odd last panel by pairs
  int64_t pn = pn0;
  for (; pn + 1 < pn1; pn += 2) {
    const float* a = Ap + pn * kk * kFwdRows;
    float* o = out + pn * kFwdRows * ldc;
    for (const Lanes::Pair& pr : L.singles) {
      const int32_t *tb = L.tb.data() + L.start[pr.list], *ta = L.ta.data() + L.start[pr.list];
      lane_tile_16(L.count[pr.list], a, a + kk * kFwdRows, Xl + at[pr.p0], tb, ta, o + pr.p0 * kLanes,
                   o + kFwdRows * ldc + pr.p0 * kLanes, ldc);
    }
  }
  for (; pn < pn1; pn++) {
    const float* a = Ap + pn * kk * kFwdRows;
    float* o = out + pn * kFwdRows * ldc;
    for (const Lanes::Pair& pr : L.pairs) {
      const int32_t *tb = L.tb.data() + L.start[pr.list], *ta = L.ta.data() + L.start[pr.list];
      const int64_t nt = L.count[pr.list];
      if (pr.p1 >= 0)
        lane_tile<2>(nt, a, Xl + at[pr.p0], Xl + at[pr.p1], tb, ta, o + pr.p0 * kLanes, o + pr.p1 * kLanes, ldc);
      else
        lane_tile<1>(nt, a, Xl + at[pr.p0], nullptr, tb, ta, o + pr.p0 * kLanes, nullptr, ldc);
    }
  }
  lanes_lay_out(out, g, i0, nb, gr, pn0 * kFwdRows, std::min(pn1 * kFwdRows, cog), bias, Y);
}

// Lanes pay where the plane is small enough (the flat layout's junk share large, or the taps
// in the padding worth skipping) and the batch fills most of the lanes.
bool lanes_fit(const ConvGeom& g) {
  const int64_t groups16 = (g.n + kLanes - 1) / kLanes;
  return isa() == Isa::Avx512 && g.oh * g.ow <= kLanePlaneMax && 4 * g.n >= 3 * kLanes * groups16 && Lanes::fits(g);
}
#endif

#ifdef MG_X86
// The AVX2 forward over folds in the flat layout, by tiles of 6 real output pixels × 16 channels.
void pixel_forward_avx2(const float* X, const float* W, const ConvGeom& g, float* Y, const float* bias) {
  const int64_t cig = g.cIn / g.groups, cog = g.cOut / g.groups, kk = cig * g.kh * g.kw, ohw = g.oh * g.ow;
  const PackedFilter A(W, g, kPixCols);
  const Plan p = plan(g, cig);
  over_folds(p, g.n, [&](int64_t i0, int64_t nb, int64_t) {
    const Flat f(g, nb, 0);
    float* Xp = conv_scratch<float, 0>(cig * f.cstride);
    const std::vector<int64_t> off = tap_offsets(g, f);
    std::vector<int64_t> at(nb * ohw);
    for (int64_t j = 0; j < nb; j++)
      for (int64_t oy = 0; oy < g.oh; oy++)
        for (int64_t ox = 0; ox < g.ow; ox++) at[(j * g.oh + oy) * g.ow + ox] = f.at(j, oy) + ox;
    const int64_t npix = nb * ohw;
    alignas(32) float c[kPixRows * kPixCols];
    for (int64_t gr = 0; gr < g.groups; gr++) {
      lay_out(X, g, i0, nb, gr * cig, cig, f, Xp);
      for (int64_t pn = 0; pn < A.panels; pn++) {
        const float* w = A.panel(gr, pn);
        const int64_t co0 = pn * kPixCols, nco = std::min<int64_t>(kPixCols, cog - co0);
        for (int64_t t = 0; t < npix; t += kPixRows) {
          const float* xs[kPixRows];
          // a short last tile repeats its last pixel (computed, not stored)
          for (int i = 0; i < kPixRows; i++) xs[i] = Xp + at[std::min<int64_t>(t + i, npix - 1)];
          pixel_tile_avx2(kk, w, xs, off.data(), c);
          for (int64_t i = 0; i < std::min<int64_t>(kPixRows, npix - t); i++) {
            const int64_t j = (t + i) / ohw, px = (t + i) % ohw;
            float* y = Y + ((i0 + j) * g.cOut + gr * cog + co0) * ohw + px;
            if (bias)
              for (int64_t co = 0; co < nco; co++) y[co * ohw] = c[i * kPixCols + co] + bias[gr * cog + co0 + co];
            else
              for (int64_t co = 0; co < nco; co++) y[co * ohw] = c[i * kPixCols + co];
          }
        }
      }
    }
  });
}
#endif

}  // namespace

bool conv_direct_forward_applies(const ConvGeom& g) {
#ifdef MG_X86
  if (isa() == Isa::Scalar || g.cIn / g.groups < 8) return false;
  // AVX2 tiles real output pixels only, so any plane pays; AVX-512's flat tiles need the
  // columns mostly real, or the lanes
  if (isa() == Isa::Avx2 && pixel_tiles()) return stride1_fits(g);
  return shape_fits(g) || (stride1_fits(g) && lanes_fit(g));
#else
  (void)g;
  return false;
#endif
}

bool conv_direct_filter_applies(const ConvGeom& g) {
#ifdef MG_X86
  const int64_t cog = g.cOut / g.groups;
  // it visits real output pixels only, so any stride-1 plane pays (3×3 ones ran 1.7× faster than
  // the GEMM path on an AMD EPYC, once the taps in the padding were skipped)
  return isa() != Isa::Scalar && stride1_fits(g) && g.cIn / g.groups >= 8 && cog % 16 == 0 && cog <= 64;
#else
  (void)g;
  return false;
#endif
}

void conv_direct_forward(const float* X, const float* W, const ConvGeom& g, float* Y, const float* bias) {
#ifdef MG_X86
  const int64_t cig = g.cIn / g.groups, cog = g.cOut / g.groups, kk = cig * g.kh * g.kw, ohw = g.oh * g.ow;
  const bool wide = isa() == Isa::Avx512;
  if (!wide && pixel_tiles()) {
    pixel_forward_avx2(X, W, g, Y, bias);
    return;
  }
  const int64_t rows = wide ? kFwdRows : kFwdRowsAvx2, cols = wide ? kFwdCols : kFwdColsAvx2;
  const auto tile = wide ? fwd_tile<kFwdQ> : fwd_tile_avx2;
  const PackedFilter A(W, g, rows);
  const int64_t panels = A.panels;
  if (wide && lanes_fit(g)) {
    // tasks: lane groups × parts of the panels, as many parts as make the tasks a multiple of the
    // threads (5 lane groups on 2 threads: 10 tasks, not 3 groups on one thread and 2 on the other)
    const Lanes L(g);
    const int64_t G = (g.n + kLanes - 1) / kLanes, T = ThreadPool::get().threads();
    const int64_t parts = std::min(panels, T / std::gcd(G, T)), per = (panels + parts - 1) / parts;
    const int64_t tasks = G * parts;
    over_folds(Plan{1, tasks}, tasks, [&](int64_t task, int64_t, int64_t) {
      const int64_t i0 = task / parts * kLanes, pn0 = task % parts * per;
      for (int64_t gr = 0; gr < g.groups; gr++)
        lanes_forward(X, A.panel(gr, 0), g, L, i0, std::min<int64_t>(kLanes, g.n - i0), gr, pn0, std::min(panels, pn0 + per), Y,
                      bias);
    });
    return;
  }
  const Plan p = plan(g, cig);
  over_folds(p, g.n, [&](int64_t i0, int64_t nb, int64_t) {
    const Flat f(g, nb, cols);
    const int64_t tiles = (f.q1 - f.q0 + cols - 1) / cols, ldo = tiles * cols;
    float* Xp = conv_scratch<float, 0>(cig * f.cstride);
    float* out = conv_scratch<float, 1>(panels * rows * ldo);
    const std::vector<int64_t> off = tap_offsets(g, f);
    for (int64_t gr = 0; gr < g.groups; gr++) {
      lay_out(X, g, i0, nb, gr * cig, cig, f, Xp);
      for (int64_t pn = 0; pn < panels; pn++) {
        const float* a = A.panel(gr, pn);
        for (int64_t t = 0; t < tiles; t++) tile(kk, a, Xp + f.q0 + t * cols, off.data(), out + pn * rows * ldo + t * cols, ldo);
      }
      for (int64_t j = 0; j < nb; j++)
        for (int64_t co = 0; co < cog; co++) {
          const float* o = out + co * ldo + f.at(j, 0) - f.q0;
          float* y = Y + ((i0 + j) * g.cOut + gr * cog + co) * ohw;
          for (int64_t oy = 0; oy < g.oh; oy++) put_row(o + oy * f.wp, g.ow, y + oy * g.ow, bias, gr * cog + co);
        }
    }
  });
#else
  (void)X, (void)W, (void)g, (void)Y, (void)bias;
  throw KernelError("conv2d: the direct kernel needs x86");
#endif
}

void conv_direct_filter(const float* X, const float* DY, const ConvGeom& g, float* DW, float* DB) {
#ifdef MG_X86
  const int64_t cig = g.cIn / g.groups, cog = g.cOut / g.groups, khw = g.kh * g.kw, kk = cig * khw, ohw = g.oh * g.ow;
  // taps by (ky, kx), then input channel, in tiles of R channels (a last tile's extra rows
  // are scratch): row t·cigp + c of dW transposed is tap t of channel c
  const bool wide = isa() == Isa::Avx512;
  const int64_t R = wide && cog <= 32 && cig % kFilterRowsNarrow == 0 ? kFilterRowsNarrow : kFilterRows;
  const int64_t ct = (cig + R - 1) / R, cigp = ct * R, kkp = khw * cigp;
  const Plan p = plan(g, cig);
  const int64_t T = std::min<int64_t>(ThreadPool::get().threads(), p.count);
  // per thread, per group: dW transposed, [kkp][cog] (taps past kk are scratch rows)
  std::vector<float> acc(T * g.groups * kkp * cog, 0.f);
  // per thread: Σ dY per output channel, the bias gradient, while dY is transposed (DB given)
  std::vector<double> bacc(DB ? T * g.cOut : 0, 0.0);
  over_folds(p, g.n, [&](int64_t i0, int64_t nb, int64_t t) {
    const Flat f(g, nb, 0);
    const int64_t rows = nb * g.oh, cells = nb * ohw;
    float* Xp = conv_scratch<float, 0>(cig * f.cstride);
    float* D = conv_scratch<float, 1>((cells + 16) * cog);
    // the flat column of each output row's first pixel, and each tap's offset from it
    std::vector<int64_t> q(rows), off(kkp), rs(rows);
    for (int64_t j = 0; j < nb; j++)
      for (int64_t oy = 0; oy < g.oh; oy++) q[j * g.oh + oy] = f.at(j, oy);
    for (int64_t t = 0; t < khw; t++)
      for (int64_t c = 0; c < cigp; c++) off[t * cigp + c] = f.off(g, std::min(c, cig - 1), t / g.kw, t % g.kw);
    // output rows per block: about 64 columns (AVX2: 512), whose dY rows and input window stay
    // in L1 (AVX2: L2) while every tap row passes over them
    const int64_t block = std::max<int64_t>(1, (wide ? kFilterBlock : kFilterBlockAvx2) / g.ow);
    for (int64_t gr = 0; gr < g.groups; gr++) {
      lay_out(X, g, i0, nb, gr * cig, cig, f, Xp);
      // dY of the fold transposed to [pixel][co], by 16×16 blocks
      for (int64_t j = 0; j < nb; j++) {
        const float* dy = DY + ((i0 + j) * g.cOut + gr * cog) * ohw;
        float* d = D + j * ohw * cog;
        if (DB)
          for (int64_t co = 0; co < cog; co++) {
            float s = 0.f;
            for (int64_t q = 0; q < ohw; q++) s += dy[co * ohw + q];
            bacc[t * g.cOut + gr * cog + co] += s;
          }
        int64_t px = 0;
        if (wide)
          for (; px + 16 <= ohw; px += 16)
            for (int64_t co = 0; co < cog; co += 16) transpose16_f32(dy + co * ohw + px, ohw, d + px * cog + co, cog);
        for (; px < ohw; px++)
          for (int64_t co = 0; co < cog; co++) d[px * cog + co] = dy[co * ohw + px];
      }
      float* dwt = acc.data() + (t * g.groups + gr) * kkp * cog;
      for (int64_t r0 = 0; r0 < rows; r0 += block) {
        const int64_t r1 = std::min<int64_t>(r0 + block, rows);
        for (int64_t ky = 0; ky < g.kh; ky++) {
          // the block's output rows whose tap row ky lies inside the image, and for each kx the columns
          const Span ys = inside_span(g.ph, ky, g.h, g.oh);
          int64_t nr = 0;
          for (int64_t r = r0; r < r1; r++)
            if (r % g.oh >= ys.lo && r % g.oh < ys.hi) rs[nr++] = r;
          if (nr == 0) continue;
          const int64_t* rp = rs.data();
          for (int64_t kx = 0; kx < g.kw; kx++) {
            const Span xs = inside_span(g.pw, kx, g.w, g.ow);
            const int64_t l0 = xs.lo, len = xs.hi - xs.lo;
            if (len <= 0) continue;
            const int64_t t = ky * g.kw + kx;
            for (int64_t r = 0; r < ct; r++) {
              const float* x[kFilterRowsNarrow];
              for (int i = 0; i < R; i++) x[i] = Xp + off[t * cigp + r * R + i];
              float* c = dwt + (t * cigp + r * R) * cog;
              if (!wide) {
                for (int64_t co = 0; co < cog; co += 16)
                  filter_tile_avx2(q.data(), rp, nr, l0, len, g.ow, x, D + co, cog, c + co, cog);
                continue;
              }
              switch (cog / 16 + (R == kFilterRowsNarrow ? 4 : 0)) {
                case 1: filter_tile<kFilterRows, 1>(q.data(), rp, nr, l0, len, g.ow, x, D, cog, c, cog); break;
                case 2: filter_tile<kFilterRows, 2>(q.data(), rp, nr, l0, len, g.ow, x, D, cog, c, cog); break;
                case 3: filter_tile<kFilterRows, 3>(q.data(), rp, nr, l0, len, g.ow, x, D, cog, c, cog); break;
                case 4: filter_tile<kFilterRows, 4>(q.data(), rp, nr, l0, len, g.ow, x, D, cog, c, cog); break;
                case 5: filter_tile<kFilterRowsNarrow, 1>(q.data(), rp, nr, l0, len, g.ow, x, D, cog, c, cog); break;
                default: filter_tile<kFilterRowsNarrow, 2>(q.data(), rp, nr, l0, len, g.ow, x, D, cog, c, cog); break;
              }
            }
          }
        }
      }
    }
  });
  // the threads' sums into the first's (in thread order, as before), then transposed into dW
  const int64_t per = g.groups * kkp * cog;
  for (int64_t th = 1; th < T; th++) {
    const float* a = acc.data() + th * per;
    float* s = acc.data();
    for (int64_t i = 0; i < per; i++) s[i] += a[i];
  }
  for (int64_t gr = 0; gr < g.groups; gr++)
    for (int64_t t = 0; t < khw; t++)
      for (int64_t c = 0; c < cig; c++) {
        const float* s = acc.data() + (gr * kkp + t * cigp + c) * cog;
        for (int64_t co = 0; co < cog; co++) DW[(gr * cog + co) * kk + c * khw + t] = s[co];
      }
  if (DB)
    for (int64_t c = 0; c < g.cOut; c++) {
      double s = 0;
      for (int64_t t = 0; t < T; t++) s += bacc[t * g.cOut + c];
      DB[c] = (float)s;
    }
#else
  (void)X, (void)DY, (void)g, (void)DW, (void)DB;
  throw KernelError("conv2dBackwardFilter: the direct kernel needs x86");
#endif
}

}  // namespace mg
