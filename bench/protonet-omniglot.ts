// The Prototypical-networks reproduction on Omniglot (Snell et al. 2017, section 3.1):
// Conv-4 (64 channels) trained on the Vinyals trainval classes (1200 characters × 4 rotations)
// with 60-way 1-shot episodes of 5 queries per class, Adam lr 1e-3 halved every 2000 episodes;
// then 600 test tasks from the 423 test characters (× 4 rotations; 15 queries per class
// for 5-way, 5 for 20-way to keep the evaluation inside the budget of a shared 2-core machine),
// 5-way 1-shot and 20-way 1-shot, mean accuracy and 95% CI, beside the paper's 98.8 / 96.0.
// Trains for a wall-clock budget (the paper trains far longer) and records everything in
// bench/results/protonet-omniglot/: result.json, README.md, the loss curve and the weights.
//
// usage: node build/bench/protonet-omniglot.js [--minutes M] [--episodes E] [--backend native] [--test-tasks 600]

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../ts/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const minutes = Number(arg('minutes', '40'));
const maxEpisodes = Number(arg('episodes', '1000000'));
const backendName = arg('backend', 'native');
const testTasks = Number(arg('test-tasks', '600'));
const outDir = join(root, 'bench', 'results', 'protonet-omniglot');
const command = `node build/bench/protonet-omniglot.js ${process.argv.slice(2).join(' ')}`.trim();

await mg.initBackend(backendName);
mg.setBackend(backendName);
const backend = mg.getBackend(backendName);
const data = await mg.loadOmniglot({});
const train = new mg.EpisodeSampler(data.characters('vinyals-trainval'), { ways: 60, shots: 1, queries: 5 });
const model = mg.conv4({ imageSize: 28, outputs: 60, hidden: 64 });
const learner = mg.protonet(model);
const opt = mg.adam({ lr: mg.schedules.step(1e-3, 2000, 0.5) });
let meta = learner.init(model.init(new mg.Rng(0), { backend }));
let state = opt.init(meta);
const rng = new mg.Rng(1);
const loadAtStart = loadavg()[0]!;
const started = Date.now();
const deadline = started + minutes * 60_000;
const curve: { episode: number; seconds: number; loss: number; accuracy: number }[] = [];
let episodes = 0, lossSum = 0, accSum = 0;
while (episodes < maxEpisodes && Date.now() < deadline) {
  const task = train.episode(rng, { backend });
  const r = mg.metaStep(learner, meta, opt, state, [task]);
  lossSum += await r.loss.item();
  accSum += await r.accuracy!.item();
  mg.disposeAll([task, r.loss, r.accuracy]);
  meta = r.meta;
  state = r.optState;
  episodes++;
  if (episodes % 100 === 0) {
    const seconds = (Date.now() - started) / 1000;
    curve.push({ episode: episodes, seconds, loss: lossSum / 100, accuracy: accSum / 100 });
    console.log(`episode ${episodes}  ${seconds.toFixed(0)} s  train loss ${(lossSum / 100).toFixed(4)}  train acc (60-way) ${(100 * accSum / 100).toFixed(2)}%`);
    lossSum = accSum = 0;
  }
}
const trainSeconds = (Date.now() - started) / 1000;
mkdirSync(outDir, { recursive: true });
await mg.saveSafetensors(join(outDir, 'protonet-omniglot.safetensors'), meta, { learner: 'protonet', episodes: String(episodes) });

const results: Record<string, { mean: number; ci95: number; tasks: number }> = {};
for (const ways of [5, 20]) {
  const test = new mg.EpisodeSampler(data.characters('vinyals-test'), { ways, shots: 1, queries: ways === 5 ? 15 : 5 });
  const evalRng = new mg.Rng(2024 + ways);
  const scores: number[] = [];
  for (let i = 0; i < testTasks; i++) {
    const task = test.episode(evalRng, { backend });
    const s = learner.scoreTask(meta, task);
    scores.push(await s.accuracy.item());
    mg.disposeAll([task, s]);
  }
  const { mean, ci95 } = mg.meanCi95(scores);
  results[`${ways}-way 1-shot`] = { mean, ci95, tasks: testTasks };
  console.log(`${ways}-way 1-shot: ${(100 * mean).toFixed(2)}% ± ${(100 * ci95).toFixed(2)}% over ${testTasks} test tasks`);
}
const totalSeconds = (Date.now() - started) / 1000;
const paper = { '5-way 1-shot': 0.988, '20-way 1-shot': 0.96 };
const record = {
  command, date: new Date().toISOString(), node: process.version, backend: backendName, cpus: cpus().length, loadAverage: { start: loadAtStart, end: loadavg()[0] },
  protocol: 'Vinyals split: train on trainval (4800 classes with rotations), 60-way 1-shot, 5 queries/class, Adam 1e-3 halved every 2000 episodes; Conv-4 ×64 with max-pooling (transductive batch norm); test 5-way 1-shot with 15 queries/class and 20-way 1-shot with 5 queries/class',
  episodes, trainSeconds, totalSeconds, results, paper, curve,
};
writeFileSync(join(outDir, 'result.json'), JSON.stringify(record, null, 2) + '\n');
const pct = (x: number) => (100 * x).toFixed(1);
writeFileSync(join(outDir, 'README.md'), `# Prototypical networks on Omniglot (Vinyals split)

Command (${record.date}, Node ${process.version}, backend ${backendName}, ${record.cpus} CPU cores shared with other jobs (load average ${loadAtStart.toFixed(1)} at the start, ${record.loadAverage.end!.toFixed(1)} at the end), under \`nice\`):

    ${command}

${record.protocol}.

Trained ${episodes} episodes in ${(trainSeconds / 60).toFixed(1)} minutes (the paper trains until validation accuracy stops improving, far longer); whole run ${(totalSeconds / 60).toFixed(1)} minutes.

| test (${testTasks} tasks, 95% CI) | metagrad | paper (Snell et al. 2017, table 1) |
|---|---|---|
| 5-way 1-shot | ${pct(results['5-way 1-shot']!.mean)} ± ${pct(results['5-way 1-shot']!.ci95)}% | 98.8% |
| 20-way 1-shot | ${pct(results['20-way 1-shot']!.mean)} ± ${pct(results['20-way 1-shot']!.ci95)}% | 96.0% |

Loss curve and per-100-episode training accuracy: result.json. Weights: protonet-omniglot.safetensors (meta-parameters, treeFlatten names).
`);
mg.shutdownBackends();
