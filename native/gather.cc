// Take-along-axis gather and its transpose, scatter-add. Every index is bounds-checked
// (a bad index is an exception, never a stray read or write).
#include "gather.h"
#include "threadpool.h"

namespace mg {

static void check_index_view(const char* op, const View& x, const View& idx, int axis) {
  if (axis < 0 || axis >= idx.rank) throw KernelError(std::string(op) + ": axis out of range");
  if (x.rank != idx.rank) throw KernelError(std::string(op) + ": index rank differs from the data's");
  for (int d = 0; d < x.rank; d++)
    if (d != axis && x.shape[d] != idx.shape[d]) throw KernelError(std::string(op) + ": index shape differs from the data's off the axis");
  if (idx.buf.dtype != I32) throw KernelError(std::string(op) + ": indices must be int32");
}

void gather(const View& x, const View& idx, int axis, const Buf& out) {
  x.check("gather", "x");
  idx.check("gather", "indices");
  check_index_view("gather", x, idx, axis);
  int64_t n = idx.numel();
  if (out.len < n || out.dtype != x.buf.dtype) throw KernelError("gather: bad output buffer");
  if (n == 0) return;
  // walk the output; x's offset along `axis` comes from the index instead of the position
  int64_t xs[MAX_RANK];
  for (int d = 0; d < x.rank; d++) xs[d] = d == axis ? 0 : x.strides[d];
  const int64_t* st[2] = {idx.strides, xs};
  StridedIter<2> it(idx.rank, idx.shape, st);
  int64_t base[2] = {idx.offset, x.offset};
  const int32_t* I = (const int32_t*)idx.buf.data;
  const int64_t lim = x.shape[axis], as = x.strides[axis];
  size_t es = dsize(out.dtype);
  parallel_range(n, 1 << 15, [&](int64_t e0, int64_t e1) {
    it.run(base, e0, e1, [&](const int64_t* o, int64_t len, const int64_t* is, int64_t pos) {
      for (int64_t j = 0; j < len; j++) {
        int64_t k = I[o[0] + j * is[0]];
        if (k < 0 || k >= lim) throw KernelError("gather: index " + std::to_string(k) + " out of range [0, " + std::to_string(lim) + ")");
        int64_t src = o[1] + j * is[1] + k * as;
        if (es == 8) ((double*)out.data)[pos + j] = ((const double*)x.buf.data)[src];
        else ((int32_t*)out.data)[pos + j] = ((const int32_t*)x.buf.data)[src];
      }
    });
  });
}

void scatter_add(const View& updates, const View& idx, int axis, const std::vector<int64_t>& outShape, const Buf& out) {
  updates.check("scatterAdd", "updates");
  idx.check("scatterAdd", "indices");
  if ((int)outShape.size() != updates.rank) throw KernelError("scatterAdd: output rank differs from the updates'");
  if (axis < 0 || axis >= updates.rank) throw KernelError("scatterAdd: axis out of range");
  if (idx.rank != updates.rank || idx.buf.dtype != I32) throw KernelError("scatterAdd: indices must be int32 of the updates' shape");
  double total = 1;
  for (int d = 0; d < updates.rank; d++) {
    if (idx.shape[d] != updates.shape[d]) throw KernelError("scatterAdd: index shape differs from the updates'");
    if (d != axis && outShape[d] != updates.shape[d]) throw KernelError("scatterAdd: output shape differs from the updates' off the axis");
    if (outShape[d] < 0) throw KernelError("scatterAdd: negative dimension");
    total *= (double)outShape[d];
  }
  if ((double)out.len != total || out.dtype != updates.buf.dtype) throw KernelError("scatterAdd: bad output buffer");
  std::vector<double> acc((size_t)total, 0.0);  // double accumulation, as the js reference
  int64_t ostr[MAX_RANK];
  for (int d = updates.rank - 1, s = 1; d >= 0; d--) { ostr[d] = d == axis ? 0 : s; s *= outShape[d]; }
  int64_t astr = 1;
  for (int d = updates.rank - 1; d > axis; d--) astr *= outShape[d];
  const int64_t* st[3] = {updates.strides, idx.strides, ostr};
  StridedIter<3> it(updates.rank, updates.shape, st);
  int64_t base[3] = {updates.offset, idx.offset, 0};
  const int32_t* I = (const int32_t*)idx.buf.data;
  const int64_t lim = outShape[axis];
  it.run(base, 0, updates.numel(), [&](const int64_t* o, int64_t len, const int64_t* is, int64_t) {
    for (int64_t j = 0; j < len; j++) {
      int64_t k = I[o[1] + j * is[1]];
      if (k < 0 || k >= lim) throw KernelError("scatterAdd: index " + std::to_string(k) + " out of range [0, " + std::to_string(lim) + ")");
      acc[o[2] + j * is[2] + k * astr] += load_as_double(updates.buf, o[0] + j * is[0]);
    }
  });
  for (int64_t i = 0; i < (int64_t)total; i++) store_from_double(out, i, acc[i]);
}

}  // namespace mg
