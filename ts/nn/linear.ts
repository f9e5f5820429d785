// Linear layer: y = x @ w + b with w [in, out] (the layout of ops/matmul's linear).

import { ShapeError, fmtShape } from '../core/errors.js';
import { add } from '../ops/elementwise.js';
import { linear as linearOp, matmul } from '../ops/matmul.js';
import { reshape } from '../ops/shape-ops.js';
import type { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkPositiveInt, initWeight, type Initializer } from './init.js';
import type { InitOptions } from './model.js';

/** Without a bias (init with bias: false) the tree is just { w }. */
export type LinearParams = { w: Tensor; b: Tensor } | { w: Tensor };

export interface LinearInitOptions extends InitOptions {
  bias?: boolean;
  /** weight initializer (default 'uniform', PyTorch's); bias is U(±1/sqrt(in)) for 'uniform', zeros otherwise */
  init?: Initializer;
}

export const linear = {
  init(rng: Rng, inFeatures: number, outFeatures: number, opts: LinearInitOptions = {}): LinearParams {
    checkPositiveInt(inFeatures, 'inFeatures', 'linear.init');
    checkPositiveInt(outFeatures, 'outFeatures', 'linear.init');
    const kind = opts.init ?? 'uniform';
    const w = initWeight(rng, [inFeatures, outFeatures], inFeatures, outFeatures, kind, opts);
    if (opts.bias === false) return { w };
    const b = initWeight(rng, [outFeatures], inFeatures, outFeatures, kind === 'uniform' ? 'uniform' : 'zeros', opts);
    return { w, b };
  },
  /** x [..., in] -> [..., out] */
  apply(params: LinearParams, x: Tensor): Tensor {
    const w = params.w;
    const b = 'b' in params ? params.b : undefined;
    if (w.rank !== 2 || x.rank < 1 || x.shape[x.rank - 1] !== w.shape[0]) {
      throw new ShapeError(`linear.apply: input ${fmtShape(x.shape)} does not fit weight ${fmtShape(w.shape)} (expected [..., ${w.shape[0]}])`);
    }
    if (b && (b.rank !== 1 || b.shape[0] !== w.shape[1])) throw new ShapeError(`linear.apply: bias ${fmtShape(b.shape)} does not fit weight ${fmtShape(w.shape)} (expected [${w.shape[1]}])`);
    return linearOp(x, w, b);
  },
  /**
   * T tasks' layers at once (task-batched inner loops): w [T, in, out], b [T, out] (each
   * task's fast weights stacked), x [T, N, in] -> [T, N, out], one batched matmul. Task t's
   * slice is apply({ w: w[t], b: b[t] }, x[t]).
   */
  applyTasks(params: LinearParams, x: Tensor): Tensor {
    const w = params.w;
    const b = 'b' in params ? params.b : undefined;
    if (w.rank !== 3 || x.rank !== 3 || x.shape[0] !== w.shape[0] || x.shape[2] !== w.shape[1]) {
      throw new ShapeError(`linear.applyTasks: input ${fmtShape(x.shape)} does not fit task-stacked weight ${fmtShape(w.shape)} (expected weight [T, in, out] and input [T, N, in])`);
    }
    if (b && (b.rank !== 2 || b.shape[0] !== w.shape[0] || b.shape[1] !== w.shape[2])) {
      throw new ShapeError(`linear.applyTasks: bias ${fmtShape(b.shape)} does not fit task-stacked weight ${fmtShape(w.shape)} (expected [${w.shape[0]}, ${w.shape[2]}])`);
    }
    const y = matmul(x, w);
    return b ? add(y, reshape(b, [b.shape[0]!, 1, b.shape[1]!])) : y;
  },
};
