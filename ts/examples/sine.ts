// The embedded default until the CLI lands: fit one sine wave with a 1-40-40-1 MLP
// by full-batch gradient descent and print the loss falling.

import {
  Rng, grad, linspace, matmul, mse, relu, scope, sin, sub, mul, add, reshape, keep, type Tensor, currentBackend,
} from '../index.js';

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor; w3: Tensor; b3: Tensor };

function init(rng: Rng): Params {
  const layer = (i: number, o: number) => [rng.normal([i, o], 0, Math.sqrt(2 / i)), rng.uniform([o], -0.1, 0.1)] as const;
  const [w1, b1] = layer(1, 40), [w2, b2] = layer(40, 40), [w3, b3] = layer(40, 1);
  return { w1, b1, w2, b2, w3, b3 };
}

function forward(p: Params, x: Tensor): Tensor {
  const h1 = relu(add(matmul(x, p.w1), p.b1));
  const h2 = relu(add(matmul(h1, p.w2), p.b2));
  return add(matmul(h2, p.w3), p.b3);
}

const rng = new Rng(0);
let params = init(rng);
const x = reshape(linspace(-5, 5, 100), [100, 1]);
const y = mul(sin(add(x, 0.5)), 2.0);
const lossGrad = grad((p: Params) => mse(forward(p, x), y));
console.log(`metagrad: fitting 2·sin(x + 0.5) with a 1-40-40-1 MLP on the '${currentBackend().name}' backend`);
for (let step = 0; step <= 2000; step++) {
  const next = scope(() => {
    const g = lossGrad(params) as Params;
    const out = {} as Params;
    for (const k of Object.keys(params) as (keyof Params)[]) out[k] = sub(params[k], mul(g[k], 0.01));
    return out;
  });
  for (const k of Object.keys(params) as (keyof Params)[]) params[k].dispose();
  params = next;
  if (step % 250 === 0) {
    const loss = scope(() => mse(forward(params, x), y).itemSync());
    console.log(`step ${String(step).padStart(4)}  mse ${loss.toFixed(5)}`);
  }
}
keep([x, y]);
