// bench:metric — the metric-based learners on Omniglot, Conv-4 ×64, 5-way 1-shot episodes
// with 15 queries per class (the GNN 5-way; R2D2, ProtoNets, Matching, Relation, Siamese alike):
//  1. seconds per training episode (meta-gradient + Adam update), native and js interleaved
//     episode by episode, median and spread (min–max) over the timed episodes after a warm-up;
//  2. peak backend memory of one training episode (liveBytes high-water mark, sampled after
//     every kernel, above what was live before: the episode's graph and temporaries).
// Writes bench/results/metric.json and bench/results/metric.md.
// Env: BENCH_BACKENDS (default js,native), BENCH_EPISODES (timed per backend: default 5 native, 2 js).

import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../ts/index.js';
import type { Backend, ParamTree } from '../ts/index.js';
import { instrument } from './peak-memory.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const want = (process.env['BENCH_BACKENDS'] ?? 'js,native').split(',');
const backends: Backend[] = [];
for (const b of want) {
  try {
    await mg.initBackend(b);
    backends.push(mg.getBackend(b));
  } catch (e) {
    console.log(`# ${b}: unavailable (${(e as Error).message.split('\n')[0]})`);
  }
}
const timed = (b: Backend) => Number(process.env['BENCH_EPISODES'] ?? (b.name === 'js' ? 2 : 5));

const data = await mg.loadOmniglot({});
const sampler = new mg.EpisodeSampler(data.characters('vinyals-train'), { ways: 5, shots: 1, queries: 15 });
const conv = (extra: Partial<mg.Conv4Options> = {}) => mg.conv4({ imageSize: 28, outputs: 5, hidden: 64, ...extra });
const learners: { name: string; model: mg.Conv4Model; make: (m: mg.Conv4Model) => mg.MetricLearner<any> }[] = [
  { name: 'protonet', model: conv(), make: (m) => mg.protonet(m) },
  { name: 'matching', model: conv(), make: (m) => mg.matching(m) },
  { name: 'matching (FCE, K=5)', model: conv(), make: (m) => mg.matching(m, { fce: true }) },
  { name: 'relation', model: conv({ pooledBlocks: 2 }), make: (m) => mg.relationNet(m) },
  { name: 'siamese', model: conv(), make: (m) => mg.siamese(m) },
  { name: 'gnn (nf 96, 2 layers)', model: conv(), make: (m) => mg.gnn(m, { ways: 5 }) },
  { name: 'r2d2', model: conv(), make: (m) => mg.r2d2(m) },
];

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const rows: { learner: string; backend: string; medianSeconds: number; minSeconds: number; maxSeconds: number; episodesTimed: number; peakEpisodeBytes: number }[] = [];
const load0 = loadavg()[0]!;

for (const l of learners) {
  // one learner state per backend, stepped in turn so both see the same machine load
  const runs = backends.map((b) => {
    const learner = l.make(l.model);
    const opt = mg.adam({ lr: 1e-3 });
    const meta = learner.init(l.model.init(new mg.Rng(0), { backend: b }));
    return { b, learner, opt, meta: meta as ParamTree, state: opt.init(meta), times: [] as number[], rng: new mg.Rng(1), peak: 0 };
  });
  const most = Math.max(...runs.map((r) => timed(r.b)));
  for (let i = 0; i <= most; i++) {
    for (const r of runs) {
      if (i > timed(r.b)) continue;
      const task = sampler.episode(r.rng, { backend: r.b });
      const probe = i === 0 ? instrument(r.b) : null;
      probe?.reset();
      const before = r.b.memory().liveBytes;
      const t0 = performance.now();
      const s = mg.metaStep(r.learner, r.meta, r.opt, r.state, [task]);
      await s.loss.item();
      await r.b.sync();
      const dt = (performance.now() - t0) / 1000;
      if (probe) {
        r.peak = probe.peak() - before;
        probe.restore();
      } else r.times.push(dt); // episode 0 is the warm-up (and the memory probe, which slows it)
      mg.disposeAll([task, s.loss, s.accuracy]);
      r.meta = s.meta;
      r.state = s.optState;
    }
  }
  for (const r of runs) {
    const row = { learner: l.name, backend: r.b.name, medianSeconds: median(r.times), minSeconds: Math.min(...r.times), maxSeconds: Math.max(...r.times), episodesTimed: r.times.length, peakEpisodeBytes: r.peak };
    rows.push(row);
    console.log(`${l.name.padEnd(24)} ${r.b.name.padEnd(7)} ${row.medianSeconds.toFixed(3)} s/episode (${row.minSeconds.toFixed(3)}–${row.maxSeconds.toFixed(3)}, ${row.episodesTimed} timed)  peak ${(r.peak / 1e6).toFixed(1)} MB`);
    mg.disposeAll([r.meta, r.state]);
  }
}

const out = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadAverage: { start: load0, end: loadavg()[0] }, setup: 'Omniglot 28×28, Conv-4 ×64, 5-way 1-shot, 15 queries per class, one episode per step, Adam', rows };
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'metric.json'), JSON.stringify(out, null, 2) + '\n');
const md = [
  `# bench:metric (${out.date}, Node ${out.node}, ${out.cpus} CPUs shared with other jobs, load average ${load0.toFixed(1)} → ${out.loadAverage.end!.toFixed(1)})`,
  '',
  `${out.setup}. Seconds per training episode (meta-gradient + update): median (min–max) over the timed episodes after one warm-up, the backends interleaved episode by episode. Peak memory: the backend's live bytes during one training episode above those live before it (the episode's images, graph and temporaries).`,
  '',
  '| learner | backend | s / episode | episodes timed | peak episode memory |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.learner} | ${r.backend} | ${r.medianSeconds.toFixed(3)} (${r.minSeconds.toFixed(3)}–${r.maxSeconds.toFixed(3)}) | ${r.episodesTimed} | ${(r.peakEpisodeBytes / 1e6).toFixed(1)} MB |`),
  '',
];
writeFileSync(join(root, 'bench', 'results', 'metric.md'), md.join('\n'));
mg.shutdownBackends();
