// The fused batch norm + ReLU + 2×2 max-pool and its backward for float32 on AVX-512, plane by
// plane with contiguous vector loads (bn_pool_avx512.cc); channel.cc calls them for channels
// [c0, c1) when isa() is AVX-512 and runs its portable per-channel bodies otherwise.
#pragma once
#include "channel.h"

namespace mg {

// x̂ [n, c, h·w] (streamed past the caches when `stream`), the pooled ReLU values P and their
// argmax I [n, c, (h/2)·(w/2)], the statistics M, V, R [c]. ys: scratch of h·w + 32 floats.
void bn_pool_forward_avx512(const float* X, const float* G, const float* B, const ChannelDims& d, int64_t h, int64_t w, double eps, bool stream,
                            float* XH, float* P, int32_t* I, float* M, float* V, float* R, float* ys, int64_t c0, int64_t c1);
// dx O [n, c, h·w] and the sums SG, SGX [c] from the pooled gradient GP; gy: scratch of n·h·w floats.
// Indices must lie in their plane (the caller checks); one outside its own window is scattered
// as the reference does (the plane then goes the slow way).
void bn_pool_backward_avx512(const float* GP, const float* P, const int32_t* I, const float* XH, const float* W, const ChannelDims& d,
                             int64_t h, int64_t w, float* O, float* SG, float* SGX, float* gy, int64_t c0, int64_t c1);

}  // namespace mg
