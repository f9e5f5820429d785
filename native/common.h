// Shared definitions for the native kernels: dtypes, strided views, JS-compatible
// conversions, and the error type every kernel throws (turned into a JS exception).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace mg {

enum DType : int { F32 = 0, F64 = 1, I32 = 2 };

inline size_t dsize(DType d) { return d == F64 ? 8 : 4; }
inline const char* dname(DType d) { return d == F32 ? "float32" : d == F64 ? "float64" : "int32"; }

// Every kernel failure is a KernelError; the binding converts it (and any std::exception,
// bad_alloc included) into a JS Error, which the TS layer wraps in a BackendError.
struct KernelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A raw buffer handed over from a JS TypedArray: no copy, C++ reads and writes in place.
struct Buf {
  void* data = nullptr;
  int64_t len = 0;  // elements
  DType dtype = F32;
};

constexpr int MAX_RANK = 16;

// A strided view onto a Buf. Strides may be 0 (broadcast) or negative-free; offsets in elements.
struct View {
  Buf buf;
  int rank = 0;
  int64_t shape[MAX_RANK];
  int64_t strides[MAX_RANK];
  int64_t offset = 0;
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= shape[i];
    return n;
  }
  // Reject any view that could touch memory outside its buffer: the one check that
  // keeps a wrong stride from becoming a segfault.
  void check(const char* op, const char* what) const {
    int64_t n = numel();
    if (n == 0) return;
    int64_t lo = offset, hi = offset;
    for (int i = 0; i < rank; i++) {
      if (shape[i] < 0) throw KernelError(std::string(op) + ": negative dimension in " + what);
      int64_t span = (shape[i] - 1) * strides[i];
      if (span < 0) lo += span; else hi += span;
    }
    if (lo < 0 || hi >= buf.len)
      throw KernelError(std::string(op) + ": view of " + what + " reaches element " + std::to_string(lo < 0 ? lo : hi) +
                        " outside its storage of " + std::to_string(buf.len));
  }
};

// JS ToInt32: what storing a double into an Int32Array does (NaN/Inf -> 0, wrap mod 2^32).
inline int32_t js_to_int32(double v) {
  if (!std::isfinite(v)) return 0;
  if (v >= -2147483648.0 && v <= 2147483647.0) return (int32_t)v;  // truncates toward zero
  double t = std::trunc(v);
  double m = std::fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return (int32_t)(uint32_t)m;
}

template <typename T> inline T from_double(double v);
template <> inline float from_double<float>(double v) { return (float)v; }
template <> inline double from_double<double>(double v) { return v; }
template <> inline int32_t from_double<int32_t>(double v) { return js_to_int32(v); }

inline double load_as_double(const Buf& b, int64_t i) {
  switch (b.dtype) {
    case F32: return ((const float*)b.data)[i];
    case F64: return ((const double*)b.data)[i];
    default: return ((const int32_t*)b.data)[i];
  }
}
inline void store_from_double(const Buf& b, int64_t i, double v) {
  switch (b.dtype) {
    case F32: ((float*)b.data)[i] = (float)v; break;
    case F64: ((double*)b.data)[i] = v; break;
    default: ((int32_t*)b.data)[i] = js_to_int32(v); break;
  }
}

// Calls fn(dtype tag) with a value of the C++ type for a dtype.
template <typename F>
inline auto dispatch(DType d, F&& fn) {
  switch (d) {
    case F32: return fn(float{});
    case F64: return fn(double{});
    default: return fn(int32_t{});
  }
}

// Row-major traversal of up to MAX_RANK dims for several strided operands, with the
// dims merged where every operand is contiguous across them, so the inner loop is long.
template <int K>
struct StridedIter {
  int rank = 0;
  int64_t shape[MAX_RANK];
  int64_t strides[K][MAX_RANK];
  StridedIter(int r, const int64_t* sh, const int64_t* const* st) {
    // drop size-1 dims, then merge adjacent dims that are jointly contiguous
    for (int d = 0; d < r; d++) {
      if (sh[d] == 1) continue;
      if (rank > 0) {
        bool merge = true;
        for (int k = 0; k < K; k++)
          if (strides[k][rank - 1] != st[k][d] * sh[d]) { merge = false; break; }
        if (merge) {
          shape[rank - 1] *= sh[d];
          for (int k = 0; k < K; k++) strides[k][rank - 1] = st[k][d];
          continue;
        }
      }
      shape[rank] = sh[d];
      for (int k = 0; k < K; k++) strides[k][rank] = st[k][d];
      rank++;
    }
    if (rank == 0) {
      rank = 1;
      shape[0] = 1;
      for (int k = 0; k < K; k++) strides[k][0] = 0;
    }
  }
  // fn(offsets[K], len, innerStrides[K], flatPos) over the flat elements [e0, e1), in
  // row-major order, one call per (partial) inner row.
  template <typename F>
  void run(const int64_t* base, int64_t e0, int64_t e1, F&& fn) const {
    if (e0 >= e1) return;
    int64_t idx[MAX_RANK] = {0};
    int64_t off[K];
    int64_t r = e0;
    for (int d = rank - 1; d >= 0; d--) {
      idx[d] = r % shape[d];
      r /= shape[d];
    }
    for (int k = 0; k < K; k++) {
      off[k] = base[k];
      for (int d = 0; d < rank; d++) off[k] += idx[d] * strides[k][d];
    }
    int64_t is[K];
    for (int k = 0; k < K; k++) is[k] = strides[k][rank - 1];
    const int64_t inner = shape[rank - 1];
    int64_t pos = e0;
    while (pos < e1) {
      int64_t len = std::min(inner - idx[rank - 1], e1 - pos);
      fn(off, len, is, pos);
      pos += len;
      // advance to the start of the next inner row
      for (int k = 0; k < K; k++) off[k] += (inner - idx[rank - 1]) * is[k] - inner * is[k];
      idx[rank - 1] = 0;
      for (int d = rank - 2; d >= 0; d--) {
        idx[d]++;
        for (int k = 0; k < K; k++) off[k] += strides[k][d];
        if (idx[d] < shape[d]) break;
        for (int k = 0; k < K; k++) off[k] -= strides[k][d] * shape[d];
        idx[d] = 0;
      }
    }
  }
  int64_t rows() const {
    int64_t n = 1;
    for (int d = 0; d < rank - 1; d++) n *= shape[d];
    return n;
  }
  int64_t inner() const { return shape[rank - 1]; }
};

}  // namespace mg
