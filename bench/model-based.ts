// bench: seconds per meta-iteration of the learned optimizers and model-based learners on the
// js and native backends, interleaved (backend by backend within each round), medians and
// spreads over rounds. One meta-iteration = metaStep (metaGrad + Adam) on:
//   lstm-optimizer: one 100-step trajectory of 32 stacked 10-dim quadratics (5 truncations);
//   mann: 4 episodes of 5-way 1-shot Omniglot (5 support + 5 query steps), paper-size MANN;
//   hypernet, metanet, snail, meta-lstm: 4 episodes of 5-way 1-shot Omniglot, Conv-4 (32 channels), 5 queries.
// Writes bench/results/model-based.json. Env: BENCH_ROUNDS (default 3), BENCH_BACKENDS, BENCH_ONLY=a,b (time these
// learners only and replace their rows in the existing JSON); Omniglot from METAGRAD_DATA.

import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import * as mg from '../ts/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const backends: string[] = [];
for (const b of (process.env['BENCH_BACKENDS'] ?? 'native,js').split(',')) {
  try {
    await mg.initBackend(b);
    backends.push(b);
  } catch (e) {
    console.log(`# ${b}: unavailable (${(e as Error).message.split('\n')[0]})`);
  }
}
const data = await mg.loadOmniglot({});
const o = { ways: 5, shots: 1, queries: 5 };
const episodes = new mg.EpisodeSampler(data.characters('vinyals-train'), o);

type Case = { name: string; make: () => { learner: mg.MetaLearner<any>; params: mg.ParamTree; sample: (r: mg.Rng) => mg.MetaTask; batch: number } };
const conv = () => mg.conv4({ imageSize: 28, outputs: 5, hidden: 32 });
const omni = (learner: (m: mg.Conv4Model) => mg.MetaLearner<any>) => () => {
  const m = conv();
  return { learner: learner(m), params: m.init(new mg.Rng(0)) as mg.ParamTree, sample: (r: mg.Rng) => episodes.episode(r), batch: 4 };
};
const cases: Case[] = [
  { name: 'lstm-optimizer', make: () => ({ learner: mg.lstmOptimizer(mg.quadraticOptimizee({ count: 32 }), { steps: 100 }), params: {}, sample: (r) => new mg.QuadraticTasks({ count: 32 }).sample(r), batch: 1 }) },
  { name: 'mann', make: () => ({ learner: mg.mannLearner({ inputSize: 784 }), params: {}, sample: (r) => episodes.episode(r), batch: 4 }) },
  { name: 'hypernet', make: omni((m) => mg.hypernet(m, { ways: 5 })) },
  { name: 'metanet', make: omni((m) => mg.metaNetworks(m, { ways: 5 })) },
  { name: 'snail', make: omni((m) => mg.snail(m, { ways: 5, shots: 1 })) },
  { name: 'meta-lstm', make: omni((m) => mg.metaLearnerLstm(m, { ways: 5, steps: 5 })) },
];

const only = process.env['BENCH_ONLY']?.split(',');
const times = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  for (const c of cases.filter((k) => !only || only.includes(k.name))) {
    for (const b of backends) {
      const secs = mg.withBackend(b as never, () => {
        const { learner, params, sample, batch } = c.make();
        const opt = mg.adam({ lr: 1e-3 });
        const meta = learner.init(params);
        const st = opt.init(meta);
        const rng = new mg.Rng(round);
        const tasks = Array.from({ length: batch }, () => sample(rng));
        const t0 = performance.now();
        const r = mg.metaStep(learner, meta, opt, st, tasks);
        r.loss.itemSync();
        const dt = (performance.now() - t0) / 1000;
        mg.disposeAll([tasks, r]);
        return dt;
      });
      const k = `${c.name}/${b}`;
      times.set(k, [...(times.get(k) ?? []), secs]);
      console.log(`round ${round} ${k}: ${secs.toFixed(3)} s`);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
type Row = { learner?: string; backend?: string; medianSeconds: number; min: number; max: number; rounds: number; date?: string };
const fresh: Row[] = [...times].map(([k, xs]) => ({ learner: k.split('/')[0], backend: k.split('/')[1], medianSeconds: median(xs), min: Math.min(...xs), max: Math.max(...xs), rounds: xs.length, ...(only ? { date: new Date().toISOString() } : {}) }));
const file = join(root, 'bench/results/model-based.json');
const previous: Row[] = only && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { rows: Row[] }).rows : [];
const rows = [...previous.filter((r) => !only!.includes(r.learner!)), ...fresh];
for (const r of fresh) console.log(`${r.learner!.padEnd(16)} ${r.backend!.padEnd(7)} ${r.medianSeconds.toFixed(3)} s/iteration (min ${r.min.toFixed(3)}, max ${r.max.toFixed(3)})`);
mkdirSync(join(root, 'bench/results'), { recursive: true });
const prior = only && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { command: string; date: string }) : null;
writeFileSync(file, JSON.stringify({
  command: prior ? `${prior.command}; then BENCH_ONLY=${only!.join(',')} npm run bench:model-based (rows with a date)` : 'npm run bench:model-based', date: prior ? prior.date : new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length,
  note: 'one metaStep per timing (first round includes warm-up); the machine was shared with other jobs, so spreads are wide', rows,
}, null, 1) + '\n');
