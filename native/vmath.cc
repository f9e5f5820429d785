// exp for float arrays: Cephes-style range reduction x = n·ln2 + r, a degree-6 polynomial
// for e^r, and 2^n applied in two halves (so subnormal results and overflow to inf come
// out right). AVX-512 and AVX2 versions in intrinsics, a scalar one for other CPUs, picked
// at run time (see simd.h).
#include "vmath.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "simd.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace mg {

namespace {

inline __attribute__((always_inline)) float pow2i(int32_t e) {
  int32_t bits = (e + 127) << 23;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline __attribute__((always_inline)) float exp_one(float x) {
  const float LOG2E = 1.44269504088896341f, C1 = 0.693359375f, C2 = -2.12194440e-4f;
  // clamp keeps n in [-150, 128]; NaN is restored at the end
  float xc = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : x);
  float t = xc * LOG2E;
  int32_t n = (int32_t)(t + (t >= 0 ? 0.5f : -0.5f));
  float fn = (float)n;
  float r = xc - fn * C1 - fn * C2;
  float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.0f;
  int32_t h = n >> 1;
  float y = p * pow2i(h) * pow2i(n - h);
  return x != x ? x : y;
}

void tanh_scalar(const float* x, float* o, int64_t n) {
  // chunks keep the exp(2|x|) scratch in L1 and allow o == x
  constexpr int64_t CH = 1024;
  float e[CH];
  for (int64_t c0 = 0; c0 < n; c0 += CH) {
    int64_t len = n - c0 < CH ? n - c0 : CH;
    const float* xs = x + c0;
    for (int64_t j = 0; j < len; j++) e[j] = 2.0f * std::fabs(xs[j]);
    exp_f32(e, e, len);
    for (int64_t j = 0; j < len; j++) {
      float v = xs[j], a = std::fabs(v);
      float big = 1.0f - 2.0f / (e[j] + 1.0f);
      float z = v * v;
      float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z -
                     3.33332819422e-1f) * z * v + v;
      o[c0 + j] = a < 0.625f ? small : std::copysign(big, v);
    }
  }
}


void exp_scalar(const float* x, float* o, int64_t n) {
  for (int64_t i = 0; i < n; i++) o[i] = exp_one(x[i]);
}

#if defined(__x86_64__) || defined(__i386__)
// The same algorithm in intrinsics (the compiler will not if-convert the scalar form).
__attribute__((target("avx2,fma"))) inline __m256 exp8(__m256 v) {
  const __m256 xc = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-104.0f)), _mm256_set1_ps(89.0f));
  __m256 fn = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(fn, _mm256_set1_ps(-2.12194440e-4f), _mm256_fnmadd_ps(fn, _mm256_set1_ps(0.693359375f), xc));
  __m256 z = _mm256_mul_ps(r, r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_add_ps(_mm256_fmadd_ps(p, z, r), _mm256_set1_ps(1.0f));
  const __m256i bias = _mm256_set1_epi32(127);
  __m256i ni = _mm256_cvtps_epi32(fn), h = _mm256_srai_epi32(ni, 1);
  __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, bias), 23));
  __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, h), bias), 23));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  return _mm256_blendv_ps(y, v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}

__attribute__((target("avx512f,fma"))) inline __m512 exp16(__m512 v) {
  const __m512 xc = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
  __m512 fn = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(fn, _mm512_set1_ps(-2.12194440e-4f), _mm512_fnmadd_ps(fn, _mm512_set1_ps(0.693359375f), xc));
  __m512 z = _mm512_mul_ps(r, r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_add_ps(_mm512_fmadd_ps(p, z, r), _mm512_set1_ps(1.0f));
  const __m512i bias = _mm512_set1_epi32(127);
  __m512i ni = _mm512_cvtps_epi32(fn), h = _mm512_srai_epi32(ni, 1);
  __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(h, bias), 23));
  __m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(ni, h), bias), 23));
  __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, s1), s2);
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), y, v);
}

__attribute__((target("avx2,fma"))) void exp_avx2(const float* x, float* o, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(o + i, exp8(_mm256_loadu_ps(x + i)));
  for (; i < n; i++) o[i] = exp_one(x[i]);
}

__attribute__((target("avx512f,fma"))) void exp_avx512(const float* x, float* o, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(o + i, exp16(_mm512_loadu_ps(x + i)));
  for (; i < n; i++) o[i] = exp_one(x[i]);
}

// tanh: Cephes' odd polynomial below |x| = 0.625, else 1 - 2/(exp(2|x|) + 1); sign restored.
__attribute__((target("avx2,fma"))) void tanh_avx2(const float* x, float* o, int64_t n) {
  const __m256 signbit = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i), a = _mm256_andnot_ps(signbit, v);
    __m256 e = exp8(_mm256_mul_ps(two, a));
    __m256 big = _mm256_or_ps(_mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(e, one))), _mm256_and_ps(signbit, v));
    __m256 z = _mm256_mul_ps(v, v);
    __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), v, v);
    _mm256_storeu_ps(o + i, _mm256_blendv_ps(big, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.625f), _CMP_LT_OQ)));
  }
  if (i < n) tanh_scalar(x + i, o + i, n - i);
}

