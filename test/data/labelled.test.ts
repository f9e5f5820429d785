// Your own data: labelled datasets of any example shape, N-way K-shot episodes over them,
// label remapping, and regression task families.
import test from 'tape';
import * as mg from '../../ts/index.js';
import { ArrayDataset, EpisodeSampler, FunctionTasks, SinusoidTasks, datasetClasses, remapLabels, type RegressionTaskSource } from '../../ts/data/index.js';

/** 6 classes with labels 10, 20, ..., 60; example i of label L is filled with L + i/100. */
function featureData(shape: number[], perClass = 5): ArrayDataset {
  const per = shape.reduce((a, b) => a * b, 1);
  const x: number[] = [], y: number[] = [];
  for (let n = 0; n < 6 * perClass; n++) {
    const label = 10 * (1 + (n % 6)); // interleaved: classes are not contiguous
    for (let k = 0; k < per; k++) x.push(label + n / 100);
    y.push(label);
  }
  return new ArrayDataset(x, shape, y);
}

test('labelled data: episodes over feature vectors and RGB images keep the example shape', async (t) => {
  for (const shape of [[4], [3, 2, 2]]) {
    const classes = datasetClasses(featureData(shape));
    t.deepEqual(classes.labels, [10, 20, 30, 40, 50, 60], 'one class per label, sorted');
    const sampler = new EpisodeSampler(classes, { ways: 3, shots: 2, queries: 2 });
    const ep = sampler.episode(new mg.Rng(5));
    t.deepEqual(ep.support.x.shape, [6, ...shape], `support x [N·K, ${shape}]`);
    t.deepEqual(ep.query.x.shape, [6, ...shape], 'query likewise');
    const sx = await ep.support.x.data(), qx = await ep.query.x.data();
    const sy = Array.from(await ep.support.y.data()), qy = Array.from(await ep.query.y.data());
    t.deepEqual(sy, [0, 0, 1, 1, 2, 2], 'remapped labels 0..N-1, class by class');
    t.deepEqual(qy, [0, 0, 1, 1, 2, 2]);
    const per = shape.reduce((a, b) => a * b, 1);
    const value = (xs: Float32Array | Int32Array | Float64Array, e: number) => xs[e * per]!;
    // every example's value says its true label: label L's examples hold L + n/100
    const trueLabel = (v: number) => 10 * Math.floor(v / 10);
    for (let e = 0; e < 6; e++) {
      t.equal(trueLabel(value(sx, e)), classes.labels[ep.classes[sy[e]!]!], `support example ${e} comes from the class its label names`);
      t.equal(trueLabel(value(qx, e)), classes.labels[ep.classes[qy[e]!]!]);
    }
    const s = new Set(Array.from({ length: 6 }, (_, e) => value(sx, e)));
    const q = Array.from({ length: 6 }, (_, e) => value(qx, e));
    t.ok(q.every((v) => !s.has(v)) && s.size === 6, 'support and query share no example');
    const again = sampler.episode(new mg.Rng(5));
    t.deepEqual(Array.from(await again.support.x.data()), Array.from(sx), 'a seed gives the same episode');
  }
  t.end();
});

