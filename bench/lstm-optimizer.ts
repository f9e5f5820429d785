// bench: the coordinatewise LSTM optimizer (Andrychowicz et al. 2016) against tuned SGD, RMSprop
// and Adam, the paper's Figure 2 (quadratics) and Figure 3's setting (an MLP, here on Omniglot
// 5-way tasks instead of MNIST, which is not in the shared data). For each optimizee family:
// meta-train φ (one outer Adam update per 20-step truncation of 100-step trajectories), tune each
// baseline's learning rate on training optimizees by the loss after 100 steps, then record the
// mean loss curve of every optimizer on held-out optimizees from the same θ₀.
// Writes bench/results/lstm-optimizer.json and one SVG per family beside it.
// Env: BENCH_QUAD_TRAJ (default 300), BENCH_MLP_TRAJ (default 60); Omniglot from METAGRAD_DATA (e.g. ../shared/data).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../ts/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const steps = 100;
const grid = [0.001, 0.003, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1];
const colors: Record<string, string> = { lstm: '#d62728', sgd: '#1f77b4', rmsprop: '#2ca02c', adam: '#9467bd' };

/** Loss curves, log scale, all optimizers in one panel. */
function curvesSvg(title: string, curves: Record<string, number[]>): string {
  const W = 640, H = 400, l = 64, r = 110, t = 36, b = 40;
  const all = Object.values(curves).flat().filter((v) => v > 0 && Number.isFinite(v));
  const y0 = Math.floor(Math.log10(Math.min(...all))), y1 = Math.ceil(Math.log10(Math.max(...all)));
  const sx = (i: number) => l + (i / steps) * (W - l - r);
  const sy = (v: number) => t + (1 - (Math.log10(Math.max(v, 10 ** y0)) - y0) / (y1 - y0)) * (H - t - b);
  const parts: string[] = [`<rect x="${l}" y="${t}" width="${W - l - r}" height="${H - t - b}" fill="none" stroke="#999"/>`];
  for (let e = y0; e <= y1; e++) parts.push(`<line x1="${l}" x2="${W - r}" y1="${sy(10 ** e)}" y2="${sy(10 ** e)}" stroke="#eee"/><text x="${l - 6}" y="${sy(10 ** e) + 4}" font-size="11" text-anchor="end">1e${e}</text>`);
  for (let s = 0; s <= steps; s += 20) parts.push(`<text x="${sx(s)}" y="${H - b + 16}" font-size="11" text-anchor="middle">${s}</text>`);
  Object.entries(curves).forEach(([name, c], k) => {
    parts.push(`<path d="${c.map((v, i) => `${i ? 'L' : 'M'}${sx(i).toFixed(1)},${sy(v).toFixed(1)}`).join('')}" fill="none" stroke="${colors[name.split(' ')[0]!] ?? '#000'}" stroke-width="1.8"/>`);
    parts.push(`<text x="${W - r + 8}" y="${t + 16 + 18 * k}" font-size="12" fill="${colors[name.split(' ')[0]!] ?? '#000'}">${name}</text>`);
  });
  parts.push(`<text x="${(l + W - r) / 2}" y="${H - 6}" font-size="12" text-anchor="middle">optimizee step</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/><text x="${W / 2}" y="22" font-size="14" text-anchor="middle">${title}</text>
${parts.join('\n')}
</svg>
`;
}

interface Family {
  name: string;
  optimizee: mg.Optimizee;
  sample: (rng: mg.Rng) => mg.MetaTask;
  /** tuning and held-out optimizees (default: sample with other seeds) */
  heldSample?: (rng: mg.Rng) => mg.MetaTask;
  trajectories: number;
  outerLr: number;
}

async function run(f: Family) {
  const learner = mg.lstmOptimizer(f.optimizee, { steps });
  const outer = mg.adam({ lr: f.outerLr });
  let phi = learner.init();
  const t0 = Date.now();
  const segLosses: number[] = [];
  phi = mg.trainLstmOptimizer(learner, phi, outer, outer.init(phi), f.sample, { trajectories: f.trajectories, rng: new mg.Rng(1), onSegment: (l) => segLosses.push(l) }).phi;
  const trainSeconds = (Date.now() - t0) / 1000;
  const theta0 = learner.testStart();
  const sets = (seed: number) => {
    const r = new mg.Rng(seed);
    return Array.from({ length: 8 }, () => (f.heldSample ?? f.sample)(r));
  };
  const tune = sets(1001), held = sets(2002);
  const curve = (opt: mg.Optimizer, tasks: mg.MetaTask[]) => {
    const sum = new Array<number>(steps + 1).fill(0);
    for (const task of tasks) mg.scope(() => mg.runOptimizer(opt, f.optimizee, theta0, task, steps).forEach((l, i) => (sum[i]! += l.itemSync() / tasks.length)));
    return sum;
  };
  const curves: Record<string, number[]> = { lstm: curve(mg.lstmOptimizerAsOptimizer(phi), held) };
  const tuned: Record<string, { lr: number; tuneLoss: number }> = {};
  for (const [name, make] of [['sgd', (lr: number) => mg.sgd({ lr })], ['rmsprop', (lr: number) => mg.rmsprop({ lr })], ['adam', (lr: number) => mg.adam({ lr })]] as const) {
    const scored = grid.map((lr) => ({ lr, loss: curve(make(lr), tune)[steps]! })).filter((s) => Number.isFinite(s.loss));
    const best = scored.reduce((a, b) => (b.loss < a.loss ? b : a));
    tuned[name] = { lr: best.lr, tuneLoss: best.loss };
    curves[`${name} (lr ${best.lr})`] = curve(make(best.lr), held);
  }
  const finals = Object.fromEntries(Object.entries(curves).map(([k, c]) => [k, c[steps]]));
  console.log(`${f.name}: trained ${f.trajectories} trajectories in ${trainSeconds.toFixed(0)} s; held-out loss after ${steps} steps`, finals);
  const svg = `lstm-optimizer-${f.name}.svg`;
  writeFileSync(join(root, 'bench/results', svg), curvesSvg(`LSTM optimizer vs tuned baselines: ${f.name} (held-out, mean of ${held.length} tasks)`, curves));
  mg.disposeAll([tune.map((t) => t.support), held.map((t) => t.support)]);
  return { family: f.name, trajectories: f.trajectories, truncation: 20, steps, outerLr: f.outerLr, trainSeconds, metaLossBySegment: segLosses, tuned, finalLoss: finals, curves, svg };
}

async function main() {
  const backend = mg.currentBackend().name;
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const quad: Family = {
    name: 'quadratic', optimizee: mg.quadraticOptimizee({ count: 32 }), sample: (r) => new mg.QuadraticTasks({ count: 32 }).sample(r),
    trajectories: Number(process.env['BENCH_QUAD_TRAJ'] ?? 300), outerLr: 0.003,
  };
  const data = await mg.loadOmniglot({});
  const trainEp = new mg.EpisodeSampler(data.characters('vinyals-train'), { ways: 5, shots: 10, queries: 10 });
  const testEp = new mg.EpisodeSampler(data.characters('vinyals-test'), { ways: 5, shots: 10, queries: 10 });
  // the curve is the training (support) loss, as in the paper's figures
  const asTraining = (t: mg.MetaTask): mg.MetaTask => ({ support: t.support, query: t.support });
  const mlp: Family = {
    name: 'mlp', optimizee: mg.mlpOptimizee({ inputs: 784, classes: 5, hidden: 20 }),
    sample: (r) => { const t = trainEp.episode(r); mg.disposeAll(t.query); return asTraining(t); },
    heldSample: (r) => { const t = testEp.episode(r); mg.disposeAll(t.query); return asTraining(t); },
    trajectories: Number(process.env['BENCH_MLP_TRAJ'] ?? 60), outerLr: 0.003,
  };
  const results = [await run(quad), await run(mlp)];
  const out = {
    command: `METAGRAD_DATA=${process.env['METAGRAD_DATA'] ?? ''} BENCH_QUAD_TRAJ=${quad.trajectories} BENCH_MLP_TRAJ=${mlp.trajectories} npm run bench:lstm-optimizer`, backend, date: new Date().toISOString(),
    note: 'loss = mean over the task (quadratic: mean of 32 functions ‖Wθ−y‖²; MLP 784-20-5 sigmoid, cross-entropy on 50 Omniglot images of 5 classes); baselines tuned over ' + JSON.stringify(grid),
    results,
  };
  writeFileSync(join(root, 'bench/results/lstm-optimizer.json'), JSON.stringify(out, null, 1) + '\n');
}

await main();
