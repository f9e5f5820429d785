// Batched matmul with numpy broadcasting of the batch dims. Transposed operands are read
// in place (the kernel takes row and column strides), and the vjp is two more matmuls
// (DESIGN.md rule 3), never a broadcast-multiply-reduce.

import type { MatView } from '../backend/kernels.js';
import { record } from '../tensor/tape.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import { broadcastShapes, checkShape, numel } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { add } from './elementwise.js';
import { sumTo } from './reduce.js';
import { broadcastTo, contiguous, expandDims, reshape, squeeze, transpose } from './shape-ops.js';
import { checkFloat, checkSameBackend, checkSameDType, checkTensor, wrap, opScope } from './util.js';

/** One stride for all batch dims, if the (broadcast) view allows it; else null. */
function mergedBatchStride(x: Tensor, batchShape: readonly number[]): number | null {
  const nb = batchShape.length;
  const lead = nb - (x.rank - 2);
  const strides: number[] = [];
  const shape: number[] = [];
  for (let i = 0; i < nb; i++) {
    const j = i - lead;
    const d = j < 0 ? 1 : x.shape[j]!;
    const s = j < 0 || (d === 1 && batchShape[i] !== 1) ? 0 : x.strides[j]!;
    if (batchShape[i] === 1) continue;
    shape.push(batchShape[i]!);
    strides.push(s);
  }
  if (shape.length === 0) return 0;
  // Mergeable when each stride equals the next one times its size (or all are 0).
  if (strides.every((s) => s === 0)) return 0;
  for (let i = 0; i < shape.length - 1; i++) if (strides[i] !== strides[i + 1]! * shape[i + 1]!) return null;
  return strides[shape.length - 1]!;
}

/** x as a batch of matrices for a kernel, read in place where its strides allow (else a contiguous copy). */
export function matView(x: Tensor, batchShape: readonly number[]): MatView {
  checkTensor(x, 'matView');
  checkShape(batchShape, 'matView');
  const r = x.rank;
  const rowStride = x.strides[r - 2]!, colStride = x.strides[r - 1]!;
  const innerOk = colStride === 1 || rowStride === 1 || x.shape[r - 1] === 1 || x.shape[r - 2] === 1;
  const bs = mergedBatchStride(x, batchShape);
  if (innerOk && bs !== null) {
    return {
      storage: x.storage,
      offset: x.offset,
      batchStride: bs,
      rowStride: x.shape[r - 2] === 1 ? x.shape[r - 1]! : rowStride,
      colStride: x.shape[r - 1] === 1 ? 1 : colStride,
    };
  }
  const c = contiguous(broadcastTo(x, [...batchShape, x.shape[r - 2]!, x.shape[r - 1]!]));
  return { storage: c.storage, offset: 0, batchStride: x.shape[r - 2]! * x.shape[r - 1]!, rowStride: x.shape[r - 1]!, colStride: 1 };
}

/** a @ b: [..., m, k] @ [..., k, n] -> [..., m, n]; 1-D operands are vectors, as in numpy. */
export function matmul(aIn: Tensor, bIn: Tensor): Tensor {
  return opScope(() => {
    checkTensor(aIn, 'matmul', 'a');
    checkTensor(bIn, 'matmul', 'b');
    checkSameBackend('matmul', aIn, bIn);
    checkSameDType('matmul', aIn, bIn);
    checkFloat('matmul', aIn, bIn);
    if (aIn.rank === 0 || bIn.rank === 0) throw new ShapeError(`matmul: operands must have rank >= 1, got ${fmtShape(aIn.shape)} and ${fmtShape(bIn.shape)}`);
    // numpy: vector · vector is a 0-d inner product
    if (aIn.rank === 1 && bIn.rank === 1) return reshape(matmul(expandDims(aIn, 0), expandDims(bIn, 1)), []);
    if (aIn.rank === 1) return squeeze(matmul(expandDims(aIn, 0), bIn), [-2]);
    if (bIn.rank === 1) return squeeze(matmul(aIn, expandDims(bIn, 1)), [-1]);
    const a = aIn, b = bIn;
    const m = a.shape[a.rank - 2]!, k = a.shape[a.rank - 1]!, n = b.shape[b.rank - 1]!;
    if (b.shape[b.rank - 2] !== k) {
      throw new ShapeError(`matmul: inner dims differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (${k} vs ${b.shape[b.rank - 2]})`);
    }
    const batchShape = broadcastShapes('matmul (batch dims)', a.shape.slice(0, -2), b.shape.slice(0, -2));
    const batch = numel(batchShape);
    const outShape = [...batchShape, m, n];
    const storage = a.backend.matmul(matView(a, batchShape), matView(b, batchShape), { batch, m, n, k }, a.dtype);
    const out = wrap(storage, outShape, a);
    const aShape = a.shape, bShape = b.shape;
    return record(out, 'matmul', [a, b], (g, _y, [ai, bi]) => [
      ai!.requiresGrad ? sumTo(matmul(g, transpose(bi!)), aShape) : null,
      bi!.requiresGrad ? sumTo(matmul(transpose(ai!), g), bShape) : null,
    ]);
  });
}

/** x @ w (+ b): the affine map of a linear layer, x [..., in], w [in, out], b [out]. */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  return opScope(() => {
    checkTensor(x, 'linear', 'x');
    checkTensor(w, 'linear', 'w');
    if (b !== undefined) checkTensor(b, 'linear', 'b');
    if (w.rank !== 2) throw new ShapeError(`linear: weight must be [in, out], got ${fmtShape(w.shape)}`);
    const y = x.rank > 2 ? reshape(matmul(reshape(x, [-1, x.shape[x.rank - 1]!]), w), [...x.shape.slice(0, -1), w.shape[1]!]) : matmul(x, w);
    return b ? add(y, b) : y;
  });
}
