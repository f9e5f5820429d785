// bench:task-batch — the gradient-based learners on the sinusoid MLP with their tasks adapted
// one at a time and together (taskBatch), interleaved, on the native backend.
//
//   npm run bench:task-batch [-- --rounds=3] [-- --threads=1,2] [-- --steps=1,5] [-- --iters=100]
//
// Each measurement is a fresh child process (this file with --child): 100 warm-up
// meta-iterations (V8 settles), then --iters timed ones; within a round the serial and batched
// runs alternate which goes first. Reported: median CPU seconds (process, all threads) and wall
// seconds per meta-iteration over all rounds, their spreads (10th–90th percentile) and the
// speed-up serial / batched. Meta-batch 25, K = 10 support and 10 query points.
// Writes bench/results/task-batch-<date>.json. (Against PyTorch: npm run bench:peers, whose
// sinusoid and Omniglot MAML cases have a task-batched side.)

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../ts/index.js';
import type { ParamTree } from '../ts/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ALGOS = ['maml', 'fomaml', 'metasgd', 'mamlpp'] as const;
type Algo = (typeof ALGOS)[number];
const BATCH = 25;

async function child(algo: Algo, steps: number, taskBatch: number, iters: number): Promise<object> {
  await mg.initBackend('native');
  mg.setBackend('native');
  const sine = mg.sinusoidMLP();
  const source = new mg.SinusoidTasks();
  const learner: mg.MetaLearner<ParamTree> = (algo === 'metasgd'
    ? mg.metaSgd(sine, { innerSteps: steps, initLr: 0.01, taskBatch })
    : algo === 'mamlpp' ? mg.mamlPlusPlus(sine, { innerSteps: steps, innerLr: 0.01, taskBatch })
    : mg.maml(sine, { innerSteps: steps, innerLr: 0.01, firstOrder: algo === 'fomaml', taskBatch })) as mg.MetaLearner<ParamTree>;
  const opt = mg.adam({ lr: 0.001 });
  let meta = learner.init(sine.init(new mg.Rng(0)));
  let st = opt.init(meta);
  const rng = new mg.Rng(1);
  const times: number[] = [], cpu: number[] = [];
  const warmup = 100;
  for (let i = 0; i < warmup + iters; i++) {
    const tasks = Array.from({ length: BATCH }, () => source.sample(rng, 10, 10));
    const t0 = performance.now(), c0 = process.cpuUsage();
    const r = mg.metaStep(learner, meta, opt, st, tasks);
    await r.loss.item();
    const d = process.cpuUsage(c0);
    if (i >= warmup) {
      times.push((performance.now() - t0) / 1000);
      cpu.push((d.user + d.system) / 1e6);
    }
    mg.disposeAll(tasks);
    r.loss.dispose();
    meta = r.meta;
    st = r.optState;
  }
  mg.disposeAll([meta, st]);
  return { times, cpu, peakRssMB: process.resourceUsage().maxRSS / 1024 };
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;
};
const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const ms = (t: number): string => `${(t * 1e3).toFixed(2)} ms`;

function parent(): void {
  const rounds = Number(flag('rounds') ?? 3);
  const threadList = (flag('threads') ?? '1,2').split(',').map(Number);
  const stepList = (flag('steps') ?? '1,5').split(',').map(Number);
  const iters = Number(flag('iters') ?? 100);
  const algos = (flag('algos') ?? ALGOS.join(',')).split(',') as Algo[];
  console.log(`bench:task-batch — sinusoid MLP 1-40-40-1, meta-batch ${BATCH}, native, ${os.cpus()[0]?.model ?? 'CPU'} ×${os.cpus().length}; ${rounds} round(s); load at start ${load()}`);
  type S = { times: number[]; cpu: number[]; peakRssMB: number[] };
  const samples = new Map<string, { serial: S; batched: S }>();
  const roundLoad: { round: number; start: string; end: string }[] = [];
  let turn = 0;
  for (let round = 0; round < rounds; round++) {
    const start = load();
    for (const threads of threadList)
      for (const steps of stepList)
        for (const algo of algos) {
          const key = `${algo} ${steps} step(s) ${threads}t`;
          const s = samples.get(key) ?? { serial: { times: [], cpu: [], peakRssMB: [] }, batched: { times: [], cpu: [], peakRssMB: [] } };
          samples.set(key, s);
          const sides: ['serial' | 'batched', number][] = turn++ % 2 ? [['batched', BATCH], ['serial', 0]] : [['serial', 0], ['batched', BATCH]];
          for (const [side, tb] of sides) {
            const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', algo, String(steps), String(tb), String(iters)], { encoding: 'utf8', env: { ...process.env, METAGRAD_THREADS: String(threads) }, maxBuffer: 1 << 24 });
            const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
            if (r.status !== 0 || !last.startsWith('{')) throw new Error(`${key} ${side} failed: ${(r.stderr ?? '').trim().split('\n').slice(-5).join('\n')}`);
            const o = JSON.parse(last) as { times: number[]; cpu: number[]; peakRssMB: number };
            s[side].times.push(...o.times);
            s[side].cpu.push(...o.cpu);
            s[side].peakRssMB.push(o.peakRssMB);
          }
        }
    roundLoad.push({ round: round + 1, start, end: load() });
    console.log(`# round ${round + 1}/${rounds} done (load ${start} → ${load()})`);
  }
  const results: object[] = [];
  console.log('\n## per meta-iteration: median [p10–p90]; speed-up = serial / batched');
  for (const [key, s] of samples) {
    const row = (x: S) => ({ cpu: quantile(x.cpu, 0.5), cpuP10: quantile(x.cpu, 0.1), cpuP90: quantile(x.cpu, 0.9), wall: quantile(x.times, 0.5), wallP10: quantile(x.times, 0.1), wallP90: quantile(x.times, 0.9), peakRssMB: Math.max(...x.peakRssMB) });
    const a = row(s.serial), b = row(s.batched);
    console.log(`${key.padEnd(24)} CPU serial ${ms(a.cpu)} [${ms(a.cpuP10)}–${ms(a.cpuP90)}]  batched ${ms(b.cpu)} [${ms(b.cpuP10)}–${ms(b.cpuP90)}]  ${(a.cpu / b.cpu).toFixed(2)}×  | wall ${ms(a.wall)} vs ${ms(b.wall)} ${(a.wall / b.wall).toFixed(2)}×  | RSS ${a.peakRssMB.toFixed(0)} vs ${b.peakRssMB.toFixed(0)} MB`);
    results.push({ case: key, serial: { ...a, samples: s.serial }, batched: { ...b, samples: s.batched, taskBatch: BATCH }, cpuSpeedup: a.cpu / b.cpu, wallSpeedup: a.wall / b.wall });
  }
  const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `task-batch-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), command: `npm run bench:task-batch -- ${argv.join(' ')}`.trim(), cpu: os.cpus()[0]?.model, cpus: os.cpus().length, node: process.version, metaBatch: BATCH, rounds, iters, load: roundLoad, uptime: spawnSync('uptime', { encoding: 'utf8' }).stdout.trim(), results }, null, 1)}\n`);
  console.log(`\nload: ${load()}; wrote ${file}`);
}

if (argv.includes('--child')) {
  const [algo, steps, tb, iters] = argv.slice(argv.indexOf('--child') + 1);
  child(algo as Algo, Number(steps), Number(tb), Number(iters))
    .then((r) => process.stdout.write(`${JSON.stringify(r)}\n`))
    .catch((e) => {
      console.error(e);
      process.exitCode = 1;
    })
    .finally(() => mg.shutdownBackends());
} else {
  parent();
}
