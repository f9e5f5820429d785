// Reductions over axes, and sumTo: the single place where broadcasting is undone.

import type { ReduceOp } from '../backend/kernels.js';
import { noGrad, record, stopGradient } from '../tensor/tape.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import { checkShape, normAxes, normAxis, numel, shapesEqual } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { abs, add, div, equal, exp, less, log, mul, square, sub, where } from './elementwise.js';
import { broadcastTo, reshape } from './shape-ops.js';
import { checkFloat, checkTensor, wrap, opScope } from './util.js';

export interface ReduceOptions {
  keepDims?: boolean;
}

type Axes = number | readonly number[] | undefined;

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reduceRaw(op: ReduceOp, x: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  const outShape = keepDims ? keptShape(x.shape, axes) : x.shape.filter((_, i) => !axes.includes(i));
  if (axes.length === 0) return x;
  // Reducing zero elements gives the identity (sum 0, prod 1; max and min refuse earlier),
  // the same on every backend: kernels never see an empty reduction.
  if (axes.some((a) => x.shape[a] === 0)) return wrap(x.backend.fill(numel(outShape), op === 'prod' ? 1 : 0, x.dtype), outShape, x);
  return wrap(x.backend.reduce(op, x, axes), outShape, x);
}

/** Sum over axes (all by default). */
export function sum(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  checkTensor(x, 'sum');
  const ax = normAxes(axes, x.rank, 'sum');
  const out = reduceRaw('sum', x, ax, opts.keepDims ?? false);
  if (out === x) return x;
  const xs = x.shape;
  return record(out, 'sum', [x], (g) => [broadcastTo(reshape(g, keptShape(xs, ax)), xs)]);
}

/** Mean over axes (all by default). */
export function mean(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  return opScope(() => {
    checkTensor(x, 'mean');
    checkFloat('mean', x);
    const ax = normAxes(axes, x.rank, 'mean');
    const count = ax.reduce((n, a) => n * x.shape[a]!, 1);
    if (count === 0) throw new ShapeError(`mean: reducing ${fmtShape(x.shape)} over axes ${JSON.stringify(ax)} averages zero elements`);
    return div(sum(x, ax, opts), count);
  });
}

function extremum(op: 'max' | 'min', x: Tensor, axes: Axes, opts: ReduceOptions): Tensor {
  checkTensor(x, op);
  const ax = normAxes(axes, x.rank, op);
  for (const a of ax) if (x.shape[a] === 0) throw new ShapeError(`${op}: cannot reduce over empty dim ${a} of ${fmtShape(x.shape)}`);
  const out = reduceRaw(op, x, ax, opts.keepDims ?? false);
  if (out === x) return x;
  const xs = x.shape;
  // The gradient goes to the positions that attain the extremum, split evenly among ties.
  return record(out, op, [x], (g, y, [xi]) => {
    const kept = keptShape(xs, ax);
    const mask = noGrad(() => {
      const m = equal(xi!, broadcastTo(reshape(stopGradient(y), kept), xs));
      return div(m, broadcastTo(sum(m, ax, { keepDims: true }), xs));
    });
    return [mul(broadcastTo(reshape(g, kept), xs), mask)];
  });
}

export const max = (x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor => extremum('max', x, axes, opts);
export const min = (x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor => extremum('min', x, axes, opts);

/**
 * Population variance by default; correction 1 gives the sample variance (Bessel).
 * A correction that leaves no degrees of freedom (correction >= the number of elements
 * reduced) is an error, where PyTorch would return inf or NaN.
 */
export function variance(x: Tensor, axes?: Axes, opts: ReduceOptions & { correction?: number } = {}): Tensor {
  return opScope(() => {
    checkTensor(x, 'variance');
    checkFloat('variance', x);
    const ax = normAxes(axes, x.rank, 'variance');
    const count = ax.reduce((n, a) => n * x.shape[a]!, 1);
    const correction = opts.correction ?? 0;
    if (!Number.isFinite(correction) || correction < 0) throw new ShapeError(`variance: correction must be a finite number >= 0, got ${correction}`);
    if (count - correction <= 0) {
      throw new ShapeError(`variance: correction ${correction} leaves no degrees of freedom: reducing ${fmtShape(x.shape)} over axes ${JSON.stringify(ax)} averages ${count} element(s) per output; expected correction < ${count}`);
    }
    const d = sub(x, mean(x, ax, { keepDims: true }));
    return div(sum(square(d), ax, opts), count - correction);
  });
}

/** log(sum(exp(x))) computed stably (shifted by the detached max). */
export function logsumexp(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  return opScope(() => {
    checkTensor(x, 'logsumexp');
    checkFloat('logsumexp', x);
    const ax = normAxes(axes, x.rank, 'logsumexp');
    // Shift by the detached max, or by 0 where the max is ±inf or NaN: then logsumexp of
    // all -inf is -inf, of anything with +inf is +inf, and a NaN propagates (as PyTorch).
    const mx = stopGradient(max(x, ax, { keepDims: true }));
    const m = where(less(abs(mx), Infinity), mx, 0);
    const s = add(log(sum(exp(sub(x, m)), ax, { keepDims: true })), m);
    return opts.keepDims ? s : reshape(s, x.shape.filter((_, i) => !ax.includes(i)));
  });
}

/** Index of the largest value along an axis (int32, no gradient). */
export function argmax(x: Tensor, axis = -1): Tensor {
  checkTensor(x, 'argmax');
  const a = normAxis(axis, x.rank, 'argmax');
  if (x.shape[a] === 0) throw new ShapeError(`argmax: dim ${a} of ${fmtShape(x.shape)} is empty`);
  return wrap(x.backend.argReduce('argmax', x, a), x.shape.filter((_, i) => i !== a), x);
}

/** Index of the smallest value along an axis (int32, no gradient). */
export function argmin(x: Tensor, axis = -1): Tensor {
  checkTensor(x, 'argmin');
  const a = normAxis(axis, x.rank, 'argmin');
  if (x.shape[a] === 0) throw new ShapeError(`argmin: dim ${a} of ${fmtShape(x.shape)} is empty`);
  return wrap(x.backend.argReduce('argmin', x, a), x.shape.filter((_, i) => i !== a), x);
}

/**
 * Sum g down to `shape`, undoing numpy broadcasting (leading dims, and dims that were 1).
 * Every binary op's vjp goes through here.
 */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  return opScope(() => {
    checkTensor(g, 'sumTo');
    checkShape(shape, 'sumTo');
    if (shapesEqual(g.shape, shape)) return g;
    const lead = g.rank - shape.length;
    if (lead < 0) throw new ShapeError(`sumTo: cannot sum ${fmtShape(g.shape)} down to the larger rank of ${fmtShape(shape)}`);
    const axes: number[] = [];
    for (let i = 0; i < g.rank; i++) {
      if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
    }
    return reshape(sum(g, axes), shape);
  });
}
