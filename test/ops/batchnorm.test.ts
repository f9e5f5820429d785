// The fused batch-norm ops beyond the op table (test/helpers/op-cases.ts gives them
// gradcheck, gradgradcheck and backend parity): third order, agreement with batch norm
// written in elementary ops, exact second-order MAML through Conv-4's batch norm against
// finite differences, freed intermediates, and errors.
import test from 'tape';
import * as mg from '../../ts/index.js';
import type { ParamTree, Tensor } from '../../ts/index.js';
import { flat, maxRelErr } from '../meta/helpers.js';
import { probeBackends } from '../helpers/backends.js';

const f64 = { dtype: 'float64' as const, backend: 'js' };

/** Batch norm in elementary ops (what nn/batchnorm.ts did before the fused op). */
function composite(x: Tensor, g: Tensor, b: Tensor, eps = 1e-5): Tensor {
  const axes = [0, 2, 3];
  const bs = [1, x.shape[1]!, 1, 1];
  const mu = mg.mean(x, axes);
  const d = mg.sub(x, mg.reshape(mu, bs));
  const v = mg.mean(mg.square(d), axes);
  const y = mg.div(d, mg.sqrt(mg.add(mg.reshape(v, bs), eps)));
  return mg.add(mg.mul(y, mg.reshape(g, bs)), mg.reshape(b, bs));
}

test('batchNormTrain: value, gradient and second derivative equal batch norm in elementary ops (float64)', (t) => {
  mg.scope(() => {
    const rng = new mg.Rng(5);
    const x = mg.requireGrad(rng.normal([3, 2, 3, 3], 1.5, 2, f64));
    const g = mg.requireGrad(rng.normal([2], 1, 0.5, f64)), b = mg.requireGrad(rng.normal([2], 0, 1, f64));
    const r = rng.normal([3, 2, 3, 3], 0, 1, f64), s = rng.normal([3, 2, 3, 3], 0, 1, f64);
    const run = (f: (x: Tensor, g: Tensor, b: Tensor) => Tensor) => {
      const y = f(x, g, b);
      const gs = mg.gradients(mg.sum(mg.mul(y, r)), [x, g, b], { createGraph: true });
      const hs = mg.gradients(mg.sum(mg.mul(gs[0]!, s)), [x, g, b]);
      return [y, ...gs, ...hs].map((z) => Array.from(z.dataSync()));
    };
    const fused = run((x, g, b) => mg.batchNormTrain(x, g, b).y), ref = run(composite);
    const labels = ['y', 'dx', 'dgamma', 'dbeta', 'd2x', 'd2gamma', 'd2beta'];
    fused.forEach((a, k) => t.ok(maxRelErr(a, ref[k]!) < 1e-10 || Math.max(...a.map((v, i) => Math.abs(v - ref[k]![i]!))) < 1e-12, `${labels[k]} agrees`));
  });
  t.end();
});

