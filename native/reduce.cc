// Reductions accumulate in double (as the js reference does for every dtype), keep its
// NaN rules (max/min: a NaN sticks), and walk the input in place through its strides:
// the kept dims drive the output, the reduced dims are collapsed so the common cases
// (reduce a contiguous suffix, or a leading axis of a contiguous tensor) are tight loops.
#include "reduce.h"

#include <algorithm>
#include <limits>

#include "threadpool.h"
#include "vmath.h"

namespace mg {

namespace {

struct Acc {
  int op;
  double v;
  explicit Acc(int o) : op(o) {
    v = op == R_SUM ? 0.0 : op == R_PROD ? 1.0 : op == R_MAX ? -std::numeric_limits<double>::infinity()
                                                             : std::numeric_limits<double>::infinity();
  }
};

inline double combine(int op, double acc, double v) {
  switch (op) {
    case R_SUM: return acc + v;
    case R_PROD: return acc * v;
    case R_MAX: return (v > acc || std::isnan(v)) ? v : acc;
    default: return (v < acc || std::isnan(v)) ? v : acc;
  }
}

// Reduce `len` elements at stride `s` starting at p.
template <typename T>
double reduce_run(int op, const T* p, int64_t len, int64_t s, double acc) {
  if constexpr (std::is_same_v<T, float>) {
    if (op == R_SUM && s == 1) return acc + sum_f32(p, len);
  }
  if (op == R_SUM && s == 1) return acc + sum_portable(p, len);
  if constexpr (std::is_same_v<T, float>) {
    if ((op == R_MAX || op == R_MIN) && s == 1 && len >= 16) return combine(op, acc, (double)minmax_f32(p, len, op == R_MAX));
  }
  if ((op == R_MAX || op == R_MIN) && s == 1 && len >= 16) {
    // eight independent lanes (a NaN sticks in its lane, and so in the combination)
    double part[8];
    for (int q = 0; q < 8; q++) part[q] = (double)p[q];
    int64_t j = 8;
    for (; j + 8 <= len; j += 8)
      for (int q = 0; q < 8; q++) part[q] = combine(op, part[q], (double)p[j + q]);
    for (int q = 0; q < 8; q++) acc = combine(op, acc, part[q]);
    for (; j < len; j++) acc = combine(op, acc, (double)p[j]);
    return acc;
  }
  for (int64_t j = 0; j < len; j++) acc = combine(op, acc, (double)p[j * s]);
  return acc;
}

template <typename T>
void reduce_typed(int op, const View& x, const std::vector<int>& axes, T* out) {
  const T* X = (const T*)x.buf.data;
  std::vector<bool> isRed(x.rank, false);
  for (int a : axes) isRed[a] = true;
  int64_t kshape[MAX_RANK], kstr[MAX_RANK], rshape[MAX_RANK], rstr[MAX_RANK], ostr[MAX_RANK];
  int kr = 0, rr = 0;
  for (int d = 0; d < x.rank; d++) {
    if (isRed[d]) { rshape[rr] = x.shape[d]; rstr[rr++] = x.strides[d]; }
    else { kshape[kr] = x.shape[d]; kstr[kr++] = x.strides[d]; }
  }
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < kr; i++) outer *= kshape[i];
  for (int i = 0; i < rr; i++) inner *= rshape[i];
  if (outer == 0) return;

  // Leading axes of a contiguous tensor: accumulate whole rows into the output (vectorizes).
  bool contiguous = true;
  for (int d = x.rank - 1, s = 1; d >= 0; d--) {
    if (x.shape[d] != 1 && x.strides[d] != s) contiguous = false;
    s *= x.shape[d];
  }
  bool prefix = true;
  for (int i = 0; i < (int)axes.size(); i++) if (axes[i] != i) prefix = false;
  if (contiguous && prefix && rr > 0 && outer > 1 && inner > 1) {
    parallel_range(outer, 4096, [&](int64_t j0, int64_t j1) {
      std::vector<double> acc(j1 - j0, Acc(op).v);
      const T* base = X + x.offset;
      for (int64_t i = 0; i < inner; i++) {
        const T* row = base + i * outer;
        if (op == R_SUM) for (int64_t j = j0; j < j1; j++) acc[j - j0] += (double)row[j];
        else for (int64_t j = j0; j < j1; j++) acc[j - j0] = combine(op, acc[j - j0], (double)row[j]);
      }
      for (int64_t j = j0; j < j1; j++) out[j] = from_double<T>(acc[j - j0]);
    });
    return;
  }

