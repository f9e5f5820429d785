// Meta-gradients checked against independent computations (float64, js backend).
import test from 'tape';
import * as mg from '../../ts/index.js';
import type { ParamTree, Tensor } from '../../ts/index.js';
import { finiteDiff, flat, js, maxRelErr, regressionTask, tinyMlp } from './helpers.js';

const model = tinyMlp();

function setup(seed = 1) {
  const rng = new mg.Rng(seed);
  const params = model.init(rng, 2, 4, 1);
  const task = regressionTask(rng, 2, 6, 5);
  return { params, task };
}

test('meta: exact MAML meta-gradient (2 inner steps) equals finite differences in float64', (t) => {
  mg.scope(() => {
    const { params, task } = setup();
    const learner = mg.maml(model, { innerSteps: 2, innerLr: 0.1 });
    const { grads, loss } = learner.metaGrad(params, [task]);
    // The meta-objective as a plain function: adapt (no graph), score the query set.
    const metaLoss = (p: ParamTree) => mg.batchLoss(model, learner.adapt(p, task.support), task.query).loss.itemSync();
    t.ok(Math.abs(loss.itemSync() - metaLoss(params)) < 1e-12, 'reported loss is the post-adaptation query loss');
    const fd = finiteDiff(params, metaLoss);
    const err = maxRelErr(flat(grads), fd);
    t.ok(err < 1e-6, `max relative error ${err.toExponential(2)} < 1e-6`);
    // and the second-order terms matter: first-order MAML differs from it here
    const fo = mg.fomaml(model, { innerSteps: 2, innerLr: 0.1 }).metaGrad(params, [task]).grads;
    t.ok(maxRelErr(flat(fo), fd) > 1e-3, 'FOMAML differs (second-order terms are present)');
  });
  t.end();
});

test('meta: FOMAML = the query gradient at independently adapted parameters', (t) => {
  mg.scope(() => {
    const { params, task } = setup(2);
    const lr = 0.05;
    // independent: two SGD steps with the functional grad, then grad of the query loss there
    const lossOn = (b: { x: Tensor; y: Tensor }) => (p: ParamTree) => mg.mse(model.apply(p, b.x), b.y);
    let p: ParamTree = params;
    for (let s = 0; s < 2; s++) {
      const g = mg.grad(lossOn(task.support))(p) as ParamTree;
      p = mg.treeZip([p, g], ([a, b]) => mg.sub(a!, mg.mul(b!, lr)));
    }
    const want = mg.grad(lossOn(task.query))(p) as ParamTree;
    const got = mg.fomaml(model, { innerSteps: 2, innerLr: lr }).metaGrad(params, [task]).grads;
    const err = maxRelErr(flat(got), flat(want));
    t.ok(err < 1e-10, `max relative error ${err.toExponential(2)}`);
  });
  t.end();
});

test('meta: Reptile with one inner step points along the SGD gradient', (t) => {
  mg.scope(() => {
    const { params, task } = setup(3);
    const lr = 0.05;
    const sgdGrad = mg.grad((p: ParamTree) => mg.mse(model.apply(p, task.support.x), task.support.y))(params) as ParamTree;
    const got = mg.reptile(model, { innerSteps: 1, innerLr: lr }).metaGrad(params, [task]).grads;
    const err = maxRelErr(flat(got), flat(sgdGrad).map((g) => g * lr));
    t.ok(err < 1e-10, `θ − φ = α∇L(θ): max relative error ${err.toExponential(2)}`);
    // serial Reptile with ε = 1 and one task lands on the adapted parameters
    const serial = mg.reptileSerial(model, params, [task], { innerSteps: 1, innerLr: lr, outerLr: 1 });
    const want = flat(params).map((v, i) => v - lr * flat(sgdGrad)[i]!);
    t.ok(maxRelErr(flat(serial), want) < 1e-10, 'serial Reptile with ε = 1 moves θ to φ');
  });
  t.end();
});