test('batchNormReluMaxPool: value, gradient (the fused backward kernel) and second derivative equal relu(maxPool2d(batchNormTrain)) on every backend', async (t) => {
  for (const p of (await probeBackends()).filter((p) => p.available || p.required)) {
    if (!p.available) {
      t.fail(`${p.name} is required but unavailable: ${p.why}`);
      continue;
    }
    const dtype = p.name === 'js' ? 'float64' as const : 'float32' as const;
    const o = { dtype, backend: p.name };
    for (const shape of [[3, 4, 6, 5], [5, 3, 14, 14]]) {
      const { fused, ref } = mg.scope(() => {
        const rng = new mg.Rng(15);
        const x = mg.requireGrad(rng.normal(shape, 0.5, 2, o));
        // a negative gamma flips which of a window is its maximum
        const g = mg.requireGrad(mg.tensor(Array.from({ length: shape[1]! }, (_, i) => (i % 2 ? -0.7 : 1.3) + 0.1 * i), [shape[1]!], o));
        const b = mg.requireGrad(rng.normal([shape[1]!], 0, 1, o));
        const r = rng.normal([shape[0]!, shape[1]!, Math.floor(shape[2]! / 2), Math.floor(shape[3]! / 2)], 0, 1, o), s = rng.normal(shape, 0, 1, o);
        const run = (f: (x: Tensor, g: Tensor, b: Tensor) => Tensor): Tensor[] => {
          const y = f(x, g, b);
          // first order without a graph: the fused backward kernel
          const plain = mg.gradients(mg.sum(mg.mul(y, r)), [x, g, b]);
          const gs = mg.gradients(mg.sum(mg.mul(f(x, g, b), r)), [x, g, b], { createGraph: true });
          const hs = mg.gradients(mg.sum(mg.mul(gs[0]!, s)), [x, g, b]);
          return [mg.detach(y), ...plain, ...gs.map(mg.detach), ...hs];
        };
        return {
          fused: run((x, g, b) => mg.batchNormReluMaxPool(x, g, b).y),
          ref: run((x, g, b) => mg.relu(mg.maxPool2d(mg.batchNormTrain(x, g, b).y, { kernelSize: 2 }))),
        };
      });
      const read = (zs: Tensor[]) => Promise.all(zs.map(async (z) => Array.from(await z.data())));
      const [fa, ra] = [await read(fused), await read(ref)];
      mg.disposeAll([...fused, ...ref]);
      const labels = ['y', 'dx', 'dgamma', 'dbeta', 'dx (graph)', 'dgamma (graph)', 'dbeta (graph)', 'd2x', 'd2gamma', 'd2beta'];
      const tol = dtype === 'float64' ? 1e-10 : 2e-4;
      fa.forEach((a, k) => {
        const scale = Math.max(1, ...ra[k]!.map(Math.abs));
        const worst = Math.max(...a.map((v, i) => Math.abs(v - ra[k]![i]!)));
        t.ok(a.length === ra[k]!.length && worst <= tol * scale, `${p.name} ${JSON.stringify(shape)}: ${labels[k]} agrees (worst ${worst.toExponential(2)})`);
      });
    }
  }
  t.end();
});

test('batchNormTrain: third derivatives against finite differences (float64)', (t) => {
  mg.scope(() => {
    const rng = new mg.Rng(6);
    const x0 = Array.from(rng.normal([2, 2, 2, 2], 0, 1, f64).dataSync());
    const g = mg.requireGrad(rng.normal([2], 1, 0.5, f64)), b = rng.normal([2], 0, 1, f64);
    const r = rng.normal([2, 2, 2, 2], 0, 1, f64), s = rng.normal([2, 2, 2, 2], 0, 1, f64), u = rng.normal([2, 2, 2, 2], 0, 1, f64);
    // F(x) = <d/dx <d/dx <y, r>, s>, u>: a second derivative; its gradient is a third derivative
    const F = (xv: number[]) => {
      const x = mg.requireGrad(mg.tensor(xv, [2, 2, 2, 2], f64));
      const [d1] = mg.gradients(mg.sum(mg.mul(mg.batchNormTrain(x, g, b).y, r)), [x], { createGraph: true });
      const [d2] = mg.gradients(mg.sum(mg.mul(d1!, s)), [x], { createGraph: true });
      return { x, value: mg.sum(mg.mul(d2!, u)) };
    };
    const { x, value } = F(x0);
    const [gx, gg] = mg.gradients(value, [x, g]);
    const analytic = Array.from(gx!.dataSync());
    let worst = 0;
    for (let i = 0; i < x0.length; i++) {
      const at = (d: number) => mg.scope(() => F(x0.map((v, k) => (k === i ? v + d : v))).value.itemSync());
      const numeric = (at(1e-5) - at(-1e-5)) / 2e-5;
      worst = Math.max(worst, Math.abs(analytic[i]! - numeric) / Math.max(1e-3, Math.abs(numeric)));
    }
    t.ok(worst < 1e-5, `d³/dx³ along (r, s, u): worst relative error ${worst.toExponential(2)} over ${x0.length} elements`);
    t.ok(gg!.dataSync().some((v) => v !== 0), 'and a third-order mixed derivative reaches gamma');
  });
  t.end();
});

