// Per-channel kernels over contiguous [n, c, s] tensors (channels on axis 1, s = the
// product of the trailing dims): batch-norm statistics and normalization, its input
// gradient, a per-channel affine map and a per-channel dot product. Channels run in
// parallel; each channel's sums accumulate in double (as the js reference does), row by
// row with eight independent float partial sums so the inner loops vectorize.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>
#include <type_traits>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "bn_pool_avx512.h"
#include "channel.h"
#include "conv_scratch.h"
#include "pool.h"
#include "simd.h"
#include "threadpool.h"

namespace mg {

namespace {

void check_dims(const char* op, const ChannelDims& d) {
  if (d.n < 0 || d.c < 0 || d.s < 0) throw KernelError(std::string(op) + ": negative dimension");
  if ((double)d.n * d.c * d.s > 1125899906842624.0) throw KernelError(std::string(op) + ": too many elements");
}

void check_buf(const char* op, const char* what, const Buf& b, int64_t len, DType dt) {
  if (b.len != len) throw KernelError(std::string(op) + ": " + what + " has " + std::to_string(b.len) + " elements, expected " + std::to_string(len));
  if (b.dtype != dt) throw KernelError(std::string(op) + ": " + what + " is " + dname(b.dtype) + ", expected " + dname(dt));
}

void check_float(const char* op, DType dt) {
  if (dt != F32 && dt != F64) throw KernelError(std::string(op) + ": expected float32 or float64, got " + dname(dt));
}

// Every per-channel kernel's checks: dims, a float dtype, the [n, c, s] buffers and the [c] ones.
// Returns n*c*s.
int64_t check_channel(const char* op, const ChannelDims& d, DType dt, std::initializer_list<const Buf*> full,
                      std::initializer_list<const Buf*> perChannel) {
  check_dims(op, d);
  check_float(op, dt);
  const int64_t total = d.n * d.c * d.s;
  for (const Buf* b : full) check_buf(op, "an [n, c, s] buffer", *b, total, dt);
  for (const Buf* b : perChannel) check_buf(op, "a per-channel buffer", *b, d.c, dt);
  return total;
}

// Work per channel is n*s elements; split channels over threads only when there is enough.
int64_t channel_chunk(const ChannelDims& d) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, d.n * d.s)); }

// The helpers below are always inlined, so they take the ISA of the wrapper they end up in.
#define MG_INLINE inline __attribute__((always_inline))

// sum of p[0..len) and of p[j]*q[j] (q may be null), accumulated in double.
template <typename T>
MG_INLINE void row_sums(const T* p, const T* q, int64_t len, double& s1, double& s2) {
  T a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  if (q) {
    for (; j + 8 <= len; j += 8)
      for (int k = 0; k < 8; k++) {
        a[k] += p[j + k];
        b[k] += p[j + k] * q[j + k];
      }
  } else {
    for (; j + 8 <= len; j += 8)
      for (int k = 0; k < 8; k++) a[k] += p[j + k];
  }
  double ta = 0, tb = 0;
  for (int k = 0; k < 8; k++) {
    ta += (double)a[k];
    tb += (double)b[k];
  }
  for (; j < len; j++) {
    ta += (double)p[j];
    if (q) tb += (double)p[j] * (double)q[j];
  }
  s1 += ta;
  s2 += tb;
}

// The two sums of row_sums over channel c's n rows of s values.
template <typename T>
MG_INLINE void channel_sums(const T* p, const T* q, const ChannelDims& d, int64_t c, double& s1, double& s2) {
  for (int64_t n = 0; n < d.n; n++) {
    const int64_t o = (n * d.c + c) * d.s;
    row_sums<T>(p + o, q ? q + o : nullptr, d.s, s1, s2);
  }
}

// sum of (p[j] - mu)^2
template <typename T>
MG_INLINE double row_centred_squares(const T* p, int64_t len, T mu) {
  T a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= len; j += 8)
    for (int k = 0; k < 8; k++) {
      T v = p[j + k] - mu;
      a[k] += v * v;
    }
  double t = 0;
  for (int k = 0; k < 8; k++) t += (double)a[k];
  for (; j < len; j++) {
    double v = (double)p[j] - (double)mu;
    t += v * v;
  }
  return t;
}

