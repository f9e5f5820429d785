// bench:peers — metagrad against PyTorch on this machine, side by side, interleaved.
//
//   npm run bench:peers [-- --rounds=3] [-- --threads=1,2] [-- --only=omniglot,sinusoid,conv,pool,matmul] [-- --quick]
//                       [-- --task-batch=sinusoid:25,omniglot:4] [-- --orders=exact,first] [-- --pool-mb=N]
//
// Cases (the same math on both sides; bench/peers.py is the PyTorch side):
//   omniglot  one MAML meta-iteration: Conv-4 (64 channels, batch norm with batch statistics),
//             5-way 1-shot, 15 queries, 1 inner step (lr 0.4), meta-batch 32, outer Adam;
//             exact second order (PyTorch: create_graph=True) and first order
//   sinusoid  one MAML meta-iteration: MLP 1-40-40-1, K=10, 1 inner step (lr 0.01), meta-batch 25
//   conv      conv2d 3×3 padding 1 at the Conv-4 shapes, batch 75 (a 5-way 15-query set):
//             forward, input gradient, filter gradient
//   pool      max-pool 2×2 forward at the Conv-4 maps (batch 75, 64 channels, 28/14/7/3 →)
//   matmul    square float32 matmul 64–2048
// Each meta-iteration runs three ways: metagrad task by task ('metagrad'), metagrad with the
// tasks adapted together ('mg-tb': MAML's taskBatch, chunks of the --task-batch size per case;
// 0 leaves it out) and PyTorch (task by task, as learn2learn). --pool-mb sets
// METAGRAD_NATIVE_POOL_MB for both metagrad sides (a task batch holds several tasks' graphs, so
// its working set can outgrow the default 512 MB pool, and fresh pages cost their clearing).
// Every measurement is a fresh child process (metagrad: this file with --child; PyTorch:
// /usr/bin/python3 bench/peers.py), so each reports its own peak RSS; within a round the
// peers alternate (which goes first alternates too), and the rounds repeat the whole
// sequence. Reported: the median over every timed sample of all rounds, the spread
// (min–max of the samples) and the ratio PyTorch time / metagrad time (> 1: metagrad faster),
// at each thread count (metagrad: METAGRAD_THREADS, the native pool size; PyTorch:
// torch.set_num_threads, OMP_NUM_THREADS, OPENBLAS_NUM_THREADS). OpenBLAS is pinned to its
// AVX-512 kernels with OPENBLAS_CORETYPE=SkylakeX where the CPU has AVX-512 (Debian's build
// detects such a CPU as "Prescott" otherwise); elsewhere OpenBLAS's detection stands. The
// load average (uptime) is recorded with each round: the machine may be shared. WebGPU
// (where an adapter exists) runs the conv and matmul cases once per round.
// Writes bench/results/peers-<date and time, to the second>.json and bench/results/peers-latest.json.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../ts/index.js';
import type { Backend, ParamTree, Tensor } from '../ts/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..'); // build/bench -> repository root
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const PYTHON = '/usr/bin/python3';
const OMNIGLOT = join(root, '..', 'shared', 'data', 'omniglot');

type MetaCase = 'omniglot' | 'sinusoid';
type OpCase = { kind: 'conv-forward' | 'conv-input-grad' | 'conv-filter-grad'; n: number; cIn: number; cOut: number; h: number } | { kind: 'matmul'; n: number } | { kind: 'maxpool-forward'; n: number; c: number; h: number };
type MetaSide = 'metagrad' | 'mg-tb' | 'pytorch';

const CONV_SHAPES: [number, number, number][] = [[1, 64, 28], [64, 64, 14], [64, 64, 7], [64, 64, 3], [3, 32, 84], [32, 32, 42], [32, 32, 21], [32, 32, 10]];
const CONV_BATCH = 75;
const MATMUL_SIZES = [64, 128, 256, 512, 1024, 2048];
const POOL_SIDES = [28, 14, 7, 3];

