// conv2d and its two transposes by im2col + GEMM, per image and per group:
//   forward:         y[g]  = W[g] (cog × cig·kh·kw) · col(x[g])
//   backward input:  col   = W[g]^T · dy[g], then col2im accumulates into dx
//   backward filter: dW[g] += dy[g] · col(x[g])^T
// Images run in parallel (each task its own col buffer, serial GEMMs); with fewer images
// than threads the GEMMs themselves go parallel. 1×1/stride-1/no-pad skips im2col.
#include <algorithm>

#include "gemm.h"
#include "linalg.h"
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

bool is_pointwise(const ConvGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
}

// col[(c*kh+ky)*kw+kx][oy*ow+ox] = x[c][iy][ix] (0 outside)
template <typename T>
void im2col(const T* x, int64_t cig, const ConvGeom& g, T* col) {
  const int64_t ohw = g.oh * g.ow;
  for (int64_t c = 0; c < cig; c++)
    for (int64_t ky = 0; ky < g.kh; ky++)
      for (int64_t kx = 0; kx < g.kw; kx++) {
        T* dst = col + ((c * g.kh + ky) * g.kw + kx) * ohw;
        const T* src = x + c * g.h * g.w;
        for (int64_t oy = 0; oy < g.oh; oy++) {
          int64_t iy = oy * g.sh - g.ph + ky * g.dh;
          T* d = dst + oy * g.ow;
          if (iy < 0 || iy >= g.h) {
            std::fill(d, d + g.ow, T(0));
            continue;
          }
          const T* s = src + iy * g.w;
          int64_t ix0 = -g.pw + kx * g.dw;
          if (g.sw == 1 && ix0 >= 0 && ix0 + g.ow <= g.w) {
            std::copy(s + ix0, s + ix0 + g.ow, d);
          } else {
            for (int64_t ox = 0; ox < g.ow; ox++) {
              int64_t ix = ox * g.sw + ix0;
              d[ox] = (ix >= 0 && ix < g.w) ? s[ix] : T(0);
            }
          }
        }
      }
}