// Channel c's batch statistics, computed in double and stored: M[c] the mean, V[c] the biased
// variance, R[c] = 1/sqrt(variance + eps); tmu, tr the mean and R[c] as T, for x̂.
template <typename T>
MG_INLINE void channel_stats(const T* X, const ChannelDims& d, int64_t c, double eps, T* M, T* V, T* R, T& tmu, T& tr) {
  const double count = (double)(d.n * d.s);
  double s1 = 0, unused = 0;
  channel_sums<T>(X, nullptr, d, c, s1, unused);
  const double mu = s1 / count;
  double sq = 0;
  for (int64_t n = 0; n < d.n; n++) sq += row_centred_squares<T>(X + (n * d.c + c) * d.s, d.s, (T)mu);
  const double v = sq / count, r = 1.0 / std::sqrt(v + eps);
  M[c] = tmu = (T)mu;
  V[c] = (T)v;
  R[c] = tr = (T)r;
}

// x̂ = (x - mu)·r over a row of len, and y = x̂·g + b when Y is given. x̂ is read again only
// in the backward, long after: with `stream` its stores skip the caches and the read for
// ownership (a third of batch norm's memory traffic). Callers stream only whole cache lines per
// row (s a multiple of 16) of a tensor well past L2: partial lines stream slowly (7×7 planes
// ran 5× slower).
template <typename T>
MG_INLINE void bn_write_row(const T* X, T* XH, T* Y, int64_t len, T tmu, T tr, T g, T b, bool stream) {
  int64_t j = 0;
#if defined(__x86_64__) || defined(__i386__)
  if constexpr (std::is_same_v<T, float>) if (stream) {
    for (; j < len && ((uintptr_t)(XH + j) & 15); j++) {
      const T xh = (X[j] - tmu) * tr;
      XH[j] = xh;
      if (Y) Y[j] = xh * g + b;
    }
    const __m128 vm = _mm_set1_ps(tmu), vr = _mm_set1_ps(tr), vg = _mm_set1_ps(g), vb = _mm_set1_ps(b);
    for (; j + 4 <= len; j += 4) {
      const __m128 xh = _mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(X + j), vm), vr);
      _mm_stream_ps(XH + j, xh);
      if (Y) _mm_storeu_ps(Y + j, _mm_add_ps(_mm_mul_ps(xh, vg), vb));
    }
  }
#else
  (void)stream;
#endif
  if (Y)
    for (; j < len; j++) {
      T xh = (X[j] - tmu) * tr;
      XH[j] = xh;
      Y[j] = xh * g + b;
    }
  else
    for (; j < len; j++) XH[j] = (X[j] - tmu) * tr;
}

bool stream_xhat(const ChannelDims& d) { return d.s % 16 == 0 && d.n * d.c * d.s >= (1 << 20); }

// The per-channel bodies, inlined into one wrapper per ISA below (the portable build is
// baseline x86-64; inside a target("avx512f") wrapper the same loops vectorize 16 wide).
// Channel c of batch norm: its statistics (stored in M, V, R), then x̂ and y = x̂·γ + β row by
// row, image n's row of y at y_row(n, o) (o: the row's offset in X and x̂).
template <typename T, typename F>
MG_INLINE void normalize_channel(const T* X, const T* G, const T* B, const ChannelDims& d, int64_t c, double eps, bool stream, T* XH, T* M,
                                 T* V, T* R, F&& y_row) {
  T tmu, tr;
  channel_stats<T>(X, d, c, eps, M, V, R, tmu, tr);
  for (int64_t n = 0; n < d.n; n++) {
    const int64_t o = (n * d.c + c) * d.s;
    bn_write_row<T>(X + o, XH + o, y_row(n, o), d.s, tmu, tr, G[c], B[c], stream);
  }
}

template <typename T>
MG_INLINE void bn_forward_channels(const T* X, const T* G, const T* B, const ChannelDims& d, double eps, T* Y, T* XH, T* M, T* V, T* R,
                                   int64_t c0, int64_t c1) {
  const bool stream = stream_xhat(d);
  for (int64_t c = c0; c < c1; c++) normalize_channel<T>(X, G, B, d, c, eps, stream, XH, M, V, R, [&](int64_t, int64_t o) { return Y + o; });
}

