// The random quadratic optimizees of Andrychowicz et al. 2016 (learning to learn by gradient
// descent by gradient descent, Fig. 2): f(θ) = ‖Wθ − y‖² with W [d, d] and y [d] drawn i.i.d.
// from N(0, 1). As a task, the function is a regression batch: support x = W (the d rows are
// d examples of d features), y = y; query = support (the optimizee is scored on the function it
// optimizes). `count` functions are stacked on a leading axis (x [count, d, d], y [count, d, 1])
// so one task can hold a batch of independent quadratics.

import type { Backend } from '../backend/kernels.js';
import type { BackendName } from '../backend/registry.js';
import { ShapeError } from '../core/errors.js';
import { tensor } from '../tensor/create.js';
import type { Rng } from '../ops/rng.js';
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