function opCases(only: Set<string>): OpCase[] {
  const out: OpCase[] = [];
  if (only.has('conv'))
    for (const [cIn, cOut, h] of CONV_SHAPES)
      for (const kind of ['conv-forward', 'conv-input-grad', 'conv-filter-grad'] as const) out.push({ kind, n: CONV_BATCH, cIn, cOut, h });
  if (only.has('pool')) for (const h of POOL_SIDES) out.push({ kind: 'maxpool-forward', n: CONV_BATCH, c: 64, h });
  if (only.has('matmul')) for (const n of MATMUL_SIZES) out.push({ kind: 'matmul', n });
  return out;
}
// max-pool: the "flops" are the bytes of float32 input read, reported as GB/s
const opFlops = (c: OpCase): number => (c.kind === 'matmul' ? 2 * c.n ** 3 : c.kind === 'maxpool-forward' ? 4 * c.n * c.c * c.h * c.h : 2 * c.n * c.cIn * c.cOut * 9 * c.h * c.h);
const opName = (c: OpCase): string => (c.kind === 'matmul' ? `matmul ${c.n}` : c.kind === 'maxpool-forward' ? `maxpool-forward 2×2 ${c.c}ch @${c.h} (n ${c.n})` : `${c.kind} ${c.cIn}→${c.cOut} @${c.h} (n ${c.n})`);
const opUnit = (c: OpCase): string => (c.kind === 'maxpool-forward' ? 'GB/s' : 'GF/s');

// --- children: metagrad side ----------------------------------------------------------------

async function childMeta(which: MetaCase, order: 'exact' | 'first', iters: number, warmup: number, taskBatch: number): Promise<object> {
  await mg.initBackend('native');
  mg.setBackend('native');
  const backend = mg.getBackend('native');
  let learner: mg.MetaLearner<ParamTree>, init: () => ParamTree, sample: (r: mg.Rng) => mg.MetaTask, batch: number;
  if (which === 'omniglot') {
    const omniglot = await mg.loadOmniglot({ root: OMNIGLOT });
    const sampler = new mg.EpisodeSampler(omniglot.characters('vinyals-train'), { ways: 5, shots: 1, queries: 15 });
    const conv = mg.conv4({ imageSize: 28, outputs: 5, hidden: 64 });
    learner = mg.maml(conv, { innerSteps: 1, innerLr: 0.4, firstOrder: order === 'first', taskBatch });
    init = () => conv.init(new mg.Rng(0));
    sample = (r) => sampler.episode(r);
    batch = 32;
  } else {
    const sine = mg.sinusoidMLP();
    const tasks = new mg.SinusoidTasks();
    learner = mg.maml(sine, { innerSteps: 1, innerLr: 0.01, firstOrder: order === 'first', taskBatch });
    init = () => sine.init(new mg.Rng(0));
    sample = (r) => tasks.sample(r, 10, 10);
    batch = 25;
  }
  const opt = mg.adam({ lr: 0.001 });
  let meta = learner.init(init());
  let st = opt.init(meta);
  const rng = new mg.Rng(1);
  const times: number[] = [], cpu: number[] = [];
  const rssBeforeMB = process.memoryUsage().rss / 2 ** 20;
  for (let i = 0; i < warmup + iters; i++) {
    const tasks = Array.from({ length: batch }, () => sample(rng));
    const t0 = performance.now(), c0 = process.cpuUsage();
    const r = mg.metaStep(learner, meta, opt, st, tasks);
    await r.loss.item();
    await backend.sync();
    const dt = (performance.now() - t0) / 1000, dc = cpuSeconds(c0);
    if (i >= warmup) {
      times.push(dt);
      cpu.push(dc);
    }
    mg.disposeAll(tasks);
    r.loss.dispose();
    r.accuracy?.dispose();
    meta = r.meta;
    st = r.optState;
  }
  mg.disposeAll([meta, st]);
  return { times, cpu, rssBeforeMB, peakRssMB: process.resourceUsage().maxRSS / 1024 };
}

