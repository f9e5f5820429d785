// bench:meta — time per meta-iteration and peak memory of the meta-learners.
//  1. seconds per meta-iteration, on every backend that starts here:
//     sinusoid MLP (1-40-40-1, K=10, meta-batch 25, exact MAML, 1 inner step) and
//     Omniglot Conv-4 (64 channels, 5-way 1-shot, 15 queries, meta-batch 32, exact MAML, 1 inner step);
//  2. peak backend memory (liveBytes high-water mark, sampled after every kernel call)
//     against inner steps for exact MAML, MAML with the inner loop recomputed in segments of ⌈√steps⌉ and iMAML.
// Writes bench/results/meta.json and bench/results/meta.md.
// Env: BENCH_OMNIGLOT_ITERS (default 1 on js, 3 elsewhere), BENCH_BACKENDS (comma list), BENCH_QUICK=1.

import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../ts/index.js';
import type { Backend, ParamTree } from '../ts/index.js';
import { instrument } from './peak-memory.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const quick = process.env['BENCH_QUICK'] === '1';

async function available(): Promise<string[]> {
  const want = (process.env['BENCH_BACKENDS'] ?? 'js,native,webgpu').split(',');
  const out: string[] = [];
  for (const b of want) {
    try {
      await mg.initBackend(b);
      out.push(b);
    } catch (e) {
      console.log(`# ${b}: unavailable (${(e as Error).message.split('\n')[0]})`);
    }
  }
  return out;
}

async function timeIterations(label: string, learner: mg.MetaLearner<ParamTree>, init: () => ParamTree, sample: (rng: mg.Rng) => mg.MetaTask, batch: number, iters: number, backend: Backend) {
  const opt = mg.adam({ lr: 0.001 });
  let meta = learner.init(init());
  let st = opt.init(meta);
  const rng = new mg.Rng(1);
  const times: number[] = [];
  for (let i = 0; i < iters + 1; i++) {
    const tasks = Array.from({ length: batch }, () => sample(rng));
    const t0 = performance.now();
    const r = mg.metaStep(learner, meta, opt, st, tasks);
    await r.loss.item(); // forces the work on asynchronous backends
    await backend.sync();
    const dt = (performance.now() - t0) / 1000;
    if (i > 0 || iters === 1) times.push(dt); // first iteration is warm-up (pipeline compilation), unless it's the only one
    mg.disposeAll(tasks);
    r.loss.dispose();
    r.accuracy?.dispose();
    meta = r.meta;
    st = r.optState;
    if (iters === 1 && i === 0) break;
  }
  mg.disposeAll([meta, st]);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(`${label.padEnd(44)} ${backend.name.padEnd(7)} ${mean.toFixed(3)} s/iteration (${times.length} timed)`);
  return { benchmark: label, backend: backend.name, secondsPerIteration: mean, iterationsTimed: times.length };
}

function memoryBench() {
  const js = mg.getBackend('js');
  mg.setBackend('js');
  // A model whose graph dominates memory: 1-256-256-1 MLP on 100 support points.
  const model = mg.mlp({ inputs: 1, outputs: 1, hidden: [256, 256] });
  const tasks = new mg.SinusoidTasks();
  const params = model.init(new mg.Rng(0));
  const task = tasks.sample(new mg.Rng(1), 100, 100);
  const probe = instrument(js);
  const rows: { steps: number; algo: string; peakBytes: number; overParamsBytes: number }[] = [];
  const paramBytes = mg.treeFlatten(params).leaves.reduce((n, t) => n + t.size * 4, 0);
  const stepsList = quick ? [1, 4, 16] : [1, 2, 4, 8, 16, 32];
  for (const steps of stepsList) {
    const learners: [string, mg.MetaLearner<ParamTree>][] = [
      ['maml (exact)', mg.maml(model, { innerSteps: steps, innerLr: 0.001 })],
      [`maml (checkpointed, segment ${mg.defaultSegment(steps)})`, mg.maml(model, { innerSteps: steps, innerLr: 0.001, recompute: mg.defaultSegment(steps) })],
      ['imaml (cg 5)', mg.imaml(model, { innerSteps: steps, innerLr: 0.001, lambda: 1, cgSteps: 5 })],
    ];
    for (const [name, learner] of learners) {
      const before = js.memory().liveBytes;
      probe.reset();
      mg.scope(() => learner.metaGrad(params, [task]));
      const peak = probe.peak() - before;
      rows.push({ steps, algo: name.replace(/, segment \d+/, ''), peakBytes: peak, overParamsBytes: peak / paramBytes });
      console.log(`inner steps ${String(steps).padStart(2)}  ${name.padEnd(34)} peak ${(peak / 1e6).toFixed(2).padStart(8)} MB  (${(peak / paramBytes).toFixed(1)}× the parameters)`);
    }
  }
  probe.restore();
  return { model: 'MLP 1-256-256-1, 100 support / 100 query points, one task', paramBytes, rows };
}

