// Batched matmul, conv2d (forward and both transposes), max pooling, gather/scatter, random.
#pragma once
#include "common.h"

namespace mg {

struct MatArg {
  Buf buf;
  int64_t offset, batchStride, rowStride, colStride;
};
void matmul(const MatArg& a, const MatArg& b, int64_t batch, int64_t m, int64_t n, int64_t k, const Buf& out);

struct ConvGeom {
  int64_t n, cIn, h, w, cOut, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, groups;
};
void conv2d(const Buf& x, const Buf& w, const ConvGeom& g, const Buf& y);
void conv2d_backward_input(const Buf& dy, const Buf& w, const ConvGeom& g, const Buf& dx);
void conv2d_backward_filter(const Buf& x, const Buf& dy, const ConvGeom& g, const Buf& dw);

struct PoolGeom {
  int64_t planes, h, w, kh, kw, oh, ow, sh, sw, ph, pw;
};
void max_pool2d(const Buf& x, const PoolGeom& g, const Buf& values, const Buf& indices);

void max_pool2d_backward(const Buf& dy, const Buf& indices, const PoolGeom& g, const Buf& dx);

// Per-channel kernels (channel.cc) over contiguous [n, c, s].
struct ChannelDims {
  int64_t n, c, s;
};
void batch_norm(const Buf& x, const Buf& gamma, const Buf& beta, const ChannelDims& d, double eps, const Buf& y, const Buf& xhat,
                const Buf& mean, const Buf& var, const Buf& rstd);
void batch_norm_backward(const Buf& g, const Buf& xhat, const Buf& w, const ChannelDims& d, const Buf& out);
void channel_affine(const Buf& x, const Buf& scale, const Buf* shift, const ChannelDims& d, const Buf& out);
void channel_dot(const Buf& a, const Buf& b, const ChannelDims& d, const Buf& out);

void gather(const View& x, const View& idx, int axis, const Buf& out);
void scatter_add(const View& updates, const View& idx, int axis, const std::vector<int64_t>& outShape, const Buf& out);

void random_fill(int kind, uint32_t k0, uint32_t k1, double counter, const Buf& out);

}  // namespace mg