test('labelled data: original labels, meta-batches, class subsets, errors', async (t) => {
  const classes = datasetClasses(featureData([2]));
  const original = new EpisodeSampler(classes, { ways: 2, shots: 1, queries: 1, labels: 'original' });
  const ep = original.episode(new mg.Rng(1));
  const y = Array.from(await ep.support.y.data());
  t.deepEqual(y, ep.classes.map((c) => classes.labels[c]), 'labels: original keeps the dataset labels');
  const mb = new EpisodeSampler(classes, { ways: 5, shots: 1, queries: 3 }).metaBatch(new mg.Rng(2), 4);
  t.deepEqual(mb.support.x.shape, [4, 5, 2], 'meta-batch x [B, N·K, D]');
  t.deepEqual(mb.query.y.shape, [4, 15], 'meta-batch y [B, N·Q]');
  const train = classes.only([10, 20, 30]);
  t.equal(train.size, 3, 'a class split by label');
  t.throws(() => new EpisodeSampler(train, { ways: 4, shots: 1, queries: 1 }), /4-way episodes need at least 4 classes, the set has 3/, 'too few classes');
  t.throws(() => new EpisodeSampler(classes, { ways: 2, shots: 3, queries: 3 }), /need 6 examples per class, some class has only 5/, 'too few examples');
  t.throws(() => classes.only([70]), /labels 70 have no examples/, 'an unknown label');
  t.throws(() => new ArrayDataset([1, 2, 3], [2], [0, 1]), /2 labels × example shape \[2\] need 4 values, x has 3/, 'x and labels disagree');
  t.throws(() => new ArrayDataset([1, 2], [2], [-1]), /label 0 is -1/, 'negative label');
  t.throws(() => new EpisodeSampler(classes, { ways: 2, shots: 1, queries: 1, labels: 'sorted' as 'remap' }), mg.ShapeError, 'unknown labels mode');
  const r = remapLabels([7, 3, 7, 9, 3]);
  t.deepEqual(Array.from(r.labels), [0, 1, 0, 2, 1], 'remapLabels: order of first appearance');
  t.deepEqual(r.classes, [7, 3, 9], 'and the original of each');
  t.end();
});

test('regression: a function family of your own, any input/output shape', async (t) => {
  // y = W x + b with x ∈ R², y ∈ R³: a linear-regression task family
  const tasks = new FunctionTasks<{ w: number[]; b: number[] }>({
    inputShape: [2],
    outputShape: [3],
    sampleFunction: (rng) => ({ w: Array.from({ length: 6 }, () => rng.nextNormal()), b: Array.from({ length: 3 }, () => rng.nextNormal()) }),
    sampleInput: (rng, x, at) => {
      x[at] = rng.nextUniform(-1, 1);
      x[at + 1] = rng.nextUniform(-1, 1);
    },
    evaluate: (f, x, xa, y, ya) => {
      for (let r = 0; r < 3; r++) y[ya + r] = f.w[2 * r]! * x[xa]! + f.w[2 * r + 1]! * x[xa + 1]! + f.b[r]!;
    },
  });
  const task = tasks.sample(new mg.Rng(4), 5, 7);
  t.deepEqual(task.support.x.shape, [5, 2]);
  t.deepEqual(task.support.y.shape, [5, 3]);
  t.deepEqual(task.query.x.shape, [7, 2]);
  const x = await task.query.x.data(), y = await task.query.y.data();
  let worst = 0;
  for (let i = 0; i < 7; i++) {
    for (let r = 0; r < 3; r++) worst = Math.max(worst, Math.abs(y[i * 3 + r]! - (task.function.w[2 * r]! * x[2 * i]! + task.function.w[2 * r + 1]! * x[2 * i + 1]! + task.function.b[r]!)));
  }
  t.ok(worst < 1e-5, `targets are the drawn function's values (worst ${worst.toExponential(1)})`);
  const mb = tasks.metaBatch(new mg.Rng(4), 3, 5, 7);
  t.deepEqual(mb.support.x.shape, [3, 5, 2], 'meta-batch x [B, K, 2]');
  t.deepEqual(mb.query.y.shape, [3, 7, 3], 'meta-batch y [B, Q, 3]');
  t.equal(mb.functions.length, 3);
  const sources: RegressionTaskSource[] = [tasks, new SinusoidTasks()];
  for (const s of sources) t.deepEqual(s.sample(new mg.Rng(1), 2, 2).support.x.shape, [2, ...s.inputShape], 'one interface for every regression source');
  t.throws(() => tasks.sample(new mg.Rng(1), 0, 2), /shots must be a positive integer/, 'bad shots');
  t.throws(() => new FunctionTasks({ ...tasks.family, inputShape: [0] }), /inputShape must be a list of positive integers/, 'bad shape');
  t.end();
});
