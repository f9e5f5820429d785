// Layer shapes, modes, errors; backbones; the MLP learns sinusoid regression.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { batchNorm, conv4, embed, flatten, linear, lstmCell, sinusoidMLP, treeFlatten, type BatchNormConfig } from '../../ts/nn/index.js';
import { adam } from '../../ts/optim/index.js';
import { SinusoidTasks } from '../../ts/data/index.js';

test('nn: shapes and clear errors', (t) => {
  const rng = new mg.Rng(0);
  const l = linear.init(rng, 3, 4);
  t.deepEqual(linear.apply(l, mg.zeros([5, 3])).shape, [5, 4]);
  t.deepEqual(flatten(mg.zeros([2, 3, 4])).shape, [2, 12], 'nn flatten keeps the batch axis');
  t.throws(() => linear.apply(l, mg.zeros([5, 2])), mg.ShapeError, 'linear rejects a wrong input width');
  const s = lstmCell.apply(lstmCell.init(rng, 3, 4), mg.zeros([2, 3]), lstmCell.initState(2, 4));
  t.deepEqual([s.h.shape, s.c.shape], [[2, 4], [2, 4]]);
  const m = conv4({ imageSize: 28, outputs: 5, hidden: 8 });
  const p = m.init(rng);
  t.equal(m.featureSize, 8);
  t.deepEqual(m.apply(p, mg.zeros([3, 1, 28, 28])).shape, [3, 5]);
  t.deepEqual(embed(m, p, mg.zeros([3, 1, 28, 28])).shape, [3, 8]);
  t.equal(conv4({ imageSize: 84, inChannels: 3, outputs: 5 }).featureSize, 1600, '84×84 gives 1600 features');
  t.deepEqual(treeFlatten(p).names.slice(0, 4), ['features.blocks.0.bn.beta', 'features.blocks.0.bn.gamma', 'features.blocks.0.conv.b', 'features.blocks.0.conv.w']);
  t.throws(() => m.apply(p, mg.zeros([3, 1, 20, 20])), mg.ShapeError, 'conv4 names the expected input shape');
  t.throws(() => conv4({ imageSize: 8, outputs: 5 }), mg.ShapeError, 'too small images are rejected');
  t.end();
});

test('nn: conv4 downsampling by stride-2 convolutions (MAML Omniglot) and unpooled last blocks (Relation Networks)', (t) => {
  const rng = new mg.Rng(4);
  const strided = conv4({ imageSize: 28, outputs: 5, hidden: 8, downsample: 'stride' });
  const ps = strided.init(rng);
  t.equal(strided.mapSize, 2, 'stride 2 with padding 1: 28 → 14 → 7 → 4 → 2');
  t.deepEqual(strided.featureMaps(ps, mg.zeros([3, 1, 28, 28])).shape, [3, 8, 2, 2]);
  t.equal(strided.featureSize, 8, 'features are the spatial mean of the last maps');
  const x = rng.normal([3, 1, 28, 28]);
  const maps = strided.featureMaps(ps, x), feats = strided.features(ps, x);
  const want = mg.mean(maps, [2, 3]).dataSync(), got = feats.dataSync();
  t.ok(got.every((v, i) => Math.abs(v - want[i]!) < 1e-6), 'features = mean of featureMaps over H, W');
  t.deepEqual(strided.apply(ps, x).shape, [3, 5]);
  const ws = ps.features.blocks.map((b) => b.conv.w.shape);
  t.deepEqual(ws[0], [8, 1, 3, 3], 'the same parameter tree as the pooling variant');
  const relation = conv4({ imageSize: 28, outputs: 5, hidden: 8, pooledBlocks: 2 });
  t.equal(relation.mapSize, 7, 'pools in the first two blocks only: 28 → 14 → 7 → 7 → 7');
  t.equal(relation.featureSize, 8 * 7 * 7);
  t.deepEqual(relation.featureMaps(relation.init(rng), x).shape, [3, 8, 7, 7]);
  const { head: _, ...noHead } = ps;
  t.deepEqual(strided.features(noHead as typeof ps, x).shape, [3, 8], 'features() needs no head');
  t.throws(() => conv4({ imageSize: 28, outputs: 5, pooledBlocks: 5 }), /conv4: pooledBlocks must be an integer in \[0, 4\], got 5/);
  t.throws(() => conv4({ imageSize: 28, outputs: 5, downsample: 'avg' as 'stride' }), /conv4: downsample must be 'maxpool' or 'stride'/);
  t.end();
});

