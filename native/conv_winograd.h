// Winograd F(2×2, 3×3) for the 3×3, stride-1, padding-1 float convolutions of meta-learning's
// conv nets (conv_winograd.cc); conv.cc takes it, for the forward, the input gradient (through
// the flipped filter) and the filter gradient, where it applies.
#pragma once
#include "conv.h"

namespace mg {

// AVX-512, a 3×3 kernel at stride 1, undilated, padding 1 on both axes, each group's input and
// output channels multiples of 16 (groups run one after another: the task-batched inner loop's
// one group per task), and planes of 4×4 or more (a 3×3 plane's four tiles hold 16 outputs for
// 9: measured slower than the direct kernels, at n 75 on an AMD EPYC).
bool conv_winograd_applies(const ConvGeom& g);
// Y = conv(X, W) + bias (bias: null or [cOut]). Returns false, with Y partly written, when an
// input or weight is not finite: the transforms would turn an infinity into NaN and spread a
// NaN over a whole tile, so the caller recomputes Y on a direct path, which writes all of it.
bool conv_winograd_forward(const float* X, const float* W, const ConvGeom& g, float* Y, const float* bias = nullptr);

// dW = the filter gradient (DB: null, or [cOut] that gets Σ dY per output channel). Returns
// false, with nothing written, when an input or output gradient is not finite.
bool conv_winograd_filter(const float* X, const float* DY, const ConvGeom& g, float* DW, float* DB = nullptr);

}  // namespace mg