test('meta: MAML with the inner loop recomputed in segments gives the same meta-gradient as plain MAML', (t) => {
  mg.scope(() => {
    const { params, task } = setup(4);
    const plain = mg.maml(model, { innerSteps: 5, innerLr: 0.1 }).metaGrad(params, [task]).grads;
    for (const segment of [1, 2, 3, 5]) {
      const rc = mg.maml(model, { innerSteps: 5, innerLr: 0.1, recompute: segment }).metaGrad(params, [task]).grads;
      const err = maxRelErr(flat(rc), flat(plain));
      t.ok(err < 1e-10, `segment ${segment}: max relative error ${err.toExponential(2)}`);
    }
    // the deprecated option name still selects the same recomputation
    const old = mg.maml(model, { innerSteps: 5, innerLr: 0.1, checkpoint: 2 }).metaGrad(params, [task]).grads;
    t.ok(maxRelErr(flat(old), flat(plain)) < 1e-10, 'checkpoint (the deprecated name of recompute) gives the same meta-gradient');
    t.equal(typeof mg.checkpointedTaskGrad, 'function', 'checkpointedTaskGrad stays exported (deprecated)');
  });
  t.end();
});

test('meta: ANIL adapts only the head, and still meta-learns the body', (t) => {
  mg.scope(() => {
    const { params, task } = setup(5);
    const learner = mg.anil(model, { innerSteps: 2, innerLr: 0.1 });
    const fast = learner.adapt(params, task.support) as typeof params;
    t.deepEqual(flat(fast.l1), flat(params.l1), 'body unchanged by the inner loop');
    t.ok(maxRelErr(flat(fast.head), flat(params.head)) > 1e-6, 'head adapted');
    const { grads } = learner.metaGrad(params, [task]);
    const g = grads as typeof params;
    t.ok(flat(g.l1).some((v) => Math.abs(v) > 1e-8), 'body gets a meta-gradient');
    const metaLoss = (p: ParamTree) => mg.batchLoss(model, learner.adapt(p, task.support), task.query).loss.itemSync();
    const err = maxRelErr(flat(grads), finiteDiff(params, metaLoss));
    t.ok(err < 1e-6, `ANIL meta-gradient vs finite differences: ${err.toExponential(2)}`);
    const slow = mg.anil(model, { innerSteps: 2, innerLr: 0.1, reuseFeatures: false });
    t.ok(maxRelErr(flat(slow.metaGrad(params, [task]).grads), flat(grads)) < 1e-10, 'features computed once = whole model re-run per step');
    const fo = flat(mg.anil(model, { innerSteps: 2, innerLr: 0.1, firstOrder: true }).metaGrad(params, [task]).grads);
    const foSlow = flat(mg.anil(model, { innerSteps: 2, innerLr: 0.1, firstOrder: true, reuseFeatures: false }).metaGrad(params, [task]).grads);
    t.ok(maxRelErr(fo, foSlow) < 1e-10, 'first-order ANIL: both paths agree');
    t.throws(() => mg.anil(model).metaGrad({ w: params.l1.w } as ParamTree, [task]), /need a 'head' subtree/);
  });
  t.end();
});

