// conv2d over NCHW tensors: the forward convolution and both of its transposes (conv.cc).
#pragma once
#include "common.h"

namespace mg {

struct ConvGeom {
  int64_t n, cIn, h, w, cOut, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, groups;
};
void conv2d(const Buf& x, const Buf& w, const ConvGeom& g, const Buf& y);
void conv2d_backward_input(const Buf& dy, const Buf& w, const ConvGeom& g, const Buf& dx);
void conv2d_backward_filter(const Buf& x, const Buf& dy, const ConvGeom& g, const Buf& dw);

// Which of the three take the direct kernels (conv_direct.cc) for a float32 geometry on this
// CPU: for the tests that must know they exercised them.
struct ConvDirectPaths {
  bool forward, input, filter;
};
ConvDirectPaths conv_direct_paths(const ConvGeom& g);

}  // namespace mg