#if defined(__x86_64__) || defined(__i386__)
// 2×2 pooling windows, 16 per step: win[k] the top-left of window k in y (rows of width w),
// at[k] in its plane; its four values gathered, the maximum and its index (in the plane) by
// masked blends (branches mispredict on data this random), ReLU with NaN kept. Returns the
// windows done (a multiple of 16); the caller finishes the rest.
__attribute__((target("avx512f"))) int64_t pool_windows_avx512(const float* y, const int32_t* win, const int32_t* at, int64_t windows,
                                                                int64_t w, float* po, int32_t* io) {
  const __m512 zero = _mm512_setzero_ps();
  const int32_t step[3] = {1, (int32_t)w, (int32_t)w + 1};
  int64_t k = 0;
  for (; k + 16 <= windows; k += 16) {
    const __m512i first = _mm512_loadu_si512((const void*)(win + k));
    __m512 best = _mm512_i32gather_ps(first, y, 4);
    __m512i bi = _mm512_setzero_si512();
    for (int j = 0; j < 3; j++) {
      const __m512i sj = _mm512_set1_epi32(step[j]);
      const __m512 c = _mm512_i32gather_ps(_mm512_add_epi32(first, sj), y, 4);
      // beats: greater, or a NaN over a number
      const __mmask16 m = _mm512_cmp_ps_mask(c, best, _CMP_GT_OQ) | (_mm512_cmp_ps_mask(c, c, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
      best = _mm512_mask_blend_ps(m, best, c);
      bi = _mm512_mask_blend_epi32(m, bi, sj);
    }
    // ReLU: keep where > 0 or NaN (not ≤ 0, unordered true)
    _mm512_storeu_ps(po + k, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(best, zero, _CMP_NLE_UQ), zero, best));
    _mm512_storeu_si512((void*)(io + k), _mm512_add_epi32(_mm512_loadu_si512((const void*)(at + k)), bi));
  }
  return k;
}
#endif

// Batch norm, then ReLU of the 2×2 stride-2 max-pool of y, per channel of [n, c, h·w] planes:
// x̂ written whole, y computed into the channel's scratch `yr` (n·s values, never stored), the
// pooled ReLU values P and each window's argmax I (flat in its plane; first maximum, a NaN
// beating any number, as maxPool2d). A trailing odd row or column is in no window, as in
// maxPool2d. The windows of all n planes run as one sequence (small planes have fewer than a
// vector of them): win[k] is window k's top-left in yr, at[k] in its plane; tp, ti their results
// before they go to each plane's place.
template <typename T>
MG_INLINE void bn_pool_forward_channels(const T* X, const T* G, const T* B, const ChannelDims& d, int64_t h, int64_t w, double eps, T* XH,
                                        T* P, int32_t* I, T* M, T* V, T* R, T* yr, const int32_t* win, const int32_t* at, T* tp,
                                        int32_t* ti, int64_t c0, int64_t c1) {
  const bool stream = stream_xhat(d);
  const int64_t ohw = (h / 2) * (w / 2), windows = d.n * ohw;
  for (int64_t c = c0; c < c1; c++) {
    // y into the channel's scratch, from x̂ in registers (the streamed x̂ is not read back)
    normalize_channel<T>(X, G, B, d, c, eps, stream, XH, M, V, R, [&](int64_t n, int64_t) { return yr + n * d.s; });
    int64_t k = 0;
#if defined(__x86_64__) || defined(__i386__)
    if constexpr (std::is_same_v<T, float>)
      if (isa() == Isa::Avx512) k = pool_windows_avx512(yr, win, at, windows, w, tp, ti);
#endif
    for (; k < windows; k++) {
      const int32_t p0 = win[k], cand[3] = {1, (int32_t)w, (int32_t)w + 1};
      T best = yr[p0];
      int32_t bi = 0;
      for (int j = 0; j < 3; j++)
        if (beats(yr[p0 + cand[j]], best)) best = yr[p0 + cand[j]], bi = cand[j];
      tp[k] = best > 0 || best != best ? best : T(0);  // ReLU; NaN propagates
      ti[k] = at[k] + bi;
    }
    for (int64_t n = 0; n < d.n; n++) {
      const int64_t q = (n * d.c + c) * ohw;
      for (int64_t j = 0; j < ohw; j++) P[q + j] = tp[n * ohw + j], I[q + j] = ti[n * ohw + j];
    }
  }
}

// p > 0 ? v : 0 without a branch (the mask is as random as the data; v NaN or not)
template <typename T>
MG_INLINE T keep_if_positive(T v, T p) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  U bits;
  std::memcpy(&bits, &v, sizeof v);
  bits &= U(0) - U(p > 0);
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// Its input gradient and the two sums, from the pooled gradient GP: gy is GP at each window's
// argmax where the pooled value passed the ReLU (0 elsewhere), built for the channel's n planes
// in `gy` (scratch of n·s values), then batch norm's backward over it as bn_backward_channels
// (its sums over every value, so a NaN in x̂ reaches Σgy·x̂ as in the unfused ops).
template <typename T>
MG_INLINE void bn_pool_backward_channels(const T* GP, const T* P, const int32_t* I, const T* XH, const T* W, const ChannelDims& d,
                                         int64_t ohw, T* O, T* SG, T* SGX, T* gy, int64_t c0, int64_t c1) {
  const double count = (double)(d.n * d.s);
  for (int64_t c = c0; c < c1; c++) {
    double sg = 0, sgx = 0;
    for (int64_t n = 0; n < d.n; n++) {
      const int64_t o = (n * d.c + c) * d.s, q = (n * d.c + c) * ohw;
      T* gp = gy + n * d.s;
      for (int64_t j = 0; j < d.s; j++) gp[j] = T(0);
      for (int64_t k = 0; k < ohw; k++)
        gp[I[q + k]] += keep_if_positive(GP[q + k], P[q + k]);  // added, as maxPool2d's backward (an index outside its window may repeat)
      row_sums<T>(gp, XH + o, d.s, sg, sgx);
    }
    SG[c] = (T)sg;
    SGX[c] = (T)sgx;
    const T mg = (T)(sg / count), mgx = (T)(sgx / count), wc = W[c];
    for (int64_t n = 0; n < d.n; n++) {
      const int64_t o = (n * d.c + c) * d.s;
      const T* gp = gy + n * d.s;
      for (int64_t j = 0; j < d.s; j++) O[o + j] = wc * (gp[j] - mg - XH[o + j] * mgx);
    }
  }
}

// SG, SGX (both or neither): the sums Σg and Σg·x̂ per channel, which batch norm's γ and β
// gradients are, written on the way
template <typename T>
MG_INLINE void bn_backward_channels(const T* G, const T* XH, const T* W, const ChannelDims& d, T* O, T* SG, T* SGX, int64_t c0, int64_t c1) {
  const double count = (double)(d.n * d.s);
  for (int64_t c = c0; c < c1; c++) {
    double sg = 0, sgx = 0;
    channel_sums<T>(G, XH, d, c, sg, sgx);
    if (SG) {
      SG[c] = (T)sg;
      SGX[c] = (T)sgx;
    }
    const T mg = (T)(sg / count), mgx = (T)(sgx / count), wc = W[c];
    for (int64_t n = 0; n < d.n; n++) {
      const int64_t o = (n * d.c + c) * d.s;
      for (int64_t j = 0; j < d.s; j++) O[o + j] = wc * (G[o + j] - mg - XH[o + j] * mgx);
    }
  }
}

template <typename T>
MG_INLINE void dot_channels(const T* A, const T* B, const ChannelDims& d, T* O, int64_t c0, int64_t c1) {
  for (int64_t c = c0; c < c1; c++) {
    double unused = 0, s = 0;
    channel_sums<T>(A, B, d, c, unused, s);
    O[c] = (T)s;
  }
}

template <typename T>
MG_INLINE void affine_rows(const T* X, const T* S, const T* SH, const ChannelDims& d, T* O, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r++) {
    const int64_t c = r % d.c, o = r * d.s;
    const T sc = S[c];
    if (SH) {
      const T sh = SH[c];
      for (int64_t j = 0; j < d.s; j++) O[o + j] = X[o + j] * sc + sh;
    } else {
      for (int64_t j = 0; j < d.s; j++) O[o + j] = X[o + j] * sc;
    }
  }
}

