// Indexing: takeAlongAxis and its transpose scatterAdd (each the other's vjp), the
// index-select gather built on them, and oneHot.

import { record } from '../tensor/tape.js';
import { DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { type DType } from '../core/dtype.js';
import { normAxis } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { arange } from '../tensor/create.js';
import { cast, equal } from './elementwise.js';
import { broadcastTo, expandDims, reshape } from './shape-ops.js';
import { checkIndices, checkSameBackend, checkTensor, wrap, opScope } from './util.js';

/** out[..., i, ...] = x[..., idx[..., i, ...], ...]; idx has x's rank and x's shape off the axis (or broadcasts to it). */
export function takeAlongAxis(x: Tensor, idx: Tensor, axis: number): Tensor {
  return opScope(() => {
    checkTensor(x, 'takeAlongAxis');
    checkTensor(idx, 'takeAlongAxis', 'indices');
    checkSameBackend('takeAlongAxis', x, idx);
    const a = normAxis(axis, x.rank, 'takeAlongAxis');
    if (idx.rank !== x.rank) throw new ShapeError(`takeAlongAxis: indices ${fmtShape(idx.shape)} must have the rank of x ${fmtShape(x.shape)}`);
    const shape = x.shape.map((d, i) => (i === a ? idx.shape[i]! : d));
    for (let i = 0; i < x.rank; i++) {
      if (i !== a && idx.shape[i] !== 1 && idx.shape[i] !== x.shape[i]) {
        throw new ShapeError(`takeAlongAxis: indices ${fmtShape(idx.shape)} do not match x ${fmtShape(x.shape)} off axis ${a} (dim ${i})`);
      }
    }
    checkIndices('takeAlongAxis', idx, x.shape[a]!);
    const ib = broadcastTo(idx, shape);
    const out = wrap(x.backend.gather(x, ib, a, shape), shape, x);
    const xs = x.shape;
    return record(out, 'takeAlongAxis', [x], (g) => [scatterAdd(g, ib, a, xs)], [ib]);
  });
}

/** The transpose of takeAlongAxis: zeros(outShape) with updates added at idx along axis. */
export function scatterAdd(updates: Tensor, idx: Tensor, axis: number, outShape: readonly number[]): Tensor {
  return opScope(() => {
    checkTensor(updates, 'scatterAdd', 'updates');
    checkTensor(idx, 'scatterAdd', 'indices');
    checkSameBackend('scatterAdd', updates, idx);
    const a = normAxis(axis, updates.rank, 'scatterAdd');
    if (outShape.length !== updates.rank || outShape.some((d, i) => i !== a && d !== updates.shape[i])) {
      throw new ShapeError(`scatterAdd: updates ${fmtShape(updates.shape)} do not fit output ${fmtShape(outShape)} off axis ${a}`);
    }
    const ib = broadcastTo(idx, updates.shape);
    checkIndices('scatterAdd', idx, outShape[a]!);
    const out = wrap(updates.backend.scatterAdd(updates, ib, a, outShape), outShape, updates);
    return record(out, 'scatterAdd', [updates], (g) => [takeAlongAxis(g, ib, a)], [ib]);
  });
}

/** Index select: out = x with dim `axis` replaced by indices' dims (embedding lookup is gather(table, ids, 0)). */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  return opScope(() => {
    checkTensor(x, 'gather');
    checkTensor(indices, 'gather', 'indices');
    const a = normAxis(axis, x.rank, 'gather');
    checkIndices('gather', indices, x.shape[a]!);
    const flat = reshape(indices, [-1]);
    const idxShape = x.shape.map((_, i) => (i === a ? flat.size : 1));
    const picked = takeAlongAxis(x, reshape(flat, idxShape), a);
    return reshape(picked, [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)]);
  });
}

/** One-hot encoding of int32 labels: [...] -> [..., depth] in a float dtype. */
export function oneHot(labels: Tensor, depth: number, dtype: DType = 'float32'): Tensor {
  return opScope(() => {
    checkTensor(labels, 'oneHot', 'labels');
    if (labels.dtype !== 'int32') throw new DTypeError(`oneHot: labels must be int32, got ${labels.dtype} ${fmtShape(labels.shape)}`);
    if (!Number.isInteger(depth) || depth < 1) throw new ShapeError(`oneHot: depth must be a positive integer, got ${depth}`);
    checkIndices('oneHot', labels, depth);
    const classes = arange(0, depth, 1, { dtype: 'int32', backend: labels.backend });
    return cast(equal(expandDims(labels, -1), classes), dtype);
  });
}
