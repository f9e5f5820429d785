// Gradient clipping by global norm: scale every gradient by min(1, maxNorm / ‖g‖),
// ‖g‖ the L2 norm over all leaves together. The scale is computed on the device.

import { ValueError } from '../core/errors.js';
import { describe, expectCaller } from '../core/shape.js';
import { noGrad } from '../tensor/tape.js';
import { add, div, minimum, mul, sqrt, square } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeUnflatten } from '../tensor/tree.js';

/**
 * The gradients scaled to a global norm of at most maxNorm, and that norm before clipping
 * (0-d), all in tensors: nothing is read, so it runs as is on WebGPU. The inputs are not
 * disposed. (metaStep's clipNorm uses this too.)
 */
export function clipByGlobalNorm<P extends ParamTree>(grads: P, maxNorm: number, who = 'clipByGlobalNorm'): { grads: P; norm: Tensor | null } {
  expectCaller(who, 'clipByGlobalNorm', 'who');
  if (typeof maxNorm !== 'number' || !(maxNorm > 0)) throw new ValueError(`${who}: maxNorm must be > 0, got ${describe(maxNorm)}`);
  const leaves = treeFlatten(grads, '', who).leaves;
  if (leaves.length === 0) return { grads, norm: null };
  return noGrad(() => {
    let total: Tensor = sum(square(leaves[0]!));
    for (let i = 1; i < leaves.length; i++) total = add(total, sum(square(leaves[i]!)));
    const norm = sqrt(total);
    const scale = minimum(div(maxNorm, add(norm, 1e-6)), 1);
    return { grads: treeUnflatten(grads, leaves.map((g) => mul(g, scale))), norm };
  });
}

/**
 * Returns new gradient tensors (the inputs are not disposed) and the norm before clipping.
 * `norm` is read synchronously, so it is NaN on backends without synchronous reads (WebGPU);
 * the clipping itself still happens there.
 */
export function clipGradNorm<P extends ParamTree>(grads: P, maxNorm: number): { grads: P; norm: number } {
  const r = scope(() => clipByGlobalNorm(grads, maxNorm, 'clipGradNorm'));
  if (!r.norm) return { grads, norm: 0 };
  const norm = r.norm.backend.readSync ? r.norm.itemSync() : NaN;
  r.norm.dispose();
  return { grads: r.grads, norm };
}
