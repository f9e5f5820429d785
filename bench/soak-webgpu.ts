// npm run soak:webgpu [-- iterations batch]: sinusoid MAML meta-training on the WebGPU
// backend (lavapipe in CI) for thousands of meta-iterations, printing RSS after a full GC,
// bind groups created and GPU bytes; exits non-zero if RSS grows more than 16 MB after the
// first 10% or bind groups keep being created (issue 14 item 18: the segfault and RSS growth
// came with ~one bind group per dispatch). The suite runs a 10,000-step MLP version
// (test/backend/webgpu-memory.test.ts). Results go to bench/results/soak-webgpu.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import * as mg from '../ts/index.js';

const iters = Number(process.argv[2] ?? 2000), batch = Number(process.argv[3] ?? 10);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.log('note: run with node --expose-gc for RSS after a full collection');
const backend = await mg.initBackend('webgpu');
const model = mg.sinusoidMLP();
const tasksOf = new mg.SinusoidTasks();
const samples: { iteration: number; rssMB: number; bindGroupsCreated: number; dispatches: number; gpuBytes: number; loss: number }[] = [];
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
      const s = { iteration: i, rssMB: +(process.memoryUsage().rss / 2 ** 20).toFixed(1), bindGroupsCreated: m['bindGroupsCreated']!, dispatches: m['dispatches']!, gpuBytes: m['gpuBytes']!, loss };
      samples.push(s);
      console.log(JSON.stringify(s));
    }
  }
});
const warm = samples[1] ?? samples[0]!, last = samples[samples.length - 1]!;
const growth = Math.max(...samples.slice(1).map((s) => s.rssMB)) - warm.rssMB;
const groupsAfter = last.bindGroupsCreated - warm.bindGroupsCreated, dispatchesAfter = last.dispatches - warm.dispatches;
const ok = growth < 16 && groupsAfter <= dispatchesAfter / 1000;
console.log(`${iters} meta-iterations × ${batch} tasks in ${((Date.now() - t0) / 1000).toFixed(0)} s without a crash; after warm-up RSS grew ${growth.toFixed(1)} MB, ${groupsAfter} bind groups for ${dispatchesAfter} dispatches → ${ok ? 'flat' : 'NOT FLAT'}`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/soak-webgpu.json', JSON.stringify({ date: new Date().toISOString(), adapter: (backend as unknown as { adapterName?: string }).adapterName, command: `npm run soak:webgpu -- ${iters} ${batch}`, iterations: iters, batch, rssGrowthMB: +growth.toFixed(1), bindGroupsAfterWarmup: groupsAfter, dispatchesAfterWarmup: dispatchesAfter, flat: ok, samples }, null, 2) + '\n');
mg.shutdownBackends();
process.exit(ok ? 0 : 1);