template <typename T>
void col2im(const T* col, int64_t cig, const ConvGeom& g, T* x) {
  const int64_t ohw = g.oh * g.ow;
  for (int64_t c = 0; c < cig; c++)
    for (int64_t ky = 0; ky < g.kh; ky++)
      for (int64_t kx = 0; kx < g.kw; kx++) {
        const T* src = col + ((c * g.kh + ky) * g.kw + kx) * ohw;
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

// im2col scratch per thread, grown as needed and never cleared (im2col writes all of it).
template <typename T>
T* col_scratch(size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) {
    buf.clear();
    buf.shrink_to_fit();
    buf.resize(n);
  }
  return buf.data();
}

// Run per-image work in parallel when there are enough images, else serially with parallel GEMMs.
template <typename F>
void over_images(int64_t n, F&& fn) {
  ThreadPool& pool = ThreadPool::get();
  if (n >= pool.threads() && pool.threads() > 1) {
    int64_t T = pool.threads();
    pool.parallel_for(T, [&](int64_t t) {
      for (int64_t i = t; i < n; i += T) fn(i, t, false);
    });
  } else {
    for (int64_t i = 0; i < n; i++) fn(i, 0, true);
  }
}

template <typename T>
void conv_fwd(const T* X, const T* W, const ConvGeom& g, T* Y) {
  const int64_t cig = g.cIn / g.groups, cog = g.cOut / g.groups, ohw = g.oh * g.ow, kk = cig * g.kh * g.kw;
  const bool pw = is_pointwise(g);
  over_images(g.n, [&](int64_t i, int64_t, bool par) {
    T* col = pw ? nullptr : col_scratch<T>(kk * ohw);
    for (int64_t gr = 0; gr < g.groups; gr++) {
      const T* x = X + (i * g.cIn + gr * cig) * g.h * g.w;
      const T* B = x;
      if (!pw) {
        im2col(x, cig, g, col);
        B = col;
      }
      gemm<T>(cog, ohw, kk, W + gr * cog * kk, kk, 1, B, ohw, 1, Y + (i * g.cOut + gr * cog) * ohw, ohw, par);
    }
  });
}

template <typename T>
void conv_bwd_input(const T* DY, const T* W, const ConvGeom& g, T* DX) {
  const int64_t cig = g.cIn / g.groups, cog = g.cOut / g.groups, ohw = g.oh * g.ow, kk = cig * g.kh * g.kw;
  const bool pw = is_pointwise(g);
  std::fill(DX, DX + g.n * g.cIn * g.h * g.w, T(0));
  over_images(g.n, [&](int64_t i, int64_t, bool par) {
    T* col = pw ? nullptr : col_scratch<T>(kk * ohw);
    for (int64_t gr = 0; gr < g.groups; gr++) {
      const T* Wg = W + gr * cog * kk;
      T* dx = DX + (i * g.cIn + gr * cig) * g.h * g.w;
      const T* dy = DY + (i * g.cOut + gr * cog) * ohw;
      // W[g]^T read in place: row stride 1, column stride kk
      if (pw) {
        gemm<T>(kk, ohw, cog, Wg, 1, kk, dy, ohw, 1, dx, ohw, par);
      } else {
        gemm<T>(kk, ohw, cog, Wg, 1, kk, dy, ohw, 1, col, ohw, par);
        col2im(col, cig, g, dx);
      }
    }
  });
}

template <typename T>
void conv_bwd_filter(const T* X, const T* DY, const ConvGeom& g, T* DW) {
  const int64_t cig = g.cIn / g.groups, cog = g.cOut / g.groups, ohw = g.oh * g.ow, kk = cig * g.kh * g.kw;
  const bool pw = is_pointwise(g);
  const int64_t wsize = g.cOut * kk;
  ThreadPool& pool = ThreadPool::get();
  int64_t parts = (g.n >= pool.threads() && pool.threads() > 1) ? pool.threads() : 1;
  // one partial filter gradient per thread, summed at the end
  std::vector<T> partial((parts - 1) * wsize, T(0));
  std::fill(DW, DW + wsize, T(0));
  over_images(g.n, [&](int64_t i, int64_t t, bool par) {
    T* dw = t == 0 ? DW : partial.data() + (t - 1) * wsize;
    T* col = pw ? nullptr : col_scratch<T>(kk * ohw);
    for (int64_t gr = 0; gr < g.groups; gr++) {
      const T* x = X + (i * g.cIn + gr * cig) * g.h * g.w;
      const T* B = x;
      if (!pw) {
        im2col(x, cig, g, col);
        B = col;
      }
      // col^T read in place: row stride 1, column stride ohw
      gemm<T>(cog, kk, ohw, DY + (i * g.cOut + gr * cog) * ohw, ohw, 1, B, 1, ohw, dw + gr * cog * kk, kk, par, true);
    }
  });
  for (int64_t t = 1; t < parts; t++)
    for (int64_t j = 0; j < wsize; j++) DW[j] += partial[(t - 1) * wsize + j];
}

template <typename F>
void float_dispatch(const char* op, DType d, F&& fn) {
  if (d == F32) fn(float{});
  else if (d == F64) fn(double{});
  else throw KernelError(std::string(op) + ": int32 is not supported");
}

}  // namespace

void conv2d(const Buf& x, const Buf& w, const ConvGeom& g, const Buf& y) {
  check_geom("conv2d", g);
  if (x.dtype != w.dtype || y.dtype != x.dtype) throw KernelError("conv2d: dtypes differ");
  check_len("conv2d", "x", x, (double)g.n * g.cIn * g.h * g.w);
  check_len("conv2d", "w", w, (double)g.cOut * (g.cIn / g.groups) * g.kh * g.kw);
  check_len("conv2d", "y", y, (double)g.n * g.cOut * g.oh * g.ow);
  float_dispatch("conv2d", x.dtype, [&](auto tag) {
    using T = decltype(tag);
    conv_fwd<T>((const T*)x.data, (const T*)w.data, g, (T*)y.data);
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

void conv2d_backward_filter(const Buf& x, const Buf& dy, const ConvGeom& g, const Buf& dw) {
  check_geom("conv2dBackwardFilter", g);
  if (x.dtype != dy.dtype || dw.dtype != x.dtype) throw KernelError("conv2dBackwardFilter: dtypes differ");
  check_len("conv2dBackwardFilter", "x", x, (double)g.n * g.cIn * g.h * g.w);
  check_len("conv2dBackwardFilter", "dy", dy, (double)g.n * g.cOut * g.oh * g.ow);
  check_len("conv2dBackwardFilter", "dw", dw, (double)g.cOut * (g.cIn / g.groups) * g.kh * g.kw);
  float_dispatch("conv2dBackwardFilter", x.dtype, [&](auto tag) {
    using T = decltype(tag);
    conv_bwd_filter<T>((const T*)x.data, (const T*)dy.data, g, (T*)dw.data);
  });
}

}  // namespace mg
