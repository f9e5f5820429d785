// Memory of meta-training on the native backend (issue 14 item 17, issue 15 "Memory").
//   npm run soak:memory [-- iterations batch]   sinusoid MAML, 10,000 meta-iterations of 25
//       tasks by default: RSS after a full GC, pooled bytes and live tensors every 500
//       iterations; exits non-zero if RSS grows more than 4 MB after warm-up (the first 10%).
//   npm run bench:memory [-- iterations]        peak RSS of the Omniglot exact-MAML
//       meta-iteration (Conv-4 64 channels, 5-way 1-shot, 15 queries, 1 inner step,
//       meta-batch 32, Adam), 3 iterations by default, and the backend's peak live bytes.
// Both write JSON to bench/results/.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as mg from '../ts/index.js';
import { sinusoidMemoryRun } from '../test/helpers/meta-memory.js';

const [mode = 'sinusoid', a1, a2] = process.argv.slice(2);
const native = mg.getBackend('native');
const mb = (b: number) => +(b / 2 ** 20).toFixed(1);
const out = (name: string, data: object) => {
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/memory-${name}-native.json`;
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, node: process.version, threads: (native as unknown as { info(): { threads: number } }).info().threads, ...data }, null, 2) + '\n');
  console.log(`wrote ${file}`);
};

if (mode === 'sinusoid') {
  const iters = Number(a1 ?? 10000), batch = Number(a2 ?? 25);
  if (!(globalThis as { gc?: () => void }).gc) console.log('note: run with node --expose-gc for RSS after a full collection');
  const t0 = Date.now();
  const samples = sinusoidMemoryRun(native, iters, batch, Math.max(1, Math.floor(iters / 20)), (s) =>
    console.log(`${String(s.iteration).padStart(6)}  rss ${s.rssMB.toFixed(1)} MB  pooled ${s.pooledBytes} B  live ${s.liveTensors} tensors / ${s.liveBytes} B`));
  const warm = samples.find((s) => s.iteration >= iters / 10) ?? samples[0]!;
  const after = samples.filter((s) => s.iteration >= warm.iteration);
  const growth = Math.max(...after.map((s) => s.rssMB)) - warm.rssMB;
  const pooledGrowth = Math.max(...after.map((s) => s.pooledBytes)) - warm.pooledBytes;
  const ok = growth < 4 && pooledGrowth <= 0;
  console.log(`${iters} meta-iterations × ${batch} tasks in ${((Date.now() - t0) / 1000).toFixed(0)} s: RSS grew ${growth.toFixed(1)} MB after warm-up, pooled bytes ${pooledGrowth} → ${ok ? 'flat' : 'NOT FLAT'}`);
  out('sinusoid-soak', { command: `npm run soak:memory -- ${iters} ${batch}`, iterations: iters, batch, rssGrowthMB: +growth.toFixed(2), pooledGrowthBytes: pooledGrowth, flat: ok, samples });
  process.exit(ok ? 0 : 1);
} else if (mode === 'omniglot') {
  const iters = Number(a1 ?? 3);
  const data = await mg.loadOmniglot({});
  const sampler = new mg.EpisodeSampler(data.characters('vinyals-train'), { ways: 5, shots: 1, queries: 15 });
  const model = mg.conv4({ imageSize: 28, outputs: 5, hidden: 64 });
  const rows: object[] = [];
  mg.withBackend('native', () => {
    const learner = mg.maml(model, { innerSteps: 1, innerLr: 0.4 });
    const opt = mg.adam({ lr: 0.001 });
    let meta = learner.init(model.init(new mg.Rng(0)));
    let state = opt.init(meta);
    const rng = new mg.Rng(1);
    for (let i = 0; i < iters; i++) {
      const t0 = Date.now();
      const tasks = Array.from({ length: 32 }, () => sampler.episode(rng));
      const r = mg.metaStep(learner, meta, opt, state, tasks);
      mg.disposeAll(tasks);
      meta = r.meta;
      state = r.optState;
      const loss = r.loss.itemSync();
      r.loss.dispose();
      r.accuracy?.dispose();
      const m = native.memory();
      const row = { iteration: i, seconds: (Date.now() - t0) / 1000, loss, rssMB: mb(process.memoryUsage().rss), peakRssMB: mb(process.resourceUsage().maxRSS * 1024), pooledMB: mb(m.pooledBytes), peakLiveMB: mb(m['peakLiveBytes'] ?? 0) };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  });
  const peak = mb(process.resourceUsage().maxRSS * 1024);
  console.log(`peak RSS ${peak} MB (peak live tensor bytes ${mb(native.memory()['peakLiveBytes'] ?? 0)} MB); PyTorch 1.13 on the same run: 413 MB (issue 15)`);
  out('omniglot-maml', { command: `npm run bench:memory -- ${iters}`, setup: 'Conv-4 64ch, 5-way 1-shot, 15 queries, 1 inner step (exact 2nd order), meta-batch 32, Adam', peakRssMB: peak, pytorchPeakRssMB: 413, rows });
} else {
  console.error(`usage: memory.ts sinusoid [iterations batch] | omniglot [iterations]`);
  process.exit(2);
}
mg.shutdownBackends();
