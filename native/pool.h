// 2-D max pooling over a stack of planes and its backward scatter (pool.cc).
#pragma once
#include "common.h"

namespace mg {

struct PoolGeom {
  int64_t planes, h, w, kh, kw, oh, ow, sh, sw, ph, pw;
};
// a pooling window's "v beats the best so far": the first maximum wins, a NaN beats any number
// (NaN propagates; once the best is NaN nothing replaces it)
template <typename T>
inline bool beats(T v, T best) {
  return v > best || (v != v && best == best);
}

void max_pool2d(const Buf& x, const PoolGeom& g, const Buf& values, const Buf& indices);

void max_pool2d_backward(const Buf& dy, const Buf& indices, const PoolGeom& g, const Buf& dx);

}  // namespace mg
