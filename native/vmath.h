// Vectorized float math for the hot elementwise paths (exp, and what is built on it).
#pragma once
#include <cstdint>

namespace mg {

// o[i] = exp(x[i]) for contiguous arrays (o may equal x); within ~2 ulp of expf, NaN and
// ±inf handled, subnormal results kept. Uses the widest SIMD the CPU has.
void exp_f32(const float* x, float* o, int64_t n);

// o[i] = tanh(x[i]) (o may equal x): Cephes' polynomial below |x| = 0.625, else
// 1 - 2/(exp(2|x|) + 1) with the vectorized exp; a few ulp, NaN kept.
void tanh_f32(const float* x, float* o, int64_t n);

// max (isMax) or min of x[0..n), n > 0, as the js reference folds it: a NaN anywhere gives NaN.
float minmax_f32(const float* x, int64_t n, bool isMax);

// Σ x[0..n) accumulated in double (the reductions' rule), vectorized; NaN and ±inf propagate.
double sum_f32(const float* x, int64_t n);

// The portable Σ in double: eight partial sums (sum_f32's fallback; the float64 reductions).
template <typename T>
inline double sum_portable(const T* x, int64_t n) {
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int q = 0; q < 8; q++) part[q] += (double)x[j + q];
  double t = 0;
  for (; j < n; j++) t += (double)x[j];
  return (((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]))) + t;
}

}  // namespace mg