  const int64_t* rs[1] = {rstr};
  StridedIter<1> rit(rr, rshape, rs);
  const int64_t* ks[1] = {kstr};
  StridedIter<1> kit(kr, kshape, ks);
  auto reduceAt = [&](int64_t off, double acc) {
    if (inner == 0) return acc;
    int64_t b[1] = {off};
    rit.run(b, 0, inner, [&](const int64_t* o, int64_t len, const int64_t* is, int64_t) {
      acc = reduce_run<T>(op, X + o[0], len, is[0], acc);
    });
    return acc;
  };
  if (outer == 1) {
    // one output: split the reduced range over threads, combine the partial results
    int64_t b[1] = {x.offset};
    ThreadPool& pool = ThreadPool::get();
    int64_t parts = std::min<int64_t>(pool.threads(), std::max<int64_t>(1, inner / (1 << 16)));
    std::vector<double> partial(parts, Acc(op).v);
    int64_t chunk = (inner + parts - 1) / parts;
    pool.parallel_for(parts, [&](int64_t t) {
      int64_t e0 = t * chunk, e1 = std::min(inner, e0 + chunk);
      double acc = partial[t];
      if (e0 < e1)
        rit.run(b, e0, e1, [&](const int64_t* o, int64_t len, const int64_t* is, int64_t) {
          acc = reduce_run<T>(op, X + o[0], len, is[0], acc);
        });
      partial[t] = acc;
    });
    double acc = Acc(op).v;
    for (double p : partial) acc = combine(op, acc, p);
    out[0] = from_double<T>(acc);
    return;
  }
  (void)ostr;
  int64_t b[1] = {x.offset};
  parallel_range(outer, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, inner)), [&](int64_t e0, int64_t e1) {
    kit.run(b, e0, e1, [&](const int64_t* o, int64_t len, const int64_t* is, int64_t pos) {
      for (int64_t j = 0; j < len; j++) out[pos + j] = from_double<T>(reduceAt(o[0] + j * is[0], Acc(op).v));
    });
  });
}

}  // namespace

void reduce(int op, const View& x, const std::vector<int>& axes, const Buf& out) {
  if (op < 0 || op >= R_COUNT) throw KernelError("reduce: unknown op");
  x.check("reduce", "x");
  if (out.dtype != x.buf.dtype) throw KernelError("reduce: output dtype differs from input");
  int prev = -1;
  int64_t outer = 1;
  for (int a : axes) {
    if (a <= prev || a >= x.rank) throw KernelError("reduce: axes must be sorted, unique and within the rank");
    prev = a;
  }
  for (int d = 0; d < x.rank; d++)
    if (std::find(axes.begin(), axes.end(), d) == axes.end()) outer *= x.shape[d];
  if (out.len < outer) throw KernelError("reduce: output buffer too small");
  dispatch(x.buf.dtype, [&](auto tag) {
    using T = decltype(tag);
    reduce_typed<T>(op, x, axes, (T*)out.data);
  });
}

