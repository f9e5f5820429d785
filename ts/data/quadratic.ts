// The random quadratic optimizees of Andrychowicz et al. 2016 (learning to learn by gradient
// descent by gradient descent, Fig. 2): f(θ) = ‖Wθ − y‖² with W [d, d] and y [d] drawn i.i.d.
// from N(0, 1). As a task, the function is a regression batch: support x = W (the d rows are
// d examples of d features), y = y; query = support (the optimizee is scored on the function it
// optimizes). `count` functions are stacked on a leading axis (x [count, d, d], y [count, d, 1])
// so one task can hold a batch of independent quadratics.

import type { Backend } from '../backend/kernels.js';
import type { BackendName } from '../backend/registry.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import { matmul } from '../ops/matmul.js';
import { tensor } from '../tensor/create.js';
import type { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import type { InitOptions, Model } from '../nn/model.js';
import type { TaskEntry } from './registry.js';
import type { Task } from './task.js';

export interface QuadraticOptions {
  /** dimension d of θ (default 10, the paper's) */
  dims?: number;
  /** functions stacked per task (default 1) */
  count?: number;
}

export class QuadraticTasks {
  readonly dims: number;
  readonly count: number;

  constructor(opts: QuadraticOptions = {}) {
    this.dims = opts.dims ?? 10;
    this.count = opts.count ?? 1;
    for (const k of ['dims', 'count'] as const) {
      if (!Number.isInteger(this[k]) || this[k] < 1) throw new ShapeError(`QuadraticTasks: ${k} must be a positive integer, got ${String(opts[k])}`);
    }
  }

  /** One task of `count` quadratics: x = W [count, d, d], y [count, d, 1] (float32); query is the same batch. */
  sample(rng: Rng, opts: { backend?: BackendName | Backend } = {}): Task {
    const d = this.dims, n = this.count;
    const w = new Float32Array(n * d * d), y = new Float32Array(n * d);
    for (let i = 0; i < w.length; i++) w[i] = rng.nextNormal();
    for (let i = 0; i < y.length; i++) y[i] = rng.nextNormal();
    const batch = { x: tensor(w, [n, d, d], { backend: opts.backend }), y: tensor(y, [n, d, 1], { backend: opts.backend }) };
    return { support: batch, query: batch };
  }
}

export type QuadraticParams = { theta: Tensor };

/** The optimizee of the quadratics: θ [count, d, 1] ~ N(0, initStd²) (the paper's code: 0.01), apply(θ, W) = Wθ. */
export function quadraticModel(opts: { dims?: number; count?: number; initStd?: number } = {}): Model<QuadraticParams> {
  const d = opts.dims ?? 10, n = opts.count ?? 1, std = opts.initStd ?? 0.01;
  if (!Number.isInteger(d) || d < 1 || !Number.isInteger(n) || n < 1) throw new ShapeError(`quadraticModel: dims and count must be positive integers, got ${d}, ${n}`);
  return {
    init: (rng: Rng, o: InitOptions = {}) => ({ theta: rng.normal([n, d, 1], 0, std, { dtype: o.dtype ?? 'float32', backend: o.backend }) }),
    apply(p: QuadraticParams, w: Tensor): Tensor {
      if (w.rank !== 3 || w.shape[0] !== n || w.shape[1] !== d || w.shape[2] !== d) throw new ShapeError(`quadraticModel.apply: W ${fmtShape(w.shape)} must be [${n}, ${d}, ${d}]`);
      return matmul(w, p.theta);
    },
  };
}

/**
 * The task source of learned optimizers (`metagrad train lstm-optimizer --task quadratic`): every
 * task is `functions` fresh random quadratics; validation and meta-test draw fresh ones too
 * (held-out functions of the same family, from their own seeds). The backbone is the optimizee θ.
 */
export const quadraticTask: TaskEntry = {
  name: 'quadratic',
  kind: 'regression',
  summary: 'random quadratics f(θ) = ‖Wθ − y‖², W and y ~ N(0, 1), for learned optimizers (Andrychowicz et al. 2016)',
  options: {
    dims: { kind: 'int', default: 10, min: 1, help: 'dimension of θ (the paper: 10)' },
    functions: { kind: 'int', default: 32, min: 1, help: 'independent quadratics per task, optimized together (their mean is the loss)' },
  },
  async load(o) {
    const dims = o['dims'] as number, count = o['functions'] as number;
    const tasks = new QuadraticTasks({ dims, count });
    const steps = (o['testSteps'] ?? o['steps']) as number | undefined;
    const metric = steps === undefined ? 'final loss' : `loss after ${steps} steps`;
    const draw = (rng: Rng) => tasks.sample(rng);
    return {
      name: 'quadratic',
      kind: 'regression',
      inputShape: [dims, dims],
      backbone: () => quadraticModel({ dims, count }),
      describe: `random ${dims}-dim quadratics, ${count} per task`,
      metric,
      resultLabel: `held-out quadratics ${metric}`,
      train: draw,
      val: draw,
      test: draw,
    };
  },
};