test('nn: batch norm running statistics are threaded functionally', (t) => {
  const rng = new mg.Rng(5);
  const cfg: BatchNormConfig = { mode: 'running', momentum: 0.5 };
  const p = batchNorm.init(rng, 2, cfg);
  const st0 = batchNorm.initState(2, cfg) as { mean: mg.Tensor; var: mg.Tensor };
  const x = mg.tensor([[1, 10], [3, 14]]);
  const { y, state } = batchNorm.applyWithState(p, st0, x, cfg, { training: true });
  const st1 = state as { mean: mg.Tensor; var: mg.Tensor };
  t.deepEqual(Array.from(st1.mean.dataSync()), [1, 6], 'mean moved halfway to the batch mean [2, 12]');
  t.deepEqual(Array.from(st1.var.dataSync()), [1.5, 4.5], 'var moved halfway to the unbiased batch variance [2, 8]');
  t.deepEqual(Array.from(st0.mean.dataSync()), [0, 0], 'old state untouched');
  const yv = y.dataSync();
  t.ok(Math.abs(yv[0]! + 1) < 1e-3 && Math.abs(yv[1]! + 1) < 1e-3, 'training output uses batch statistics');
  t.throws(() => batchNorm.apply(p, x, cfg, { training: false }), mg.ShapeError, 'running mode needs state in eval');
  const ev = batchNorm.apply(p, x, cfg, { training: false, state: st1 }).dataSync();
  t.ok(Math.abs(ev[0]! - (1 - 1) / Math.sqrt(1.5 + 1e-5)) < 1e-5, 'eval uses running statistics');

  const ps: BatchNormConfig = { mode: 'per-step', maxSteps: 2, momentum: 1 };
  const pp = batchNorm.init(rng, 2, ps);
  const r = batchNorm.applyWithState(pp, batchNorm.initState(2, ps), x, ps, { training: true, step: 1 });
  t.deepEqual(Array.from((r.state as { mean: mg.Tensor }).mean.dataSync()), [0, 0, 2, 12, 0, 0], 'per-step updates only its row');
  t.throws(() => batchNorm.apply(pp, x, ps, { step: 3 }), mg.ShapeError, 'step past maxSteps is an error');

  const m = conv4({ imageSize: 16, outputs: 3, hidden: 4, batchNorm: 'running' });
  const mp = m.init(rng);
  const xs = rng.normal([4, 1, 16, 16]);
  const out = m.applyWithState(mp, m.initState(), xs, { training: true });
  t.equal(treeFlatten(out.state).names.length, 8, 'conv4 state: mean/var for 4 blocks');
  t.deepEqual(m.apply(mp, xs, { training: false, state: out.state }).shape, [4, 3], 'eval with running state');
  t.end();
});

test('nn: sinusoid MLP learns regression (Adam, 300 steps)', (t) => {
  const rng = new mg.Rng(7);
  const model = sinusoidMLP();
  let params = model.init(rng);
  const opt = adam({ lr: 0.01 });
  let state = opt.init(params);
  // one fixed sinusoid; fit 50 points
  const task = new SinusoidTasks().sample(rng, 50, 50);
  const loss = (p: typeof params) => mg.mse(model.apply(p, task.support.x), task.support.y);
  const first = mg.noGrad(() => loss(params)).itemSync();
  const live0 = mg.liveTensorCount();
  let last = first;
  for (let i = 0; i < 300; i++) {
    const [l, g] = mg.valueAndGrad(loss)(params);
    last = l.itemSync();
    const r = opt.update(params, g, state);
    mg.disposeAll([l, g, params, state]);
    params = r.params;
    state = r.state;
  }
  t.ok(last < first * 0.1, `mse fell from ${first.toFixed(3)} to ${last.toFixed(4)}`);
  t.ok(mg.liveTensorCount() - live0 < 5, `flat memory over the loop (${mg.liveTensorCount() - live0} extra live tensors)`);
  t.end();
});