test('meta: Meta-SGD and MAML++ meta-gradients (rates included) equal finite differences', (t) => {
  mg.scope(() => {
    const { params, task } = setup(6);
    const msgd = mg.metaSgd(model, { innerSteps: 2, initLr: 0.05 });
    const m1 = msgd.init(params);
    const g1 = msgd.metaGrad(m1, [task]).grads;
    const f1 = (m: ParamTree) => mg.batchLoss(model, msgd.adapt(m as mg.MetaSgdParams, task.support), task.query).loss.itemSync();
    const e1 = maxRelErr(flat(g1), finiteDiff(m1, f1));
    t.ok(e1 < 1e-5, `Meta-SGD (θ and α): ${e1.toExponential(2)}`);

    const pp = mg.mamlPlusPlus(model, { innerSteps: 3, innerLr: 0.05, multiStepLoss: true, annealIterations: 10 });
    const m2 = pp.init(params);
    const g2 = pp.metaGrad(m2, [task]).grads;
    const w = mg.multiStepWeights(3, 0, 10);
    t.ok(Math.abs(w.reduce((a, b) => a + b) - 1) < 1e-12 && w.every((v) => Math.abs(v - 1 / 3) < 1e-12), 'multi-step weights start uniform');
    const late = mg.multiStepWeights(3, 10, 10);
    t.ok(late[2]! > 0.9 && Math.abs(late.reduce((a, b) => a + b) - 1) < 1e-12, `weights anneal to the last step: ${late.map((v) => v.toFixed(3))}`);
    // the multi-step objective by hand: Σ_s w_s · L_query(θ after s+1 steps)
    const f2 = (m: ParamTree) => {
      const mm = m as mg.MamlPlusPlusParams;
      const lrs = mm.lrs.map((tr) => mg.treeFlatten(tr).leaves);
      let total = 0;
      for (let s = 1; s <= 3; s++) {
        const fast = mg.innerLoop(model, mm.params, task.support, { steps: s, lr: (st, leaf) => lrs[st]![leaf]!, createGraph: false });
        total += w[s - 1]! * mg.batchLoss(model, fast, task.query).loss.itemSync();
      }
      return total;
    };
    const e2 = maxRelErr(flat(g2), finiteDiff(m2, f2));
    t.ok(e2 < 1e-6, `MAML++ (θ and per-layer per-step rates, multi-step loss): ${e2.toExponential(2)}`);
  });
  t.end();
});

test('meta: iMAML meta-gradient = the closed-form implicit gradient on a quadratic problem', (t) => {
  mg.scope(() => {
    // Linear regression: L_s(w) = mean((X w − y)²) is quadratic with Hessian A = 2XᵀX/N, so
    // φ* = (A + λI)⁻¹(b + λθ) with b = 2Xᵀy/N and dφ*/dθ = λ(A + λI)⁻¹ (symmetric).
    const rng = new mg.Rng(7);
    const d = 3, n = 8, nq = 6, lambda = 0.5;
    const o = { dtype: 'float64' as const, backend: js() };
    const lin = { apply: (p: ParamTree, x: Tensor) => mg.matmul(x, (p as { w: Tensor }).w) };
    const mk = (m: number) => ({ x: rng.normal([m, d], 0, 1, o), y: rng.normal([m, 1], 0, 1, o) });
    const task = { support: mk(n), query: mk(nq) };
    const params = { w: rng.normal([d, 1], 0, 1, o) };
    const X = Array.from(task.support.x.dataSync()), Y = Array.from(task.support.y.dataSync());
    const Xq = Array.from(task.query.x.dataSync()), Yq = Array.from(task.query.y.dataSync());
    const th = Array.from(params.w.dataSync());
    const M: number[][] = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => {
      let s = 0;
      for (let k = 0; k < n; k++) s += X[k * d + i]! * X[k * d + j]!;
      return (2 * s) / n + (i === j ? lambda : 0);
    }));
    const solve = (A: number[][], b: number[]) => {
      const a = A.map((r, i) => [...r, b[i]!]);
      for (let c = 0; c < d; c++) {
        for (let r = c + 1; r < d; r++) {
          const f = a[r]![c]! / a[c]![c]!;
          for (let k = c; k <= d; k++) a[r]![k]! -= f * a[c]![k]!;
        }
      }
      const x = new Array<number>(d).fill(0);
      for (let r = d - 1; r >= 0; r--) {
        let s = a[r]![d]!;
        for (let k = r + 1; k < d; k++) s -= a[r]![k]! * x[k]!;
        x[r] = s / a[r]![r]!;
      }
      return x;
    };
    const b = Array.from({ length: d }, (_, i) => { let s = 0; for (let k = 0; k < n; k++) s += X[k * d + i]! * Y[k]!; return (2 * s) / n + lambda * th[i]!; });
    const phi = solve(M, b);
    const gq = Array.from({ length: d }, (_, i) => {
      let s = 0;
      for (let k = 0; k < nq; k++) {
        let pred = 0;
        for (let j = 0; j < d; j++) pred += Xq[k * d + j]! * phi[j]!;
        s += Xq[k * d + i]! * (pred - Yq[k]!);
      }
      return (2 * s) / nq;
    });
    const want = solve(M, gq.map((v) => v * lambda));
    const learner = mg.imaml(lin, { innerSteps: 400, innerLr: 0.1, lambda, cgSteps: d });
    const adapted = flat(learner.adapt(params, task.support));
    t.ok(maxRelErr(adapted, phi) < 1e-8, `inner solve reaches φ*: ${maxRelErr(adapted, phi).toExponential(2)}`);
    const got = flat(learner.metaGrad(params, [task]).grads);
    const err = maxRelErr(got, want);
    t.ok(err < 1e-7, `implicit meta-gradient vs closed form: ${err.toExponential(2)}`);
  });
  t.end();
});

