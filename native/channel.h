// Per-channel kernels over contiguous [n, c, s]: batch norm, its backward, affine, dot (channel.cc).
#pragma once
#include "common.h"

namespace mg {

struct ChannelDims {
  int64_t n, c, s;
};
void batch_norm(const Buf& x, const Buf& gamma, const Buf& beta, const ChannelDims& d, double eps, const Buf& y, const Buf& xhat,
                const Buf& mean, const Buf& var, const Buf& rstd);
// sum_g, sum_gx (both or neither, [c]): Σg and Σg·x̂ per channel, computed on the way
void batch_norm_backward(const Buf& g, const Buf& xhat, const Buf& w, const ChannelDims& d, const Buf& out, const Buf* sum_g = nullptr,
                         const Buf* sum_gx = nullptr);
void channel_affine(const Buf& x, const Buf& scale, const Buf* shift, const ChannelDims& d, const Buf& out);
void channel_dot(const Buf& a, const Buf& b, const ChannelDims& d, const Buf& out);

}  // namespace mg
