// conv2d over NCHW tensors: the forward convolution and both of its transposes (conv.cc).
#pragma once
#include "common.h"

namespace mg {

struct ConvGeom {
  int64_t n, cIn, h, w, cOut, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, groups;
};
// bias (may be null): [cOut], added to every output plane of its channel
void conv2d(const Buf& x, const Buf& w, const ConvGeom& g, const Buf& y, const Buf* bias = nullptr);
void conv2d_backward_input(const Buf& dy, const Buf& w, const ConvGeom& g, const Buf& dx);
// db (may be null): [cOut], gets Σ dy per output channel (a conv bias's gradient) on the way
void conv2d_backward_filter(const Buf& x, const Buf& dy, const ConvGeom& g, const Buf& dw, const Buf* db = nullptr);

// Which of the three take the direct kernels (conv_direct.cc; the filter gradient also
// conv_thin_filter.cc) for a float32 geometry on this CPU: for the tests that must know they
// exercised them.
// winogradForward / winogradInput / winogradFilter: whether they take Winograd (conv_winograd.cc) first.
struct ConvDirectPaths {
  bool forward, input, filter, winogradForward, winogradInput, winogradFilter;
};
ConvDirectPaths conv_direct_paths(const ConvGeom& g);
// Winograd on or off for this process (METAGRAD_CONV_WINOGRAD=0 starts it off): for the tests
// that check the direct kernels on the shapes Winograd would take.
void set_conv_winograd(bool on);

// One output row of a forward conv out of a kernel's block: copied, plus the channel's bias
// when there is one (added here, while the block is in cache, not in a pass of its own; no
// bias is a plain copy, so a -0 stays -0).
template <typename T>
inline void put_row(const T* src, int64_t len, T* dst, const T* bias, int64_t channel) {
  if (!bias) {
    for (int64_t i = 0; i < len; i++) dst[i] = src[i];
    return;
  }
  const T b = bias[channel];
  for (int64_t i = 0; i < len; i++) dst[i] = src[i] + b;
}

}  // namespace mg