async function childOps(backendName: string, cases: OpCase[], minTime: number): Promise<object> {
  await mg.initBackend(backendName);
  mg.setBackend(backendName);
  const backend: Backend = mg.getBackend(backendName);
  const rng = new mg.Rng(0);
  const rand = (shape: number[]): Tensor => rng.normal(shape);
  const seconds: number[] = [], cpu: number[] = [];
  for (const c of cases) {
    let fn: () => Tensor;
    const inputs: Tensor[] = [];
    if (c.kind === 'matmul') {
      const a = rand([c.n, c.n]), b = rand([c.n, c.n]);
      inputs.push(a, b);
      fn = () => mg.matmul(a, b);
    } else if (c.kind === 'maxpool-forward') {
      const x = rand([c.n, c.c, c.h, c.h]);
      inputs.push(x);
      fn = () => mg.maxPool2d(x, { kernelSize: 2 });
    } else {
      const x = rand([c.n, c.cIn, c.h, c.h]), w = rand([c.cOut, c.cIn, 3, 3]), dy = rand([c.n, c.cOut, c.h, c.h]);
      inputs.push(x, w, dy);
      fn = c.kind === 'conv-forward' ? () => mg.conv2d(x, w, { padding: 1 })
        : c.kind === 'conv-input-grad' ? () => mg.conv2dBackwardInput(dy, w, [c.h, c.h], { padding: 1 })
        : () => mg.conv2dBackwardFilter(x, dy, [3, 3], { padding: 1 });
    }
    const once = async (): Promise<[number, number]> => {
      const t0 = performance.now(), c0 = process.cpuUsage();
      const y = fn();
      await backend.sync();
      const dt = (performance.now() - t0) / 1000, dc = cpuSeconds(c0);
      y.dispose();
      return [dt, dc];
    };
    await once();
    const ts: number[] = [], cs: number[] = [];
    let spent = 0;
    while (spent < minTime || ts.length < 5) {
      const [dt, dc] = await once();
      ts.push(dt);
      cs.push(dc);
      spent += dt;
    }
    seconds.push(median(ts));
    cpu.push(median(cs));
    mg.disposeAll(inputs);
  }
  return { seconds, cpu, peakRssMB: process.resourceUsage().maxRSS / 1024 };
}

// --- parent -----------------------------------------------------------------------------------

