// softmax and logSoftmax: one fused kernel forward, vjps in ops (so they nest).

import { record } from '../tensor/tape.js';
import { normAxis } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { exp, mul, sub } from './elementwise.js';
import { sum } from './reduce.js';
import { contiguous, reshape, transpose } from './shape-ops.js';
import { checkFloat, checkTensor, wrap, opScope } from './util.js';

function fused(op: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  return opScope(() => {
    checkTensor(x, op);
    checkFloat(op, x);
    const a = normAxis(axis, Math.max(x.rank, 1), op);
    // a scalar is a row of one: reshape rather than recurse on the same rank-0 tensor
  if (x.rank === 0) return reshape(fused(op, reshape(x, [1]), 0), []);
    // The kernel works on the last axis of a contiguous matrix; move the axis there and back.
    const last = x.rank - 1;
    if (a !== last) return transpose(fused(op, contiguous(transpose(x, a, last)), last), a, last);
    const src = contiguous(x);
    const cols = src.shape[last]!;
    const rows = cols === 0 ? 0 : src.size / cols;
    const out = wrap(src.backend.softmax(src, rows, cols, op === 'logSoftmax'), src.shape, src);
    if (op === 'softmax') {
      return record(out, op, [src], (g, y) => [mul(y, sub(g, sum(mul(g, y), last, { keepDims: true })))]);
    }
    return record(out, op, [src], (g, y) => [sub(g, mul(exp(y), sum(g, last, { keepDims: true })))]);
  });
}

/** exp(x) / sum(exp(x)) along an axis (default: last). */
export const softmax = (x: Tensor, axis = -1): Tensor => fused('softmax', x, axis);
/** x - logsumexp(x) along an axis (default: last). */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => fused('logSoftmax', x, axis);
