// Losses. crossEntropy takes logits and int32 labels (the numerically stable form).

import { DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { softplus } from './activations.js';
import { mul, neg, square, sub } from './elementwise.js';
import { takeAlongAxis } from './indexing.js';
import { mean, sum } from './reduce.js';
import { logSoftmax } from './softmax.js';
import { expandDims, reshape } from './shape-ops.js';
import { checkFloat, checkIndices, checkSameBackend, checkTensor, opScope } from './util.js';

export type Reduction = 'mean' | 'sum' | 'none';

function reduce(x: Tensor, r: Reduction): Tensor {
  return r === 'mean' ? mean(x) : r === 'sum' ? sum(x) : x;
}

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${op}: prediction ${fmtShape(a.shape)} and target ${fmtShape(b.shape)} must have the same shape`);
  }
}

/** Mean squared error. */
export function mse(pred: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return opScope(() => {
    checkTensor(pred, 'mse', 'prediction');
    checkTensor(target, 'mse', 'target');
    checkFloat('mse', pred, target);
    sameShape('mse', pred, target);
    return reduce(square(sub(pred, target)), reduction);
  });
}

/** Softmax cross-entropy of logits [N, C] (or [..., C]) against int32 labels [N] (or [...]). */
export function crossEntropy(logits: Tensor, labels: Tensor, reduction: Reduction = 'mean'): Tensor {
  return opScope(() => {
    checkTensor(logits, 'crossEntropy', 'logits');
    checkTensor(labels, 'crossEntropy', 'labels');
    checkSameBackend('crossEntropy', logits, labels);
    checkFloat('crossEntropy', logits);
    if (labels.dtype !== 'int32') {
      throw new DTypeError(`crossEntropy: labels must be int32 class indices, got ${labels.dtype} ${fmtShape(labels.shape)} (for soft targets use softCrossEntropy)`);
    }
    if (logits.rank < 1 || labels.rank !== logits.rank - 1 || labels.shape.some((d, i) => d !== logits.shape[i])) {
      throw new ShapeError(`crossEntropy: logits ${fmtShape(logits.shape)} need labels of shape ${fmtShape(logits.shape.slice(0, -1))}, got ${fmtShape(labels.shape)}`);
    }
    checkIndices('crossEntropy', labels, logits.shape[logits.rank - 1]!);
    const lp = logSoftmax(logits, -1);
    const picked = reshape(takeAlongAxis(lp, expandDims(labels, -1), -1), labels.shape);
    return reduce(neg(picked), reduction);
  });
}

/** Cross-entropy against a probability distribution per row (same shape as logits). */
export function softCrossEntropy(logits: Tensor, targets: Tensor, reduction: Reduction = 'mean'): Tensor {
  return opScope(() => {
    checkTensor(logits, 'softCrossEntropy', 'logits');
    checkTensor(targets, 'softCrossEntropy', 'targets');
    checkFloat('softCrossEntropy', logits, targets);
    sameShape('softCrossEntropy', logits, targets);
    return reduce(neg(sum(mul(targets, logSoftmax(logits, -1)), -1)), reduction);
  });
}

/** Binary cross-entropy from logits against targets in [0, 1]: softplus(x) - x·t, stable for any x. */
export function binaryCrossEntropy(logits: Tensor, targets: Tensor, reduction: Reduction = 'mean'): Tensor {
  return opScope(() => {
    checkTensor(logits, 'binaryCrossEntropy', 'logits');
    checkTensor(targets, 'binaryCrossEntropy', 'targets');
    checkFloat('binaryCrossEntropy', logits, targets);
    sameShape('binaryCrossEntropy', logits, targets);
    return reduce(sub(softplus(logits), mul(logits, targets)), reduction);
  });
}