// fn<T>'s float instantiation compiled for AVX-512, AVX2 and the baseline, chosen by isa().
#if defined(__x86_64__) || defined(__i386__)
#define MG_PER_ISA(name, body, params, args)                                                  \
  __attribute__((target("avx512f,avx512dq"))) void name##_avx512 params { body<float> args; } \
  __attribute__((target("avx2"))) void name##_avx2 params { body<float> args; }               \
  void name##_base params { body<float> args; }                                               \
  void name params {                                                                           \
    switch (isa()) {                                                                           \
      case Isa::Avx512: return name##_avx512 args;                                             \
      case Isa::Avx2: return name##_avx2 args;                                                 \
      default: return name##_base args;                                                        \
    }                                                                                          \
  }
#else
#define MG_PER_ISA(name, body, params, args) \
  void name params { body<float> args; }
#endif

MG_PER_ISA(bn_forward_f32, bn_forward_channels,
           (const float* X, const float* G, const float* B, const ChannelDims& d, double eps, float* Y, float* XH, float* M, float* V, float* R, int64_t c0, int64_t c1),
           (X, G, B, d, eps, Y, XH, M, V, R, c0, c1))
MG_PER_ISA(bn_backward_f32, bn_backward_channels, (const float* G, const float* XH, const float* W, const ChannelDims& d, float* O, float* SG, float* SGX, int64_t c0, int64_t c1),
           (G, XH, W, d, O, SG, SGX, c0, c1))
