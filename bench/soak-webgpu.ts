// npm run soak:webgpu [-- iterations batch [out.json|-]]: sinusoid MAML meta-training on the WebGPU
// backend (lavapipe in CI) for thousands of meta-iterations, printing RSS after a full GC,
// bind groups created and GPU bytes; exits non-zero if RSS grows more than 16 MB after the
// warm-up (the first 10%; up to 60 iterations in short runs) or bind groups, GPU buffers or
// staging bytes keep being created (issue 14 item 18: the segfault and RSS growth
// came with ~one bind group per dispatch). The suite runs a 10,000-step MLP version
// (test/backend/webgpu-memory.test.ts) and this script with a small count in a child process
// (test/backend/webgpu-soak.test.ts, out '-': nothing written). Results go to
// bench/results/soak-webgpu.json unless another path is given.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as mg from '../ts/index.js';

const iters = Number(process.argv[2] ?? 2000), batch = Number(process.argv[3] ?? 10);
const out = process.argv[4] ?? 'bench/results/soak-webgpu.json';
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.log('note: run with node --expose-gc for RSS after a full collection');
const backend = await mg.initBackend('webgpu');
const model = mg.sinusoidMLP();
const tasksOf = new mg.SinusoidTasks();
const samples: { iteration: number; seconds: number; rssMB: number; heapMB: number; bindGroupsCreated: number; dispatches: number; submits: number; gpuBytes: number; buffersCreated: number; stagingBytes: number; liveStorages: number; loss: number }[] = [];
const t0 = Date.now();
await mg.withBackend('webgpu', async () => {
  const learner = mg.maml(model, { innerSteps: 1, innerLr: 0.01 });
  const opt = mg.adam({ lr: 0.001 });
  let meta = learner.init(model.init(new mg.Rng(0)));
  let state = opt.init(meta);
  const rng = new mg.Rng(1);
  for (let i = 1; i <= iters; i++) {
    const tasks = Array.from({ length: batch }, () => tasksOf.sample(rng, 10, 10, { backend }));
    const r = mg.withBackend('webgpu', () => mg.metaStep(learner, meta, opt, state, tasks));
    mg.disposeAll(tasks);
    meta = r.meta;
    state = r.optState;
    const loss = await r.loss.item();
    r.loss.dispose();
    r.accuracy?.dispose();
    if (i % Math.max(1, Math.floor(iters / 20)) === 0) {
      for (let k = 0; k < 3; k++) {
        gc?.();
        await new Promise((res) => setTimeout(res, 10));
      }
      const m = backend.memory();
      const mu = process.memoryUsage();
      const s = {
        iteration: i, seconds: Math.round((Date.now() - t0) / 1000), rssMB: +(mu.rss / 2 ** 20).toFixed(1), heapMB: +(mu.heapUsed / 2 ** 20).toFixed(1),
        bindGroupsCreated: m['bindGroupsCreated']!, dispatches: m['dispatches']!, submits: m['submits']!, gpuBytes: m['gpuBytes']!,
        buffersCreated: m['buffersCreated']!, stagingBytes: m['stagingBytes']!, liveStorages: m.liveStorages, loss,
      };
      samples.push(s);
      console.log(JSON.stringify(s));
    }
  }
});
// Warm-up: Dawn's and Mesa's pools (and V8's heap) grow over the first ~150 tasks (40
// iterations of 4 tasks, 15 of 10); RSS is compared from the first 10% of the run, or its first
// quarter up to 60 iterations when that is later (short runs).
const warmAt = Math.max(iters / 10, Math.min(iters / 4, 60));
const warmIndex = Math.max(0, samples.findIndex((s) => s.iteration >= warmAt));
const warm = samples[warmIndex]!, last = samples[samples.length - 1]!;
const growth = Math.max(...samples.slice(warmIndex).map((s) => s.rssMB)) - warm.rssMB;
const groupsAfter = last.bindGroupsCreated - warm.bindGroupsCreated, dispatchesAfter = last.dispatches - warm.dispatches;
const buffersAfter = last.buffersCreated - warm.buffersCreated;
const ok = growth < 16 && groupsAfter <= dispatchesAfter / 1000 && buffersAfter === 0 && last.stagingBytes === warm.stagingBytes;
console.log(`${iters} meta-iterations × ${batch} tasks in ${((Date.now() - t0) / 1000).toFixed(0)} s without a crash; after warm-up RSS grew ${growth.toFixed(1)} MB, ${groupsAfter} bind groups for ${dispatchesAfter} dispatches, ${buffersAfter} GPU buffers created, staging ${warm.stagingBytes} → ${last.stagingBytes} bytes → ${ok ? 'flat' : 'NOT FLAT'}`);
if (out !== '-') {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({
    date: new Date().toISOString(), adapter: (backend as unknown as { adapterName?: string }).adapterName, command: `npm run soak:webgpu -- ${iters} ${batch}`,
    iterations: iters, batch, seconds: Math.round((Date.now() - t0) / 1000), warmIteration: warm.iteration, rssGrowthMB: +growth.toFixed(1), bindGroupsAfterWarmup: groupsAfter,
    dispatchesAfterWarmup: dispatchesAfter, buffersCreatedAfterWarmup: buffersAfter, flat: ok, samples,
  }, null, 2) + '\n');
}
// one line the suite's test parses
console.log(`SOAK ${JSON.stringify({ iterations: iters, batch, rssGrowthMB: +growth.toFixed(1), warmIteration: warm.iteration, warmRssMB: warm.rssMB, lastRssMB: last.rssMB, bindGroupsAfterWarmup: groupsAfter, dispatchesAfterWarmup: dispatchesAfter, buffersCreatedAfterWarmup: buffersAfter, finiteLoss: Number.isFinite(last.loss), flat: ok })}`);
mg.shutdownBackends();
process.exit(ok ? 0 : 1);
