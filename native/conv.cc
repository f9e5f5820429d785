// conv2d and its two transposes as GEMMs over unfolded images, with the batch folded in:
// the columns of several images sit side by side in one unfolded matrix (a "fold", sized to
// stay in L2), so a layer with small images (7×7, 3×3) is a few wide GEMMs instead of one
// thin GEMM per image.
//   forward:         Y[g] = W[g] (cog × cig·kh·kw) · col(x[g]); the fold is unfolded straight
//                    into the GEMM's packed-B layout (no second packing pass), then the output
//                    block is regrouped into NCHW
//   backward input:  stride 1, no dilation, cig ≥ 8: the forward conv of dy with each group's
//                    filter transposed and flipped (padding k−1−p) — a gather, not a scatter;
//                    otherwise col = W[g]^T · dy[g], then col2im accumulates into dx
//   backward filter: dW[g] += dy[g] · col(x[g])^T, the folded columns as the long inner
//                    dimension (col^T packed by 16×16 transposes on AVX-512); a thin filter
//                    (one input channel) is computed transposed so its long side fills the tiles
//                    (float32 3×3 ones with 1–3 input channels: conv_thin_filter.cc instead)
// Folds run in parallel (each thread its own scratch, serial GEMMs); with fewer folds than
// threads the GEMMs themselves go parallel.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <type_traits>
#include <vector>

#include "gemm.h"
#include "conv.h"
#include "conv_direct.h"
#include "conv_winograd.h"
#include "conv_scratch.h"
#include "conv_thin_filter.h"
#include "threadpool.h"