MG_PER_ISA(bn_pool_forward_f32, bn_pool_forward_channels,
           (const float* X, const float* G, const float* B, const ChannelDims& d, int64_t h, int64_t w, double eps, float* XH, float* P,
            int32_t* I, float* M, float* V, float* R, float* yr, const int32_t* win, const int32_t* at, float* tp, int32_t* ti, int64_t c0,
            int64_t c1),
           (X, G, B, d, h, w, eps, XH, P, I, M, V, R, yr, win, at, tp, ti, c0, c1))
MG_PER_ISA(bn_pool_backward_f32, bn_pool_backward_channels,
           (const float* GP, const float* P, const int32_t* I, const float* XH, const float* W, const ChannelDims& d, int64_t ohw, float* O,
            float* SG, float* SGX, float* gy, int64_t c0, int64_t c1),
           (GP, P, I, XH, W, d, ohw, O, SG, SGX, gy, c0, c1))
MG_PER_ISA(dot_f32, dot_channels, (const float* A, const float* B, const ChannelDims& d, float* O, int64_t c0, int64_t c1), (A, B, d, O, c0, c1))
MG_PER_ISA(affine_f32, affine_rows, (const float* X, const float* S, const float* SH, const ChannelDims& d, float* O, int64_t r0, int64_t r1),
           (X, S, SH, d, O, r0, r1))

