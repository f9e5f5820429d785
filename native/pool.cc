// Max pooling over contiguous [planes, h, w]: values plus the int32 argmax within the
// plane (first maximum wins, padding never wins), planes in parallel.
#include <limits>

#include "linalg.h"
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
                if (bi < 0 || val > best) { best = val; bi = iy * g.w + ix; }
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

}  // namespace mg
