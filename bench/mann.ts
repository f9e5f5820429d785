// bench: MANN (Santoro et al. 2016) accuracy by instance number, beside the paper's Table 1.
// The paper's configuration: LSTM controller of 200 units, memory 128 × 40, 4 read heads,
// γ = 0.95, episodes of 5 classes × 10 instances of 20×20 Omniglot images, labels one step late,
// trained on ~10^5 episodes. Here: the same model, Adam (lr 1e-3 by default), meta-batches of 16
// episodes, for a wall-clock budget on this machine's CPU; held-out = the Vinyals test
// characters (rotations included), 200 episodes. No translation augmentation (the paper's).
// Writes bench/results/mann.json and bench/results/mann.md.
// Env: BENCH_MANN_MINUTES (default 10), BENCH_MANN_LR, BENCH_MANN_BATCH, BENCH_MANN_READ_BEFORE_WRITE=1 (read the
// memory before the step's write instead of after it, the paper's equations), BENCH_MANN_HALVE_EVERY=N (halve the
// learning rate every N updates), BENCH_MANN_OUT=name (results in bench/results/<name>.json and .md; default mann);
// Omniglot from METAGRAD_DATA (e.g. ../shared/data). Every 500 updates the held-out accuracy by instance is logged.

import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../ts/index.js';
import { sequenceStep } from './sequence-step.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Santoro et al. 2016, Table 1, 5 classes (one-hot labels): accuracy at instances 1, 2, 3, 4, 5, 10.
const paper = {
  'MANN (LRUA)': [36.4, 82.8, 91.0, 92.6, 94.9, 98.1],
  LSTM: [24.4, 49.5, 55.3, 61.0, 63.6, 62.5],
  Human: [34.5, 57.3, 70.1, 71.8, 81.4, 92.4],
};
const columns = [1, 2, 3, 4, 5, 10];

const minutes = Number(process.env['BENCH_MANN_MINUTES'] ?? 10);
const lr = Number(process.env['BENCH_MANN_LR'] ?? 1e-3);
const batch = Number(process.env['BENCH_MANN_BATCH'] ?? 16);
const halveEvery = Number(process.env['BENCH_MANN_HALVE_EVERY'] ?? 0);
const outName = process.env['BENCH_MANN_OUT'] ?? 'mann';
const data = await mg.loadOmniglot({});
const o = { classes: 5, instances: 10, imageSize: 20 };
const train = new mg.LabelSequenceSampler(data.characters('vinyals-train'), o);
const held = new mg.LabelSequenceSampler(data.characters('vinyals-test'), o);
const readBeforeWrite = process.env['BENCH_MANN_READ_BEFORE_WRITE'] === '1';
const net = mg.mann({ inputSize: 400, readBeforeWrite });
let p = net.init(new mg.Rng(0));
const opt = mg.adam({ lr: halveEvery > 0 ? mg.schedules.step(lr, halveEvery, 0.5) : lr });
let st = opt.init(p);
const rng = new mg.Rng(1);
const t0 = Date.now();
let iters = 0;
const log: { episodes: number; loss: number; seconds: number; heldOut?: number[] }[] = [];
// Accuracy (%) by instance 1..10 on `episodes` held-out episodes of the Vinyals test characters.
async function heldOutByInstance(episodes: number, seed: number): Promise<number[]> {
  const hit = new Array<number>(10).fill(0), total = new Array<number>(10).fill(0);
  const er = new mg.Rng(seed);
  for (let k = 0; k < episodes / 20; k++) {
    const s = held.sample(er, 20);
    const { correct } = mg.noGrad(() => net.loss(p, s.x, s.y));
    const by = await mg.accuracyByInstance(correct, s.instance, 10);
    by.correct.forEach((c, i) => { hit[i]! += c; total[i]! += by.total[i]!; });
    mg.disposeAll([s.x, s.y, correct]);
  }
  return hit.map((h, i) => (100 * h) / total[i]!);
}
while ((Date.now() - t0) / 60000 < minutes) {
  const s = train.sample(rng, batch);
  const r = sequenceStep(net, opt, p, st, s);
  p = r.p;
  st = r.st;
  iters++;
  if (iters % 25 === 0) {
    log.push({ episodes: iters * batch, loss: r.loss.itemSync(), seconds: (Date.now() - t0) / 1000 });
    if (iters % 500 === 0) log[log.length - 1]!.heldOut = await heldOutByInstance(60, 8);
    const h = log[log.length - 1]!.heldOut;
    console.log(`${iters * batch} episodes, loss ${log[log.length - 1]!.loss.toFixed(3)}, ${((Date.now() - t0) / 1000).toFixed(0)} s${h ? `; held-out (60 episodes) by instance ${h.map((a) => a.toFixed(0)).join(' ')}` : ''}`);
  }
  r.loss.dispose();
}
const seconds = (Date.now() - t0) / 1000;
const byInstance = await heldOutByInstance(200, 9);
const ours = columns.map((c) => byInstance[c - 1]!);
const result = {
  command: `METAGRAD_DATA=${process.env['METAGRAD_DATA'] ?? ''} BENCH_MANN_MINUTES=${minutes} BENCH_MANN_LR=${lr} BENCH_MANN_BATCH=${batch}${halveEvery > 0 ? ` BENCH_MANN_HALVE_EVERY=${halveEvery}` : ''}${outName !== 'mann' ? ` BENCH_MANN_OUT=${outName}` : ''}${readBeforeWrite ? ' BENCH_MANN_READ_BEFORE_WRITE=1' : ''} npm run bench:mann`, backend: mg.currentBackend().name, date: new Date().toISOString(),
  config: { ...net.options, episode: o, optimizer: `adam lr ${lr}${halveEvery > 0 ? `, halved every ${halveEvery} updates` : ''}`, batch, trainingEpisodes: iters * batch, seconds, heldOutEpisodes: 200 },
  instances: columns, accuracy: ours, paper, log,
};
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, `bench/results/${outName}.json`), JSON.stringify(result, null, 1) + '\n');
const row = (name: string, v: number[]) => `| ${name} | ${v.map((x) => x.toFixed(1) + '%').join(' | ')} |`;
const md = `# MANN accuracy by instance (5 classes, one-hot labels)

\`${result.command}\` on ${result.backend}, ${result.date}. Ours: ${iters * batch} training episodes
(${(seconds / 60).toFixed(1)} min on this CPU, Adam lr ${lr}, batches of ${batch}); the paper trained for about 100,000.
Held-out: 200 episodes of Vinyals test characters. Reads: the memory ${readBeforeWrite ? 'before the step\'s write (M_{t−1})' : 'after the step\'s write (M_t, the paper\'s equations)'}.

| | ${columns.map((c) => ['1st', '2nd', '3rd', '4th', '5th', '10th'][columns.indexOf(c)]).join(' | ')} |
|---|${columns.map(() => '---').join('|')}|
${row(`metagrad MANN (LRUA), ${iters * batch} episodes`, ours)}
${Object.entries(paper).map(([k, v]) => row(`paper: ${k}`, v)).join('\n')}
`;
writeFileSync(join(root, `bench/results/${outName}.md`), md);
console.log(md);