// float: the per-ISA build; double: the portable one.
void bn_forward(const float* X, const float* G, const float* B, const ChannelDims& d, double eps, float* Y, float* XH, float* M, float* V, float* R, int64_t c0, int64_t c1) {
  bn_forward_f32(X, G, B, d, eps, Y, XH, M, V, R, c0, c1);
}
void bn_forward(const double* X, const double* G, const double* B, const ChannelDims& d, double eps, double* Y, double* XH, double* M, double* V, double* R, int64_t c0, int64_t c1) {
  bn_forward_channels<double>(X, G, B, d, eps, Y, XH, M, V, R, c0, c1);
}
void bn_backward(const float* G, const float* XH, const float* W, const ChannelDims& d, float* O, float* SG, float* SGX, int64_t c0, int64_t c1) {
  bn_backward_f32(G, XH, W, d, O, SG, SGX, c0, c1);
}
void bn_backward(const double* G, const double* XH, const double* W, const ChannelDims& d, double* O, double* SG, double* SGX, int64_t c0, int64_t c1) {
  bn_backward_channels<double>(G, XH, W, d, O, SG, SGX, c0, c1);
}
void bn_pool_forward(const float* X, const float* G, const float* B, const ChannelDims& d, int64_t h, int64_t w, double eps, float* XH, float* P,
                     int32_t* I, float* M, float* V, float* R, float* yr, const int32_t* win, const int32_t* at, float* tp, int32_t* ti,
                     int64_t c0, int64_t c1) {
  bn_pool_forward_f32(X, G, B, d, h, w, eps, XH, P, I, M, V, R, yr, win, at, tp, ti, c0, c1);
}
void bn_pool_forward(const double* X, const double* G, const double* B, const ChannelDims& d, int64_t h, int64_t w, double eps, double* XH,
                     double* P, int32_t* I, double* M, double* V, double* R, double* yr, const int32_t* win, const int32_t* at, double* tp,
                     int32_t* ti, int64_t c0, int64_t c1) {
  bn_pool_forward_channels<double>(X, G, B, d, h, w, eps, XH, P, I, M, V, R, yr, win, at, tp, ti, c0, c1);
}
void bn_pool_backward(const float* GP, const float* P, const int32_t* I, const float* XH, const float* W, const ChannelDims& d, int64_t ohw,
                      float* O, float* SG, float* SGX, float* gy, int64_t c0, int64_t c1) {
  bn_pool_backward_f32(GP, P, I, XH, W, d, ohw, O, SG, SGX, gy, c0, c1);
}
void bn_pool_backward(const double* GP, const double* P, const int32_t* I, const double* XH, const double* W, const ChannelDims& d,
                      int64_t ohw, double* O, double* SG, double* SGX, double* gy, int64_t c0, int64_t c1) {
  bn_pool_backward_channels<double>(GP, P, I, XH, W, d, ohw, O, SG, SGX, gy, c0, c1);
}
void dot(const float* A, const float* B, const ChannelDims& d, float* O, int64_t c0, int64_t c1) { dot_f32(A, B, d, O, c0, c1); }
void dot(const double* A, const double* B, const ChannelDims& d, double* O, int64_t c0, int64_t c1) { dot_channels<double>(A, B, d, O, c0, c1); }
void affine(const float* X, const float* S, const float* SH, const ChannelDims& d, float* O, int64_t r0, int64_t r1) { affine_f32(X, S, SH, d, O, r0, r1); }
void affine(const double* X, const double* S, const double* SH, const ChannelDims& d, double* O, int64_t r0, int64_t r1) { affine_rows<double>(X, S, SH, d, O, r0, r1); }

}  // namespace

void batch_norm(const Buf& x, const Buf& gamma, const Buf& beta, const ChannelDims& d, double eps, const Buf& y, const Buf& xhat,
                const Buf& mean, const Buf& var, const Buf& rstd) {
  check_channel("batchNorm", d, x.dtype, {&x, &y, &xhat}, {&gamma, &beta, &mean, &var, &rstd});
  if (d.n * d.s == 0) {
    // no values: the statistics of nothing are NaN, as the reference's 0/0
    for (int64_t c = 0; c < d.c; c++)
      for (const Buf* b : {&mean, &var, &rstd}) store_from_double(*b, c, std::nan(""));
    return;
  }
  dispatch(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, int32_t>) {
      return;
    } else {
      const T* X = (const T*)x.data;
      const T* G = (const T*)gamma.data;
      const T* B = (const T*)beta.data;
      T *Y = (T*)y.data, *XH = (T*)xhat.data, *M = (T*)mean.data, *V = (T*)var.data, *R = (T*)rstd.data;
      parallel_range(d.c, channel_chunk(d), [&](int64_t c0, int64_t c1) {
        bn_forward(X, G, B, d, eps, Y, XH, M, V, R, c0, c1);
#if defined(__x86_64__) || defined(__i386__)
        _mm_sfence();  // the streamed x̂ visible before the kernel returns
#endif
      });
    }
  });
}

void batch_norm_backward(const Buf& g, const Buf& xhat, const Buf& w, const ChannelDims& d, const Buf& out, const Buf* sum_g,
                         const Buf* sum_gx) {
  const int64_t total = check_channel("batchNormBackward", d, g.dtype, {&g, &xhat, &out}, {&w});
  if ((sum_g == nullptr) != (sum_gx == nullptr)) throw KernelError("batchNormBackward: the two sums go together");
  if (sum_g) {
    check_buf("batchNormBackward", "sumG", *sum_g, d.c, g.dtype);
    check_buf("batchNormBackward", "sumGX", *sum_gx, d.c, g.dtype);
  }
  dispatch(g.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, int32_t>) {
      const T *G = (const T*)g.data, *XH = (const T*)xhat.data, *W = (const T*)w.data;
      T* O = (T*)out.data;
      T *SG = sum_g ? (T*)sum_g->data : nullptr, *SGX = sum_gx ? (T*)sum_gx->data : nullptr;
      // an empty channel (n·s = 0) still gets its sums, zero
      if (total == 0) {
        if (SG) std::fill(SG, SG + d.c, T(0)), std::fill(SGX, SGX + d.c, T(0));
        return;
      }
      parallel_range(d.c, channel_chunk(d), [&](int64_t c0, int64_t c1) { bn_backward(G, XH, W, d, O, SG, SGX, c0, c1); });
    }
  });
}

