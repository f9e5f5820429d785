// Winograd F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks"):
// each 2×2 output tile of channel k is
//   Y = Aᵀ [ Σ_c (G g_kc Gᵀ) ⊙ (Bᵀ d_c B) ] A
// over the 4×4 input patch d_c under it, so the channel sums become 16 GEMMs, one per point
// ξ of the 4×4 transforms, M_ξ[tile][k] = Σ_c V_ξ[tile][c] · U_ξ[c][k]: 16 products per tile
// and channel pair instead of 36 (2.25× fewer where the tiles cover the plane, as 49 cover
// 14×14; 1.72× at 7×7, whose 16 tiles hold 64 outputs for 49).
// A task is a block of images and a band of their tile rows. Its input is laid in
// channel-innermost and zero-padded (P) by 16×16 transposes, transformed 16 channels to a
// vector (V), multiplied (M), transformed back with the bias added (Q, pixel-major) and laid
// out into NCHW by 16×16 transposes; P, V, M, Q and the transformed filter U stay in L2.
#include "conv_winograd.h"
#include "conv_scratch.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "simd.h"
#include "threadpool.h"
#include "transpose16.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MG_X86 1
#endif

namespace mg {

#ifdef MG_X86
namespace {

// tiles per task: V and M of 64 channels 192 KiB each, beside U's 256 KiB, in a 1 MiB L2
constexpr int64_t kTileTarget = 48;
// tiles per GEMM micro-tile (× 64 output channels: 24 accumulators)
constexpr int kRows = 6;

// How the tiles of a call are cut into tasks.
struct Tiling {
  int64_t tH, tW, Wp;      // tiles down and across a plane; the padded row (2·tW + 2 pixels)
  int64_t B, blocks;       // images per task, blocks of them
  int64_t band, bands;     // tile rows per task, bands per plane
  Tiling(const ConvGeom& g, int64_t threads) {
    tH = (g.h + 1) / 2, tW = (g.w + 1) / 2, Wp = 2 * tW + 2;
    const int64_t per = tH * tW;
    if (per <= 64) {
      B = std::max<int64_t>(1, std::min(g.n, kTileTarget / per));
      bands = 1;
    } else {
      B = 1;
      bands = (per + kTileTarget - 1) / kTileTarget;
    }
    blocks = (g.n + B - 1) / B;
    // few tasks that do not divide among the threads: halve the bands (the input rows between
    // two bands are laid in twice, which costs less than a thread waiting)
    if (threads > 1 && blocks * bands < 4 * threads && (blocks * bands) % threads != 0 && tH >= 2 * bands) bands *= 2;
    band = (tH + bands - 1) / bands;
    bands = (tH + band - 1) / band;
  }
};

// M[R][16·NK] = V[R][C] · U[C][16·NK] (V rows at stride C, U and M rows at stride K).
template <int R, int NK>
__attribute__((target("avx512f,fma"))) void gemm_tile(int64_t C, const float* __restrict v, const float* __restrict u, int64_t K,
                                                      float* __restrict m) {
  __m512 acc[R][NK];
#pragma GCC unroll 6
  for (int i = 0; i < R; i++)
#pragma GCC unroll 4
    for (int q = 0; q < NK; q++) acc[i][q] = _mm512_setzero_ps();
  for (int64_t c = 0; c < C; c++) {
    __m512 b[NK];
#pragma GCC unroll 4
    for (int q = 0; q < NK; q++) b[q] = _mm512_loadu_ps(u + c * K + 16 * q);
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
      const __m512 a = _mm512_set1_ps(v[i * C + c]);
#pragma GCC unroll 4
      for (int q = 0; q < NK; q++) acc[i][q] = _mm512_fmadd_ps(a, b[q], acc[i][q]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < R; i++)
#pragma GCC unroll 4
    for (int q = 0; q < NK; q++) _mm512_storeu_ps(m + i * K + 16 * q, acc[i][q]);
}

using GemmTile = void (*)(int64_t, const float*, const float*, int64_t, float*);
template <int R>
constexpr GemmTile tile_of(int nk) {
  return nk == 1 ? gemm_tile<R, 1> : nk == 2 ? gemm_tile<R, 2> : nk == 3 ? gemm_tile<R, 3> : gemm_tile<R, 4>;
}
GemmTile gemm_tile_for(int rows, int nk) {
  switch (rows) {
    case 1: return tile_of<1>(nk);
    case 2: return tile_of<2>(nk);
    case 3: return tile_of<3>(nk);
    case 4: return tile_of<4>(nk);
    case 5: return tile_of<5>(nk);
    default: return tile_of<6>(nk);
  }
}

// S[R][16·NK] += Σ_t V[t][0..R) ⊗ Z[t][0..16·NK): R input channels' rows of one ξ of the filter
// gradient (V rows at stride C, Z and S rows at stride K).
template <int R, int NK>
__attribute__((target("avx512f,fma"))) void filter_gemm_tile(int64_t T, const float* __restrict v, int64_t C, const float* __restrict z,
                                                             int64_t K, float* __restrict s) {
  __m512 acc[R][NK];
#pragma GCC unroll 6
  for (int i = 0; i < R; i++)
#pragma GCC unroll 4
    for (int q = 0; q < NK; q++) acc[i][q] = _mm512_loadu_ps(s + i * K + 16 * q);
  for (int64_t t = 0; t < T; t++) {
    __m512 b[NK];
#pragma GCC unroll 4
    for (int q = 0; q < NK; q++) b[q] = _mm512_loadu_ps(z + t * K + 16 * q);
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
      const __m512 a = _mm512_set1_ps(v[t * C + i]);
#pragma GCC unroll 4
      for (int q = 0; q < NK; q++) acc[i][q] = _mm512_fmadd_ps(a, b[q], acc[i][q]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < R; i++)
#pragma GCC unroll 4
    for (int q = 0; q < NK; q++) _mm512_storeu_ps(s + i * K + 16 * q, acc[i][q]);
}

using FilterTile = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*);
template <int R>
constexpr FilterTile filter_tile_of(int nk) {
  return nk == 1 ? filter_gemm_tile<R, 1> : nk == 2 ? filter_gemm_tile<R, 2> : nk == 3 ? filter_gemm_tile<R, 3> : filter_gemm_tile<R, 4>;
}
FilterTile filter_tile_for(int rows, int nk) {
  switch (rows) {
    case 1: return filter_tile_of<1>(nk);
    case 2: return filter_tile_of<2>(nk);
    case 3: return filter_tile_of<3>(nk);
    case 4: return filter_tile_of<4>(nk);
    case 5: return filter_tile_of<5>(nk);
    default: return filter_tile_of<6>(nk);
  }
}

// U[ξ][c][k] = (G g_kc Gᵀ)[ξ], 16 output channels to a vector (their weights gathered).
// False if a weight is not finite.
__attribute__((target("avx512f,fma"))) bool transform_filter(const float* W, int64_t C, int64_t K, float* U) {
  const __m512i lanes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32((int)(C * 9)));
  const __m512 half = _mm512_set1_ps(0.5f);
  __m512 seen = _mm512_setzero_ps();  // Σ w·0: NaN once a weight is not finite
  for (int64_t kg = 0; kg < K; kg += 16)
    for (int64_t c = 0; c < C; c++) {
      const float* w = W + (kg * C + c) * 9;
      __m512 g[9];
      for (int i = 0; i < 9; i++) {
        g[i] = _mm512_i32gather_ps(lanes, w + i, 4);
        seen = _mm512_fmadd_ps(g[i], _mm512_setzero_ps(), seen);
      }
      __m512 r[4][3];  // G g
      for (int x = 0; x < 3; x++) {
        const __m512 g0 = g[x], g1 = g[3 + x], g2 = g[6 + x], s02 = _mm512_add_ps(g0, g2);
        r[0][x] = g0, r[1][x] = _mm512_mul_ps(half, _mm512_add_ps(s02, g1)), r[2][x] = _mm512_mul_ps(half, _mm512_sub_ps(s02, g1)), r[3][x] = g2;
      }
      for (int a = 0; a < 4; a++) {  // (G g) Gᵀ
        const __m512 s02 = _mm512_add_ps(r[a][0], r[a][2]);
        float* u = U + (4 * a * C + c) * K + kg;
        _mm512_storeu_ps(u, r[a][0]);
        _mm512_storeu_ps(u + C * K, _mm512_mul_ps(half, _mm512_add_ps(s02, r[a][1])));
        _mm512_storeu_ps(u + 2 * C * K, _mm512_mul_ps(half, _mm512_sub_ps(s02, r[a][1])));
        _mm512_storeu_ps(u + 3 * C * K, r[a][2]);
      }
    }
  return !_mm512_cmp_ps_mask(seen, seen, _CMP_UNORD_Q);
}

// dW[k][c] = Gᵀ S[·][c][k] G, 16 output channels to a vector (their taps scattered).
__attribute__((target("avx512f,fma"))) void untransform_filter(const float* S, int64_t C, int64_t K, float* DW) {
  const __m512i lanes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32((int)(C * 9)));
  const __m512 half = _mm512_set1_ps(0.5f);
  for (int64_t kg = 0; kg < K; kg += 16)
    for (int64_t c = 0; c < C; c++) {
      __m512 sg[4][3];  // S G, row by row: [s0, (s0 + s1 + s2)/2, ... ] as G's columns take them
      for (int a = 0; a < 4; a++) {
        const float* s = S + (4 * a * C + c) * K + kg;
        const __m512 s0 = _mm512_loadu_ps(s), s1 = _mm512_loadu_ps(s + C * K), s2 = _mm512_loadu_ps(s + 2 * C * K), s3 = _mm512_loadu_ps(s + 3 * C * K);
        const __m512 p = _mm512_add_ps(s1, s2);
        sg[a][0] = _mm512_add_ps(s0, _mm512_mul_ps(half, p));
        sg[a][1] = _mm512_mul_ps(half, _mm512_sub_ps(s1, s2));
        sg[a][2] = _mm512_add_ps(_mm512_mul_ps(half, p), s3);
      }
      float* dw = DW + (kg * C + c) * 9;
      for (int x = 0; x < 3; x++) {  // Gᵀ (S G), column by column
        const __m512 p = _mm512_add_ps(sg[1][x], sg[2][x]);
        _mm512_i32scatter_ps(dw + x, lanes, _mm512_add_ps(sg[0][x], _mm512_mul_ps(half, p)), 4);
        _mm512_i32scatter_ps(dw + 3 + x, lanes, _mm512_mul_ps(half, _mm512_sub_ps(sg[1][x], sg[2][x])), 4);
        _mm512_i32scatter_ps(dw + 6 + x, lanes, _mm512_add_ps(_mm512_mul_ps(half, p), sg[3][x]), 4);
      }
    }
}

// Lays planes' rows [ylo, yhi) (nb images of C channels, H×W, `img` values from one image to the
// next: a group's channels are a slice of each image) channel-innermost into dst: pixel
// (y, x) of image j at dst[((j·rows + y − y0)·cols + x + x0)·C], the rest zero. False if a value
// is not finite (Σ x·0 is NaN then).
__attribute__((target("avx512f,fma"))) bool lay_in(const float* src, int64_t img, int64_t nb, int64_t C, int64_t H, int64_t W, int64_t ylo,
                                                   int64_t yhi, int64_t y0, int64_t x0, int64_t rows, int64_t cols, float* dst) {
  const int64_t HW = H * W;
  std::fill(dst, dst + nb * rows * cols * C, 0.f);
  __m512 seen = _mm512_setzero_ps();
  for (int64_t j = 0; j < nb; j++)
    for (int64_t cg = 0; cg < C; cg += 16) {
      const float* s = src + j * img + cg * HW;
      for (int64_t p0 = ylo * W; p0 < yhi * W; p0 += 16) {
        const int64_t np = std::min<int64_t>(16, yhi * W - p0);
        const __mmask16 mk = (__mmask16)((1u << np) - 1);
        __m512 r[16], o[16];
        for (int q = 0; q < 16; q++) {
          r[q] = _mm512_maskz_loadu_ps(mk, s + q * HW + p0);
          seen = _mm512_fmadd_ps(r[q], _mm512_setzero_ps(), seen);
        }
        transpose16_regs(r, o);
        for (int64_t e = 0; e < np; e++) {
          const int64_t p = p0 + e, y = p / W, x = p % W;
          _mm512_storeu_ps(dst + ((j * rows + y - y0) * cols + x + x0) * C + cg, o[e]);
        }
      }
    }
  return !_mm512_cmp_ps_mask(seen, seen, _CMP_UNORD_Q);
}

// A band: images [i0, i0+nb), tile rows [ty0, ty1), T = nb·(ty1 − ty0)·tW tiles, tile t =
// (j·(ty1 − ty0) + ty − ty0)·tW + tx.
struct Band {
  int64_t i0, nb, ty0, ty1, rows, T;
  int64_t y0, rp;      // the input row of padded row 0, padded input rows
  int64_t qy0, qrows;  // the output rows: [qy0, qy0 + qrows)
  Band(const ConvGeom& g, const Tiling& tl, int64_t task) {
    const int64_t blk = task / tl.bands, bd = task % tl.bands;
    i0 = blk * tl.B, nb = std::min(tl.B, g.n - i0), ty0 = bd * tl.band, ty1 = std::min(tl.tH, ty0 + tl.band);
    rows = ty1 - ty0, T = nb * rows * tl.tW;
    y0 = 2 * ty0 - 1, rp = 2 * rows + 2;
    qy0 = 2 * ty0, qrows = std::min(g.h, 2 * ty1) - qy0;
  }
};

// V[ξ][t][c] = (Bᵀ d B)[ξ] for the band's tiles, 16 channels to a vector. False if an input is
// not finite.
__attribute__((target("avx512f,fma"))) bool input_tiles(const float* X, int64_t xs, const ConvGeom& g, const Tiling& tl, const Band& bd, float* V) {
  const int64_t C = g.cIn, H = g.h, W = g.w, Wp = tl.Wp, tW = tl.tW, rp = bd.rp, T = bd.T;
  // the band's input rows, channel-innermost, inside a zero border
  float* P = conv_scratch<float, 0>(bd.nb * rp * Wp * C);
  if (!lay_in(X + bd.i0 * xs, xs, bd.nb, C, H, W, std::max<int64_t>(0, bd.y0), std::min(H, bd.y0 + rp), bd.y0, 1, rp, Wp, P)) return false;
  for (int64_t j = 0, t = 0; j < bd.nb; j++)
    for (int64_t ty = 0; ty < bd.rows; ty++)
      for (int64_t tx = 0; tx < tW; tx++, t++)
        for (int64_t cg = 0; cg < C; cg += 16) {
          const float* d = P + ((j * rp + 2 * ty) * Wp + 2 * tx) * C + cg;
          __m512 e[4][4];
          for (int b = 0; b < 4; b++) {  // Bᵀ d, column by column
            const __m512 d0 = _mm512_loadu_ps(d + b * C), d1 = _mm512_loadu_ps(d + (Wp + b) * C);
            const __m512 d2 = _mm512_loadu_ps(d + (2 * Wp + b) * C), d3 = _mm512_loadu_ps(d + (3 * Wp + b) * C);
            e[0][b] = _mm512_sub_ps(d0, d2), e[1][b] = _mm512_add_ps(d1, d2);
            e[2][b] = _mm512_sub_ps(d2, d1), e[3][b] = _mm512_sub_ps(d1, d3);
          }
          float* v = V + t * C + cg;
          const int64_t xs = T * C;  // one ξ to the next
          for (int a = 0; a < 4; a++) {  // (Bᵀ d) B, row by row
            _mm512_storeu_ps(v + (4 * a + 0) * xs, _mm512_sub_ps(e[a][0], e[a][2]));
            _mm512_storeu_ps(v + (4 * a + 1) * xs, _mm512_add_ps(e[a][1], e[a][2]));
            _mm512_storeu_ps(v + (4 * a + 2) * xs, _mm512_sub_ps(e[a][2], e[a][1]));
            _mm512_storeu_ps(v + (4 * a + 3) * xs, _mm512_sub_ps(e[a][1], e[a][3]));
          }
        }
  return true;
}

// One forward task: Y over the band's output rows (xs, ys: one image to the next in X and Y).
// False if an input was not finite.
__attribute__((target("avx512f,fma"))) bool forward_task(const float* X, int64_t xs, const float* U, const ConvGeom& g,
                                                         const Tiling& tl, const Band& bd, float* Y, int64_t ys, const float* bias) {
  const int64_t C = g.cIn, K = g.cOut, H = g.h, W = g.w, HW = H * W, tW = tl.tW;
  const int64_t nb = bd.nb, i0 = bd.i0, rows = bd.rows, T = bd.T, ty0 = bd.ty0, qy0 = bd.qy0, qrows = bd.qrows;
  float* V = conv_scratch<float, 1>(16 * T * C);
  float* M = conv_scratch<float, 2>(16 * T * K);
  float* Q = conv_scratch<float, 3>(nb * qrows * W * K);
  if (!input_tiles(X, xs, g, tl, bd, V)) return false;
  // M_ξ = V_ξ · U_ξ: a panel of up to 64 output channels stays in L1 while the tiles pass
  for (int xi = 0; xi < 16; xi++)
    for (int64_t k0 = 0; k0 < K; k0 += 64) {
      const int nk = (int)(std::min<int64_t>(64, K - k0) / 16);
      const float* u = U + xi * C * K + k0;
      for (int64_t t0 = 0; t0 < T; t0 += kRows) {
        const int r = (int)std::min<int64_t>(kRows, T - t0);
        gemm_tile_for(r, nk)(C, V + (xi * T + t0) * C, u, K, M + (xi * T + t0) * K + k0);
      }
    }
  // Q = Aᵀ m A + bias, pixel-major; the tiles' outputs past the plane's edge are dropped
  for (int64_t j = 0, t = 0; j < nb; j++)
    for (int64_t ty = 0; ty < rows; ty++)
      for (int64_t tx = 0; tx < tW; tx++, t++)
        for (int64_t kg = 0; kg < K; kg += 16) {
          const float* m = M + t * K + kg;
          const int64_t xs = T * K;
          __m512 s[2][4];
          for (int b = 0; b < 4; b++) {  // Aᵀ m, column by column
            const __m512 m0 = _mm512_loadu_ps(m + b * xs), m1 = _mm512_loadu_ps(m + (4 + b) * xs);
            const __m512 m2 = _mm512_loadu_ps(m + (8 + b) * xs), m3 = _mm512_loadu_ps(m + (12 + b) * xs);
            s[0][b] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
            s[1][b] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
          }
          const __m512 bv = bias ? _mm512_loadu_ps(bias + kg) : _mm512_setzero_ps();
          for (int a = 0; a < 2; a++) {
            const int64_t oy = 2 * (ty0 + ty) + a;
            if (oy >= H) break;
            __m512 y[2] = {_mm512_add_ps(_mm512_add_ps(s[a][0], s[a][1]), s[a][2]), _mm512_sub_ps(_mm512_sub_ps(s[a][1], s[a][2]), s[a][3])};
            for (int b = 0; b < 2; b++) {
              const int64_t ox = 2 * tx + b;
              if (ox >= W) break;
              _mm512_storeu_ps(Q + ((j * qrows + oy - qy0) * W + ox) * K + kg, bias ? _mm512_add_ps(y[b], bv) : y[b]);
            }
          }
        }
  // lay out: the band's output rows are one run of each NCHW plane
  const int64_t run = qrows * W;
  for (int64_t j = 0; j < nb; j++)
    for (int64_t kg = 0; kg < K; kg += 16) {
      float* dst = Y + (i0 + j) * ys + kg * HW + qy0 * W;
      for (int64_t p0 = 0; p0 < run; p0 += 16) {
        const int64_t np = std::min<int64_t>(16, run - p0);
        const __mmask16 mk = (__mmask16)((1u << np) - 1);
        __m512 r[16], o[16];
        for (int64_t s = 0; s < 16; s++) r[s] = s < np ? _mm512_loadu_ps(Q + (j * run + p0 + s) * K + kg) : _mm512_setzero_ps();
        transpose16_regs(r, o);
        for (int q = 0; q < 16; q++) _mm512_mask_storeu_ps(dst + q * HW + p0, mk, o[q]);
      }
    }
  return true;
}

// One filter-gradient task: S[ξ][c][k] += Σ over the band's tiles of V_ξ[t][c] · Z_ξ[t][k],
// Z = A dy Aᵀ, and bsum[k] += Σ dy. False if an input or output gradient was not finite.
__attribute__((target("avx512f,fma"))) bool filter_task(const float* X, int64_t xs, const float* DY, int64_t ys, const ConvGeom& g,
                                                        const Tiling& tl, const Band& bd, float* S, double* bsum) {
  const int64_t C = g.cIn, K = g.cOut, H = g.h, W = g.w, HW = H * W, tW = tl.tW, T = bd.T;
  const int64_t dr = 2 * bd.rows, dc = 2 * tW;  // the band's dy on the tiles' grid (zero past the plane)
  float* V = conv_scratch<float, 1>(16 * T * C);
  float* Z = conv_scratch<float, 2>(16 * T * K);
  float* D = conv_scratch<float, 3>(bd.nb * dr * dc * K);
  if (!input_tiles(X, xs, g, tl, bd, V)) return false;
  if (!lay_in(DY + bd.i0 * ys, ys, bd.nb, K, H, W, bd.qy0, bd.qy0 + bd.qrows, bd.qy0, 0, dr, dc, D)) return false;
  for (int64_t kg = 0; kg < K; kg += 16) {
    __m512 sum = _mm512_setzero_ps();
    for (int64_t j = 0, t = 0; j < bd.nb; j++)
      for (int64_t ty = 0; ty < bd.rows; ty++)
        for (int64_t tx = 0; tx < tW; tx++, t++) {
          const float* d = D + ((j * dr + 2 * ty) * dc + 2 * tx) * K + kg;
          const __m512 d00 = _mm512_loadu_ps(d), d01 = _mm512_loadu_ps(d + K);
          const __m512 d10 = _mm512_loadu_ps(d + dc * K), d11 = _mm512_loadu_ps(d + (dc + 1) * K);
          sum = _mm512_add_ps(sum, _mm512_add_ps(_mm512_add_ps(d00, d01), _mm512_add_ps(d10, d11)));
          // A dy: rows dy0, dy0 + dy1, dy0 − dy1, −dy1; then the same along each row
          const __m512 zero = _mm512_setzero_ps();
          const __m512 r[4][2] = {{d00, d01},
                                  {_mm512_add_ps(d00, d10), _mm512_add_ps(d01, d11)},
                                  {_mm512_sub_ps(d00, d10), _mm512_sub_ps(d01, d11)},
                                  {_mm512_sub_ps(zero, d10), _mm512_sub_ps(zero, d11)}};
          float* z = Z + t * K + kg;
          const int64_t xs = T * K;
          for (int a = 0; a < 4; a++) {
            _mm512_storeu_ps(z + (4 * a + 0) * xs, r[a][0]);
            _mm512_storeu_ps(z + (4 * a + 1) * xs, _mm512_add_ps(r[a][0], r[a][1]));
            _mm512_storeu_ps(z + (4 * a + 2) * xs, _mm512_sub_ps(r[a][0], r[a][1]));
            _mm512_storeu_ps(z + (4 * a + 3) * xs, _mm512_sub_ps(zero, r[a][1]));
          }
        }
    alignas(64) float lane[16];
    _mm512_store_ps(lane, sum);
    for (int q = 0; q < 16; q++) bsum[kg + q] += lane[q];
  }
  for (int xi = 0; xi < 16; xi++)
    for (int64_t k0 = 0; k0 < K; k0 += 64) {
      const int nk = (int)(std::min<int64_t>(64, K - k0) / 16);
      for (int64_t c0 = 0; c0 < C; c0 += kRows) {
        const int r = (int)std::min<int64_t>(kRows, C - c0);
        filter_tile_for(r, nk)(T, V + xi * T * C + c0, C, Z + xi * T * K + k0, K, S + (xi * C + c0) * K + k0);
      }
    }
  return true;
}


// One group of g as a conv of its own (its channels' slice of each image is the caller's).
ConvGeom one_group(const ConvGeom& g) {
  ConvGeom g1 = g;
  g1.cIn = g.cIn / g.groups, g1.cOut = g.cOut / g.groups, g1.groups = 1;
  return g1;
}

}  // namespace
#endif

