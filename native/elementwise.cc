// Elementwise kernels. Same-dtype float work runs in that float type through templated
// loops the compiler vectorizes for the contiguous and broadcast cases; anything mixed,
// and all int32 work, goes through double with JS's conversions, so results match the
// js reference exactly (int32 wraps like Int32Array, comparisons give 1/0).
#include "elementwise.h"

#include <algorithm>
#include <vector>

#include "threadpool.h"
#include "vmath.h"

namespace mg {

namespace {

constexpr int64_t PAR_MIN = 1 << 15;  // elements per thread before going parallel

template <int K, typename F>
void for_each_strided(const StridedIter<K>& it, const int64_t* base, int64_t n, F&& fn) {
  parallel_range(n, PAR_MIN, [&](int64_t e0, int64_t e1) { it.run(base, e0, e1, fn); });
}

template <typename T>
inline T unary_fn(int op, T x) {
  switch (op) {
    case U_NEG: return -x;
    case U_EXP: return std::exp(x);
    case U_LOG: return std::log(x);
    case U_SQRT: return std::sqrt(x);
    case U_ABS: return std::fabs(x);
    case U_SIGN: return x > 0 ? T(1) : x < 0 ? T(-1) : T(0);
    case U_TANH: {
      if constexpr (std::is_same_v<T, float>) {
        // glibc's tanhf is slow; tanh|x| = -e / (2 + e) with e = expm1(-2|x|) is accurate
        // (no cancellation near 0) and saturates cleanly to 1
        float e = std::expm1(-2.0f * std::fabs(x));
        return std::copysign(-e / (2.0f + e), x);
      } else {
        return std::tanh(x);
      }
    }
    case U_SIGMOID: {
      if (x >= 0) return T(1) / (T(1) + std::exp(-x));
      T e = std::exp(x);
      return e / (T(1) + e);
    }
    case U_RELU: return (x > 0 || x != x) ? x : T(0);  // NaN propagates
    case U_SIN: return std::sin(x);
    case U_COS: return std::cos(x);
    case U_STEP: return x > 0 ? T(1) : T(0);
    case U_RECIPROCAL: return T(1) / x;
    case U_SQUARE: return x * x;
    case U_LOG1P: return std::log1p(x);
    case U_EXPM1: return std::expm1(x);
    case U_FLOOR: return std::floor(x);
    case U_CEIL: return std::ceil(x);
    case U_ROUND: return std::nearbyint(x);  // default rounding mode: half to even
  }
  return x;
}

template <typename T>
inline T binary_fn(int op, T a, T b) {
  switch (op) {
    case B_ADD: return a + b;
    case B_SUB: return a - b;
    case B_MUL: return a * b;
    case B_DIV: return a / b;
    case B_POW: return std::pow(a, b);
    case B_MAXIMUM: return (a >= b || std::isnan(a)) ? a : b;
    case B_MINIMUM: return (a <= b || std::isnan(a)) ? a : b;
    case B_EQ: return a == b ? T(1) : T(0);
    case B_NE: return a != b ? T(1) : T(0);
    case B_LT: return a < b ? T(1) : T(0);
    case B_LE: return a <= b ? T(1) : T(0);
    case B_GT: return a > b ? T(1) : T(0);
    case B_GE: return a >= b ? T(1) : T(0);
    case B_RELU_MASK: return b > 0 ? a : T(0);
  }
  return a;
}

// int32 add/sub/mul/div as the js reference does them (wrapping; x/0 = 0).
inline double int_binary(int op, double a, double b) {
  switch (op) {
    case B_ADD: return js_to_int32(a + b);
    case B_SUB: return js_to_int32(a - b);
    case B_MUL: return (int32_t)((uint32_t)js_to_int32(a) * (uint32_t)js_to_int32(b));
    case B_DIV: return b == 0 ? 0.0 : std::trunc(a / b);
  }
  return binary_fn<double>(op, a, b);
}

// Same-dtype float unary: one tight loop per op so each vectorizes or at least inlines.
template <typename T, int OP>
void unary_typed(const StridedIter<2>& it, const int64_t* base, int64_t n, const T* X, T* O) {
  for_each_strided(it, base, n, [&](const int64_t* off, int64_t len, const int64_t* is, int64_t) {
    const T* x = X + off[0];
    T* o = O + off[1];
    if constexpr (std::is_same_v<T, float> && OP == U_EXP) {
      if (is[0] == 1) return exp_f32(x, o, len);  // vectorized exp
    }
    if constexpr (std::is_same_v<T, float> && OP == U_TANH) {
      if (is[0] == 1) return tanh_f32(x, o, len);
    }
    if constexpr (std::is_same_v<T, float> && OP == U_SIGMOID) {
      if (is[0] == 1) {
        // e = exp(-|x|) vectorized; sigmoid = 1/(1+e) for x >= 0, e/(1+e) otherwise (NaN stays NaN)
        for (int64_t j = 0; j < len; j++) o[j] = -std::fabs(x[j]);
        exp_f32(o, o, len);
        for (int64_t j = 0; j < len; j++) {
          float e = o[j], s = 1.0f / (1.0f + e);
          o[j] = x[j] >= 0 ? s : e * s;
        }
        return;
      }
    }
    if (is[0] == 1)
      for (int64_t j = 0; j < len; j++) o[j] = unary_fn<T>(OP, x[j]);
    else
      for (int64_t j = 0; j < len; j++) o[j] = unary_fn<T>(OP, x[j * is[0]]);
  });
}

template <typename T, int... OPS>
void unary_dispatch(int op, const StridedIter<2>& it, const int64_t* base, int64_t n, const T* X, T* O,
                    std::integer_sequence<int, OPS...>) {
  ((op == OPS ? (unary_typed<T, OPS>(it, base, n, X, O), 0) : 0), ...);
}

template <typename T, int OP>
void binary_typed(const StridedIter<3>& it, const int64_t* base, int64_t n, const T* A, const T* B, T* O) {
  for_each_strided(it, base, n, [&](const int64_t* off, int64_t len, const int64_t* is, int64_t) {
    const T* a = A + off[0];
    const T* b = B + off[1];
    T* o = O + off[2];
    if (is[0] == 1 && is[1] == 1)
      for (int64_t j = 0; j < len; j++) o[j] = binary_fn<T>(OP, a[j], b[j]);
    else if (is[0] == 1 && is[1] == 0) {
      T bv = *b;
      for (int64_t j = 0; j < len; j++) o[j] = binary_fn<T>(OP, a[j], bv);
    } else if (is[0] == 0 && is[1] == 1) {
      T av = *a;
      for (int64_t j = 0; j < len; j++) o[j] = binary_fn<T>(OP, av, b[j]);
    } else
      for (int64_t j = 0; j < len; j++) o[j] = binary_fn<T>(OP, a[j * is[0]], b[j * is[1]]);
  });
}

template <typename T, int... OPS>
void binary_dispatch(int op, const StridedIter<3>& it, const int64_t* base, int64_t n, const T* A, const T* B, T* O,
                     std::integer_sequence<int, OPS...>) {
  ((op == OPS ? (binary_typed<T, OPS>(it, base, n, A, B, O), 0) : 0), ...);
}

void check_out(const char* op, const Buf& out, int64_t n) {
  if (out.len < n) throw KernelError(std::string(op) + ": output buffer too small");
}

}  // namespace

void unary(int op, const View& x, const Buf& out) {
  if (op < 0 || op >= U_COUNT) throw KernelError("unary: unknown op");
  x.check("unary", "x");
  int64_t n = x.numel();
  check_out("unary", out, n);
  int64_t ostr[MAX_RANK];
  for (int d = x.rank - 1, s = 1; d >= 0; d--) { ostr[d] = s; s *= x.shape[d]; }
  const int64_t* st[2] = {x.strides, ostr};
  StridedIter<2> it(x.rank, x.shape, st);
  int64_t base[2] = {x.offset, 0};
  if (x.buf.dtype == out.dtype && out.dtype == F32) {
    unary_dispatch<float>(op, it, base, n, (const float*)x.buf.data, (float*)out.data, std::make_integer_sequence<int, U_COUNT>{});
  } else if (x.buf.dtype == out.dtype && out.dtype == F64) {
    unary_dispatch<double>(op, it, base, n, (const double*)x.buf.data, (double*)out.data, std::make_integer_sequence<int, U_COUNT>{});
  } else {
    for_each_strided(it, base, n, [&](const int64_t* off, int64_t len, const int64_t* is, int64_t) {
      for (int64_t j = 0; j < len; j++)
        store_from_double(out, off[1] + j, unary_fn<double>(op, load_as_double(x.buf, off[0] + j * is[0])));
    });
  }
}

static void check_same_shape(const char* op, const View& a, const View& b) {
  if (a.rank != b.rank) throw KernelError(std::string(op) + ": operand ranks differ");
  for (int d = 0; d < a.rank; d++)
    if (a.shape[d] != b.shape[d]) throw KernelError(std::string(op) + ": operand shapes differ");
}

void binary(int op, const View& a, const View& b, const Buf& out) {
  if (op < 0 || op >= B_COUNT) throw KernelError("binary: unknown op");
  a.check("binary", "a");
  b.check("binary", "b");
  check_same_shape("binary", a, b);
  int64_t n = a.numel();
  check_out("binary", out, n);
  int64_t ostr[MAX_RANK];
  for (int d = a.rank - 1, s = 1; d >= 0; d--) { ostr[d] = s; s *= a.shape[d]; }
  const int64_t* st[3] = {a.strides, b.strides, ostr};
  StridedIter<3> it(a.rank, a.shape, st);
  int64_t base[3] = {a.offset, b.offset, 0};
  bool same = a.buf.dtype == b.buf.dtype && b.buf.dtype == out.dtype;
  if (same && out.dtype == F32) {
    binary_dispatch<float>(op, it, base, n, (const float*)a.buf.data, (const float*)b.buf.data, (float*)out.data,
                           std::make_integer_sequence<int, B_COUNT>{});
  } else if (same && out.dtype == F64) {
    binary_dispatch<double>(op, it, base, n, (const double*)a.buf.data, (const double*)b.buf.data, (double*)out.data,
                            std::make_integer_sequence<int, B_COUNT>{});
  } else {
    bool intA = a.buf.dtype == I32;
    for_each_strided(it, base, n, [&](const int64_t* off, int64_t len, const int64_t* is, int64_t) {
      for (int64_t j = 0; j < len; j++) {
        double av = load_as_double(a.buf, off[0] + j * is[0]), bv = load_as_double(b.buf, off[1] + j * is[1]);
        store_from_double(out, off[2] + j, intA ? int_binary(op, av, bv) : binary_fn<double>(op, av, bv));
      }
    });
  }
}

void where(const View& c, const View& a, const View& b, const Buf& out) {
  c.check("where", "cond");
  a.check("where", "a");
  b.check("where", "b");
  check_same_shape("where", c, a);
  check_same_shape("where", c, b);
  int64_t n = c.numel();
  check_out("where", out, n);
  int64_t ostr[MAX_RANK];
  for (int d = c.rank - 1, s = 1; d >= 0; d--) { ostr[d] = s; s *= c.shape[d]; }
  const int64_t* st[4] = {c.strides, a.strides, b.strides, ostr};
  StridedIter<4> it(c.rank, c.shape, st);
  int64_t base[4] = {c.offset, a.offset, b.offset, 0};
  if (a.buf.dtype == F32 && b.buf.dtype == F32 && out.dtype == F32 && c.buf.dtype == F32) {
    const float *C = (const float*)c.buf.data, *A = (const float*)a.buf.data, *B = (const float*)b.buf.data;
    float* O = (float*)out.data;
    for_each_strided(it, base, n, [&](const int64_t* off, int64_t len, const int64_t* is, int64_t) {
      for (int64_t j = 0; j < len; j++)
        O[off[3] + j] = C[off[0] + j * is[0]] != 0 ? A[off[1] + j * is[1]] : B[off[2] + j * is[2]];
    });
    return;
  }
  for_each_strided(it, base, n, [&](const int64_t* off, int64_t len, const int64_t* is, int64_t) {
    for (int64_t j = 0; j < len; j++) {
      bool t = load_as_double(c.buf, off[0] + j * is[0]) != 0;  // NaN counts as true, as in JS
      store_from_double(out, off[3] + j, t ? load_as_double(a.buf, off[1] + j * is[1]) : load_as_double(b.buf, off[2] + j * is[2]));
    }
  });
}

void cast(const View& x, const Buf& out) {
  x.check("cast", "x");
  int64_t n = x.numel();
  check_out("cast", out, n);
  int64_t ostr[MAX_RANK];
  for (int d = x.rank - 1, s = 1; d >= 0; d--) { ostr[d] = s; s *= x.shape[d]; }
  const int64_t* st[2] = {x.strides, ostr};
  StridedIter<2> it(x.rank, x.shape, st);
  int64_t base[2] = {x.offset, 0};
  for_each_strided(it, base, n, [&](const int64_t* off, int64_t len, const int64_t* is, int64_t) {
    for (int64_t j = 0; j < len; j++) {
      double v = load_as_double(x.buf, off[0] + j * is[0]);
      store_from_double(out, off[1] + j, out.dtype == I32 ? std::trunc(v) : v);
    }
  });
}

void copy(const View& src, const View& dst) {
  src.check("copy", "src");
  dst.check("copy", "dst");
  check_same_shape("copy", src, dst);
  int64_t n = src.numel();
  if (n == 0) return;
  // Overlapping source and destination: read everything first, as the js reference does.
  View s = src;
  std::vector<double> tmp;
  if (src.buf.data == dst.buf.data) {
    tmp.resize(n);
    int64_t cst[MAX_RANK];
    for (int d = src.rank - 1, q = 1; d >= 0; d--) { cst[d] = q; q *= src.shape[d]; }
    const int64_t* st[2] = {src.strides, cst};
    StridedIter<2> it(src.rank, src.shape, st);
    int64_t base[2] = {src.offset, 0};
    it.run(base, 0, n, [&](const int64_t* off, int64_t len, const int64_t* is, int64_t) {
      for (int64_t j = 0; j < len; j++) tmp[off[1] + j] = load_as_double(src.buf, off[0] + j * is[0]);
    });
    s.buf = Buf{tmp.data(), n, F64};
    std::copy(cst, cst + src.rank, s.strides);
    s.offset = 0;
  }
  const int64_t* st[2] = {s.strides, dst.strides};
  StridedIter<2> it(s.rank, s.shape, st);
  int64_t base[2] = {s.offset, dst.offset};
  if (s.buf.dtype == dst.buf.dtype) {
    size_t es = dsize(dst.buf.dtype);
    const char* S = (const char*)s.buf.data;
    char* D = (char*)dst.buf.data;
    for_each_strided(it, base, n, [&](const int64_t* off, int64_t len, const int64_t* is, int64_t) {
      if (is[0] == 1 && is[1] == 1) std::memcpy(D + off[1] * es, S + off[0] * es, len * es);
      else if (es == 4)
        for (int64_t j = 0; j < len; j++) ((int32_t*)D)[off[1] + j * is[1]] = ((const int32_t*)S)[off[0] + j * is[0]];
      else
        for (int64_t j = 0; j < len; j++) ((int64_t*)D)[off[1] + j * is[1]] = ((const int64_t*)S)[off[0] + j * is[0]];
    });
    return;
  }
  for_each_strided(it, base, n, [&](const int64_t* off, int64_t len, const int64_t* is, int64_t) {
    for (int64_t j = 0; j < len; j++) store_from_double(dst.buf, off[1] + j * is[1], load_as_double(s.buf, off[0] + j * is[0]));
  });
}

void fill(const Buf& out, double value) {
  switch (out.dtype) {
    case F32: std::fill((float*)out.data, (float*)out.data + out.len, (float)value); break;
    case F64: std::fill((double*)out.data, (double*)out.data + out.len, value); break;
    default: std::fill((int32_t*)out.data, (int32_t*)out.data + out.len, js_to_int32(value)); break;
  }
}

}  // namespace mg
