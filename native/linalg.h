// Linear algebra on batches of matrices read in place: matmul, Cholesky, triangular solves.
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

}  // namespace mg
