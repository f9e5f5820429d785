// Reductions over any set of axes, arg-reductions along one axis, and fused softmax.
#pragma once
#include "common.h"

namespace mg {

enum ReduceOp : int { R_SUM, R_MAX, R_MIN, R_PROD };

void reduce(int op, const View& x, const std::vector<int>& axes, const Buf& out);
void arg_reduce(bool isMax, const View& x, int axis, const Buf& out);
void softmax(const View& x, int64_t rows, int64_t cols, bool log, const Buf& out);

}  // namespace mg