test('batchNormTrain: statistics, and running statistics through batchNormInference', (t) => {
  mg.scope(() => {
    const rng = new mg.Rng(7);
    const x = rng.normal([4, 3, 2, 2], 2, 3, f64);
    const g = mg.ones([3], f64), b = mg.zeros([3], f64);
    const r = mg.batchNormTrain(x, g, b, 1e-3);
    const mu = mg.mean(x, [0, 2, 3]), v = mg.variance(x, [0, 2, 3]);
    t.ok(maxRelErr(Array.from(r.mean.dataSync()), Array.from(mu.dataSync())) < 1e-12, 'mean');
    t.ok(maxRelErr(Array.from(r.variance.dataSync()), Array.from(v.dataSync())) < 1e-12, 'biased variance');
    t.notOk(r.mean.requiresGrad || r.variance.requiresGrad, 'statistics carry no gradient');
    // with the batch's own statistics, inference mode reproduces training mode
    const inf = mg.batchNormInference(x, r.mean, r.variance, g, b, 1e-3);
    t.ok(maxRelErr(Array.from(inf.dataSync()), Array.from(r.y.dataSync())) < 1e-10, 'batchNormInference with the batch statistics = batchNormTrain');
  });
  t.end();
});

test('batchNormTrain: intermediates are freed after backward, at first and second order', (t) => {
  const rng = new mg.Rng(8);
  const x = mg.requireGrad(rng.normal([2, 3, 4, 4], 0, 1, f64));
  const g = mg.requireGrad(mg.ones([3], f64)), b = mg.requireGrad(mg.zeros([3], f64));
  const base = mg.liveTensorCount();
  mg.scope(() => {
    const [dx] = mg.gradients(mg.sum(mg.square(mg.batchNormTrain(x, g, b).y)), [x, g, b], { createGraph: true });
    mg.gradients(mg.sum(dx!), [x, g]);
  });
  t.equal(mg.liveTensorCount(), base, 'live tensors back to the baseline');
  mg.disposeAll([x, g, b]);
  t.end();
});

test('batchNorm ops: bad input raises errors naming the op and shapes', (t) => {
  mg.scope(() => {
    const x = mg.zeros([2, 3, 4], f64), g = mg.ones([3], f64);
    t.throws(() => mg.batchNormTrain(x, mg.ones([4], f64), g), (e: unknown) => e instanceof mg.ShapeError && /batchNormTrain: gamma \[4\] must be \[3\] for input \[2, 3, 4\]/.test((e as Error).message));
    t.throws(() => mg.batchNormTrain(mg.zeros([1, 3], f64), g, g), (e: unknown) => e instanceof mg.ShapeError && /more than one value per channel/.test((e as Error).message));
    t.throws(() => mg.batchNormTrain(mg.zeros([3], f64), g, g), (e: unknown) => e instanceof mg.ShapeError && /\[N, C, \.\.\.\]/.test((e as Error).message));
    t.throws(() => mg.batchNormTrain(x, mg.ones([3], { dtype: 'float32', backend: 'js' }), g), (e: unknown) => e instanceof mg.DTypeError, 'dtype mismatch');
    t.throws(() => mg.batchNormBackward(x, mg.zeros([2, 3, 5], f64), g), (e: unknown) => e instanceof mg.ShapeError && /batchNormBackward: gradient \[2, 3, 4\] and xhat \[2, 3, 5\]/.test((e as Error).message));
    t.throws(() => mg.batchNormBackwardSums(x, mg.zeros([2, 3, 5], f64), g), (e: unknown) => e instanceof mg.ShapeError && /batchNormBackwardSums: gradient \[2, 3, 4\] and xhat \[2, 3, 5\]/.test((e as Error).message));
    t.throws(() => mg.batchNormBackwardSums(x, x, mg.ones([4], f64)), (e: unknown) => e instanceof mg.ShapeError && /batchNormBackwardSums: w \[4\] must be \[3\]/.test((e as Error).message));
    t.throws(() => mg.channelDot(x, mg.zeros([2, 3, 5], f64)), (e: unknown) => e instanceof mg.ShapeError && /channelDot/.test((e as Error).message));
    t.throws(() => mg.channelAffine(mg.zeros([2, 3], { dtype: 'int32' }), mg.ones([3], { dtype: 'int32' })), (e: unknown) => e instanceof mg.DTypeError);
    // NaN propagates through the statistics
    const nan = mg.tensor([NaN, 1, 2, 3], [2, 2, 1], f64);
    const y = Array.from(mg.batchNormTrain(nan, mg.ones([2], f64), mg.zeros([2], f64)).y.dataSync());
    t.ok(Number.isNaN(y[0]!) && Number.isNaN(y[2]!) && !Number.isNaN(y[1]!), 'a NaN poisons its channel only');
  });
  t.end();
});