void arg_reduce(bool isMax, const View& x, int axis, const Buf& out) {
  x.check("argReduce", "x");
  if (axis < 0 || axis >= x.rank) throw KernelError("argReduce: axis out of range");
  if (out.dtype != I32) throw KernelError("argReduce: output must be int32");
  int64_t kshape[MAX_RANK], kstr[MAX_RANK];
  int kr = 0;
  for (int d = 0; d < x.rank; d++)
    if (d != axis) { kshape[kr] = x.shape[d]; kstr[kr++] = x.strides[d]; }
  int64_t outer = 1;
  for (int i = 0; i < kr; i++) outer *= kshape[i];
  if (out.len < outer) throw KernelError("argReduce: output buffer too small");
  int64_t len = x.shape[axis], s = x.strides[axis];
  if (outer == 0) return;
  if (len == 0) throw KernelError("argReduce: reducing an empty axis");
  const int64_t* ks[1] = {kstr};
  StridedIter<1> kit(kr, kshape, ks);
  int64_t b[1] = {x.offset};
  int32_t* O = (int32_t*)out.data;
  dispatch(x.buf.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* X = (const T*)x.buf.data;
    parallel_range(outer, std::max<int64_t>(1, 16384 / len), [&](int64_t e0, int64_t e1) {
      kit.run(b, e0, e1, [&](const int64_t* o, int64_t n, const int64_t* is, int64_t pos) {
        for (int64_t j = 0; j < n; j++) {
          const T* p = X + o[0] + j * is[0];
          int32_t best = 0;
          T bv = p[0];
          // the first NaN wins (PyTorch, numpy); int32 never compares unequal to itself
          for (int64_t q = 1; q < len && bv == bv; q++) {
            T v = p[q * s];
            if (v != v || (isMax ? v > bv : v < bv)) { bv = v; best = (int32_t)q; }
          }
          O[pos + j] = best;
        }
      });
    });
  });
}

void softmax(const View& x, int64_t rows, int64_t cols, bool log, const Buf& out) {
  x.check("softmax", "x");
  if (rows < 0 || cols < 0 || x.numel() != rows * cols) throw KernelError("softmax: rows*cols does not match the view");
  if (out.len < rows * cols || out.dtype != x.buf.dtype) throw KernelError("softmax: bad output buffer");
  if (x.buf.dtype == I32) throw KernelError("softmax: int32 is not supported");
  // Read through the view's strides into row-major order first when it is not contiguous.
  int64_t cst[MAX_RANK];
  for (int d = x.rank - 1, q = 1; d >= 0; d--) { cst[d] = q; q *= x.shape[d]; }
  const int64_t* st[2] = {x.strides, cst};
  StridedIter<2> it(x.rank, x.shape, st);
  dispatch(x.buf.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, int32_t>) {
      const T* X = (const T*)x.buf.data;
      std::vector<T> tmp;
      const T* src = X + x.offset;
      if (!(it.rank == 1 && it.strides[0][0] == 1)) {
        tmp.resize(rows * cols);
        int64_t b[2] = {x.offset, 0};
        it.run(b, 0, rows * cols, [&](const int64_t* o, int64_t len, const int64_t* is, int64_t) {
          for (int64_t j = 0; j < len; j++) tmp[o[1] + j] = X[o[0] + j * is[0]];
        });
        src = tmp.data();
      }
      T* O = (T*)out.data;
      parallel_range(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, cols)), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; r++) {
          const T* a = src + r * cols;
          T* o = O + r * cols;
          // Math.max semantics: NaN if any element is NaN
          double m = reduce_run<T>(R_MAX, a, cols, 1, -std::numeric_limits<double>::infinity());
          // exp once in T (vectorized for float32), sums in double
          const T mt = (T)m;
          double s = 0;
          if constexpr (std::is_same_v<T, float>) {
            // softmax: exponentials land in the output; log-softmax: in a scratch row
            thread_local std::vector<float> scratch;
            float* e = o;
            if (log) {
              if ((int64_t)scratch.size() < cols) scratch.resize(cols);
              e = scratch.data();
            }
            for (int64_t j = 0; j < cols; j++) e[j] = a[j] - mt;
            exp_f32(e, e, cols);
            s = reduce_run<float>(R_SUM, e, cols, 1, 0.0);  // eight partial sums
          } else {
            for (int64_t j = 0; j < cols; j++) {
              T e = std::exp(a[j] - mt);
              if (!log) o[j] = e;
              s += (double)e;
            }
          }
          if (log) {
            double ls = std::log(s);
            for (int64_t j = 0; j < cols; j++) o[j] = (T)((double)a[j] - m - ls);
          } else {
            const T inv = (T)(1.0 / s);
            for (int64_t j = 0; j < cols; j++) o[j] *= inv;
          }
        }
      });
    }
  });
}

}  // namespace mg
