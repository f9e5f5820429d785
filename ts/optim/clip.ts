// Gradient clipping by global norm: scale every gradient by min(1, maxNorm / ‖g‖),
// ‖g‖ the L2 norm over all leaves together. The scale is computed on the device.

import { ShapeError } from '../core/errors.js';
import { noGrad } from '../tensor/tape.js';
import { add, div, minimum, mul, sqrt, square } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeUnflatten } from '../tensor/tree.js';

/**
 * Returns new gradient tensors (the inputs are not disposed) and the norm before clipping.
 * `norm` is read synchronously, so it is NaN on backends without synchronous reads (WebGPU);
 * the clipping itself still happens there.
 */
export function clipGradNorm<P extends ParamTree>(grads: P, maxNorm: number): { grads: P; norm: number } {
  if (!(maxNorm > 0)) throw new ShapeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const leaves = treeFlatten(grads).leaves;
  if (leaves.length === 0) return { grads, norm: 0 };
  const { out, normT } = noGrad(() =>
    scope(() => {
      let total: Tensor = sum(square(leaves[0]!));
      for (let i = 1; i < leaves.length; i++) total = add(total, sum(square(leaves[i]!)));
      const normT = sqrt(total);
      const scale = minimum(div(maxNorm, add(normT, 1e-6)), 1);
      return { out: leaves.map((g) => mul(g, scale)), normT };
    }),
  );
  const norm = normT.backend.readSync ? normT.itemSync() : NaN;
  normT.dispose();
  return { grads: treeUnflatten(grads, out), norm };
}
