// Cache-blocked GEMM: C[M×N] = A[M×K] · B[K×N] (C row-major with leading dimension ldc),
// or C += A·B with accumulate; A and B read through arbitrary row/column strides (transposed operands are packed in place).
#pragma once
#include <cstdint>

namespace mg {

template <typename T>
void gemm(int64_t M, int64_t N, int64_t K, const T* A, int64_t rsA, int64_t csA, const T* B, int64_t rsB,
          int64_t csB, T* C, int64_t ldc, bool parallel, bool accumulate = false);

// B packed ahead by the caller (a conv packs its unfolded image straight into this layout):
// ceil(N / nr) slivers one after another, sliver s holding K rows of nr values (columns past
// N zero), row p of sliver s at Bp + (s·K + p)·nr. nr is gemm_nr<T>(M) on this CPU.
template <typename T>
int gemm_nr(int64_t M);
template <typename T>
void gemm_packed_b(int64_t M, int64_t N, int64_t K, const T* A, int64_t rsA, int64_t csA, const T* Bp, T* C,
                   int64_t ldc, bool parallel, bool accumulate = false);

// Cache block sizes (for tuning; <= 0 keeps the current value).
void gemm_tune(int64_t kc, int64_t mc, int64_t nc);

}  // namespace mg