bool conv_winograd_applies(const ConvGeom& g) {
#ifdef MG_X86
  return isa() == Isa::Avx512 && g.groups >= 1 && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
         g.ph == 1 && g.pw == 1 && g.oh == g.h && g.ow == g.w && g.cIn % (16 * g.groups) == 0 && g.cOut % (16 * g.groups) == 0 &&
         g.h >= 4 && g.w >= 4;
#else
  (void)g;
  return false;
#endif
}

bool conv_winograd_forward(const float* X, const float* W, const ConvGeom& g, float* Y, const float* bias) {
#ifdef MG_X86
  if (!conv_winograd_applies(g)) throw KernelError("conv2d: the Winograd kernel does not take this geometry");
  ThreadPool& pool = ThreadPool::get();
  // a group at a time (the task-batched inner loop: one group per task), each a one-group conv
  // whose images are a slice of X's and Y's
  const ConvGeom g1 = one_group(g);
  const int64_t HW = g.h * g.w, cig = g1.cIn, cog = g1.cOut;
  // the caller's slot 7: its slots 0-3 are its task scratch, as a worker's are
  float* U = conv_scratch<float, 7>(16 * cig * cog);
  const Tiling tl(g1, pool.threads());
  const int64_t tasks = tl.blocks * tl.bands;
  for (int64_t gr = 0; gr < g.groups; gr++) {
    if (!transform_filter(W + gr * cog * cig * 9, cig, cog, U)) return false;
    const float *x = X + gr * cig * HW, *b = bias ? bias + gr * cog : nullptr;
    float* y = Y + gr * cog * HW;
    std::atomic<bool> finite{true};
    auto run = [&](int64_t task) {
      if (finite.load(std::memory_order_relaxed) && !forward_task(x, g.cIn * HW, U, g1, tl, Band(g1, tl, task), y, g.cOut * HW, b))
        finite.store(false, std::memory_order_relaxed);
    };
    if (pool.threads() <= 1 || tasks == 1)
      for (int64_t t = 0; t < tasks; t++) run(t);
    else
      pool.parallel_for(tasks, run);
    if (!finite.load()) return false;
  }
  return true;
#else
  (void)X, (void)W, (void)g, (void)Y, (void)bias;
  throw KernelError("conv2d: the Winograd kernel needs x86");
#endif
}