// The plane-by-plane AVX-512 kernels (bn_pool_avx512.cc) for rows of 4 windows or more; narrower
// planes fill a vector with windows of many planes by gathers (bn_pool_*_channels), which
// measured faster there (7×7: 0.33 against 0.37 ms)
bool bn_pool_planes_avx512(int64_t w) { return isa() == Isa::Avx512 && w >= 8; }

// [n, c, h·w] with h, w ≥ 2 (at least one window), the pooled planes [n, c, (h/2)·(w/2)]
int64_t check_pool_planes(const char* op, const ChannelDims& d, int64_t h, int64_t w) {
  if (h < 2 || w < 2 || h * w != d.s) throw KernelError(std::string(op) + ": planes " + std::to_string(h) + "x" + std::to_string(w) + " must be at least 2x2 and hold s = " + std::to_string(d.s) + " values");
  return d.n * d.c * (h / 2) * (w / 2);
}

void batch_norm_relu_max_pool(const Buf& x, const Buf& gamma, const Buf& beta, const ChannelDims& d, int64_t h, int64_t w, double eps,
                              const Buf& xhat, const Buf& pooled, const Buf& indices, const Buf& mean, const Buf& var, const Buf& rstd) {
  const char* op = "batchNormReluMaxPool";
  check_channel(op, d, x.dtype, {&x, &xhat}, {&gamma, &beta, &mean, &var, &rstd});
  const int64_t np = check_pool_planes(op, d, h, w);
  check_buf(op, "pooled", pooled, np, x.dtype);
  check_buf(op, "indices", indices, np, I32);
  if (d.n == 0) throw KernelError(std::string(op) + ": batch statistics need values (n = 0)");
  // the windows are addressed by int32 offsets into a channel's n planes
  if (d.n * d.s > INT32_MAX) throw KernelError(std::string(op) + ": a channel of " + std::to_string(d.n * d.s) + " values is past int32 offsets");
  dispatch(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, int32_t>) {
      const T *X = (const T*)x.data, *G = (const T*)gamma.data, *B = (const T*)beta.data;
      T *XH = (T*)xhat.data, *P = (T*)pooled.data, *M = (T*)mean.data, *V = (T*)var.data, *R = (T*)rstd.data;
      int32_t* I = (int32_t*)indices.data;
#if defined(__x86_64__) || defined(__i386__)
      if constexpr (std::is_same_v<T, float>)
        if (bn_pool_planes_avx512(w)) {
          const bool stream = stream_xhat(d);
          parallel_range(d.c, channel_chunk(d), [&](int64_t c0, int64_t c1) {
            // per-thread scratch for one plane's y, kept between calls
            bn_pool_forward_avx512(X, G, B, d, h, w, eps, stream, XH, P, I, M, V, R, conv_scratch<float, 4>(d.s + 32), c0, c1);
            _mm_sfence();  // the streamed x̂ visible before the kernel returns
          });
          return;
        }
#endif
      // each window's top-left in its plane (at) and in a channel's n planes laid end to end (win)
      const int64_t ohw = (h / 2) * (w / 2);
      std::vector<int32_t> at(d.n * ohw), win(d.n * ohw);
      for (int64_t n = 0; n < d.n; n++)
        for (int64_t oy = 0; oy < h / 2; oy++)
          for (int64_t ox = 0; ox < w / 2; ox++) {
            const int64_t k = n * ohw + oy * (w / 2) + ox;
            at[k] = (int32_t)(2 * oy * w + 2 * ox);
            win[k] = (int32_t)(n * d.s) + at[k];
          }
      parallel_range(d.c, channel_chunk(d), [&](int64_t c0, int64_t c1) {
        // per-thread scratch, kept between calls (a fresh allocation this size costs page faults)
        T* yr = conv_scratch<T, 4>(d.n * d.s);
        T* tp = conv_scratch<T, 5>(d.n * ohw);
        int32_t* ti = conv_scratch<int32_t, 6>(d.n * ohw);
        bn_pool_forward(X, G, B, d, h, w, eps, XH, P, I, M, V, R, yr, win.data(), at.data(), tp, ti, c0, c1);
#if defined(__x86_64__) || defined(__i386__)
        _mm_sfence();  // the streamed x̂ visible before the kernel returns
#endif
      });
    }
  });
}