__attribute__((target("avx512f,avx512dq,fma"))) void tanh_avx512(const float* x, float* o, int64_t n) {
  const __m512 signbit = _mm512_set1_ps(-0.0f), one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_loadu_ps(x + i), a = _mm512_andnot_ps(signbit, v);
    __m512 e = exp16(_mm512_mul_ps(two, a));
    __m512 big = _mm512_or_ps(_mm512_sub_ps(one, _mm512_div_ps(two, _mm512_add_ps(e, one))), _mm512_and_ps(signbit, v));
    __m512 z = _mm512_mul_ps(v, v);
    __m512 p = _mm512_set1_ps(-5.70498872745e-3f);
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036e-1f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422e-1f));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), v, v);
    _mm512_storeu_ps(o + i, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(0.625f), _CMP_LT_OQ), big, small));
  }
  if (i < n) tanh_scalar(x + i, o + i, n - i);
}
#endif

float minmax_scalar(const float* x, int64_t n, bool isMax) {
  float acc = x[0];
  bool nan = false;
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    nan |= v != v;
    if (isMax ? v > acc : v < acc) acc = v;
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : acc;
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f"))) float minmax_avx512(const float* x, int64_t n, bool isMax) {
  if (n < 16) return minmax_scalar(x, n, isMax);
  __m512 acc = _mm512_loadu_ps(x);
  __mmask16 nan = 0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_loadu_ps(x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    acc = isMax ? _mm512_max_ps(acc, v) : _mm512_min_ps(acc, v);
  }
  if (nan) return std::numeric_limits<float>::quiet_NaN();
  float r = isMax ? _mm512_reduce_max_ps(acc) : _mm512_reduce_min_ps(acc);
  if (i < n) {
    float t = minmax_scalar(x + i, n - i, isMax);
    if (t != t) return t;
    r = isMax ? (t > r ? t : r) : (t < r ? t : r);
  }
  return r;
}

__attribute__((target("avx2"))) float minmax_avx2(const float* x, int64_t n, bool isMax) {
  if (n < 8) return minmax_scalar(x, n, isMax);
  __m256 acc = _mm256_loadu_ps(x), nan = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    acc = isMax ? _mm256_max_ps(acc, v) : _mm256_min_ps(acc, v);
  }
  if (_mm256_movemask_ps(nan)) return std::numeric_limits<float>::quiet_NaN();
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc);
  float r = minmax_scalar(lanes, 8, isMax);
  if (i < n) {
    float t = minmax_scalar(x + i, n - i, isMax);
    if (t != t) return t;
    r = isMax ? (t > r ? t : r) : (t < r ? t : r);
  }
  return r;
}

// Σ x[i] in double: four accumulators of 8 doubles (16 floats converted per half-step).
__attribute__((target("avx512f"))) double sum_avx512(const float* x, int64_t n) {
  __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm512_add_pd(a0, _mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
    a1 = _mm512_add_pd(a1, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8)));
    a2 = _mm512_add_pd(a2, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 16)));
    a3 = _mm512_add_pd(a3, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 24)));
  }
  for (; i + 8 <= n; i += 8) a0 = _mm512_add_pd(a0, _mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
  double t = _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)));
  for (; i < n; i++) t += (double)x[i];
  return t;
}

__attribute__((target("avx2"))) double sum_avx2(const float* x, int64_t n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm_loadu_ps(x + i)));
    a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)));
    a2 = _mm256_add_pd(a2, _mm256_cvtps_pd(_mm_loadu_ps(x + i + 8)));
    a3 = _mm256_add_pd(a3, _mm256_cvtps_pd(_mm_loadu_ps(x + i + 12)));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
  double t = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; i < n; i++) t += (double)x[i];
  return t;
}
#endif

}  // namespace

double sum_f32(const float* x, int64_t n) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa()) {
    case Isa::Avx512: return sum_avx512(x, n);
    case Isa::Avx2: return sum_avx2(x, n);
    default: break;
  }
#endif
  return sum_portable(x, n);
}

void exp_f32(const float* x, float* o, int64_t n) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa()) {
    case Isa::Avx512: return exp_avx512(x, o, n);
    case Isa::Avx2: return exp_avx2(x, o, n);
    default: break;
  }
#endif
  exp_scalar(x, o, n);
}

void tanh_f32(const float* x, float* o, int64_t n) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa()) {
    case Isa::Avx512: return tanh_avx512(x, o, n);
    case Isa::Avx2: return tanh_avx2(x, o, n);
    default: break;
  }
#endif
  tanh_scalar(x, o, n);
}

float minmax_f32(const float* x, int64_t n, bool isMax) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa()) {
    case Isa::Avx512: return minmax_avx512(x, n, isMax);
    case Isa::Avx2: return minmax_avx2(x, n, isMax);
    default: break;
  }
#endif
  return minmax_scalar(x, n, isMax);
}

}  // namespace mg
