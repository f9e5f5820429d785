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
// Batch norm, then ReLU of the 2×2 stride-2 max-pool of y, over [n, c, h·w] (s = h·w): x̂, the
// statistics, the pooled values [n, c, (h/2)·(w/2)] and their argmax in each plane (int32)
void batch_norm_relu_max_pool(const Buf& x, const Buf& gamma, const Buf& beta, const ChannelDims& d, int64_t h, int64_t w, double eps,
                              const Buf& xhat, const Buf& pooled, const Buf& indices, const Buf& mean, const Buf& var, const Buf& rstd);
// Its input gradient from the pooled gradient (w = rstd·γ) and the sums Σgy, Σgy·x̂ per channel
void batch_norm_relu_max_pool_backward(const Buf& gp, const Buf& pooled, const Buf& indices, const Buf& xhat, const Buf& w,
                                       const ChannelDims& d, int64_t h, int64_t w_, const Buf& out, const Buf& sum_g, const Buf& sum_gx);
void channel_affine(const Buf& x, const Buf& scale, const Buf* shift, const ChannelDims& d, const Buf& out);
void channel_dot(const Buf& a, const Buf& b, const ChannelDims& d, const Buf& out);

}  // namespace mg
