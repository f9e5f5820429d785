// The metric-based learners learn: each trains on real Omniglot (Vinyals train classes) with a
// small budget and is scored on 5-way 1-shot tasks from the held-out test classes. Budgets and
// thresholds are in each test's comment; float32 on the default backend.
import test from 'tape';
import * as mg from '../../ts/index.js';
import type { ParamTree } from '../../ts/index.js';

let data: mg.Omniglot | null = null;
let missing = '';
try {
  data = await mg.loadOmniglot({});
} catch (e) {
  missing = (e as Error).message;
}

interface Budget {
  episodes: number;
  ways: number;
  queries: number;
  lr: number;
  hidden: number;
  /** seed of the training episodes (default 1) */
  seed?: number;
}

async function learns(t: test.Test, name: string, build: (hidden: number) => { learner: mg.MetricLearner<any>; params: ParamTree }, b: Budget, threshold: number) {
  if (!data) {
    t.skip(`Omniglot not found: ${missing}`);
    return;
  }
  const train = new mg.EpisodeSampler(data.characters('vinyals-train'), { ways: b.ways, shots: 1, queries: b.queries });
  const heldOut = new mg.EpisodeSampler(data.characters('vinyals-test'), { ways: 5, shots: 1, queries: 3 });
  const { learner, params } = build(b.hidden);
  const opt = mg.adam({ lr: b.lr });
  let meta = learner.init(params);
  let state = opt.init(meta);
  const rng = new mg.Rng(b.seed ?? 1);
  const t0 = Date.now();
  for (let i = 0; i < b.episodes; i++) {
    const task = train.episode(rng);
    const r = mg.metaStep(learner, meta, opt, state, [task]);
    mg.disposeAll([task, r.loss, r.accuracy]);
    meta = r.meta;
    state = r.optState;
  }
  const secs = (Date.now() - t0) / 1000;
  const evalRng = new mg.Rng(7);
  const scores: number[] = [];
  for (let i = 0; i < 100; i++) {
    const task = heldOut.episode(evalRng);
    const r = learner.scoreTask(meta, task);
    scores.push(await r.accuracy.item());
    mg.disposeAll([task, r]);
  }
  const { mean, ci95 } = mg.meanCi95(scores);
  t.comment(`${name}: ${b.episodes} training episodes (${b.ways}-way 1-shot, ${b.queries} queries/class, Conv-4 ×${b.hidden}, Adam ${b.lr}) in ${secs.toFixed(1)} s; held-out 5-way 1-shot accuracy over 100 tasks ${(100 * mean).toFixed(1)}% ± ${(100 * ci95).toFixed(1)}% (chance 20%)`);
  t.ok(mean - ci95 > threshold, `far above chance: lower end of the 95% interval > ${100 * threshold}% after ${b.episodes} episodes (${b.ways}-way, ${b.queries} queries, Conv-4 ×${b.hidden}, Adam ${b.lr}, seed ${b.seed ?? 1}); got ${(100 * (mean - ci95)).toFixed(1)}%`);
  mg.disposeAll([meta, state]);
}

const backbone = (hidden: number, extra: Partial<mg.Conv4Options> = {}) => mg.conv4({ imageSize: 28, outputs: 5, hidden, ...extra });

// name, backbone options, learner, budget, threshold (lower end of the 95% interval, 100 held-out tasks)
const cases: { name: string; conv?: Partial<mg.Conv4Options>; make: (m: mg.Conv4Model) => mg.MetricLearner<any>; budget: Budget; threshold: number }[] = [
  { name: 'Prototypical networks', make: (m) => mg.protonet(m), budget: { episodes: 60, ways: 20, queries: 2, lr: 3e-3, hidden: 16 }, threshold: 0.6 },
  { name: 'Matching networks (cosine attention)', make: (m) => mg.matching(m), budget: { episodes: 150, ways: 20, queries: 2, lr: 3e-3, hidden: 16 }, threshold: 0.5 },
  { name: 'Matching networks with full-context embeddings', make: (m) => mg.matching(m, { fce: true, readSteps: 3 }), budget: { episodes: 150, ways: 5, queries: 4, lr: 3e-3, hidden: 16 }, threshold: 0.5 },
  { name: 'Relation networks', conv: { pooledBlocks: 2 }, make: (m) => mg.relationNet(m), budget: { episodes: 150, ways: 5, queries: 4, lr: 3e-3, hidden: 16 }, threshold: 0.5 },
  { name: 'Siamese networks (one-shot nearest match)', make: (m) => mg.siamese(m), budget: { episodes: 300, ways: 5, queries: 4, lr: 1e-2, hidden: 16 }, threshold: 0.45 },
  // The graph layers are Glorot-initialized (gnn.ts): with PyTorch's default uniform init the
  // adjacency scores started near-constant and training sat at chance for 100-200 episodes, so
  // this run was chaotic (33-68% over seeds and float rounding). Now episode seeds 1-6 give
  // 65.7-68.9% held-out on native (lower ends above 62%) and seed 1 gives 59.7% ± 3.2% on js,
  // whose rounding leaves a longer plateau: the 45% bar keeps a margin of 11 points or more.
  { name: 'few-shot graph neural network', make: (m) => mg.gnn(m, { ways: 5, hidden: 32 }), budget: { episodes: 300, ways: 5, queries: 4, lr: 3e-3, hidden: 16 }, threshold: 0.45 },
  { name: 'R2D2 (closed-form ridge regression head)', make: (m) => mg.r2d2(m), budget: { episodes: 100, ways: 20, queries: 2, lr: 3e-3, hidden: 16 }, threshold: 0.55 },
];

for (const c of cases) {
  test(`metric learning: ${c.name}`, async (t) => {
    await learns(t, c.name, (h) => {
      const model = backbone(h, c.conv);
      return { learner: c.make(model), params: model.init(new mg.Rng(0)) };
    }, c.budget, c.threshold);
    t.end();
  });
}
