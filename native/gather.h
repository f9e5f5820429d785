// Gather along an axis and its transpose, scatter-add (gather.cc).
#pragma once
#include "common.h"

namespace mg {

void gather(const View& x, const View& idx, int axis, const Buf& out);
void scatter_add(const View& updates, const View& idx, int axis, const std::vector<int64_t>& outShape, const Buf& out);

}  // namespace mg