namespace mg {

namespace {

void check_geom(const char* op, const ConvGeom& g) {
  const int64_t v[] = {g.n, g.cIn, g.h, g.w, g.cOut, g.kh, g.kw, g.oh, g.ow, g.sh, g.sw, g.dh, g.dw, g.groups};
  for (int64_t x : v)
    if (x <= 0) throw KernelError(std::string(op) + ": geometry values must be positive");
  if (g.ph < 0 || g.pw < 0) throw KernelError(std::string(op) + ": negative padding");
  if (g.cIn % g.groups || g.cOut % g.groups) throw KernelError(std::string(op) + ": channels not divisible by groups");
  // the output size must be the one the geometry implies
  int64_t oh = (g.h + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh + 1;
  int64_t ow = (g.w + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw + 1;
  if (oh != g.oh || ow != g.ow) throw KernelError(std::string(op) + ": output size does not match the geometry");
}

void check_len(const char* op, const char* what, const Buf& b, double n) {
  if ((double)b.len != n) throw KernelError(std::string(op) + ": " + what + " has " + std::to_string(b.len) + " elements, expected " + std::to_string((long long)n));
}

// METAGRAD_CONV_DIRECT=0 keeps every conv on the unfolding paths (for A/B measurements)
bool direct_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("METAGRAD_CONV_DIRECT");
    return !(v && v[0] == '0');
  }();
  return on;
}
// METAGRAD_CONV_WINOGRAD=0 keeps the 3×3 convolutions that Winograd takes on the direct
// kernels (A/B measurements); set_conv_winograd switches it at run time (the tests, which
// check both)
std::atomic<int>& winograd_switch() {
  static std::atomic<int> on{[] {
    const char* v = std::getenv("METAGRAD_CONV_WINOGRAD");
    return v && v[0] == '0' ? 0 : 1;
  }()};
  return on;
}
bool winograd_takes(const ConvGeom& g) { return direct_enabled() && winograd_switch().load() && conv_winograd_applies(g); }
// Whether a float32 forward / filter gradient of this geometry runs the direct kernels.
bool direct_forward(const ConvGeom& g) { return direct_enabled() && conv_direct_forward_applies(g); }
bool direct_filter(const ConvGeom& g) { return direct_enabled() && conv_direct_filter_applies(g); }
// one to three input channels per group: row dot products instead of a thin GEMM
bool thin_filter(const ConvGeom& g) { return direct_enabled() && conv_thin_filter_applies(g); }

bool is_pointwise(const ConvGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
}

// One row of the unfolded image, for input channel plane src and tap (ky, kx):
// dst[oy*ow+ox] = src[iy][ix] (0 outside the image).
template <typename T>
void im2col_row(const T* src, int64_t ky, int64_t kx, const ConvGeom& g, T* dst) {
  const int64_t ix0 = -g.pw + kx * g.dw, iy0 = -g.ph + ky * g.dh;
  // the output rows and (at unit stride) columns whose input is inside the image
  const int64_t oy0 = std::min<int64_t>(g.oh, std::max<int64_t>(0, (-iy0 + g.sh - 1) / g.sh));
  const int64_t oy1 = std::max<int64_t>(oy0, std::min<int64_t>(g.oh, (g.h - iy0 + g.sh - 1) / g.sh));
  int64_t lo = 0, hi = g.ow;
  if (g.sw == 1) {
    lo = std::min<int64_t>(g.ow, std::max<int64_t>(0, -ix0));
    hi = std::max<int64_t>(lo, std::min<int64_t>(g.ow, g.w - ix0));
  }
  std::fill(dst, dst + oy0 * g.ow, T(0));
  std::fill(dst + oy1 * g.ow, dst + g.oh * g.ow, T(0));
  if (oy0 == oy1) return;
  if (g.sh == 1 && g.sw == 1 && g.ow == g.w && lo < hi) {
    // 'same' rows at unit stride (3×3 padding 1): the tap's row is the plane shifted, one
    // block copy, then the border columns that wrapped around zeroed
    const T* s = src + (oy0 + iy0) * g.w + ix0;
    std::copy(s + lo, s + (oy1 - oy0 - 1) * g.w + hi, dst + oy0 * g.ow + lo);
    if (lo > 0 || hi < g.ow)
      for (int64_t oy = oy0; oy < oy1; oy++) {
        T* d = dst + oy * g.ow;
        for (int64_t ox = 0; ox < lo; ox++) d[ox] = T(0);
        for (int64_t ox = hi; ox < g.ow; ox++) d[ox] = T(0);
      }
    return;
  }
  for (int64_t oy = oy0; oy < oy1; oy++) {
    const T* s = src + (oy * g.sh + iy0) * g.w;
    T* d = dst + oy * g.ow;
    if (g.sw == 1) {
      std::fill(d, d + lo, T(0));
      std::copy(s + ix0 + lo, s + ix0 + hi, d + lo);
      std::fill(d + hi, d + g.ow, T(0));
    } else {
      for (int64_t ox = 0; ox < g.ow; ox++) {
        int64_t ix = ox * g.sw + ix0;
        d[ox] = (ix >= 0 && ix < g.w) ? s[ix] : T(0);
      }
    }
  }
}

// dst[j] = x[t[j]], or 0 where t[j] < 0.
template <typename T>
void gather_row(const T* __restrict x, const int32_t* __restrict t, int64_t L, T* __restrict dst) {
  for (int64_t j = 0; j < L; j++) dst[j] = t[j] >= 0 ? x[t[j]] : T(0);
}

// The unfolded matrix of a fold of nb images (channels c0.. of one group), one row at a time:
// row (c, ky, kx)[j·ohw + oy·ow + ox] = x[j][c0+c][iy][ix] (0 outside the image). Large images
// unfold row by row (block copies); small ones (a row under kTableWidth) would be all call
// overhead that way, so their columns gather through a table of input offsets per tap.
constexpr int64_t kTableWidth = 6;
template <typename T>
struct FoldUnfolder {
  const T* X;
  int64_t nb, c0;
  const ConvGeom& g;
  std::vector<int32_t> table;  // per tap, per column: offset in the fold's input, or -1 (zero)

