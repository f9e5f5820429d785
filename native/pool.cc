// Max pooling over contiguous [planes, h, w]: values plus the int32 argmax within the
// plane (first maximum wins, a NaN beats any number, padding never wins), planes in parallel.
#include <limits>

#include "pool.h"
#include "threadpool.h"

namespace mg {


void max_pool2d(const Buf& x, const PoolGeom& g, const Buf& values, const Buf& indices) {
  const int64_t v[] = {g.planes, g.h, g.w, g.kh, g.kw, g.oh, g.ow, g.sh, g.sw};
  for (int64_t q : v)
    if (q <= 0) throw KernelError("maxPool2d: geometry values must be positive");
  if (g.ph < 0 || g.pw < 0) throw KernelError("maxPool2d: negative padding");
  if ((double)x.len != (double)g.planes * g.h * g.w) throw KernelError("maxPool2d: input size does not match the geometry");
  if ((double)g.planes * g.oh * g.ow != (double)values.len) throw KernelError("maxPool2d: output size does not match the geometry");
  int64_t n = g.planes * g.oh * g.ow;
  if (values.len != n || indices.len != n || indices.dtype != I32 || values.dtype != x.dtype)
    throw KernelError("maxPool2d: bad output buffers");
  dispatch(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* X = (const T*)x.data;
    T* V = (T*)values.data;
    int32_t* I = (int32_t*)indices.data;
    if (g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0) {
      // Conv-4's 2×2 stride-2 pooling: every window lies inside the plane (the output size
      // floors), so no bounds checks; the same visiting order and comparison as below (the
      // first maximum wins; compared in T, which orders as exactly as in double)
      const int64_t w = g.w;
      parallel_range(g.planes, std::max<int64_t>(1, 4096 / (g.oh * g.ow)), [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; p++) {
          const T* xp = X + p * g.h * w;
          for (int64_t oy = 0; oy < g.oh; oy++) {
            const T* r0 = xp + 2 * oy * w;
            const T* r1 = r0 + w;
            T* vo = V + (p * g.oh + oy) * g.ow;
            int32_t* io = I + (p * g.oh + oy) * g.ow;
            const int32_t base = (int32_t)(2 * oy * w);
            for (int64_t ox = 0; ox < g.ow; ox++) {
              const int64_t c = 2 * ox;
              T b = r0[c];
              int32_t bi = base + (int32_t)c;
              if (beats(r0[c + 1], b)) { b = r0[c + 1]; bi = base + (int32_t)c + 1; }
              if (beats(r1[c], b)) { b = r1[c]; bi = base + (int32_t)(w + c); }
              if (beats(r1[c + 1], b)) { b = r1[c + 1]; bi = base + (int32_t)(w + c + 1); }
              vo[ox] = b;
              io[ox] = bi;
            }
          }
        }
      });
      return;
    }
    parallel_range(g.planes, std::max<int64_t>(1, 4096 / (g.oh * g.ow)), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; p++) {
        const T* xp = X + p * g.h * g.w;
        for (int64_t oy = 0; oy < g.oh; oy++)
          for (int64_t ox = 0; ox < g.ow; ox++) {
            double best = -std::numeric_limits<double>::infinity();
            int64_t bi = -1;
            for (int64_t ky = 0; ky < g.kh; ky++) {
              int64_t iy = oy * g.sh - g.ph + ky;
              if (iy < 0 || iy >= g.h) continue;
              for (int64_t kx = 0; kx < g.kw; kx++) {
                int64_t ix = ox * g.sw - g.pw + kx;
                if (ix < 0 || ix >= g.w) continue;
                double val = xp[iy * g.w + ix];
                if (bi < 0 || beats(val, best)) { best = val; bi = iy * g.w + ix; }
              }
            }
            int64_t o = (p * g.oh + oy) * g.ow + ox;
            V[o] = from_double<T>(best);
            I[o] = (int32_t)bi;
          }
      }
    });
  });
}

// dx[p, idx[p, o]] += dy[p, o]: planes in parallel, each plane's windows in order, so the sum
// is deterministic (no atomics); accumulates in the output type, as the scatter-add did in double
// for float64. An index of -1 (an all-padding window) sends nothing.
void max_pool2d_backward(const Buf& dy, const Buf& indices, const PoolGeom& g, const Buf& dx) {
  if (g.planes < 0 || g.h <= 0 || g.w <= 0 || g.oh <= 0 || g.ow <= 0) throw KernelError("maxPool2dBackward: bad geometry");
  const int64_t hw = g.h * g.w, ohw = g.oh * g.ow;
  if (dy.len != g.planes * ohw || indices.len != g.planes * ohw || indices.dtype != I32)
    throw KernelError("maxPool2dBackward: dy and indices must be [planes, oh*ow] (indices int32)");
  if (dx.len != g.planes * hw || dx.dtype != dy.dtype) throw KernelError("maxPool2dBackward: bad output buffer");
  dispatch(dy.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* DY = (const T*)dy.data;
    const int32_t* I = (const int32_t*)indices.data;
    T* DX = (T*)dx.data;
    // validate every index first: a bad one must not write out of bounds (nor half-fill dx)
    for (int64_t i = 0; i < g.planes * ohw; i++)
      if (I[i] < -1 || I[i] >= hw) throw KernelError("maxPool2dBackward: index " + std::to_string(I[i]) + " outside the plane of " + std::to_string(hw));
    parallel_range(g.planes, std::max<int64_t>(1, 8192 / hw), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; p++) {
        T* d = DX + p * hw;
        std::fill(d, d + hw, T(0));
        const T* s = DY + p * ohw;
        const int32_t* ip = I + p * ohw;
        for (int64_t o = 0; o < ohw; o++)
          if (ip[o] >= 0) d[ip[o]] += s[o];
      }
    });
  });
}

}  // namespace mg
