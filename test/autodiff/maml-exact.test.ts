// The reason the engine exists: the exact second-order MAML meta-gradient equals finite
// differences of the post-adaptation query loss with respect to the initial parameters.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { buildProblem, metaGradient, type MlpParams } from '../helpers/maml-problem.js';

test('exact second-order MAML meta-gradient == finite differences (float64, 2 inner steps)', (t) => {
  mg.scope(() => {
    const { params, metaObjective } = buildProblem('float64', 'js');
    const g = metaGradient('float64', 'js');
    const eps = 1e-6;
    let worst = 0, checked = 0;
    for (const k of Object.keys(params) as (keyof MlpParams)[]) {
      const base = Array.from(params[k].dataSync());
      const analytic = g[k].dataSync();
      for (let i = 0; i < base.length; i++) {
        const at = (d: number) => mg.scope(() => {
          const vals = base.slice();
          vals[i]! += d;
          // the inner loop differentiates, so the perturbed params are recorded like any others
          const p = mg.treeMap({ ...params, [k]: mg.tensor(vals, params[k].shape.slice(), { dtype: 'float64', backend: 'js' }) }, (x) => mg.requireGrad(mg.detach(x)));
          return metaObjective(p).itemSync();
        });
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        const err = Math.abs(analytic[i]! - numeric) / (1e-7 + Math.abs(numeric));
        worst = Math.max(worst, err);
        checked++;
      }
    }
    t.ok(worst < 1e-5, `worst relative error ${worst.toExponential(2)} over ${checked} parameters`);
  });
  t.end();
});

test('first-order MAML differs from exact MAML (the second-order term matters here)', (t) => {
  mg.scope(() => {
    const exact = metaGradient('float64', 'js');
    const { params, support, query } = buildProblem('float64', 'js');
    // first order: the gradient of the query loss at the adapted params, treating them as leaves
    const { mlp } = { mlp: (p: MlpParams, x: mg.Tensor) => mg.add(mg.matmul(mg.tanh(mg.add(mg.matmul(x, p.w1), p.b1)), p.w2), p.b2) };
    let fast: MlpParams = params;
    for (let s = 0; s < 2; s++) {
      const g = mg.grad((p: MlpParams) => mg.mse(mlp(p, support.x), support.y))(fast) as MlpParams;
      fast = mg.treeZip([fast, g], ([a, b]) => mg.sub(a!, mg.mul(b!, 0.05))) as MlpParams;
    }
    const fo = mg.grad((p: MlpParams) => mg.mse(mlp(p, query.x), query.y))(fast) as MlpParams;
    const diff = Math.abs(fo.w1.dataSync()[0]! - exact.w1.dataSync()[0]!);
    t.ok(diff > 1e-6, `first-order and exact differ (${diff.toExponential(2)})`);
  });
  t.end();
});
