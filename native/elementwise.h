// Elementwise kernels: unary, binary, where, cast, copy, fill over strided views.
#pragma once
#include "common.h"

namespace mg {

enum UnaryOp : int {
  U_NEG, U_EXP, U_LOG, U_SQRT, U_ABS, U_SIGN, U_TANH, U_SIGMOID, U_RELU, U_SIN, U_COS, U_STEP,
  U_RECIPROCAL, U_SQUARE, U_LOG1P, U_EXPM1, U_FLOOR, U_CEIL, U_ROUND, U_COUNT
};
enum BinaryOp : int {
  B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAXIMUM, B_MINIMUM, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE,
  B_RELU_MASK /* a where b > 0, else 0 */, B_COUNT
};

void unary(int op, const View& x, const Buf& out);
void binary(int op, const View& a, const View& b, const Buf& out);
void where(const View& c, const View& a, const View& b, const Buf& out);
void cast(const View& x, const Buf& out);
void copy(const View& src, const View& dst);
void fill(const Buf& out, double value);

}  // namespace mg