async function main() {
  const backends = await available();
  const timing: ({ benchmark: string; backend: string; secondsPerIteration: number; iterationsTimed: number; note?: string })[] = [];
  let omniglot: mg.Omniglot | null = null;
  try {
    omniglot = await mg.loadOmniglot({});
  } catch (e) {
    console.log(`# Omniglot unavailable: ${(e as Error).message}`);
  }
  for (const name of backends) {
    mg.setBackend(name);
    const backend = mg.getBackend(name);
    const sine = mg.sinusoidMLP();
    const st = new mg.SinusoidTasks();
    timing.push(await timeIterations('sinusoid MLP, MAML 1 step, meta-batch 25', mg.maml(sine, { innerSteps: 1, innerLr: 0.01 }), () => sine.init(new mg.Rng(0)), (r) => st.sample(r, 10, 10), 25, quick ? 3 : 20, backend));
    if (omniglot) {
      const sampler = new mg.EpisodeSampler(omniglot.characters('vinyals-train'), { ways: 5, shots: 1, queries: 15 });
      const conv = mg.conv4({ imageSize: 28, outputs: 5, hidden: 64 });
      const iters = Number(process.env['BENCH_OMNIGLOT_ITERS'] ?? (name === 'js' ? 1 : 3));
      // The js reference backend takes minutes for a full meta-batch: there we time a few of the 32 tasks and scale
      // (tasks are independent and processed one after another, so the time is linear in the meta-batch).
      const tasks = Number(process.env['BENCH_OMNIGLOT_TASKS'] ?? (name === 'js' ? 4 : 32));
      const row = await timeIterations(`Omniglot Conv-4 5-way 1-shot, MAML 1 step, meta-batch ${tasks}`, mg.maml(conv, { innerSteps: 1, innerLr: 0.4 }), () => conv.init(new mg.Rng(0)), (r) => sampler.episode(r), tasks, iters, backend);
      timing.push(tasks === 32 ? row : {
        ...row, benchmark: 'Omniglot Conv-4 5-way 1-shot, MAML 1 step, meta-batch 32', secondsPerIteration: (row.secondsPerIteration * 32) / tasks,
        note: `measured on ${tasks} of the 32 tasks (${row.secondsPerIteration.toFixed(2)} s) and scaled ×${32 / tasks}`,
      });
    }
  }
  const memory = memoryBench();
  const out = { date: new Date().toISOString(), node: process.version, cpus: (await import('node:os')).cpus().length, timing, memory };
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(out, null, 1)}\n`);
  const md = [
    `# bench:meta (${out.date}, Node ${out.node}, ${out.cpus} CPUs)`,
    '',
    '| benchmark | backend | s / meta-iteration | iterations timed |',
    '|---|---|---|---|',
    ...timing.map((t) => `| ${t.benchmark} | ${t.backend} | ${t.secondsPerIteration.toFixed(3)}${'note' in t ? ` (${(t as { note: string }).note})` : ''} | ${t.iterationsTimed} |`),
    '',
    `Peak memory (js backend liveBytes high-water mark, sampled after every kernel) for one task's meta-gradient, ${memory.model}; parameters ${(memory.paramBytes / 1e6).toFixed(2)} MB.`,
    '',
    `| inner steps | ${[...new Set(memory.rows.map((r) => r.algo))].join(' | ')} |`,
    `|---|${[...new Set(memory.rows.map((r) => r.algo))].map(() => '---').join('|')}|`,
    ...[...new Set(memory.rows.map((r) => r.steps))].map((s) => `| ${s} | ${memory.rows.filter((r) => r.steps === s).map((r) => `${(r.peakBytes / 1e6).toFixed(2)} MB`).join(' | ')} |`),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'meta.md'), md);
  console.log(`\nwrote bench/results/meta.json and meta.md`);
}

main().finally(() => mg.shutdownBackends());
