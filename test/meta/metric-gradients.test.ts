// Each metric learner's episode loss, differentiated by the tape, against central finite
// differences in float64 on a tiny Conv-4 (2 channels, 16×16 random images, 3-way 2-shot);
// metaGrad equals the mean of the episode-loss gradients; bad tasks and options are refused.
import test from 'tape';
import * as mg from '../../ts/index.js';
import type { ParamTree } from '../../ts/index.js';

const f64 = { dtype: 'float64' as const, backend: 'js' as const };

function tinyTask(seed: number, ways = 3, shots = 2, queries = 2): mg.MetaTask {
  const rng = new mg.Rng(seed);
  const labels = (k: number) => mg.tensor(Int32Array.from({ length: ways * k }, (_, i) => Math.floor(i / k)), [ways * k], { dtype: 'int32', backend: 'js' });
  return {
    support: { x: rng.normal([ways * shots, 1, 16, 16], 0, 1, f64), y: labels(shots) },
    query: { x: rng.normal([ways * queries, 1, 16, 16], 0, 1, f64), y: labels(queries) },
  };
}

const tiny = (extra: Partial<mg.Conv4Options> = {}) => mg.conv4({ imageSize: 16, outputs: 3, hidden: 2, ...extra });

const cases: { name: string; make: () => { learner: mg.MetricLearner<any>; params: ParamTree } }[] = [
  { name: 'protonet (euclidean)', make: () => { const m = tiny(); return { learner: mg.protonet(m), params: m.init(new mg.Rng(1), f64) }; } },
  { name: 'protonet (cosine)', make: () => { const m = tiny(); return { learner: mg.protonet(m, { distance: 'cosine' }), params: m.init(new mg.Rng(1), f64) }; } },
  { name: 'matching', make: () => { const m = tiny(); return { learner: mg.matching(m), params: m.init(new mg.Rng(1), f64) }; } },
  { name: 'matching (FCE)', make: () => { const m = tiny(); return { learner: mg.matching(m, { fce: true, readSteps: 2 }), params: m.init(new mg.Rng(1), f64) }; } },
  { name: 'relation', make: () => { const m = tiny({ pooledBlocks: 2 }); return { learner: mg.relationNet(m, { hidden: 3 }), params: m.init(new mg.Rng(1), f64) }; } },
  { name: 'siamese', make: () => { const m = tiny(); return { learner: mg.siamese(m, { hidden: 3 }), params: m.init(new mg.Rng(1), f64) }; } },
  { name: 'gnn', make: () => { const m = tiny(); return { learner: mg.gnn(m, { ways: 3, hidden: 4, layers: 1 }), params: m.init(new mg.Rng(1), f64) }; } },
  { name: 'r2d2', make: () => { const m = tiny(); return { learner: mg.r2d2(m, { scale: 2 }), params: m.init(new mg.Rng(1), f64) }; } },
  { name: 'protonet (stride-2 backbone)', make: () => { const m = tiny({ downsample: 'stride' }); return { learner: mg.protonet(m), params: m.init(new mg.Rng(1), f64) }; } },
];

for (const c of cases) {
  test(`metric gradients: ${c.name} episode loss, float64 gradcheck over every meta-parameter`, (t) => {
    mg.scope(() => {
      const { learner, params } = c.make();
      const meta = learner.init(params);
      const task = tinyTask(2);
      const flat = mg.treeFlatten(meta);
      const loss = (...leaves: mg.Tensor[]) => learner.episodeLoss(mg.treeUnflatten(meta, leaves), task).loss;
      const r = mg.gradcheck(loss, flat.leaves, { raise: false, atol: 1e-6, rtol: 1e-5 });
      t.ok(r.ok, `${r.checked} elements; worst ${r.worst ? `${flat.names[r.worst.input]}[${r.worst.index}] ${r.worst.analytic} vs ${r.worst.numeric}` : 'none'}`);
      // metaGrad over two tasks is the mean of their episode gradients
      const tasks = [task, tinyTask(3)];
      const g = mg.treeFlatten(learner.metaGrad(meta, tasks).grads).leaves;
      const traced = tasks.map((tk) => {
        const leaves = flat.leaves.map((l) => mg.requireGrad(mg.detach(l)));
        return mg.gradients(learner.episodeLoss(mg.treeUnflatten(meta, leaves), tk).loss, leaves);
      });
      let worst = 0;
      g.forEach((gi, i) => {
        const want = mg.div(mg.add(traced[0]![i]!, traced[1]![i]!), 2).dataSync();
        gi.dataSync().forEach((v, j) => (worst = Math.max(worst, Math.abs(v - want[j]!))));
      });
      t.ok(worst < 1e-12, `metaGrad = mean of the episode gradients (max difference ${worst.toExponential(1)})`);
      const s = learner.scoreTask(meta, task);
      t.notOk(s.loss.requiresGrad, 'scoreTask keeps no graph');
      const acc = s.accuracy.itemSync();
      t.ok(acc >= 0 && acc <= 1, `accuracy in [0, 1] (${acc})`);
    });
    t.end();
  });
}

test('metric learners: clear errors for bad options and tasks', (t) => {
  const m = tiny();
  t.throws(() => mg.protonet(m, { distance: 'manhattan' as 'cosine' }), (e: unknown) => e instanceof mg.MetaError && /protonet: distance must be 'euclidean' or 'cosine'/.test((e as Error).message));
  t.throws(() => mg.gnn(m, { ways: 1 }), /gnn: ways must be an integer ≥ 2/);
  t.throws(() => mg.r2d2(m, { lambda: 0 }), /r2d2: lambda must be positive/);
  t.throws(() => mg.relationNet(mg.conv4({ imageSize: 16, outputs: 3, hidden: 2 })), /relation: the embedding's 1×1 maps are too small/);
  t.throws(() => mg.protonet(m).init({ head: {} } as ParamTree), /protonet: the model's parameters need a 'features' subtree/);
  const g = mg.gnn(m, { ways: 5 });
  const meta = g.init(m.init(new mg.Rng(0), f64));
  t.throws(() => g.episodeLoss(meta, tinyTask(1)), /gnn: this graph network is built for 5-way tasks, got a 3-way task/);
  const p = mg.protonet(m);
  const task = tinyTask(1);
  const floatLabels = { ...task, query: { x: task.query.x, y: mg.cast(task.query.y, 'float64') } };
  t.throws(() => p.episodeLoss(p.init(m.init(new mg.Rng(0), f64)), floatLabels), /protonet: query labels must be int32 class indices, got float64/);
  t.end();
});
