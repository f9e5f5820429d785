// Elementwise ops. Each is its kernel call plus a vjp written in these same ops, so
// the derivative of a derivative is just more elementwise work on the tape.

import type { BinaryOp, UnaryOp } from '../backend/kernels.js';
import { noGrad, record } from '../tensor/tape.js';
import { DTypeError, fmtShape, ValueError } from '../core/errors.js';
import { type DType, checkDType, isFloat } from '../core/dtype.js';
import { broadcastShapes, describe } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { sumTo } from './reduce.js';
import { type TensorLike, broadcastView, checkFloat, checkSameBackend, checkSameDType, checkTensor, toTensor, wrap, opScope } from './util.js';

type UnaryVjp = (g: Tensor, y: Tensor, x: Tensor) => Tensor | null;

function unary(op: UnaryOp, x: Tensor, vjp: UnaryVjp | null, opts: { float?: boolean } = { float: true }): Tensor {
  checkTensor(x, op);
  if (opts.float) checkFloat(op, x);
  const out = wrap(x.backend.unary(op, x, x.dtype), x.shape, x);
  if (!vjp) return out;
  return record(out, op, [x], (g, y, [xi]) => [vjp(g, y, xi!)]);
}

export const neg = (x: Tensor): Tensor => unary('neg', x, (g) => neg(g), { float: false });
export const exp = (x: Tensor): Tensor => unary('exp', x, (g, y) => mul(g, y));
export const log = (x: Tensor): Tensor => unary('log', x, (g, _y, x) => div(g, x));
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x, (g, y) => div(g, mul(y, 2)));
export const abs = (x: Tensor): Tensor => unary('abs', x, (g, _y, x) => mul(g, sign(x)), { float: false });
/** -1, 0 or 1; its derivative is zero almost everywhere. */
export const sign = (x: Tensor): Tensor => unary('sign', x, null, { float: false });
export const tanh = (x: Tensor): Tensor => unary('tanh', x, (g, y) => mul(g, sub(1, square(y))));
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x, (g, y) => mul(g, mul(y, sub(1, y))));
// relu's gradient is one fused kernel (reluMask), not step then mul
export const relu = (x: Tensor): Tensor => unary('relu', x, (g, _y, x) => reluMask(g, x));
export const sin = (x: Tensor): Tensor => unary('sin', x, (g, _y, x) => mul(g, cos(x)));
export const cos = (x: Tensor): Tensor => unary('cos', x, (g, _y, x) => neg(mul(g, sin(x))));
export const square = (x: Tensor): Tensor => unary('square', x, (g, _y, x) => mul(g, mul(x, 2)));
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x, (g, y) => neg(mul(g, square(y))));
export const log1p = (x: Tensor): Tensor => unary('log1p', x, (g, _y, x) => div(g, add(x, 1)));
export const expm1 = (x: Tensor): Tensor => unary('expm1', x, (g, y) => mul(g, add(y, 1)));
/** 1 where x > 0, else 0 (a constant mask: no gradient). */
export const step = (x: Tensor): Tensor => unary('step', x, null, { float: false });
export const floor = (x: Tensor): Tensor => unary('floor', x, null);
export const ceil = (x: Tensor): Tensor => unary('ceil', x, null);
export const round = (x: Tensor): Tensor => unary('round', x, null);

type BinaryVjp = (g: Tensor, out: Tensor, a: Tensor, b: Tensor) => [Tensor | null, Tensor | null];

// `who` is the name errors give: the kernel's op name unless the public function has another
// (equal runs the 'eq' kernel).
function binary(op: BinaryOp, aIn: TensorLike, bIn: TensorLike, vjp: BinaryVjp | null, opts: { float?: boolean; outDType?: DType } = {}, who: string = op): Tensor {
  return opScope(() => {
    const like = typeof aIn === 'number' ? checkTensor(bIn, who, 'second input') : checkTensor(aIn, who, 'first input');
    const a = toTensor(aIn, like, who);
    const b = toTensor(bIn, like, who);
    checkSameBackend(who, a, b);
    checkSameDType(who, a, b);
    if (opts.float) checkFloat(who, a, b);
    const shape = broadcastShapes(who, a.shape, b.shape);
    const storage = a.backend.binary(op, broadcastView(a, shape), broadcastView(b, shape), shape, opts.outDType ?? a.dtype);
    const out = wrap(storage, shape, a);
    if (!vjp) return out;
    // The one place broadcasting is undone for every binary op: sum back to each input's shape.
    return record(out, op, [a, b], (g, y, [ai, bi]) => {
      const [ga, gb] = vjp(g, y, ai!, bi!);
      return [ga && sumTo(ga, ai!.shape), gb && sumTo(gb, bi!.shape)];
    });
  });
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b, (g) => [g, g]);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b, (g, _y, a, b) => [a.requiresGrad ? g : null, b.requiresGrad ? neg(g) : null]);
export const mul = (a: TensorLike, b: TensorLike): Tensor =>
  binary('mul', a, b, (g, _y, a, b) => [a.requiresGrad ? mul(g, b) : null, b.requiresGrad ? mul(g, a) : null]);
