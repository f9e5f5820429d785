// What the real-browser test runs in the page, and the Node side runs again for reference:
// a gradient, a second derivative, a small matmul and its gradient (on the backend given),
// and a few iterations of exact second-order MAML on sinusoid tasks (js backend), written
// against the engine so both sides run exactly the same program.

import type * as Mg from '../../ts/api.js';

export interface WorkloadResult {
  backend: string;
  grad: number[];
  second: number[];
  matmul: number[];
  matmulGrad: number[];
  cubeSecond: number[];
  mamlLosses: number[];
}

const values = async (t: Mg.Tensor): Promise<number[]> => Array.from(await t.data(), Number);

export async function runWorkload(mg: typeof Mg, backend: string): Promise<WorkloadResult> {
  const x = mg.tensor([0.5, 1.0, 2.0]);
  const f = (v: Mg.Tensor) => mg.sum(mg.mul(mg.sin(v), v));
  const grad = await values(mg.grad(f)(x));
  const second = await values(mg.grad((v: Mg.Tensor) => mg.sum(mg.grad(f)(v)))(x));

  const o = { backend };
  const a = mg.tensor([1, 2, 3, 4, 5, 6], [2, 3], o);
  const b = mg.tensor([0.5, -1, 2, 0, 1, 3], [3, 2], o);
  const matmul = await values(mg.matmul(a, b));
  const matmulGrad = await values(mg.grad((p: Mg.Tensor) => mg.sum(mg.matmul(p, b)))(a));
  const c = mg.tensor([0.5, -1.5, 2], [3], o);
  const cubeSecond = await values(mg.grad((v: Mg.Tensor) => mg.sum(mg.grad((w: Mg.Tensor) => mg.sum(mg.mul(mg.mul(w, w), w)))(v)))(c));

  return { backend, grad, second, matmul, matmulGrad, cubeSecond, mamlLosses: await maml(mg) };
}

type Mlp = { w1: Mg.Tensor; b1: Mg.Tensor; w2: Mg.Tensor; b2: Mg.Tensor };
const KEYS = ['w1', 'b1', 'w2', 'b2'] as const;

/** Exact second-order MAML: one inner SGD step with a created graph, plain SGD outside; the mean query loss per iteration. */
async function maml(mg: typeof Mg): Promise<number[]> {
  const rng = new mg.Rng(7);
  const hidden = 16;
  let params: Mlp = {
    w1: rng.normal([1, hidden], 0, 1), b1: mg.zeros([hidden]),
    w2: rng.normal([hidden, 1], 0, 1 / Math.sqrt(hidden)), b2: mg.zeros([1]),
  };
  const forward = (p: Mlp, x: Mg.Tensor) => mg.add(mg.matmul(mg.tanh(mg.add(mg.matmul(x, p.w1), p.b1)), p.w2), p.b2);
  const tasks = new mg.SinusoidTasks();
  const losses: number[] = [];
  // One fixed meta-batch, so each outer step must lower the same meta-objective.
  const batch = Array.from({ length: 4 }, () => tasks.sample(rng, 10, 10));
  for (let it = 0; it < 6; it++) {
    const metaLoss = (p: Mlp) => {
      let total: Mg.Tensor | undefined;
      for (const task of batch) {
        const inner = mg.mse(forward(p, task.support.x), task.support.y);
        const g = mg.gradients(inner, KEYS.map((k) => p[k]), { createGraph: true });
        const fast = {} as Mlp;
        KEYS.forEach((k, i) => (fast[k] = mg.sub(p[k], mg.mul(g[i]!, 0.01))));
        const q = mg.mse(forward(fast, task.query.x), task.query.y);
        total = total ? mg.add(total, q) : q;
      }
      return mg.div(total!, batch.length);
    };
    const [loss, g] = mg.valueAndGrad(metaLoss)(params) as [Mg.Tensor, Mlp];
    losses.push(await loss.item());
    const next = {} as Mlp;
    for (const k of KEYS) next[k] = mg.sub(params[k], mg.mul(g[k], 0.02));
    params = next;
  }
  return losses;
}
