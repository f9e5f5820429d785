// Every layer passes gradcheck and gradgradcheck (float64, js backend, tiny shapes).
import test from 'tape';
import * as mg from '../../ts/index.js';
import { batchNorm, conv2d, conv4, embedding, linear, lstmCell, maxPool, reluMaxPool, flattenBatch, sinusoidMLP, type BatchNormConfig } from '../../ts/nn/index.js';

const f64 = { dtype: 'float64' as const, backend: 'js' as const };

function both(t: test.Test, name: string, f: (...xs: mg.Tensor[]) => mg.Tensor | mg.Tensor[], xs: mg.Tensor[], opts: mg.GradcheckOptions = {}): void {
  try {
    const r1 = mg.gradcheck(f, xs, opts);
    t.ok(r1.ok, `${name}: gradcheck (${r1.checked} elements)`);
  } catch (e) {
    t.fail(`${name}: gradcheck threw ${(e as Error).message}`);
  }
  try {
    const r2 = mg.gradgradcheck(f, xs, opts);
    t.ok(r2.ok, `${name}: gradgradcheck (${r2.checked} elements)`);
  } catch (e) {
    t.fail(`${name}: gradgradcheck threw ${(e as Error).message}`);
  }
}

test('nn grads: linear', (t) => {
  const rng = new mg.Rng(1);
  const p = linear.init(rng, 3, 2, f64) as { w: mg.Tensor; b: mg.Tensor };
  const x = rng.normal([4, 3], 0, 1, f64);
  both(t, 'linear', (x, w, b) => linear.apply({ w: w!, b: b! }, x!), [x, p.w, p.b]);
  t.end();
});

test('nn grads: conv2d (padding 1) and maxPool + flatten', (t) => {
  const rng = new mg.Rng(2);
  const p = conv2d.init(rng, 2, 2, 3, f64) as { w: mg.Tensor; b: mg.Tensor };
  const x = rng.normal([2, 2, 4, 4], 0, 1, f64);
  both(t, 'conv2d', (x, w, b) => conv2d.apply({ w: w!, b: b! }, x!, { padding: 1 }), [x, p.w, p.b]);
  both(t, 'maxPool+flatten', (x) => flattenBatch(maxPool(x!)), [rng.normal([2, 2, 4, 4], 0, 1, f64)]);
  t.end();
});

test('nn grads: reluMaxPool is maxPool(relu(x)) exactly: values, gradients and second-order gradients, ties, negative windows, zeros and NaN (js float64, native float32)', (t) => {
  // windows of a 2×2 pool: all negative, a tie of positives, zeros and negatives, a NaN, a
  // -0 maximum, then random values (odd 5×5 planes: the last row and column are dropped)
  const crafted = [-3, -1, -2, -4, 2, 5, 5, 1, 0, -1, 0, -2, 1, Number.NaN, 3, 2, -0, -1, -5, -0];
  for (const backend of ['js', 'native'] as const) {
    for (const dtype of ['float64', 'float32'] as const) {
      if (backend === 'js' ? dtype !== 'float64' : dtype !== 'float32') continue;
      mg.scope(() => {
        const rng = new mg.Rng(11);
        const o = { dtype, backend };
        const vals = Array.from(rng.normal([2, 3, 5, 5], 0, 1, o).dataSync());
        // window k: plane k >> 2, pooled output (k >> 1 & 1, k & 1); element i of it at (i >> 1, i & 1)
        crafted.forEach((v, j) => {
          const k = j >> 2, i = j & 3;
          vals[(k >> 2) * 25 + (((k >> 1) & 1) * 2 + (i >> 1)) * 5 + (k & 1) * 2 + (i & 1)] = v;
        });
        const x = mg.requireGrad(mg.reshape(mg.tensor(vals, o), [2, 3, 5, 5]));
        const u = mg.requireGrad(rng.normal([2, 3, 2, 2], 0, 1, o)), v = rng.normal([2, 3, 5, 5], 0, 1, o);
        const run = (f: (x: mg.Tensor) => mg.Tensor) => {
          const y = f(x);
          const [gx] = mg.gradients(mg.sum(mg.mul(y, u)), [x], { createGraph: true });
          const [gu] = mg.gradients(mg.sum(mg.mul(gx!, v)), [u]);
          return [y, gx!, gu!].map((z) => Array.from(z.dataSync()));
        };
        const got = run((x) => reluMaxPool(x)), want = run((x) => maxPool(mg.relu(x)));
        ['value', 'gradient', 'second-order gradient'].forEach((what, k) => {
          const a = got[k]!, b = want[k]!;
          const same = a.length === b.length && a.every((z, i) => Object.is(z, b[i]) || (z === 0 && b[i] === 0));
          t.ok(same, `${backend} ${dtype}: ${what} the same${same ? '' : `: ${a.slice(0, 8)} vs ${b.slice(0, 8)}`}`);
        });
        t.ok(Number.isNaN(got[0]![3]!), `${backend}: a NaN in a window gives NaN`);
      });
    }
  }
  both(t, 'reluMaxPool', (x) => reluMaxPool(x!), [new mg.Rng(12).normal([2, 2, 4, 4], 0, 1, f64)]);
  t.end();
});

