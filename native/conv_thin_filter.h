// The filter gradient of a stride-1 3×3 float convolution with few input channels per group
// (1–3: a network's first layer), as row dot products instead of a GEMM (conv_thin_filter.cc).
#pragma once
#include "conv.h"

namespace mg {

// Whether this CPU (AVX-512 or AVX2) and geometry (float32 assumed by the caller; stride 1,
// undilated, a 3×3 kernel, padding 0–2, 1–3 input channels per group) take the kernel.
bool conv_thin_filter_applies(const ConvGeom& g);
// DW [cOut][cig][3][3]; DB: null, or [cOut] that gets Σ dY per output channel on the way
void conv_thin_filter(const float* X, const float* DY, const ConvGeom& g, float* DW, float* DB);

}  // namespace mg
