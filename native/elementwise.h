// Elementwise kernels: unary, binary, where, cast, copy, fill over strided views.
#pragma once
#include "common.h"

namespace mg {

// The op lists, in the order of UNARY_OPS and BINARY_OPS in ts/backend/kernels.ts: the op
// code is the position. The addon exports the names (opNames) and the TS loader refuses an
// addon whose lists differ from the TS ones, so a list changed on one side only fails at load.
#define MG_UNARY_OPS(X)                                                                              \
  X(U_NEG, "neg") X(U_EXP, "exp") X(U_LOG, "log") X(U_SQRT, "sqrt") X(U_ABS, "abs") X(U_SIGN, "sign") \
  X(U_TANH, "tanh") X(U_SIGMOID, "sigmoid") X(U_RELU, "relu") X(U_SIN, "sin") X(U_COS, "cos")         \
  X(U_STEP, "step") X(U_RECIPROCAL, "reciprocal") X(U_SQUARE, "square") X(U_LOG1P, "log1p")           \
  X(U_EXPM1, "expm1") X(U_FLOOR, "floor") X(U_CEIL, "ceil") X(U_ROUND, "round")
#define MG_BINARY_OPS(X)                                                                             \
  X(B_ADD, "add") X(B_SUB, "sub") X(B_MUL, "mul") X(B_DIV, "div") X(B_POW, "pow")                    \
  X(B_MAXIMUM, "maximum") X(B_MINIMUM, "minimum") X(B_EQ, "eq") X(B_NE, "ne") X(B_LT, "lt")           \
  X(B_LE, "le") X(B_GT, "gt") X(B_GE, "ge") X(B_RELU_MASK, "reluMask") /* a where b > 0, else 0 */

#define MG_ENUM_ENTRY(E, NAME) E,
enum UnaryOp : int { MG_UNARY_OPS(MG_ENUM_ENTRY) U_COUNT };
enum BinaryOp : int { MG_BINARY_OPS(MG_ENUM_ENTRY) B_COUNT };
#undef MG_ENUM_ENTRY

void unary(int op, const View& x, const Buf& out);
void binary(int op, const View& a, const View& b, const Buf& out);
void where(const View& c, const View& a, const View& b, const Buf& out);
void cast(const View& x, const Buf& out);
void copy(const View& src, const View& dst);
void fill(const Buf& out, double value);

}  // namespace mg
