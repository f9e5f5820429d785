// Task-batched inner loops (MAML's taskBatch): the tasks of a meta-batch adapted together on
// stacked fast weights give the serial path's meta-gradient, exact second order included
// (float64, js backend), and applyTasks' slices equal apply's per task.
import test from 'tape';
import * as mg from '../../ts/index.js';
import type { ParamTree, Tensor } from '../../ts/index.js';
import { finiteDiff, flat, js, maxRelErr } from './helpers.js';

const f64 = { dtype: 'float64' as const, backend: js() };

function imageTask(rng: mg.Rng, ways: number, shots: number, queries: number, size: number): mg.MetaTask {
  const mk = (per: number) => {
    const labels = Array.from({ length: ways * per }, (_, i) => i % ways);
    const x = rng.normal([ways * per, 1, size, size], 0, 1, f64);
    // a class-dependent offset, so the task is learnable and the losses are not all alike
    const off = mg.tensor(labels.map((l) => 0.5 * l), [ways * per, 1, 1, 1], f64);
    return { x: mg.add(x, off), y: mg.tensor(labels, [ways * per], { dtype: 'int32', backend: js() }) };
  };
  return { support: mk(shots), query: mk(queries), ways };
}

function sineTask(rng: mg.Rng, k: number, q: number): mg.MetaTask {
  const amp = rng.nextUniform(0.1, 5), phase = rng.nextUniform(0, Math.PI);
  const mk = (m: number) => {
    const xs = Array.from({ length: m }, () => rng.nextUniform(-5, 5));
    return { x: mg.tensor(xs, [m, 1], f64), y: mg.tensor(xs.map((v) => amp * Math.sin(v + phase)), [m, 1], f64) };
  };
  return { support: mk(k), query: mk(q) };
}

/** A model whose applyTasks calls are counted (so a test cannot pass by running the serial path). */
function counted<M extends mg.MetaModel>(model: M): M & { calls: number } {
  const c = { ...model, calls: 0 } as M & { calls: number };
  c.applyTasks = (p, x, o) => {
    c.calls++;
    return model.applyTasks!(p, x, o);
  };
  return c;
}

/**
 * The largest difference relative to the gradient's scale (its largest entry): a conv bias
 * followed by batch norm has a zero gradient, computed as rounding noise of 1e-16, which an
 * element-wise relative error would count against either path.
 */