test('nn grads: batch norm in every mode', (t) => {
  const rng = new mg.Rng(3);
  const x4 = rng.normal([3, 2, 2, 2], 0.5, 2, f64);
  const x2 = rng.normal([5, 3], -1, 1.5, f64);
  const gb = (c: number, cfg: BatchNormConfig) => {
    const p = batchNorm.init(rng, c, cfg, f64);
    // non-trivial gamma/beta so their derivatives are exercised
    return { gamma: mg.add(p.gamma, rng.normal(p.gamma.shape, 0, 0.3, f64)), beta: rng.normal(p.beta.shape, 0, 0.3, f64) };
  };
  const tr: BatchNormConfig = { mode: 'transductive' };
  const p1 = gb(2, tr);
  both(t, 'bn transductive [N,C,H,W]', (x, g, b) => batchNorm.apply({ gamma: g!, beta: b! }, x!, tr), [x4, p1.gamma, p1.beta]);
  const p2 = gb(3, tr);
  both(t, 'bn transductive [N,C]', (x, g, b) => batchNorm.apply({ gamma: g!, beta: b! }, x!, tr), [x2, p2.gamma, p2.beta]);

  const ps: BatchNormConfig = { mode: 'per-step', maxSteps: 2 };
  const p3 = gb(2, ps);
  t.deepEqual(p3.gamma.shape, [3, 2], 'per-step gamma has maxSteps + 1 rows');
  both(t, 'bn per-step (step 1, batch stats)', (x, g, b) => batchNorm.apply({ gamma: g!, beta: b! }, x!, ps, { training: true, step: 1 }), [x4, p3.gamma, p3.beta]);
  const st3 = { mean: rng.normal([3, 2], 0, 1, f64), var: rng.uniform([3, 2], 0.5, 2, f64) };
  both(t, 'bn per-step (step 2, running stats)', (x, g, b, m, v) => batchNorm.apply({ gamma: g!, beta: b! }, x!, ps, { training: false, step: 2, state: { mean: m!, var: v! } }), [x4, p3.gamma, p3.beta, st3.mean, st3.var]);

  const rn: BatchNormConfig = { mode: 'running' };
  const p4 = gb(2, rn);
  both(t, 'bn running (training: batch stats)', (x, g, b) => batchNorm.apply({ gamma: g!, beta: b! }, x!, rn, { training: true }), [x4, p4.gamma, p4.beta]);
  const st4 = { mean: rng.normal([2], 0, 1, f64), var: rng.uniform([2], 0.5, 2, f64) };
  both(t, 'bn running (eval: running stats)', (x, g, b, m, v) => batchNorm.apply({ gamma: g!, beta: b! }, x!, rn, { training: false, state: { mean: m!, var: v! } }), [x4, p4.gamma, p4.beta, st4.mean, st4.var]);
  t.end();
});

test('nn grads: lstmCell and embedding', (t) => {
  const rng = new mg.Rng(4);
  const p = lstmCell.init(rng, 2, 3, f64);
  const x = rng.normal([2, 2], 0, 1, f64), h = rng.normal([2, 3], 0, 1, f64), c = rng.normal([2, 3], 0, 1, f64);
  both(t, 'lstmCell', (x, h, c, wx, wh, b) => {
    const s = lstmCell.apply({ wx: wx!, wh: wh!, b: b! }, x!, { h: h!, c: c! });
    return [s.h, s.c];
  }, [x, h, c, p.wx, p.wh, p.b]);
  const e = embedding.init(rng, 5, 3, f64);
  const ids = mg.tensor([[0, 4], [4, 2]], { dtype: 'int32' });
  both(t, 'embedding', (table, i) => embedding.apply({ table: table! }, i!), [e.table, ids]);
  t.end();
});

test('nn grads: whole Conv-4 (per-step batch norm) and sinusoid MLP', (t) => {
  const rng = new mg.Rng(6);
  const model = conv4({ imageSize: 16, outputs: 2, hidden: 2, batchNorm: 'per-step', maxSteps: 1 });
  const params = model.init(rng, f64);
  const flat = mg.treeFlatten(params);
  const x = rng.normal([3, 1, 16, 16], 0, 1, f64);
  const f = (...leaves: mg.Tensor[]) => model.apply(mg.treeUnflatten(params, leaves), x, { training: true, step: 1 });
  const r = mg.gradcheck(f, flat.leaves);
  t.ok(r.ok, `conv4 gradcheck over all ${r.checked} parameters`);
  const head = flat.names.map((n, i) => (n.startsWith('head') || n.startsWith('features.blocks.3') ? i : -1)).filter((i) => i >= 0);
  const r2 = mg.gradgradcheck(f, flat.leaves, { wrt: head });
  t.ok(r2.ok, `conv4 gradgradcheck over the last block and head (${r2.checked} elements)`);
  const mlpModel = sinusoidMLP({ hidden: [3, 3] });
  const mp = mlpModel.init(rng, f64);
  const mf = mg.treeFlatten(mp);
  const xm = rng.normal([4, 1], 0, 2, f64);
  both(t, 'sinusoid MLP', (...l) => mlpModel.apply(mg.treeUnflatten(mp, l), xm), mf.leaves);
  t.end();
});