void batch_norm_relu_max_pool_backward(const Buf& gp, const Buf& pooled, const Buf& indices, const Buf& xhat, const Buf& wv,
                                       const ChannelDims& d, int64_t h, int64_t w, const Buf& out, const Buf& sum_g, const Buf& sum_gx) {
  const char* op = "batchNormReluMaxPoolBackward";
  check_channel(op, d, xhat.dtype, {&xhat, &out}, {&wv, &sum_g, &sum_gx});
  const int64_t np = check_pool_planes(op, d, h, w), ohw = (h / 2) * (w / 2);
  check_buf(op, "pooled gradient", gp, np, xhat.dtype);
  check_buf(op, "pooled", pooled, np, xhat.dtype);
  check_buf(op, "indices", indices, np, I32);
  const int32_t* I = (const int32_t*)indices.data;
  // every index inside its plane before anything is written (the range first: a loop that vectorizes)
  int32_t lo = 0, hi = 0;
  for (int64_t i = 0; i < np; i++) lo = std::min(lo, I[i]), hi = std::max(hi, I[i]);
  if (lo < 0 || hi >= d.s)
    for (int64_t i = 0; i < np; i++)
      if (I[i] < 0 || I[i] >= d.s) throw KernelError(std::string(op) + ": index " + std::to_string(I[i]) + " outside the plane of " + std::to_string(d.s));
  dispatch(xhat.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, int32_t>) {
      const T *GP = (const T*)gp.data, *P = (const T*)pooled.data, *XH = (const T*)xhat.data, *W = (const T*)wv.data;
      T *O = (T*)out.data, *SG = (T*)sum_g.data, *SGX = (T*)sum_gx.data;
      parallel_range(d.c, channel_chunk(d), [&](int64_t c0, int64_t c1) {
#if defined(__x86_64__) || defined(__i386__)
        if constexpr (std::is_same_v<T, float>)
          if (bn_pool_planes_avx512(w)) return bn_pool_backward_avx512(GP, P, I, XH, W, d, h, w, O, SG, SGX, conv_scratch<float, 4>(d.n * d.s), c0, c1);
#endif
        bn_pool_backward(GP, P, I, XH, W, d, ohw, O, SG, SGX, conv_scratch<T, 4>(d.n * d.s), c0, c1);
      });
    }
  });
}

void channel_affine(const Buf& x, const Buf& scale, const Buf* shift, const ChannelDims& d, const Buf& out) {
  const int64_t total = check_channel("channelAffine", d, x.dtype, {&x, &out}, {&scale});
  if (shift) check_buf("channelAffine", "shift", *shift, d.c, x.dtype);
  if (total == 0) return;
  dispatch(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, int32_t>) {
      const T *X = (const T*)x.data, *S = (const T*)scale.data, *SH = shift ? (const T*)shift->data : nullptr;
      T* O = (T*)out.data;
      // rows of s elements, (n, c) in order
      parallel_range(d.n * d.c, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, d.s)), [&](int64_t r0, int64_t r1) { affine(X, S, SH, d, O, r0, r1); });
    }
  });
}

void channel_dot(const Buf& a, const Buf& b, const ChannelDims& d, const Buf& out) {
  check_channel("channelDot", d, a.dtype, {&a, &b}, {&out});
  dispatch(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, int32_t>) {
      const T *A = (const T*)a.data, *B = (const T*)b.data;
      T* O = (T*)out.data;
      parallel_range(d.c, channel_chunk(d), [&](int64_t c0, int64_t c1) { dot(A, B, d, O, c0, c1); });
    }
  });
}

}  // namespace mg
