// Batched matmul over MatViews: float32/float64 go to the packed GEMM (transposes are
// read in place by the packing); mixed or int32 take a double-accumulating loop like js.
#include <algorithm>

#include "gemm.h"
#include "linalg.h"
#include "threadpool.h"

namespace mg {

void matmul(const MatArg& a, const MatArg& b, int64_t batch, int64_t m, int64_t n, int64_t k, const Buf& out) {
  if (batch < 0 || m < 0 || n < 0 || k < 0) throw KernelError("matmul: negative dimension");
  check_mat("matmul", "a", a, batch, m, k);
  check_mat("matmul", "b", b, batch, k, n);
  if ((double)out.len < (double)batch * m * n) throw KernelError("matmul: output buffer too small");
  if (batch * m * n == 0) return;
  DType d = out.dtype;
  if (a.buf.dtype == d && b.buf.dtype == d && d != I32) {
    dispatch(d, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same_v<T, int32_t>) {
        const T* A = (const T*)a.buf.data;
        const T* B = (const T*)b.buf.data;
        T* C = (T*)out.data;
        auto one = [&](int64_t bi, bool par) {
          gemm<T>(m, n, k, A + a.offset + bi * a.batchStride, a.rowStride, a.colStride, B + b.offset + bi * b.batchStride,
                  b.rowStride, b.colStride, C + bi * m * n, n, par);
        };
        int threads = ThreadPool::get().threads();
        // Many small products: one per task. Few large ones: parallel inside each GEMM.
        if (batch >= threads && (double)m * n * k < 64.0 * 64 * 64 * 8) {
          ThreadPool::get().parallel_for(batch, [&](int64_t bi) { one(bi, false); });
        } else {
          // waking the workers costs microseconds: only worth it from ~2M multiply-adds
          for (int64_t bi = 0; bi < batch; bi++) one(bi, (double)m * n * k >= 128.0 * 128 * 128);
        }
      }
    });
    return;
  }
  parallel_range(batch * m, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, n * k)), [&](int64_t r0, int64_t r1) {
    std::vector<double> row(n);
    for (int64_t r = r0; r < r1; r++) {
      int64_t bi = r / m, i = r % m;
      std::fill(row.begin(), row.end(), 0.0);
      int64_t ab = a.offset + bi * a.batchStride + i * a.rowStride, bb = b.offset + bi * b.batchStride;
      for (int64_t p = 0; p < k; p++) {
        double av = load_as_double(a.buf, ab + p * a.colStride);
        if (av == 0) continue;
        for (int64_t j = 0; j < n; j++) row[j] += av * load_as_double(b.buf, bb + p * b.rowStride + j * b.colStride);
      }
      for (int64_t j = 0; j < n; j++) store_from_double(out, r * n + j, row[j]);
    }
  });
}

}  // namespace mg
