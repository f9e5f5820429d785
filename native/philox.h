// Counter-based random numbers (Philox 4x32-10): uniform, normal and raw bits (philox.cc).
#pragma once
#include "common.h"

namespace mg {

// The random kinds, in the order of RANDOM_KINDS in ts/backend/kernels.ts (the addon exports
// the names, the TS loader compares them).
#define MG_RANDOM_KINDS(X) X(RANDOM_UNIFORM, "uniform") X(RANDOM_NORMAL, "normal") X(RANDOM_BITS, "bits")
enum RandomKind : int {
#define MG_ENUM_ENTRY(E, NAME) E,
  MG_RANDOM_KINDS(MG_ENUM_ENTRY) RANDOM_COUNT
#undef MG_ENUM_ENTRY
};

void random_fill(int kind, uint32_t k0, uint32_t k1, double counter, const Buf& out);

}  // namespace mg
