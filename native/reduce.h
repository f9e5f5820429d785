// Reductions over any set of axes, arg-reductions along one axis, and fused softmax.
#pragma once
#include "common.h"

namespace mg {

// In the order of REDUCE_OPS in ts/backend/kernels.ts (checked at load, as in elementwise.h).
#define MG_REDUCE_OPS(X) X(R_SUM, "sum") X(R_MAX, "max") X(R_MIN, "min") X(R_PROD, "prod")
#define MG_ENUM_ENTRY(E, NAME) E,
enum ReduceOp : int { MG_REDUCE_OPS(MG_ENUM_ENTRY) R_COUNT };
#undef MG_ENUM_ENTRY

void reduce(int op, const View& x, const std::vector<int>& axes, const Buf& out);
void arg_reduce(bool isMax, const View& x, int axis, const Buf& out);
void softmax(const View& x, int64_t rows, int64_t cols, bool log, const Buf& out);

}  // namespace mg
