// Batched matmul, Cholesky and triangular solves, conv2d (forward and both transposes), max pooling, gather/scatter, random.
#pragma once
#include "common.h"

namespace mg {

struct MatArg {
  Buf buf;
  int64_t offset, batchStride, rowStride, colStride;
};
// Reject a batch-of-matrices view that would reach outside its buffer.
inline void check_mat(const char* op, const char* what, const MatArg& a, int64_t batch, int64_t rows, int64_t cols) {
  View v;
  v.buf = a.buf;
  v.rank = 3;
  v.shape[0] = batch; v.shape[1] = rows; v.shape[2] = cols;
  v.strides[0] = a.batchStride; v.strides[1] = a.rowStride; v.strides[2] = a.colStride;
  v.offset = a.offset;
  v.check(op, what);
}
void matmul(const MatArg& a, const MatArg& b, int64_t batch, int64_t m, int64_t n, int64_t k, const Buf& out);

// Lower Cholesky factors of a batch of n×n matrices (lower triangle read); info[b] = 0 or
// the 1-based order of the first leading minor that is not positive (factor NaN-filled).
void cholesky(const MatArg& a, int64_t batch, int64_t n, const Buf& factor, const Buf& info);
// X = T^-1 B for triangular n×n T (its lower or upper triangle read) and n×m B.
void triangular_solve(const MatArg& t, const MatArg& b, int64_t batch, int64_t n, int64_t m, bool lower, const Buf& out);

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
