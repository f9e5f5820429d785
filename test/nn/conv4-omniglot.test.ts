// Conv-4 learns 5-way Omniglot classification within a small budget (js backend).
import test from 'tape';
import * as mg from '../../ts/index.js';
import { conv4 } from '../../ts/nn/index.js';
import { adam } from '../../ts/optim/index.js';
import { EpisodeSampler, loadOmniglot } from '../../ts/data/index.js';

test('conv4 learns 5-way Omniglot episodes (loss falls by a wide margin)', async (t) => {
  const om = await loadOmniglot();
  const rng = new mg.Rng(2024);
  // Five fixed classes: 15 drawings each to train on, the other 5 held out.
  const classes = om.characters('vinyals-train', { rotations: false });
  const picked = rng.choice(classes.size, 5);
  const batch = (draw: (k: number) => number[]) => {
    const per = draw(0).length;
    const x = new Float32Array(5 * per * 784), y = new Int32Array(5 * per);
    picked.forEach((c, label) => draw(label).forEach((d, k) => {
      classes.writeImage(c, d, x, (label * per + k) * 784);
      y[label * per + k] = label;
    }));
    return { x: mg.tensor(x, [5 * per, 1, 28, 28]), y: mg.tensor(y, [5 * per], { dtype: 'int32' }) };
  };
  const held = batch(() => [15, 16, 17, 18, 19]);
  const model = conv4({ imageSize: 28, outputs: 5, hidden: 16 });
  let params = model.init(rng);
  const opt = adam({ lr: 0.01 });
  let state = opt.init(params);
  const heldLoss = () => mg.noGrad(() => mg.scope(() => mg.crossEntropy(model.apply(params, held.x), held.y).itemSync()));
  const before = heldLoss();
  const t0 = Date.now();
  for (let step = 0; step < 30; step++) {
    const b = batch(() => rng.choice(15, 4));
    const [l, g] = mg.valueAndGrad((p: typeof params) => mg.crossEntropy(model.apply(p, b.x), b.y))(params);
    const r = opt.update(params, g, state);
    mg.disposeAll([l, g, params, state, b]);
    params = r.params;
    state = r.state;
  }
  const after = heldLoss();
  const acc = mg.noGrad(() => mg.scope(() => mg.mean(mg.cast(mg.equal(mg.argmax(model.apply(params, held.x), 1), held.y), 'float32')).itemSync()));
  t.comment(`30 steps in ${Date.now() - t0} ms; held-out loss ${before.toFixed(3)} -> ${after.toFixed(3)}, accuracy ${acc}`);
  t.ok(after < before * 0.5, `held-out cross-entropy fell by more than half (${before.toFixed(3)} -> ${after.toFixed(3)})`);
  t.ok(acc >= 0.8, `held-out accuracy ${acc} >= 0.8`);
  // and the episode sampler's tensors feed the model directly
  const ep = new EpisodeSampler(classes, { ways: 5, shots: 1, queries: 1 }).episode(rng);
  t.deepEqual(model.apply(params, ep.query.x).shape, [5, 5]);
  mg.disposeAll([ep, held, params, state]);
});