  FoldUnfolder(const T* X_, int64_t nb_, int64_t c0_, const ConvGeom& g_) : X(X_), nb(nb_), c0(c0_), g(g_) {
    if (g.ow >= kTableWidth || (double)nb * g.cIn * g.h * g.w >= 2147483647.0) return;
    const int64_t ohw = g.oh * g.ow, L = nb * ohw;
    table.resize(g.kh * g.kw * L);
    for (int64_t ky = 0; ky < g.kh; ky++)
      for (int64_t kx = 0; kx < g.kw; kx++) {
        int32_t* t = table.data() + (ky * g.kw + kx) * L;
        for (int64_t j = 0; j < nb; j++)
          for (int64_t oy = 0; oy < g.oh; oy++)
            for (int64_t ox = 0; ox < g.ow; ox++) {
              const int64_t iy = oy * g.sh - g.ph + ky * g.dh, ix = ox * g.sw - g.pw + kx * g.dw;
              const bool in = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
              t[j * ohw + oy * g.ow + ox] = in ? (int32_t)(j * g.cIn * g.h * g.w + iy * g.w + ix) : -1;
            }
      }
  }
  void row(int64_t c, int64_t ky, int64_t kx, T* dst) const {
    const int64_t ohw = g.oh * g.ow, plane = (c0 + c) * g.h * g.w;
    if (table.empty()) {
      for (int64_t j = 0; j < nb; j++) im2col_row(X + j * g.cIn * g.h * g.w + plane, ky, kx, g, dst + j * ohw);
      return;
    }
    gather_row(X + plane, table.data() + (ky * g.kw + kx) * nb * ohw, nb * ohw, dst);
  }
};

// The fold's unfolded matrix written straight into the GEMM's packed-B layout
// (gemm_packed_b): each row is unfolded into a short buffer that stays in L1 and dealt out
// to the nr-wide slivers, so the matrix is written once and never re-packed.
template <typename T>
void im2col_packed(const FoldUnfolder<T>& u, int64_t cig, int nr, T* row, T* Bp) {
  const ConvGeom& g = u.g;
  const int64_t L = u.nb * g.oh * g.ow, kk = cig * g.kh * g.kw;
  const int64_t slivers = (L + nr - 1) / nr;
  std::fill(row + L, row + slivers * nr, T(0));
  for (int64_t c = 0; c < cig; c++)
    for (int64_t ky = 0; ky < g.kh; ky++)
      for (int64_t kx = 0; kx < g.kw; kx++) {
        const int64_t p = (c * g.kh + ky) * g.kw + kx;
        u.row(c, ky, kx, row);
        for (int64_t s = 0; s < slivers; s++) std::copy(row + s * nr, row + (s + 1) * nr, Bp + (s * kk + p) * nr);
      }
}

// The fold's unfolded matrix as plain rows of L columns.
template <typename T>
void im2col(const FoldUnfolder<T>& u, int64_t cig, T* col) {
  const ConvGeom& g = u.g;
  const int64_t L = u.nb * g.oh * g.ow;
  for (int64_t c = 0; c < cig; c++)
    for (int64_t ky = 0; ky < g.kh; ky++)
      for (int64_t kx = 0; kx < g.kw; kx++) u.row(c, ky, kx, col + ((c * g.kh + ky) * g.kw + kx) * L);
}

template <typename T>
void col2im(const T* col, int64_t ld, int64_t cig, const ConvGeom& g, T* x) {
  for (int64_t c = 0; c < cig; c++)
    for (int64_t ky = 0; ky < g.kh; ky++)
      for (int64_t kx = 0; kx < g.kw; kx++) {
        const T* src = col + ((c * g.kh + ky) * g.kw + kx) * ld;
        T* dst = x + c * g.h * g.w;
        for (int64_t oy = 0; oy < g.oh; oy++) {
          int64_t iy = oy * g.sh - g.ph + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          for (int64_t ox = 0; ox < g.ow; ox++) {
            int64_t ix = ox * g.sw - g.pw + kx * g.dw;
            if (ix >= 0 && ix < g.w) dst[iy * g.w + ix] += src[oy * g.ow + ox];
          }
        }
      }
}

// Scratch slots (conv_scratch.h) 0: unfolded columns; 1: the folded output or gradient block;
// 2: one unfolded row or the padded fold.

// How the batch is cut into folds of nb images: wide enough that the GEMM's columns fill
// its register tiles, small enough that the unfolded fold (kk rows) stays in L2, at least
// one fold per thread when there are enough images, and folds of equal size.
constexpr int64_t kFoldElements = 1 << 17;
struct Folds {
  int64_t nb, count;
  bool parallel;  // folds spread over the threads (else one fold at a time, parallel GEMMs)
};
Folds plan_folds(int64_t n, int64_t ohw, int64_t kk) {
  const int64_t threads = ThreadPool::get().threads();
  const int64_t columns = std::min<int64_t>(2048, std::max<int64_t>(256, kFoldElements / kk));
  // an image of 512+ pixels fills the tiles alone, and its output needs no regrouping
  const int64_t per = ohw >= 512 ? 1 : std::max<int64_t>(1, columns / ohw);
  int64_t count = (n + per - 1) / per;
  if (threads > 1 && count < threads && n >= threads) count = threads;
  int64_t nb = (n + count - 1) / count;
  count = (n + nb - 1) / nb;
  return {nb, count, threads > 1 && count >= threads};
}

// fn(first image, images, thread slot, parallel GEMMs) for each fold.
template <typename F>
void over_folds(const Folds& f, int64_t n, F&& fn) {
  ThreadPool& pool = ThreadPool::get();
  if (f.parallel) {
    const int64_t T = pool.threads();
    pool.parallel_for(T, [&](int64_t t) {
      for (int64_t c = t; c < f.count; c += T) fn(c * f.nb, std::min(f.nb, n - c * f.nb), t, false);
    });
  } else {
    for (int64_t c = 0; c < f.count; c++) fn(c * f.nb, std::min(f.nb, n - c * f.nb), 0, true);
  }
}

// Stride-1, undilated convolutions of many-channel images skip the unfolding: each image
// zero-padded to Hp×Wp and laid out flat, output column r = oy·Wp + ox of an image (the last
// kw−1 of each padded row are junk, computed and dropped) reads tap (ky, kx) at padded input
// r + ky·Wp + kx. So the GEMM's B rows are the padded fold shifted per tap and pack by
// contiguous copies. Same K order (c, ky, kx) and the same zeros as the unfolded matrix: the
// same sums in the same order. Worth it on large planes, where unfolding is a long copy per
// tap and the junk columns few: measured 32→32 @42 forward and input gradient +23–25%, no gain
// at @21 and below (Wp / ow ≥ 1.1), so only planes with Wp / ow ≤ 17/16 take it.
bool fwd_shifted(const ConvGeom& g) {
  const int64_t wp = g.w + 2 * g.pw;
  return g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.kh * g.kw > 1 && g.cIn / g.groups >= 8 && wp * 16 <= g.ow * 17;
}

template <typename T>
void conv_fwd_shifted(const T* X, const T* W, const ConvGeom& g, T* Y, const T* bias) {
  const int64_t cig = g.cIn / g.groups, cog = g.cOut / g.groups, kk = cig * g.kh * g.kw;
  const int64_t hp = g.h + 2 * g.ph, wp = g.w + 2 * g.pw, pp = hp * wp, cols = g.oh * wp;
  const Folds f = plan_folds(g.n, cols, kk);
  const int nr = gemm_nr<T>(cog);
  over_folds(f, g.n, [&](int64_t i0, int64_t nb, int64_t, bool par) {
    const int64_t L = nb * cols, slivers = (L + nr - 1) / nr;
    // sliver s holds columns s·nr ..: runs[first[s] .. first[s+1]), each inside one image (the same for every group)
    struct Run {
      int64_t at, lane, len;  // offset of the run's first column in the padded fold, its lane, its length
    };
    std::vector<Run> runs;
    std::vector<int64_t> first(slivers + 1);
    for (int64_t s = 0; s < slivers; s++) {
      first[s] = (int64_t)runs.size();
      for (int64_t q = s * nr, lane = 0; lane < nr && q < L;) {
        const int64_t j = q / cols, r = q % cols, len = std::min<int64_t>(nr - lane, cols - r);
        runs.push_back({j * pp + r, lane, len});
        lane += len;
        q += len;
      }
    }
    first[slivers] = (int64_t)runs.size();
    // the fold padded, channel by channel: [cig][nb·pp + tail]; the tail keeps the last junk reads inside
    const int64_t stride = nb * pp + g.kw;
    T* Xp = conv_scratch<T, 2>(cig * stride);
    T* Bp = conv_scratch<T, 0>(slivers * nr * kk);
    T* out = conv_scratch<T, 1>(cog * L);
    for (int64_t gr = 0; gr < g.groups; gr++) {
      for (int64_t c = 0; c < cig; c++) {
        T* dst = Xp + c * stride;
        std::fill(dst, dst + stride, T(0));
        for (int64_t j = 0; j < nb; j++) {
          const T* src = X + ((i0 + j) * g.cIn + gr * cig + c) * g.h * g.w;
          for (int64_t y = 0; y < g.h; y++) std::copy(src + y * g.w, src + (y + 1) * g.w, dst + j * pp + (y + g.ph) * wp + g.pw);
        }
      }
      for (int64_t s = 0; s < slivers; s++) {
        const int64_t filled = std::min<int64_t>(nr, L - s * nr);
        for (int64_t c = 0; c < cig; c++)
          for (int64_t ky = 0; ky < g.kh; ky++)
            for (int64_t kx = 0; kx < g.kw; kx++) {
              const int64_t p = (c * g.kh + ky) * g.kw + kx;
              const T* src = Xp + c * stride + ky * wp + kx;
              T* dst = Bp + (s * kk + p) * nr;
              for (int64_t k = first[s]; k < first[s + 1]; k++) std::copy(src + runs[k].at, src + runs[k].at + runs[k].len, dst + runs[k].lane);
              std::fill(dst + filled, dst + nr, T(0));
            }
      }
      gemm_packed_b<T>(cog, L, kk, W + gr * cog * kk, kk, 1, Bp, out, L, par);
      for (int64_t j = 0; j < nb; j++)
        for (int64_t c = 0; c < cog; c++) {
          const T* o = out + c * L + j * cols;
          T* y = Y + ((i0 + j) * g.cOut + gr * cog + c) * g.oh * g.ow;
          for (int64_t oy = 0; oy < g.oh; oy++) put_row(o + oy * wp, g.ow, y + oy * g.ow, bias, gr * cog + c);
        }
    }
  });
}

// Y[i0 .. i0+nb) = W · col(X[i0 .. i0+nb)), group by group.
template <typename T>
void conv_fwd(const T* X, const T* W, const ConvGeom& g, T* Y, const T* bias = nullptr) {
  if constexpr (std::is_same_v<T, float>) {
    // Winograd declines an input or weight that is not finite: the direct path recomputes Y
    if (winograd_takes(g) && conv_winograd_forward(X, W, g, Y, bias)) return;
    if (direct_forward(g)) return conv_direct_forward(X, W, g, Y, bias);
  }
  if (fwd_shifted(g)) return conv_fwd_shifted<T>(X, W, g, Y, bias);
  const int64_t cig = g.cIn / g.groups, cog = g.cOut / g.groups, ohw = g.oh * g.ow, kk = cig * g.kh * g.kw;
  const Folds f = plan_folds(g.n, ohw, kk);
  const int nr = gemm_nr<T>(cog);
  over_folds(f, g.n, [&](int64_t i0, int64_t nb, int64_t, bool par) {
    const int64_t L = nb * ohw, slivers = (L + nr - 1) / nr;
    T* Bp = conv_scratch<T, 0>(slivers * nr * kk);
    T* row = conv_scratch<T, 2>(slivers * nr);
    // one image's output block is already in NCHW order; several are gathered into out first
    T* out = nb == 1 ? nullptr : conv_scratch<T, 1>(cog * L);
    for (int64_t gr = 0; gr < g.groups; gr++) {
      im2col_packed(FoldUnfolder<T>(X + i0 * g.cIn * g.h * g.w, nb, gr * cig, g), cig, nr, row, Bp);
      T* C = nb == 1 ? Y + (i0 * g.cOut + gr * cog) * ohw : out;
      // one image with a bias: the block starts as the bias and the GEMM adds to it (a pass
      // after the GEMM measured 2× the forward of 1→64 @28: the block had left the cache)
      const bool seeded = nb == 1 && bias;
      if (seeded)
        for (int64_t c = 0; c < cog; c++) std::fill(C + c * ohw, C + (c + 1) * ohw, bias[gr * cog + c]);
      gemm_packed_b<T>(cog, L, kk, W + gr * cog * kk, kk, 1, Bp, C, L, par, seeded);
      if (nb > 1)
        for (int64_t j = 0; j < nb; j++)
          for (int64_t c = 0; c < cog; c++) put_row(out + c * L + j * ohw, ohw, Y + ((i0 + j) * g.cOut + gr * cog + c) * ohw, bias, gr * cog + c);
    }
  });
}

// The input gradient of a stride-1, undilated conv is a forward conv of dy (padding k−1−p)
// with each group's filter transposed (cIn and cOut swapped) and flipped in both axes.
bool bwd_input_as_forward(const ConvGeom& g) {
  return g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.ph <= g.kh - 1 && g.pw <= g.kw - 1 &&
         g.cIn / g.groups >= 8;
}

// The forward geometry that computes that input gradient.
ConvGeom flipped_geometry(const ConvGeom& g) {
  return ConvGeom{g.n, g.cOut, g.oh, g.ow, g.cIn, g.kh, g.kw, g.h, g.w, 1, 1, g.kh - 1 - g.ph, g.kw - 1 - g.pw, 1, 1, g.groups};
}

template <typename T>
void conv_bwd_input_flipped(const T* DY, const T* W, const ConvGeom& g, T* DX) {
  const int64_t cig = g.cIn / g.groups, cog = g.cOut / g.groups, kh = g.kh, kw = g.kw;
  const int64_t khw = kh * kw;
  // written in order, every value (no zeroing first): the flip took 5% of a 3×3-plane input gradient
  std::unique_ptr<T[]> Wf(new T[g.cOut * cig * khw]);
  T* o = Wf.get();
  for (int64_t gr = 0; gr < g.groups; gr++)
    for (int64_t ci = 0; ci < cig; ci++)
      for (int64_t co = 0; co < cog; co++, o += khw) {
        const T* w = W + ((gr * cog + co) * cig + ci) * khw;
        for (int64_t k = 0; k < khw; k++) o[k] = w[khw - 1 - k];
      }
  conv_fwd<T>(DY, Wf.get(), flipped_geometry(g), DX);
}

template <typename T>
void conv_bwd_input(const T* DY, const T* W, const ConvGeom& g, T* DX) {
  if (bwd_input_as_forward(g)) return conv_bwd_input_flipped(DY, W, g, DX);
  const int64_t cig = g.cIn / g.groups, cog = g.cOut / g.groups, ohw = g.oh * g.ow, kk = cig * g.kh * g.kw;
  const bool pw = is_pointwise(g);
  std::fill(DX, DX + g.n * g.cIn * g.h * g.w, T(0));
  const Folds f = plan_folds(g.n, ohw, kk);
  over_folds(f, g.n, [&](int64_t i0, int64_t nb, int64_t, bool par) {
    const int64_t L = nb * ohw;
    T* col = conv_scratch<T, 0>(kk * L);
    T* dyc = conv_scratch<T, 1>(cog * L);
    for (int64_t gr = 0; gr < g.groups; gr++) {
      const T* Wg = W + gr * cog * kk;
      for (int64_t j = 0; j < nb; j++)
        for (int64_t c = 0; c < cog; c++) {
          const T* dy = DY + ((i0 + j) * g.cOut + gr * cog + c) * ohw;
          std::copy(dy, dy + ohw, dyc + c * L + j * ohw);
        }
      // W[g]^T read in place: row stride 1, column stride kk
      gemm<T>(kk, L, cog, Wg, 1, kk, dyc, L, 1, col, L, par);
      for (int64_t j = 0; j < nb; j++) {
        T* dx = DX + ((i0 + j) * g.cIn + gr * cig) * g.h * g.w;
        if (pw) {
          for (int64_t c = 0; c < cig; c++) std::copy(col + c * L + j * ohw, col + c * L + (j + 1) * ohw, dx + c * ohw);
        } else {
          col2im(col + j * ohw, L, cig, g, dx);
        }
      }
    }
  });
}

template <typename T>
void conv_bwd_filter(const T* X, const T* DY, const ConvGeom& g, T* DW, T* DB = nullptr) {
  if constexpr (std::is_same_v<T, float>) {
    if (winograd_takes(g) && conv_winograd_filter(X, DY, g, DW, DB)) return;
    if (thin_filter(g)) return conv_thin_filter(X, DY, g, DW, DB);
    if (direct_filter(g)) return conv_direct_filter(X, DY, g, DW, DB);
  }
  const int64_t cig = g.cIn / g.groups, cog = g.cOut / g.groups, ohw = g.oh * g.ow, kk = cig * g.kh * g.kw;
  const int64_t wsize = g.cOut * kk;
  const Folds f = plan_folds(g.n, ohw, kk);
  const int64_t parts = f.parallel ? ThreadPool::get().threads() : 1;
  // A thin filter (cig·kh·kw under a register tile's width, e.g. one input channel) is
  // computed transposed, dW[g]^T = col · dy[g]^T, so that its long side fills the tiles.
  const bool transposed = kk < 32 && cog > kk;
  // one accumulator per thread (the first is DW itself unless transposed), summed at the end
  std::vector<T> acc((parts - (transposed ? 0 : 1)) * wsize, T(0));
  std::fill(DW, DW + wsize, T(0));
  // per thread: Σ dY per output channel (the bias gradient, DB given), summed as dY is copied
  std::vector<double> bacc(DB ? parts * g.cOut : 0, 0.0);
  over_folds(f, g.n, [&](int64_t i0, int64_t nb, int64_t t, bool par) {
    T* dw = transposed ? acc.data() + t * wsize : t == 0 ? DW : acc.data() + (t - 1) * wsize;
    const int64_t L = nb * ohw;
    T* col = conv_scratch<T, 0>(kk * L);
    T* dyc = conv_scratch<T, 1>(cog * L);
    for (int64_t gr = 0; gr < g.groups; gr++) {
      im2col(FoldUnfolder<T>(X + i0 * g.cIn * g.h * g.w, nb, gr * cig, g), cig, col);
      for (int64_t j = 0; j < nb; j++) {
        const T* dy = DY + ((i0 + j) * g.cOut + gr * cog) * ohw;
        for (int64_t c = 0; c < cog; c++) {
          std::copy(dy + c * ohw, dy + (c + 1) * ohw, dyc + c * L + j * ohw);
          if (DB) {
            T s = T(0);
            for (int64_t q = 0; q < ohw; q++) s += dy[c * ohw + q];
            bacc[t * g.cOut + gr * cog + c] += (double)s;
          }
        }
      }
      if (transposed) {
        // dy^T read in place: row stride 1, column stride L
        gemm<T>(kk, cog, L, col, L, 1, dyc, 1, L, dw + gr * cog * kk, cog, par, true);
      } else {
        // col^T read in place: row stride 1, column stride L
        gemm<T>(cog, kk, L, dyc, L, 1, col, 1, L, dw + gr * cog * kk, kk, par, true);
      }
    }
  });
  if (transposed) {
    for (int64_t t = 0; t < parts; t++)
      for (int64_t gr = 0; gr < g.groups; gr++) {
        const T* a = acc.data() + t * wsize + gr * cog * kk;  // kk × cog
        T* d = DW + gr * cog * kk;                            // cog × kk
        for (int64_t k = 0; k < kk; k++)
          for (int64_t c = 0; c < cog; c++) d[c * kk + k] += a[k * cog + c];
      }
  } else {
    for (int64_t t = 1; t < parts; t++)
      for (int64_t j = 0; j < wsize; j++) DW[j] += acc[(t - 1) * wsize + j];
  }
  if (DB)
    for (int64_t c = 0; c < g.cOut; c++) {
      double s = 0;
      for (int64_t t = 0; t < parts; t++) s += bacc[t * g.cOut + c];
      DB[c] = (T)s;
    }
}

template <typename F>
void float_dispatch(const char* op, DType d, F&& fn) {
  if (d == F32) fn(float{});
  else if (d == F64) fn(double{});
  else throw KernelError(std::string(op) + ": int32 is not supported");
}

}  // namespace

ConvDirectPaths conv_direct_paths(const ConvGeom& g) {
  check_geom("convDirectPaths", g);
  // the input gradient takes the direct kernels through conv_bwd_input_flipped's forward
  const bool input = bwd_input_as_forward(g);
  return {direct_forward(g), input && direct_forward(flipped_geometry(g)), direct_filter(g) || thin_filter(g), winograd_takes(g),
          input && winograd_takes(flipped_geometry(g)), winograd_takes(g)};
}

void set_conv_winograd(bool on) { winograd_switch().store(on ? 1 : 0); }

void conv2d(const Buf& x, const Buf& w, const ConvGeom& g, const Buf& y, const Buf* bias) {
  check_geom("conv2d", g);
  if (x.dtype != w.dtype || y.dtype != x.dtype) throw KernelError("conv2d: dtypes differ");
  check_len("conv2d", "x", x, (double)g.n * g.cIn * g.h * g.w);
  check_len("conv2d", "w", w, (double)g.cOut * (g.cIn / g.groups) * g.kh * g.kw);
  check_len("conv2d", "y", y, (double)g.n * g.cOut * g.oh * g.ow);
  if (bias) {
    if (bias->dtype != x.dtype) throw KernelError("conv2d: the bias dtype differs from the input's");
    check_len("conv2d", "bias", *bias, (double)g.cOut);
  }
  float_dispatch("conv2d", x.dtype, [&](auto tag) {
    using T = decltype(tag);
    conv_fwd<T>((const T*)x.data, (const T*)w.data, g, (T*)y.data, bias ? (const T*)bias->data : nullptr);
  });
}

void conv2d_backward_input(const Buf& dy, const Buf& w, const ConvGeom& g, const Buf& dx) {
  check_geom("conv2dBackwardInput", g);
  if (dy.dtype != w.dtype || dx.dtype != dy.dtype) throw KernelError("conv2dBackwardInput: dtypes differ");
  check_len("conv2dBackwardInput", "dy", dy, (double)g.n * g.cOut * g.oh * g.ow);
  check_len("conv2dBackwardInput", "w", w, (double)g.cOut * (g.cIn / g.groups) * g.kh * g.kw);
  check_len("conv2dBackwardInput", "dx", dx, (double)g.n * g.cIn * g.h * g.w);
  float_dispatch("conv2dBackwardInput", dy.dtype, [&](auto tag) {
    using T = decltype(tag);
    conv_bwd_input<T>((const T*)dy.data, (const T*)w.data, g, (T*)dx.data);
  });
}

void conv2d_backward_filter(const Buf& x, const Buf& dy, const ConvGeom& g, const Buf& dw, const Buf* db) {
  check_geom("conv2dBackwardFilter", g);
  if (x.dtype != dy.dtype || dw.dtype != x.dtype) throw KernelError("conv2dBackwardFilter: dtypes differ");
  check_len("conv2dBackwardFilter", "x", x, (double)g.n * g.cIn * g.h * g.w);
  check_len("conv2dBackwardFilter", "dy", dy, (double)g.n * g.cOut * g.oh * g.ow);
  check_len("conv2dBackwardFilter", "dw", dw, (double)g.cOut * (g.cIn / g.groups) * g.kh * g.kw);
  if (db) {
    if (db->dtype != x.dtype) throw KernelError("conv2dBackwardFilter: the bias gradient's dtype differs");
    check_len("conv2dBackwardFilter", "db", *db, (double)g.cOut);
  }
  float_dispatch("conv2dBackwardFilter", x.dtype, [&](auto tag) {
    using T = decltype(tag);
    conv_bwd_filter<T>((const T*)x.data, (const T*)dy.data, g, (T*)dw.data, db ? (T*)db->data : nullptr);
  });
}

}  // namespace mg