/** CPU seconds of this process (all threads) since c0. */
function cpuSeconds(c0: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// Debian's OpenBLAS detects an AVX-512 CPU as "Prescott" and runs its SSE3 kernels: pin
// SkylakeX there. Without AVX-512 that pin dies of SIGILL, and OpenBLAS's own detection is
// right (Haswell kernels on AVX2 Zen and Intel), so the core type is left to it.
const hasAvx512 = (() => {
  try {
    return /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
})();
const coreType = hasAvx512 ? 'SkylakeX' : null;
const coreTypeNote = coreType ? `OPENBLAS_CORETYPE=${coreType} pinned for PyTorch` : 'no AVX-512 here: OPENBLAS_CORETYPE left to OpenBLAS\'s detection for PyTorch';

function torchEnv(threads: number): NodeJS.ProcessEnv {
  // OMP_WAIT_POLICY=PASSIVE: on a shared, oversubscribed machine libgomp's spinning workers
  // cost PyTorch 5-15x at 2 threads (82 s per Omniglot iteration at load 14); passive waiting
  // is the setting that favours PyTorch here
  return { ...process.env, ...(coreType ? { OPENBLAS_CORETYPE: coreType } : {}), OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, what: string): Record<string, unknown> {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 30 * 60 * 1000 });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${(r.stderr ?? '').trim().split('\n').slice(-5).join('\n')}`);
  return JSON.parse(last) as Record<string, unknown>;
}

let poolMB: string | undefined;
function mgChild(args: string[], threads: number, what: string): Record<string, unknown> {
  return run(process.execPath, [fileURLToPath(import.meta.url), '--child', ...args], { ...process.env, METAGRAD_THREADS: String(threads), ...(poolMB ? { METAGRAD_NATIVE_POOL_MB: poolMB } : {}) }, what);
}
function torchChild(args: string[], threads: number, what: string): Record<string, unknown> {
  return run(PYTHON, [join(root, 'bench', 'peers.py'), ...args, '--threads', String(threads)], torchEnv(threads), what);
}

const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');

type Samples = { times: number[]; cpu: number[]; peakRssMB: number[]; rssBeforeMB: number[] };
const newSamples = (): Samples => ({ times: [], cpu: [], peakRssMB: [], rssBeforeMB: [] });

async function parent(): Promise<void> {
  const quick = argv.includes('--quick');
  const rounds = Number(flag('rounds') ?? (quick ? 1 : 3));
  const threadList = (flag('threads') ?? '1,2').split(',').map(Number);
  const only = new Set((flag('only') ?? 'omniglot,sinusoid,conv,pool,matmul').split(','));
  const orders = (flag('orders') ?? 'exact,first').split(',') as ('exact' | 'first')[];
  // tasks adapted together per case (MAML's taskBatch); 0: no task-batched side
  const taskBatch: Record<MetaCase, number> = { sinusoid: 25, omniglot: 4 };
  for (const kv of (flag('task-batch') ?? '').split(',').filter(Boolean)) {
    const [k, v] = kv.split(':');
    if (k !== 'sinusoid' && k !== 'omniglot') throw new Error(`--task-batch: unknown case '${k}' (sinusoid, omniglot)`);
    taskBatch[k] = Number(v);
  }
  poolMB = flag('pool-mb');
  const omniIters = Number(flag('omniglot-iters') ?? (quick ? 1 : 2));
  const sineIters = quick ? 10 : 40;
  const minTime = quick ? 0.1 : 0.3;

  const info = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', env: torchEnv(1) });
  if (info.status !== 0) {
    console.log(`PyTorch is not available to ${PYTHON} (${(info.stderr || info.error?.message || '').trim().split('\n').pop()}).`);
    console.log('bench:peers installs nothing itself. On Debian/Ubuntu: sudo apt-get install python3-torch (PyTorch 1.13, CPU),');
    console.log('or install PyTorch into that interpreter with pip (https://pytorch.org/get-started/locally/). Then run again.');
    process.exitCode = 1;
    return;
  }
  const torchVersion = info.stdout.trim();
  let webgpu = false;
  if (only.has('conv') || only.has('matmul')) {
    try {
      await mg.initBackend('webgpu');
      webgpu = true;
    } catch (e) {
      console.log(`# webgpu: no adapter here (${(e as Error).message.split('\n')[0]}); native and PyTorch only`);
    }
    mg.shutdownBackends();
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`bench:peers — metagrad native${webgpu ? ' + webgpu' : ''} vs PyTorch ${torchVersion} (${PYTHON}), ${cpu}, ${os.cpus().length} CPUs`);
  console.log(`${coreTypeNote} (its BLAS is OpenBLAS; convolutions go to oneDNN). ${rounds} round(s), threads ${threadList.join(', ')}; load at start: ${load()}`);

  const meta: { case: MetaCase; order: 'exact' | 'first' }[] = [];
  for (const c of ['omniglot', 'sinusoid'] as const) if (only.has(c)) for (const order of orders) meta.push({ case: c, order });
  const ops = opCases(only);

  const metaSamples = new Map<string, Record<MetaSide, Samples>>();
  type OpSamples = { metagrad: number[][]; pytorch: number[][]; webgpu: number[][]; metagradCpu: number[][]; pytorchCpu: number[][] };
  const opSamples = new Map<string, OpSamples>();
  const roundLoad: { round: number; start: string; end: string }[] = [];
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  for (let round = 0; round < rounds; round++) {
    const start = load();
    console.log(`\n# round ${round + 1}/${rounds} (load ${start})`);
    let flip = round % 2 === 1;
    let turn = round;
    for (const threads of threadList) {
      for (const m of meta) {
        const key = `${m.case} ${m.order} ${threads}t`;
        const s = metaSamples.get(key) ?? { metagrad: newSamples(), 'mg-tb': newSamples(), pytorch: newSamples() };
        metaSamples.set(key, s);
        const iters = m.case === 'omniglot' ? omniIters : sineIters;
        // the sinusoid step is milliseconds: V8's optimizing compiler needs about a hundred
        // iterations to settle (15 warm-ups still left the CPU time falling 126 → 15 ms)
        const warmup = m.case === 'omniglot' ? 1 : quick ? 30 : 100;
        const tb = taskBatch[m.case];
        let sides: [MetaSide, () => Record<string, unknown>][] = [
          ['metagrad', () => mgChild([m.case, m.order, String(iters), String(warmup), '0'], threads, `metagrad ${key}`)],
          ['pytorch', () => torchChild([m.case, '--order', m.order, '--iters', String(iters), '--warmup', String(warmup), '--data', OMNIGLOT], threads, `pytorch ${key}`)],
        ];
        if (tb > 0) sides.splice(1, 0, ['mg-tb', () => mgChild([m.case, m.order, String(iters), String(warmup), String(tb)], threads, `metagrad task-batched ${key}`)]);
        // the sides take turns going first
        const k = turn++ % sides.length;
        sides = [...sides.slice(k), ...sides.slice(0, k)];
        for (const [side, go] of sides) {
          const r = go() as { times: number[]; cpu: number[]; peakRssMB: number; rssBeforeMB: number };
          s[side].times.push(...r.times);
          s[side].cpu.push(...r.cpu);
          s[side].peakRssMB.push(r.peakRssMB);
          s[side].rssBeforeMB.push(r.rssBeforeMB);
          console.log(`${key.padEnd(22)} ${(side === 'mg-tb' ? `mg-tb(${tb})` : side).padEnd(11)} ${r.times.map((t) => t.toFixed(3)).join(' ')} s (CPU ${r.cpu.map((t) => t.toFixed(3)).join(' ')} s)  peak RSS ${r.peakRssMB.toFixed(0)} MB`);
        }
      }
      if (ops.length) {
        const sides: ['metagrad' | 'pytorch', () => Record<string, unknown>][] = [
          ['metagrad', () => mgChild(['ops', 'native', JSON.stringify(ops), String(minTime)], threads, `metagrad ops ${threads}t`)],
          ['pytorch', () => torchChild(['ops', '--cases', JSON.stringify(ops), '--min-time', String(minTime)], threads, `pytorch ops ${threads}t`)],
        ];
        if (flip) sides.reverse();
        flip = !flip;
        for (const [side, go] of sides) {
          const r = go() as { seconds: number[]; cpu: number[] };
          ops.forEach((c, i) => {
            const key = `${opName(c)} ${threads}t`;
            const s = opSamples.get(key) ?? { metagrad: [], pytorch: [], webgpu: [], metagradCpu: [], pytorchCpu: [] };
            opSamples.set(key, s);
            (s[side][round] ??= []).push(r.seconds[i]!);
            (s[side === 'metagrad' ? 'metagradCpu' : 'pytorchCpu'][round] ??= []).push(r.cpu[i]!);
          });
          console.log(`ops ${threads}t ${side} done`);
        }
      }
    }
    // WebGPU here is a software adapter or a GPU: its timings do not depend on the CPU threads
    // and vary little with load, so it runs in the first round only (it is slow on lavapipe)
    if (webgpu && ops.length && round === 0) {
      const r = mgChild(['ops', 'webgpu', JSON.stringify(ops), String(minTime)], 1, 'metagrad webgpu ops') as { seconds: number[] };
      ops.forEach((c, i) => {
        for (const threads of threadList) (opSamples.get(`${opName(c)} ${threads}t`)!.webgpu[round] ??= []).push(r.seconds[i]!);
      });
      console.log('ops webgpu done');
    }
    roundLoad.push({ round: round + 1, start, end: load() });
    report(round + 1 === rounds);
  }

  // --- report (JSON after every round, so an interrupted run keeps what it measured) ---
  function report(final: boolean): void {
    const log = final ? console.log : (): void => {};
    const fmt = (t: number): string => (t >= 1 ? `${t.toFixed(3)} s` : t >= 1e-3 ? `${(t * 1e3).toFixed(2)} ms` : `${(t * 1e6).toFixed(1)} µs`);
    const spread = (xs: number[]): string => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
    const results: { meta: object[]; ops: object[] } = { meta: [], ops: [] };
    log('\n## meta-iterations (wall: median [min–max] over all timed iterations; ratio = PyTorch / metagrad, > 1: metagrad faster;');
    log('## CPU: median process CPU seconds per iteration, all threads, the figure least disturbed by other load)');
    for (const [key, s] of metaSamples) {
      const mgT = median(s.metagrad.times), ptT = median(s.pytorch.times);
      const mgC = median(s.metagrad.cpu), ptC = median(s.pytorch.cpu);
      const mgR = Math.max(...s.metagrad.peakRssMB), ptR = Math.max(...s.pytorch.peakRssMB);
      log(`${key.padEnd(22)} metagrad ${fmt(mgT)} [${spread(s.metagrad.times)}]  pytorch ${fmt(ptT)} [${spread(s.pytorch.times)}]  ratio ${(ptT / mgT).toFixed(2)}×  | CPU ${fmt(mgC)} vs ${fmt(ptC)} ratio ${(ptC / mgC).toFixed(2)}×  | peak RSS ${mgR.toFixed(0)} vs ${ptR.toFixed(0)} MB`);
      const entry: Record<string, unknown> = { case: key, metagrad: { medianSeconds: mgT, medianCpuSeconds: mgC, ...s.metagrad, peakRssMBMax: mgR }, pytorch: { medianSeconds: ptT, medianCpuSeconds: ptC, ...s.pytorch, peakRssMBMax: ptR }, ratio: ptT / mgT, cpuRatio: ptC / mgC };
      const b = s['mg-tb'];
      if (b.times.length) {
        const tbT = median(b.times), tbC = median(b.cpu), tbR = Math.max(...b.peakRssMB);
        const tb = taskBatch[key.split(' ')[0] as MetaCase];
        log(`${''.padEnd(22)} mg-tb(${tb}) ${fmt(tbT)} [${spread(b.times)}]  ratio vs pytorch ${(ptT / tbT).toFixed(2)}×, vs serial ${(mgT / tbT).toFixed(2)}×  | CPU ${fmt(tbC)}: vs pytorch ${(ptC / tbC).toFixed(2)}×, vs serial ${(mgC / tbC).toFixed(2)}×  | peak RSS ${tbR.toFixed(0)} MB`);
        Object.assign(entry, { taskBatch: tb, taskBatched: { medianSeconds: tbT, medianCpuSeconds: tbC, ...b, peakRssMBMax: tbR }, taskBatchedRatio: ptT / tbT, taskBatchedCpuRatio: ptC / tbC, taskBatchedSpeedup: mgT / tbT, taskBatchedCpuSpeedup: mgC / tbC });
      }
      results.meta.push(entry);
    }
    if (opSamples.size) log('\n## kernels (wall: median of per-round medians, GFLOP/s [spread of the round medians]; ratio = PyTorch time / metagrad time; CPU ratio from process CPU time)');
    for (const c of ops)
      for (const threads of threadList) {
        const key = `${opName(c)} ${threads}t`;
        const s = opSamples.get(key)!;
        const per = (xs: number[][]): number[] => xs.map((r) => median(r));
        const mgT = median(per(s.metagrad)), ptT = median(per(s.pytorch));
        const mgC = median(per(s.metagradCpu)), ptC = median(per(s.pytorchCpu));
        const wg = s.webgpu.length ? median(per(s.webgpu)) : null;
        const gf = (t: number): string => `${(opFlops(c) / t / 1e9).toFixed(c.kind === 'maxpool-forward' ? 2 : 1).padStart(6)} ${opUnit(c)}`;
        log(`${key.padEnd(40)} metagrad ${gf(mgT)} [${spread(per(s.metagrad))}]  pytorch ${gf(ptT)} [${spread(per(s.pytorch))}]  ratio ${(ptT / mgT).toFixed(2)}×  | CPU ratio ${(ptC / mgC).toFixed(2)}×${wg !== null ? `  | webgpu ${gf(wg)}` : ''}`);
        results.ops.push({ case: key, flops: opFlops(c), metagradSeconds: mgT, pytorchSeconds: ptT, metagradCpuSeconds: mgC, pytorchCpuSeconds: ptC, webgpuSeconds: wg, ratio: ptT / mgT, cpuRatio: ptC / mgC, rounds: s });
      }
    const out = {
      date: new Date().toISOString(), cpu, cpus: os.cpus().length, node: process.version, torch: torchVersion, webgpu,
      env: { OPENBLAS_CORETYPE: coreType ?? 'unset (OpenBLAS detection; no AVX-512)', OMP_WAIT_POLICY: 'PASSIVE (PyTorch)', metagradThreads: 'METAGRAD_THREADS', torchThreads: 'torch.set_num_threads + OMP/OPENBLAS_NUM_THREADS' },
      command: `npm run bench:peers -- ${argv.join(' ')}`.trim(), taskBatch, nativePoolMB: poolMB ?? 'default (512)',
      rounds, roundsDone: roundLoad.length, threads: threadList, convBatch: CONV_BATCH, load: roundLoad, uptime: spawnSync('uptime', { encoding: 'utf8' }).stdout.trim(), results,
    };
    const dir = join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `peers-${stamp}.json`), `${JSON.stringify(out, null, 1)}\n`);
    writeFileSync(join(dir, 'peers-latest.json'), `${JSON.stringify(out, null, 1)}\n`);
    console.log(`${final ? '\n' : ''}load: ${load()}; wrote bench/results/peers-${stamp}.json and peers-latest.json (${roundLoad.length} of ${rounds} rounds)`);
  }
}

async function child(): Promise<void> {
  const [what, a, b, c, d] = argv.slice(argv.indexOf('--child') + 1);
  let r: object;
  if (what === 'ops') r = await childOps(a!, JSON.parse(b!) as OpCase[], Number(c));
  else r = await childMeta(what as MetaCase, a as 'exact' | 'first', Number(b), Number(c ?? 1), Number(d ?? 0));
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

(argv.includes('--child') ? child() : parent())
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => mg.shutdownBackends());
