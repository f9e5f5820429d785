// Stride-1 float convolutions that read the zero-padded input in place instead of unfolding
// it (conv_direct.cc); conv.cc takes them where they apply.
#pragma once
#include "conv.h"

namespace mg {

// Whether this CPU (AVX-512 or AVX2) and geometry (stride 1, undilated, padding under the kernel
// size, enough real columns in the padded layout or, for the forward on AVX-512, a batch of
// small planes that fills the image lanes; the forward needs 8+ input channels per group, the
// filter gradient a multiple of 16 output channels per group, at most 64) take the direct kernels.
bool conv_direct_forward_applies(const ConvGeom& g);
bool conv_direct_filter_applies(const ConvGeom& g);
// bias: null, or [cOut] added to each output plane as it is written
void conv_direct_forward(const float* X, const float* W, const ConvGeom& g, float* Y, const float* bias = nullptr);
// DB: null, or [cOut] that gets Σ dY per output channel (a conv bias's gradient) on the way
void conv_direct_filter(const float* X, const float* DY, const ConvGeom& g, float* DW, float* DB = nullptr);

}  // namespace mg
