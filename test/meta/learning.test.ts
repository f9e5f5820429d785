// Learning with small budgets (float32, default backend). Budgets are stated in each test's comment line.
import test from 'tape';
import * as mg from '../../ts/index.js';
import type { ParamTree } from '../../ts/index.js';

const sineTasks = new mg.SinusoidTasks();

/** Meta-train with Adam; also checks the loop runs in flat memory (live tensors constant after warm-up). */
function train<S extends ParamTree>(learner: mg.MetaLearner<S>, params: ParamTree, iters: number, batch: number, sample: (r: mg.Rng) => mg.MetaTask, lr: number, seed = 1) {
  const opt = mg.adam({ lr });
  let meta = learner.init(params);
  let state = opt.init(meta);
  const rng = new mg.Rng(seed);
  let live10 = 0;
  const losses: number[] = [];
  for (let i = 0; i < iters; i++) {
    learner.setIteration?.(i);
    const tasks = Array.from({ length: batch }, () => sample(rng));
    const r = mg.metaStep(learner, meta, opt, state, tasks);
    mg.disposeAll(tasks);
    meta = r.meta;
    state = r.optState;
    losses.push(r.loss.itemSync());
    r.loss.dispose();
    r.accuracy?.dispose();
    if (i === 9) live10 = mg.liveTensorCount();
  }
  const liveGrowth = mg.liveTensorCount() - live10;
  mg.disposeAll(state);
  return { meta, losses, liveGrowth };
}

test('meta: MAML on sinusoid beats the jointly pretrained model after one inner step', async (t) => {
  const model = mg.sinusoidMLP();
  const iters = Number(process.env['METAGRAD_SINE_ITERS'] ?? 500);
  const sample = (r: mg.Rng) => sineTasks.sample(r, 10, 10);
  const t0 = Date.now();
  const m = train(mg.maml(model, { innerSteps: 1, innerLr: 0.01 }), model.init(new mg.Rng(0)), iters, 10, sample, 0.001);
  const ms = (Date.now() - t0) / iters;
  t.equal(m.liveGrowth, 0, 'meta-training runs in flat memory (live tensors constant)');
  const b = train(mg.pretrained(model, { innerSteps: 1, innerLr: 0.01 }), model.init(new mg.Rng(0)), iters, 10, sample, 0.001);
  const test = (r: mg.Rng) => sineTasks.sample(r, 10, 100);
  const em = await mg.evaluate(mg.maml(model, { innerSteps: 1, innerLr: 0.01 }), m.meta, test, { tasks: 300, rng: 99 });
  const eb = await mg.evaluate(mg.pretrained(model, { innerSteps: 1, innerLr: 0.01 }), b.meta, test, { tasks: 300, rng: 99 });
  t.comment(`budget: ${iters} meta-iterations × 10 tasks (K=10), ${ms.toFixed(0)} ms/iteration; post-adaptation MSE over 300 tasks: MAML ${em.mean.toFixed(3)} ± ${em.ci95.toFixed(3)}, pretrained ${eb.mean.toFixed(3)} ± ${eb.ci95.toFixed(3)}`);
  // Same 300 tasks for both: a paired comparison.
  const diff = mg.meanCi95(eb.scores.map((b, i) => b - em.scores[i]!));
  t.comment(`pretrained − MAML per task: ${diff.mean.toFixed(3)} ± ${diff.ci95.toFixed(3)}`);
  t.ok(diff.mean - diff.ci95 > 0, 'MAML after one step beats the pretrained baseline (paired 95% interval above 0)');
  t.equal(em.tasks, 300);
  t.end();
});

test("meta: Meta-SGD's learned rates change and help", async (t) => {
  const model = mg.sinusoidMLP();
  const learner = mg.metaSgd(model, { innerSteps: 1, initLr: 0.01 });
  const m = train(learner, model.init(new mg.Rng(0)), 200, 10, (r) => sineTasks.sample(r, 10, 10), 0.001, 2);
  const lrs = mg.treeFlatten(m.meta.lrs).leaves.flatMap((l) => Array.from(l.dataSync()));
  const moved = lrs.filter((v) => Math.abs(v - 0.01) > 1e-4).length / lrs.length;
  t.ok(moved > 0.5, `${(100 * moved).toFixed(0)}% of the ${lrs.length} per-parameter rates moved from 0.01 (range ${Math.min(...lrs).toFixed(4)}..${Math.max(...lrs).toFixed(4)})`);
  // Same initialization, rates reset to their initial value: adaptation is worse.
  const initial = { params: m.meta.params, lrs: mg.treeMap(m.meta.lrs, (l) => mg.fullLike(l, 0.01)) };
  const test = (r: mg.Rng) => sineTasks.sample(r, 10, 100);
  const learned = await mg.evaluate(learner, m.meta, test, { tasks: 200, rng: 5 });
  const fixed = await mg.evaluate(learner, initial, test, { tasks: 200, rng: 5 });
  t.comment(`budget: 200 meta-iterations × 10 tasks; post-adaptation MSE with learned rates ${learned.mean.toFixed(3)}, with the initial rate ${fixed.mean.toFixed(3)}`);
  t.ok(learned.mean < fixed.mean, 'learned rates adapt better than the initial constant rate');
  t.end();
});

test('meta: 5-way 1-shot Omniglot, Conv-4, MAML lands far above chance after a short run', async (t) => {
  let data: mg.Omniglot;
  try {
    data = await mg.loadOmniglot({});
  } catch (e) {
    t.skip(`Omniglot not found: ${(e as Error).message}`);
    t.end();
    return;
  }
  // Budget for 2 shared CPU cores on the js backend: Conv-4 with 16 channels, 30 meta-iterations
  // of 4 episodes (120 training episodes, 2 queries per class), exact MAML with one inner step.
  const iters = Number(process.env['METAGRAD_OMNIGLOT_ITERS'] ?? 30);
  const o = { ways: 5, shots: 1, queries: 2 };
  const train_ = new mg.EpisodeSampler(data.characters('vinyals-train'), o);
  const testSet = new mg.EpisodeSampler(data.characters('vinyals-test'), { ...o, queries: 3 });
  const model = mg.conv4({ imageSize: 28, outputs: 5, hidden: 16 });
  const learner = mg.maml(model, { innerSteps: 1, innerLr: 0.4 });
  const t0 = Date.now();
  const m = train(learner, model.init(new mg.Rng(0)), iters, 4, (r) => train_.episode(r), 0.01);
  const secs = (Date.now() - t0) / 1000;
  const r = await mg.evaluate(learner, m.meta, (g) => testSet.episode(g), { tasks: 50, rng: 3 });
  t.comment(`budget: ${iters} × 4 episodes in ${secs.toFixed(0)} s; held-out (vinyals-test) accuracy over 50 tasks ${(100 * r.mean).toFixed(1)}% ± ${(100 * r.ci95).toFixed(1)}% (chance 20%)`);
  t.ok(r.mean - r.ci95 > 0.35, 'accuracy far above chance (lower end of the 95% interval > 35%)');
  t.end();
});