export const div = (a: TensorLike, b: TensorLike): Tensor =>
  binary('div', a, b, (g, y, a, b) => [a.requiresGrad ? div(g, b) : null, b.requiresGrad ? neg(div(mul(g, y), b)) : null], { float: true });

/** a ** b. The gradient for b uses log(a), so it is only formed when b needs it. */
export const pow = (a: TensorLike, b: TensorLike): Tensor =>
  binary(
    'pow',
    a,
    b,
    (g, y, a, b) => [
      a.requiresGrad ? mul(g, mul(b, pow(a, sub(b, 1)))) : null,
      b.requiresGrad ? mul(g, mul(y, log(a))) : null,
    ],
    { float: true },
  );

/** Elementwise max; ties send the gradient to a. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor =>
  binary('maximum', a, b, (g, _y, a, b) => {
    const m = noGrad(() => ge(a, b));
    return [a.requiresGrad ? mul(g, m) : null, b.requiresGrad ? mul(g, sub(1, m)) : null];
  });

/** Elementwise min; ties send the gradient to a. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor =>
  binary('minimum', a, b, (g, _y, a, b) => {
    const m = noGrad(() => le(a, b));
    return [a.requiresGrad ? mul(g, m) : null, b.requiresGrad ? mul(g, sub(1, m)) : null];
  });

/**
 * g where x > 0, else 0 (relu's gradient, one kernel). Linear in g, so its vjp is itself;
 * x only selects, so it gets no gradient (zero almost everywhere).
 */
export const reluMask = (g: TensorLike, x: TensorLike): Tensor =>
  binary('reluMask', g, x, (h, _y, _g, x) => [reluMask(h, x), null], { float: true });

// Comparisons give 1 or 0 in the inputs' dtype; they have no gradient.
export const equal = (a: TensorLike, b: TensorLike): Tensor => binary('eq', a, b, null, {}, 'equal');
export const notEqual = (a: TensorLike, b: TensorLike): Tensor => binary('ne', a, b, null, {}, 'notEqual');
export const less = (a: TensorLike, b: TensorLike): Tensor => binary('lt', a, b, null, {}, 'less');
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => binary('le', a, b, null, {}, 'lessEqual');
export const greater = (a: TensorLike, b: TensorLike): Tensor => binary('gt', a, b, null, {}, 'greater');
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binary('ge', a, b, null, {}, 'greaterEqual');
const ge = greaterEqual;
const le = lessEqual;

/** cond != 0 ? a : b, broadcasting all three. */
export function where(cond: Tensor, aIn: TensorLike, bIn: TensorLike): Tensor {
  return opScope(() => {
    checkTensor(cond, 'where', 'condition');
    const like = typeof aIn === 'number' ? (typeof bIn === 'number' ? null : checkTensor(bIn, 'where', 'b')) : checkTensor(aIn, 'where', 'a');
    if (!like) throw new DTypeError('where: at least one of a and b must be a Tensor');
    const a = toTensor(aIn, like, 'where');
    const b = toTensor(bIn, like, 'where');
    checkSameBackend('where', cond, a, b);
    checkSameDType('where', a, b);
    const shape = broadcastShapes('where', cond.shape, a.shape, b.shape);
    const storage = a.backend.where(broadcastView(cond, shape), broadcastView(a, shape), broadcastView(b, shape), shape, a.dtype);
    const out = wrap(storage, shape, a);
    return record(out, 'where', [a, b], (g, _y, [ai, bi]) => [
      ai!.requiresGrad ? sumTo(where(cond, g, 0), ai!.shape) : null,
      bi!.requiresGrad ? sumTo(where(cond, 0, g), bi!.shape) : null,
    ], [cond]);
  });
}

/** Limit values to [lo, hi]; the gradient passes where x is inside. */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  return opScope(() => {
    checkTensor(x, 'clamp');
    if (typeof lo !== 'number' || typeof hi !== 'number') throw new ValueError(`clamp: lo and hi must be numbers, got ${describe(lo)} and ${describe(hi)}`);
    if (!(lo <= hi)) throw new ValueError(`clamp: lo (${lo}) must be <= hi (${hi}) for ${fmtShape(x.shape)}`);
    return minimum(maximum(x, lo), hi);
  });
}

/** Convert to another dtype (float -> int truncates toward zero). Differentiable between float dtypes. */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor(x, 'cast');
  checkDType(dtype, 'cast');
  if (x.dtype === dtype) return x;
  if (!x.backend.supportsDType(dtype)) throw new DTypeError(`cast: backend '${x.backend.name}' does not support dtype ${dtype}`);
  const out = wrap(x.backend.cast(x, dtype), x.shape, x);
  if (!isFloat(dtype) || !isFloat(x.dtype)) return out;
  const from = x.dtype;
  return record(out, 'cast', [x], (g) => [cast(g, from)]);
}