test('meta: bad options and inputs raise MetaErrors naming the function', (t) => {
  const { params, task } = setup(8);
  t.throws(() => mg.maml(model, { innerSteps: 0 }), /maml: inner steps must be an integer >= 1, got 0/);
  t.throws(() => mg.maml(model, { innerLr: -1 }), /maml: innerLr must be a positive number/);
  t.throws(() => mg.maml(model, { checkpoint: 2, firstOrder: true }), /checkpoint applies to exact/);
  t.throws(() => mg.maml(model, { recompute: 2, firstOrder: true }), /maml: recompute applies to exact/);
  t.throws(() => mg.maml(model, { recompute: 0 }), /maml: recompute \(inner steps per segment\) must be an integer >= 1, got 0/);
  t.throws(() => mg.maml(model, { recompute: 2, checkpoint: 3 }), /maml: recompute \(2\) and its deprecated name checkpoint \(3\) disagree/);
  t.throws(() => mg.maml(model).metaGrad(params, []), /maml.metaGrad: need a non-empty array of tasks/);
  t.throws(() => mg.imaml(model, { lambda: 0 }), /imaml: lambda must be positive/);
  const bad = { support: { x: task.support.x, y: task.query.y }, query: task.query };
  t.throws(() => mg.maml(model).metaGrad(params, [bad]), (e: unknown) => e instanceof mg.ShapeError && /6 inputs .* but 5 targets/.test((e as Error).message));
  t.ok(new mg.MetaError('x') instanceof mg.MetagradError, 'MetaError is a MetagradError');
  t.end();
});

test('meta: MAML++ hands the inner step to per-step batch norm (each step its own rows)', (t) => {
  mg.scope(() => {
    const steps = 2;
    const model = mg.conv4({ imageSize: 16, outputs: 3, hidden: 4, batchNorm: 'per-step', maxSteps: steps + 2 });
    const rng = new mg.Rng(11);
    const params = model.init(rng);
    const mk = (n: number) => ({ x: rng.uniform([n, 1, 16, 16]), y: mg.tensor(Int32Array.from({ length: n }, (_, i) => i % 3), [n], { dtype: 'int32' }) });
    const task = { support: mk(6), query: mk(6) };
    const learner = mg.mamlPlusPlus(model, { innerSteps: steps, innerLr: 0.1 });
    const g = learner.metaGrad(learner.init(params), [task]).grads as unknown as { params: typeof params };
    const gamma = g.params.features.blocks[0]!.bn.gamma; // [maxSteps + 1, C]
    const rows = (gamma.arraySync() as number[][]).map((r) => r.some((v) => Math.abs(v) > 0));
    t.deepEqual(rows, [true, true, true, false, false], 'rows 0..S get gradients (S inner steps + the query pass), rows beyond S none');
    t.equal(learner.queryStep, steps, 'meta-test scores the query set with the last row');
  });
  t.end();
});
