// Similarities and distances used by metric-based meta-learners.

import { ShapeError, fmtShape } from '../core/errors.js';
import { broadcastShapes, normAxis } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, div, maximum, mul, sqrt, square, sub } from './elementwise.js';
import { matmul } from './matmul.js';
import { sum } from './reduce.js';
import { broadcastTo, transpose } from './shape-ops.js';
import { checkFloat, checkTensor, opScope } from './util.js';

/**
 * Cosine similarity along an axis, as PyTorch computes it: a and b are broadcast together
 * first, then each is divided by its norm clamped to eps, and the products summed:
 * Σ (a / max(|a|, eps)) (b / max(|b|, eps)). The clamp is taken on the squared norm
 * (max(Σa², eps²), then sqrt), so an all-zero vector gets finite gradients and HVPs
 * instead of the 0/0 of sqrt's derivative at 0.
 */
export function cosineSimilarity(a: Tensor, b: Tensor, axis = -1, eps = 1e-8): Tensor {
  return opScope(() => {
    checkTensor(a, 'cosineSimilarity', 'a');
    checkTensor(b, 'cosineSimilarity', 'b');
    checkFloat('cosineSimilarity', a, b);
    if (!(eps > 0) || !Number.isFinite(eps)) throw new ShapeError(`cosineSimilarity: eps must be a finite positive number, got ${eps}`);
    const shape = broadcastShapes('cosineSimilarity', a.shape, b.shape);
    const ax = normAxis(axis, shape.length, 'cosineSimilarity');
    const unit = (x: Tensor): Tensor => {
      const xb = broadcastTo(x, shape);
      return div(xb, sqrt(maximum(sum(square(xb), ax, { keepDims: true }), eps * eps)));
    };
    return sum(mul(unit(a), unit(b)), ax);
  });
}

/** Squared Euclidean distances between rows: x [N, D], y [M, D] -> [N, M], as |x|² + |y|² - 2 x·yᵀ (one matmul). */
export function pairwiseSquaredDistances(x: Tensor, y: Tensor): Tensor {
  return opScope(() => {
    checkTensor(x, 'pairwiseSquaredDistances', 'x');
    checkTensor(y, 'pairwiseSquaredDistances', 'y');
    checkFloat('pairwiseSquaredDistances', x, y);
    if (x.rank !== 2 || y.rank !== 2 || x.shape[1] !== y.shape[1]) {
      throw new ShapeError(`pairwiseSquaredDistances: expected x [N, D] and y [M, D], got ${fmtShape(x.shape)} and ${fmtShape(y.shape)}`);
    }
    const xx = sum(square(x), 1, { keepDims: true });
    const yy = transpose(sum(square(y), 1, { keepDims: true }));
    return sub(add(xx, yy), mul(matmul(x, transpose(y)), 2));
  });
}
