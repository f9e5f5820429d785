// Per-channel kernels over contiguous [n, c, s] tensors (channels on axis 1, s = the
// product of the trailing dims): batch-norm statistics and normalization, its input
// gradient, a per-channel affine map and a per-channel dot product. Channels run in
// parallel; each channel's sums accumulate in double (as the js reference does), row by
// row with eight independent float partial sums so the inner loops vectorize.
#include <cstdint>
#include <initializer_list>
#include <type_traits>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "channel.h"
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

// The per-channel bodies, inlined into one wrapper per ISA below (the portable build is
// baseline x86-64; inside a target("avx512f") wrapper the same loops vectorize 16 wide).
template <typename T>
MG_INLINE void bn_forward_channels(const T* X, const T* G, const T* B, const ChannelDims& d, double eps, T* Y, T* XH, T* M, T* V, T* R,
                                   int64_t c0, int64_t c1) {
  const double count = (double)(d.n * d.s);
  [[maybe_unused]] const bool stream = d.s % 16 == 0 && d.n * d.c * d.s >= (1 << 20);
  for (int64_t c = c0; c < c1; c++) {
    double s1 = 0, unused = 0;
    channel_sums<T>(X, nullptr, d, c, s1, unused);
    const double mu = s1 / count;
    double sq = 0;
    for (int64_t n = 0; n < d.n; n++) sq += row_centred_squares<T>(X + (n * d.c + c) * d.s, d.s, (T)mu);
    const double v = sq / count, r = 1.0 / std::sqrt(v + eps);
    const T tmu = (T)mu, tr = (T)r, g = G[c], b = B[c];
    for (int64_t n = 0; n < d.n; n++) {
      const int64_t o = (n * d.c + c) * d.s;
      int64_t j = 0;
#if defined(__x86_64__) || defined(__i386__)
      // x̂ is read again only in the backward, long after: streaming stores keep it out of the
      // caches and skip reading its lines in first (a third of this kernel's memory traffic).
      // Only whole cache lines per row (s a multiple of 16) and a tensor well past L2: partial
      // lines stream slowly (7×7 planes ran 5× slower)
      if constexpr (std::is_same_v<T, float>) if (stream) {
        for (; j < d.s && ((uintptr_t)(XH + o + j) & 15); j++) {
          const T xh = (X[o + j] - tmu) * tr;
          XH[o + j] = xh;
          Y[o + j] = xh * g + b;
        }
        const __m128 vm = _mm_set1_ps(tmu), vr = _mm_set1_ps(tr), vg = _mm_set1_ps(g), vb = _mm_set1_ps(b);
        for (; j + 4 <= d.s; j += 4) {
          const __m128 xh = _mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(X + o + j), vm), vr);
          _mm_stream_ps(XH + o + j, xh);
          _mm_storeu_ps(Y + o + j, _mm_add_ps(_mm_mul_ps(xh, vg), vb));
        }
      }
#endif
      for (; j < d.s; j++) {
        T xh = (X[o + j] - tmu) * tr;
        XH[o + j] = xh;
        Y[o + j] = xh * g + b;
      }
    }
    M[c] = (T)mu;
    V[c] = (T)v;
    R[c] = (T)r;
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
