// The foundation's acceptance problem: exact second-order MAML on a 2-layer MLP and one
// sinusoid task, two inner SGD steps with created graphs. Written directly against the
// engine (no meta-learning layer), so it checks the tape itself.

import * as mg from '../../ts/index.js';
import type { Tensor } from '../../ts/index.js';

export type MlpParams = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };

export function mlp(p: MlpParams, x: Tensor): Tensor {
  return mg.add(mg.matmul(mg.tanh(mg.add(mg.matmul(x, p.w1), p.b1)), p.w2), p.b2);
}

/** Host values of the problem: initial params and one task (support, query). */
export function problemValues(seed = 3, hidden = 8) {
  const rng = new mg.Rng(seed);
  const vals = (n: number, s: number) => Array.from({ length: n }, () => rng.nextNormal() * s);
  const amp = 1 + 2 * rng.nextFloat(), phase = Math.PI * rng.nextFloat();
  const xs = (n: number) => Array.from({ length: n }, () => -5 + 10 * rng.nextFloat());
  const xSupport = xs(5), xQuery = xs(7);
  return {
    hidden,
    params: { w1: vals(hidden, 0.8), b1: vals(hidden, 0.1), w2: vals(hidden, 0.5), b2: vals(1, 0.1) },
    xSupport, ySupport: xSupport.map((x) => amp * Math.sin(x + phase)),
    xQuery, yQuery: xQuery.map((x) => amp * Math.sin(x + phase)),
  };
}

export function buildProblem(dtype: 'float32' | 'float64', backend: string, seed = 3) {
  const v = problemValues(seed);
  const h = v.hidden;
  const T = (vals: number[], shape: number[]) => mg.tensor(vals, shape, { dtype, backend });
  const params: MlpParams = { w1: T(v.params.w1, [1, h]), b1: T(v.params.b1, [h]), w2: T(v.params.w2, [h, 1]), b2: T(v.params.b2, [1]) };
  const support = { x: T(v.xSupport, [5, 1]), y: T(v.ySupport, [5, 1]) };
  const query = { x: T(v.xQuery, [7, 1]), y: T(v.yQuery, [7, 1]) };
  const innerLr = 0.05;
  /** Post-adaptation query loss as a function of the initial params (two inner SGD steps). */
  const metaObjective = (p: MlpParams): Tensor => {
    let fast = p;
    for (let step = 0; step < 2; step++) {
      const loss = mg.mse(mlp(fast, support.x), support.y);
      const names = Object.keys(fast) as (keyof MlpParams)[];
      const grads = mg.gradients(loss, names.map((k) => fast[k]), { createGraph: true });
      const next = {} as MlpParams;
      names.forEach((k, i) => (next[k] = mg.sub(fast[k], mg.mul(grads[i]!, innerLr))));
      fast = next;
    }
    return mg.mse(mlp(fast, query.x), query.y);
  };
  return { params, support, query, metaObjective };
}

/** The exact meta-gradient (a tree like params). */
export function metaGradient(dtype: 'float32' | 'float64', backend: string, seed = 3): MlpParams {
  const { params, metaObjective } = buildProblem(dtype, backend, seed);
  return mg.grad(metaObjective)(params) as MlpParams;
}