function scaledErr(a: number[], b: number[]): number {
  let d = 0, m = 0;
  a.forEach((v, i) => {
    d = Math.max(d, Math.abs(v - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  });
  return d / m;
}

function compare(t: test.Test, what: string, serial: mg.MetaGradResult, batched: mg.MetaGradResult, tol: number): void {
  const e = scaledErr(flat(batched.grads), flat(serial.grads));
  t.ok(e < tol, `${what}: meta-gradient max difference / max |gradient| ${e.toExponential(2)} < ${tol}`);
  const le = Math.abs(batched.loss.itemSync() - serial.loss.itemSync());
  t.ok(le < tol, `${what}: mean query loss ${batched.loss.itemSync().toFixed(6)} (serial ${serial.loss.itemSync().toFixed(6)})`);
  if (serial.accuracy) t.ok(Math.abs(batched.accuracy!.itemSync() - serial.accuracy.itemSync()) < tol, `${what}: mean accuracy ${batched.accuracy!.itemSync().toFixed(4)}`);
}

test('task batch: tiny Conv-4 (transductive batch norm), exact and first-order MAML equal the serial path', (t) => {
  mg.scope(() => {
    const rng = new mg.Rng(11);
    const model = counted(mg.conv4({ imageSize: 16, outputs: 3, hidden: 3 }));
    const params = model.init(rng, f64);
    const tasks = Array.from({ length: 3 }, () => imageTask(rng, 3, 1, 2, 16));
    for (const firstOrder of [false, true]) {
      const o = { innerSteps: 2, innerLr: 0.3, firstOrder };
      const serial = mg.maml(model, o).metaGrad(params, tasks);
      t.equal(model.calls, 0, 'the serial path does not call applyTasks');
      for (const taskBatch of [true, 2] as const) {
        const batched = mg.maml(model, { ...o, taskBatch }).metaGrad(params, tasks);
        // (inner steps + query) passes per chunk
        t.equal(model.calls, taskBatch === true ? 3 : 6, `taskBatch ${taskBatch}: ${model.calls} applyTasks passes`);
        model.calls = 0;
        compare(t, `${firstOrder ? 'first-order' : 'exact'} MAML, taskBatch ${taskBatch}`, serial, batched, 1e-12);
      }
    }
    // the second-order terms are present in the batched path too
    const exact = mg.maml(model, { innerSteps: 2, innerLr: 0.3, taskBatch: true }).metaGrad(params, tasks);
    const fo = mg.maml(model, { innerSteps: 2, innerLr: 0.3, taskBatch: true, firstOrder: true }).metaGrad(params, tasks);
    t.ok(maxRelErr(flat(exact.grads), flat(fo.grads)) > 1e-3, 'exact and first-order batched meta-gradients differ');
  });
  t.end();
});

test('task batch: Conv-4 with per-step batch norm and with stride-2 downsampling, a custom loss', (t) => {
  mg.scope(() => {
    const rng = new mg.Rng(12);
    const tasks = Array.from({ length: 2 }, () => imageTask(rng, 2, 2, 2, 16));
    const perStep = mg.conv4({ imageSize: 16, outputs: 2, hidden: 2, batchNorm: 'per-step', maxSteps: 2 });
    const p1 = perStep.init(rng, f64);
    const o = { innerSteps: 2, innerLr: 0.2 };
    compare(t, 'per-step batch norm', mg.maml(perStep, o).metaGrad(p1, tasks), mg.maml(perStep, { ...o, taskBatch: true }).metaGrad(p1, tasks), 1e-12);
    const stride = mg.conv4({ imageSize: 16, outputs: 2, hidden: 2, downsample: 'stride' });
    const p2 = stride.init(rng, f64);
    compare(t, 'stride-2 Conv-4', mg.maml(stride, o).metaGrad(p2, tasks), mg.maml(stride, { ...o, taskBatch: true }).metaGrad(p2, tasks), 1e-12);
    // a loss given by the caller runs task by task on the slices
    const loss = (pred: Tensor, y: Tensor) => mg.mul(mg.crossEntropy(pred, y), 1.5);
    compare(t, 'custom loss', mg.maml(stride, { ...o, loss }).metaGrad(p2, tasks), mg.maml(stride, { ...o, loss, taskBatch: true }).metaGrad(p2, tasks), 1e-12);
  });
  t.end();
});

test('task batch: sinusoid MLP, exact MAML equals the serial path and finite differences', (t) => {
  mg.scope(() => {
    const rng = new mg.Rng(13);
    const model = counted(mg.sinusoidMLP({ hidden: [8, 8] }));
    const params = model.init(rng, f64);
    const tasks = Array.from({ length: 5 }, () => sineTask(rng, 6, 4));
    const o = { innerSteps: 3, innerLr: 0.02 };
    const serial = mg.maml(model, o).metaGrad(params, tasks);
    const batched = mg.maml(model, { ...o, taskBatch: true }).metaGrad(params, tasks);
    t.equal(model.calls, 4, 'batched: 3 inner passes and 1 query pass');
    compare(t, 'sinusoid exact MAML', serial, batched, 1e-12);
    compare(t, 'sinusoid exact MAML, chunks of 2', serial, mg.maml(model, { ...o, taskBatch: 2 }).metaGrad(params, tasks), 1e-12);
    compare(t, 'sinusoid first-order MAML', mg.fomaml(model, o).metaGrad(params, tasks), mg.fomaml(model, { ...o, taskBatch: true }).metaGrad(params, tasks), 1e-12);
    // independently of the serial path: the mean post-adaptation query loss by finite differences
    const learner = mg.maml(model, o);
    const metaLoss = (p: ParamTree) => tasks.reduce((s, task) => s + mg.batchLoss(model, learner.adapt(p, task.support), task.query).loss.itemSync(), 0) / tasks.length;
    const err = scaledErr(flat(batched.grads), finiteDiff(params, metaLoss));
    t.ok(err < 1e-7, `batched meta-gradient vs finite differences: ${err.toExponential(2)}`);
    // inner learning rates per leaf (as Meta-SGD and MAML++ give them) apply to every task
    const lr = (_s: number, leaf: number) => 0.01 * (leaf + 1);
    compare(t, 'per-leaf learning rates', mg.maml(model, { innerSteps: 2, innerLr: lr }).metaGrad(params, tasks), mg.maml(model, { innerSteps: 2, innerLr: lr, taskBatch: true }).metaGrad(params, tasks), 1e-12);
  });
  t.end();
});

test('task batch: Meta-SGD and MAML++ (learned rates, multi-step loss, per-step batch norm) equal their serial paths', (t) => {
  mg.scope(() => {
    const rng = new mg.Rng(17);
    const net = counted(mg.sinusoidMLP({ hidden: [6, 6] }));
    const tasks = Array.from({ length: 4 }, () => sineTask(rng, 5, 4));
    const base = net.init(rng, f64);
    for (const firstOrder of [false, true]) {
      const serial = mg.metaSgd(net, { innerSteps: 2, initLr: 0.02, firstOrder });
      const m = serial.init(base);
      // rates that differ per element, so the leaf-shaped α really is applied element by element
      const meta = { params: m.params, lrs: mg.treeMap(m.lrs, (l) => mg.add(l, rng.uniform(l.shape, 0, 0.02, f64))) };
      for (const taskBatch of [true, 3] as const) {
        compare(t, `Meta-SGD${firstOrder ? ' first order' : ''}, taskBatch ${taskBatch}`, serial.metaGrad(meta, tasks), mg.metaSgd(net, { innerSteps: 2, initLr: 0.02, firstOrder, taskBatch }).metaGrad(meta, tasks), 1e-12);
      }
    }
    t.ok(net.calls > 0, `Meta-SGD's batched path ran applyTasks (${net.calls} passes)`);
    net.calls = 0;
    const o = { innerSteps: 3, innerLr: 0.03, annealIterations: 10 };
    const pp = mg.mamlPlusPlus(net, o), ppb = mg.mamlPlusPlus(net, { ...o, taskBatch: true });
    const mp = pp.init(base);
    compare(t, 'MAML++ multi-step loss (sinusoid)', pp.metaGrad(mp, tasks), ppb.metaGrad(mp, tasks), 1e-12);
    t.equal(net.calls, 6, 'MAML++ batched: 3 inner and 3 query passes');
    const single = { ...o, multiStepLoss: false };
    compare(t, 'MAML++ final-step loss', mg.mamlPlusPlus(net, single).metaGrad(mp, tasks), mg.mamlPlusPlus(net, { ...single, taskBatch: 2 }).metaGrad(mp, tasks), 1e-12);
    // per-step batch norm on a tiny Conv-4: step-indexed gamma/beta rows, per-task statistics
    const conv = mg.conv4({ imageSize: 16, outputs: 2, hidden: 2, batchNorm: 'per-step', maxSteps: 2 });
    const images = Array.from({ length: 2 }, () => imageTask(rng, 2, 1, 2, 16));
    const cp = mg.mamlPlusPlus(conv, { innerSteps: 2, innerLr: 0.1 });
    const cm = cp.init(conv.init(rng, f64));
    compare(t, 'MAML++ per-step batch norm (Conv-4)', cp.metaGrad(cm, images), mg.mamlPlusPlus(conv, { innerSteps: 2, innerLr: 0.1, taskBatch: true }).metaGrad(cm, images), 1e-12);
  });
  t.end();
});

test('task batch: applyTasks slices equal apply per task (conv4 running statistics, mlp)', (t) => {
  mg.scope(() => {
    const rng = new mg.Rng(14);
    const conv = mg.conv4({ imageSize: 16, outputs: 3, hidden: 3, batchNorm: 'running' });
    const ps = [0, 1, 2].map(() => conv.init(rng, f64));
    const stacked = mg.treeZip(ps, (ls) => mg.stack(ls));
    const xs = [0, 1, 2].map(() => rng.normal([4, 1, 16, 16], 0, 1, f64));
    const state = mg.treeMap(conv.initState(f64), (s) => mg.add(s, rng.uniform(s.shape, 0.1, 0.5, f64)));
    for (const o of [{ training: true }, { training: false, state }]) {
      const y = conv.applyTasks(stacked, mg.stack(xs), o);
      t.deepEqual(y.shape, [3, 4, 3], 'conv4.applyTasks: [T, N, outputs]');
      const e = Math.max(...ps.map((p, i) => maxRelErr(flat(mg.unstack(y)[i]!), flat(conv.apply(p, xs[i]!, o)))));
      t.ok(e < 1e-12, `conv4 ${o.training ? 'batch' : 'running'} statistics: slices equal apply (${e.toExponential(2)})`);
    }
    const net = mg.sinusoidMLP({ hidden: [5] });
    const qs = [0, 1].map(() => net.init(rng, f64));
    const ins = [0, 1].map(() => rng.normal([3, 1], 0, 1, f64));
    const y = net.applyTasks!(mg.treeZip(qs, (ls) => mg.stack(ls)), mg.stack(ins));
    const e = Math.max(...qs.map((p, i) => maxRelErr(flat(mg.unstack(y)[i]!), flat(net.apply(p, ins[i]!)))));
    t.ok(e < 1e-12, `mlp.applyTasks slices equal apply (${e.toExponential(2)})`);
    t.throws(() => conv.applyTasks(stacked, xs[0]!), /conv4.applyTasks: input \[4, 1, 16, 16\] must be \[T, N, 1, 16, 16\]/, 'a 4-D input to applyTasks is refused');
    t.throws(() => mg.nn.linear.applyTasks(ps[0]!.head, mg.stack(xs)), /linear.applyTasks: input .* does not fit task-stacked weight/, 'unstacked weights are refused');
  });
  t.end();
});

test('task batch: bad settings and inputs fail early, naming the learner', (t) => {
  const rng = new mg.Rng(15);
  const net = mg.sinusoidMLP({ hidden: [4] });
  const params = net.init(rng, f64);
  const plain = { apply: net.apply };
  t.throws(() => mg.maml(plain, { taskBatch: true }), (e: Error) => e instanceof mg.MetaError && /maml: taskBatch needs a model with applyTasks/.test(e.message), 'a model without applyTasks');
  t.throws(() => mg.maml(net, { taskBatch: -1 }), /maml: taskBatch must be true, false or an integer >= 0/, 'a negative chunk');
  t.throws(() => mg.maml(net, { taskBatch: 2, checkpoint: 1 }), /taskBatch and checkpoint do not combine/, 'with checkpoint');
  t.throws(() => mg.maml(net, { taskBatch: 2, recompute: 1 }), /taskBatch and recompute do not combine/, 'with recompute');
  const tasks = [sineTask(rng, 4, 3), sineTask(rng, 5, 3)];
  t.throws(() => mg.maml(net, { taskBatch: true }).metaGrad(params, tasks), (e: Error) => e instanceof mg.ShapeError && /task 1's support is x \[5, 1\].*task 0's is x \[4, 1\]/.test(e.message), 'tasks of different sizes');
  t.throws(() => mg.maml(net, { taskBatch: true }).metaGrad(params, []), /need a non-empty array of tasks/, 'no tasks');
  // taskBatch 0 is the serial path, which takes tasks of different sizes
  t.doesNotThrow(() => mg.scope(() => mg.maml(net, { taskBatch: 0 }).metaGrad(params, tasks)), 'taskBatch 0 runs task by task');
  t.end();
});

test('task batch: on the native backend (float32) the batched Conv-4 meta-gradient matches the serial one', (t) => {
  if (!mg.backendAvailable('native')) {
    t.skip('native backend not built');
    t.end();
    return;
  }
  mg.scope(() => mg.withBackend('native', () => {
    const rng = new mg.Rng(16);
    const model = mg.conv4({ imageSize: 16, outputs: 3, hidden: 16 });
    const params = model.init(rng);
    const tasks = Array.from({ length: 4 }, () => {
      const task = imageTask(rng, 3, 1, 3, 16);
      const f32 = (b: mg.MetaBatch) => ({ x: mg.tensor(Float32Array.from(b.x.dataSync()), b.x.shape.slice()), y: mg.tensor(Int32Array.from(b.y.dataSync()), b.y.shape.slice(), { dtype: 'int32' }) });
      return { support: f32(task.support), query: f32(task.query) };
    });
    t.equal(tasks[0]!.support.x.backend.name, 'native', 'tensors on native');
    const o = { innerSteps: 1, innerLr: 0.4 };
    compare(t, 'native float32 exact MAML', mg.maml(model, o).metaGrad(params, tasks), mg.maml(model, { ...o, taskBatch: true }).metaGrad(params, tasks), 1e-4);
  }));
  t.end();
});