bool conv_winograd_filter(const float* X, const float* DY, const ConvGeom& g, float* DW, float* DB) {
#ifdef MG_X86
  if (!conv_winograd_applies(g)) throw KernelError("conv2dBackwardFilter: the Winograd kernel does not take this geometry");
  ThreadPool& pool = ThreadPool::get();
  const ConvGeom g1 = one_group(g);
  const int64_t C = g1.cIn, K = g1.cOut, su = 16 * C * K, HW = g.h * g.w;
  const Tiling tl(g1, pool.threads());
  const int64_t tasks = tl.blocks * tl.bands, T = std::min<int64_t>(pool.threads(), tasks);
  // per thread: S[ξ][c][k] and Σ dy per output channel; summed in thread order, so a thread
  // count gives one result
  std::vector<float> S(T * su);
  std::vector<double> bs(T * K);
  // every group's sums first, nothing written until all inputs proved finite
  std::vector<float> dw(g.groups * K * C * 9);
  std::vector<float> db(DB ? g.groups * K : 0);
  for (int64_t gr = 0; gr < g.groups; gr++) {
    std::fill(S.begin(), S.end(), 0.f);
    std::fill(bs.begin(), bs.end(), 0.0);
    const float *x = X + gr * C * HW, *dy = DY + gr * K * HW;
    std::atomic<bool> finite{true};
    auto run = [&](int64_t th) {
      for (int64_t task = th; task < tasks && finite.load(std::memory_order_relaxed); task += T)
        if (!filter_task(x, g.cIn * HW, dy, g.cOut * HW, g1, tl, Band(g1, tl, task), S.data() + th * su, bs.data() + th * K))
          finite.store(false, std::memory_order_relaxed);
    };
    if (T <= 1)
      run(0);
    else
      pool.parallel_for(T, run);
    if (!finite.load()) return false;
    for (int64_t th = 1; th < T; th++)
      for (int64_t i = 0; i < su; i++) S[i] += S[th * su + i];
    untransform_filter(S.data(), C, K, dw.data() + gr * K * C * 9);
    if (DB)
      for (int64_t k = 0; k < K; k++) {
        double v = 0;
        for (int64_t th = 0; th < T; th++) v += bs[th * K + k];
        db[gr * K + k] = (float)v;
      }
  }
  std::copy(dw.begin(), dw.end(), DW);
  if (DB) std::copy(db.begin(), db.end(), DB);
  return true;
#else
  (void)X, (void)DY, (void)g, (void)DW, (void)DB;
  throw KernelError("conv2dBackwardFilter: the Winograd kernel needs x86");
#endif
}

}  // namespace mg
