// bench:profile-maml — where one exact-MAML meta-iteration spends its time: Omniglot Conv-4
// (64 channels, batch-statistics batch norm, 5-way 1-shot, 15 queries, 1 inner step, outer
// Adam) on one backend, every backend kernel call counted and timed (synchronous backends
// only: js, native). Prints a table per kernel and the seconds per meta-iteration.
// Env: PROFILE_BACKEND (native), PROFILE_TASKS (meta-batch, default 4), PROFILE_ITERS (3),
// PROFILE_KERNELS=0 to time without the per-call wrappers, PROFILE_SHAPES=1 to split convolutions by shape, PROFILE_TASK_BATCH (MAML's taskBatch:
// 0 one task at a time, the default; n tasks adapted together), METAGRAD_THREADS.

import * as mg from '../ts/index.js';
import type { Backend, ParamTree } from '../ts/index.js';

function instrument(backend: Backend): { table(): { kernel: string; calls: number; ms: number }[]; reset(): void } {
  const b = backend as unknown as Record<string, unknown>;
  const byShape = process.env['PROFILE_SHAPES'] === '1';
  const stats = new Map<string, { calls: number; ms: number }>();
  const names = new Set<string>();
  for (let o: object | null = backend; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) for (const k of Object.getOwnPropertyNames(o)) names.add(k);
  const skip = new Set(['constructor', 'memory', 'free', 'supportsDType', 'read', 'readSync', 'sync', 'dispose', 'info', 'setThreads', 'setSimd']);
  for (const k of names) {
    if (skip.has(k) || typeof b[k] !== 'function' || k.startsWith('_') || ['make', 'alloc', 'arr', 'guard', 'gatherView', 'convMeta'].includes(k)) continue;
    const f = b[k] as (...a: unknown[]) => unknown;
    b[k] = function (this: unknown, ...args: unknown[]) {
      // PROFILE_SHAPES=1 splits the convolutions by geometry (batch, channels, plane)
      const g = args[2] as { n?: number; cIn?: number; cOut?: number; h?: number; groups?: number } | undefined;
      const key = k === 'unary' || k === 'binary' || k === 'reduce' ? `${k}:${String(args[0])}`
        : byShape && k.startsWith('conv2d') && g?.n !== undefined ? `${k} n${g.n} ${g.cIn}→${g.cOut} @${g.h}${(g.groups ?? 1) > 1 ? ` g${g.groups}` : ''}` : k;
      const t0 = performance.now();
      const r = f.apply(backend, args);
      const s = stats.get(key) ?? { calls: 0, ms: 0 };
      s.calls++;
      s.ms += performance.now() - t0;
      stats.set(key, s);
      return r;
    };
  }
  return {
    table: () => [...stats.entries()].map(([kernel, s]) => ({ kernel, ...s })).sort((a, b) => b.ms - a.ms),
    reset: () => stats.clear(),
  };
}

async function main() {
  const name = process.env['PROFILE_BACKEND'] ?? 'native';
  const tasksN = Number(process.env['PROFILE_TASKS'] ?? 4);
  const iters = Number(process.env['PROFILE_ITERS'] ?? 3);
  const kernels = process.env['PROFILE_KERNELS'] !== '0';
  await mg.initBackend(name);
  mg.setBackend(name);
  const backend = mg.getBackend(name);
  const omniglot = await mg.loadOmniglot({});
  const sampler = new mg.EpisodeSampler(omniglot.characters('vinyals-train'), { ways: 5, shots: 1, queries: 15 });
  const conv = mg.conv4({ imageSize: 28, outputs: 5, hidden: 64 });
  const taskBatch = Number(process.env['PROFILE_TASK_BATCH'] ?? 0);
  const learner = mg.maml(conv, { innerSteps: 1, innerLr: 0.4, taskBatch }) as mg.MetaLearner<ParamTree>;
  const opt = mg.adam({ lr: 0.001 });
  let meta = learner.init(conv.init(new mg.Rng(0)));
  let st = opt.init(meta);
  const rng = new mg.Rng(1);
  const probe = kernels ? instrument(backend) : null;
  const times: number[] = [];
  // CPU seconds too: on a shared machine the wall clock measures the neighbours as well
  const cpu: number[] = [];
  for (let i = 0; i <= iters; i++) {
    const tasks = Array.from({ length: tasksN }, () => sampler.episode(rng));
    probe?.reset();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = mg.metaStep(learner, meta, opt, st, tasks);
    await r.loss.item();
    await backend.sync();
    const dt = (performance.now() - t0) / 1000;
    const c1 = process.cpuUsage(c0);
    if (i > 0) {
      times.push(dt);
      cpu.push((c1.user + c1.system) / 1e6);
    }
    mg.disposeAll(tasks);
    r.loss.dispose();
    r.accuracy?.dispose();
    meta = r.meta;
    st = r.optState;
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)]!;
  const cmed = cpu[Math.floor(cpu.length / 2)]!;
  console.log(`# ${name}, meta-batch ${tasksN}, taskBatch ${taskBatch}, threads ${(backend as unknown as { info?: () => { threads: number } }).info?.().threads ?? 1}: median ${med.toFixed(3)} s/iteration over ${times.length} (${times.map((t) => t.toFixed(3)).join(' ')}); CPU median ${cmed.toFixed(3)} s (${cpu.map((t) => t.toFixed(3)).join(' ')})${kernels ? ' (with per-kernel timers)' : ''}`);
  if (probe) {
    const rows = probe.table();
    const total = rows.reduce((s, r) => s + r.ms, 0);
    const calls = rows.reduce((s, r) => s + r.calls, 0);
    console.log(`# last iteration: ${calls} kernel calls (${(calls / tasksN).toFixed(0)} per task), ${total.toFixed(0)} ms inside kernels`);
    for (const r of rows) console.log(`${r.kernel.padEnd(28)} ${String(r.calls).padStart(6)} calls ${r.ms.toFixed(1).padStart(9)} ms ${(1000 * r.ms / r.calls).toFixed(0).padStart(7)} µs/call`);
  }
  mg.disposeAll([meta, st]);
}

main().finally(() => mg.shutdownBackends());
