// Batched Cholesky factorization and triangular solves for small SPD systems (closed-form
// few-shot heads solve N×N systems with N the support size): one matrix (or one
// matrix-column pair) per task on the thread pool, double accumulation as in js.
#include <cmath>
#include <limits>

#include "linalg.h"
#include "threadpool.h"

namespace mg {

void cholesky(const MatArg& a, int64_t batch, int64_t n, const Buf& factor, const Buf& info) {
  if (batch < 0 || n < 0) throw KernelError("cholesky: negative dimension");
  check_mat("cholesky", "a", a, batch, n, n);
  if ((double)factor.len < (double)batch * n * n) throw KernelError("cholesky: factor buffer too small");
  if (info.dtype != I32 || info.len < batch) throw KernelError("cholesky: info must be int32 of length batch");
  if (factor.dtype == I32) throw KernelError("cholesky: factor must be float32 or float64");
  if (batch * n == 0) {
    for (int64_t b = 0; b < batch; b++) ((int32_t*)info.data)[b] = 0;
    return;
  }
  ThreadPool::get().parallel_for(batch, [&](int64_t bi) {
    std::vector<double> L(n * n, 0.0);
    int64_t base = a.offset + bi * a.batchStride;
    int32_t failed = 0;
    for (int64_t j = 0; j < n && !failed; j++) {
      double d = load_as_double(a.buf, base + j * a.rowStride + j * a.colStride);
      for (int64_t k = 0; k < j; k++) d -= L[j * n + k] * L[j * n + k];
      // NaN passes (d <= 0 is false for it) and propagates
      if (d <= 0) { failed = (int32_t)(j + 1); break; }
      double ljj = std::sqrt(d);
      L[j * n + j] = ljj;
      for (int64_t i = j + 1; i < n; i++) {
        double s = load_as_double(a.buf, base + i * a.rowStride + j * a.colStride);
        for (int64_t k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
        L[i * n + j] = s / ljj;
      }
    }
    if (failed) std::fill(L.begin(), L.end(), std::numeric_limits<double>::quiet_NaN());
    for (int64_t e = 0; e < n * n; e++) store_from_double(factor, bi * n * n + e, L[e]);
    ((int32_t*)info.data)[bi] = failed;
  });
}

void triangular_solve(const MatArg& t, const MatArg& b, int64_t batch, int64_t n, int64_t m, bool lower, const Buf& out) {
  if (batch < 0 || n < 0 || m < 0) throw KernelError("triangularSolve: negative dimension");
  check_mat("triangularSolve", "t", t, batch, n, n);
  check_mat("triangularSolve", "b", b, batch, n, m);
  if ((double)out.len < (double)batch * n * m) throw KernelError("triangularSolve: output buffer too small");
  if (out.dtype == I32) throw KernelError("triangularSolve: output must be float32 or float64");
  if (batch * n * m == 0) return;
  ThreadPool::get().parallel_for(batch * m, [&](int64_t task) {
    int64_t bi = task / m, c = task % m;
    int64_t tb = t.offset + bi * t.batchStride, bb = b.offset + bi * b.batchStride;
    std::vector<double> x(n);
    for (int64_t s = 0; s < n; s++) {
      int64_t i = lower ? s : n - 1 - s;
      double v = load_as_double(b.buf, bb + i * b.rowStride + c * b.colStride);
      int64_t k0 = lower ? 0 : i + 1, k1 = lower ? i : n;
      for (int64_t k = k0; k < k1; k++) v -= load_as_double(t.buf, tb + i * t.rowStride + k * t.colStride) * x[k];
      x[i] = v / load_as_double(t.buf, tb + i * t.rowStride + i * t.colStride);
    }
    for (int64_t i = 0; i < n; i++) store_from_double(out, (bi * n + i) * m + c, x[i]);
  });
}

}  // namespace mg