test('exact second-order MAML through Conv-4 with batch-statistics batch norm == finite differences (float64)', (t) => {
  mg.scope(() => {
    const model = mg.conv4({ imageSize: 16, outputs: 3, hidden: 3 });
    const rng = new mg.Rng(12);
    const params = model.init(rng, f64);
    const mk = (n: number) => ({ x: rng.uniform([n, 1, 16, 16], 0, 1, f64), y: mg.tensor(Int32Array.from({ length: n }, (_, i) => i % 3), [n], { dtype: 'int32', backend: 'js' }) });
    const task = { support: mk(3), query: mk(6) };
    const learner = mg.maml(model, { innerSteps: 1, innerLr: 0.3 });
    const { grads } = learner.metaGrad(params, [task]);
    const metaLoss = (p: ParamTree) => mg.batchLoss(model, learner.adapt(p, task.support), task.query).loss.itemSync();
    // central differences on a spread of parameters from every layer (all of them would take minutes)
    const { leaves } = mg.treeFlatten(params);
    const analytic = flat(grads);
    let offset = 0, worst = 0, checked = 0;
    leaves.forEach((leaf, li) => {
      const base = Float64Array.from(leaf.dataSync());
      for (let j = 0; j < base.length; j += Math.max(1, Math.floor(base.length / 4))) {
        const at = (d: number) => mg.scope(() => {
          const v = base.slice();
          v[j]! += d;
          return metaLoss(mg.treeUnflatten(params, leaves.map((l, k) => (k === li ? mg.tensor(v, leaf.shape.slice(), f64) : l))));
        });
        const numeric = (at(1e-6) - at(-1e-6)) / 2e-6;
        const a = analytic[offset + j]!;
        // the conv biases feed batch norm, which removes them: exactly 0 against ~1e-10 of rounding
        worst = Math.max(worst, Math.abs(a - numeric) / Math.max(1e-4, Math.abs(a), Math.abs(numeric)));
        checked++;
      }
      offset += base.length;
    });
    t.ok(worst < 1e-5, `worst relative error ${worst.toExponential(2)} over ${checked} parameters of ${offset}`);
  });
  t.end();
});

test('native per-channel and max-pool-backward kernels reject bad buffers with a BackendError (no crash)', (t) => {
  if (!mg.backendAvailable('native')) {
    t.skip('native backend not built');
    t.end();
    return;
  }
  const be = mg.getBackend('native');
  const f = (n: number) => be.upload(new Float32Array(n), 'float32');
  t.throws(() => be.batchNorm(f(10), f(2), f(2), { n: 2, c: 2, s: 3 }, 1e-5), (e: unknown) => e instanceof mg.BackendError && /batchNorm/.test((e as Error).message), 'x of the wrong size');
  t.throws(() => be.batchNormBackward(f(12), f(12), f(3), { n: 2, c: 2, s: 3 }), (e: unknown) => e instanceof mg.BackendError, 'w of the wrong size');
  t.throws(() => be.batchNormBackwardSums(f(12), f(11), f(2), { n: 2, c: 2, s: 3 }), (e: unknown) => e instanceof mg.BackendError && /batchNormBackward/.test((e as Error).message), 'xhat of the wrong size, with sums');
  t.throws(() => be.channelDot(f(12), be.upload(new Float64Array(12), 'float64'), { n: 2, c: 2, s: 3 }), (e: unknown) => e instanceof mg.BackendError, 'mixed dtypes');
  const g = { planes: 1, h: 2, w: 2, kh: 2, kw: 2, oh: 1, ow: 1, strideH: 2, strideW: 2, padH: 0, padW: 0 };
  t.throws(() => be.maxPool2dBackward(f(1), be.upload(Int32Array.of(7), 'int32'), g), (e: unknown) => e instanceof mg.BackendError && /outside the plane/.test((e as Error).message), 'an index outside the plane');
  t.end();
});
