// bench: a controlled check that the MANN (Santoro et al. 2016) learns to use its memory, on a
// synthetic task where it must: each of C classes is ONE random binary pattern (P = 20 bits) per
// episode, shown M times in random order with its label one step late, so instances 2..M are
// exact repeats and only a binding of pattern → label, kept across steps, beats the label-frequency
// strategies (the best first-instance guess is an unused label: (1/C + ... + 1/1)/C).
// It trains the MANN (or, LSTM=1, a plain LSTM with the same controller and no memory) with Adam
// on batches of 16 episodes and prints held-out accuracy by instance every 50 iterations; at the
// end the MANN is scored again with its read vector removed (zero rows of the controller's input
// weights and of the output layer for r), which shows what the memory contributes.
// Env: C (5), M (4), H (controller units, 64), N (slots, 32), W (width, 16), R (read heads, 1),
// ITERS (300), LR (3e-3), LSTM=1, BEFORE=1 (readBeforeWrite). Appends its run to bench/results/mann-synthetic.json.
// The runs recorded in bench/results/mann.md were made with this program (node build/bench/mann-synthetic.js).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../ts/index.js';
import { sequenceStep } from './sequence-step.js';
import type { ParamTree, Tensor } from '../ts/index.js';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const P = 20, C = env('C', 5), M = env('M', 4), T = C * M;
const iters = env('ITERS', 300), batch = 16, lr = env('LR', 3e-3);
const LSTM = process.env['LSTM'] === '1';
const cfg = { inputSize: P, classes: C, controller: env('H', 64), slots: env('N', 32), width: env('W', 16), reads: env('R', 1), readBeforeWrite: process.env['BEFORE'] === '1' };

function sample(rng: mg.Rng, B: number) {
  const x = new Float32Array(B * T * P), y = new Int32Array(B * T), inst = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const pats = Array.from({ length: C }, () => Array.from({ length: P }, () => (rng.nextUniform(0, 1) < 0.5 ? 0 : 1)));
    const labels = rng.choice(C, C);
    const items: number[] = [];
    for (let k = 0; k < C; k++) for (let m = 0; m < M; m++) items.push(k);
    rng.shuffle(items);
    const seen = new Array<number>(C).fill(0);
    items.forEach((k, t) => {
      x.set(pats[k]!, (b * T + t) * P);
      y[b * T + t] = labels[k]!;
      inst[b * T + t] = ++seen[k]!;
    });
  }
  return { x: mg.tensor(x, [B, T, P]), y: mg.tensor(y, [B, T], { dtype: 'int32' }), inst };
}

type Net = { init(rng: mg.Rng): ParamTree; loss(p: ParamTree, x: Tensor, y: Tensor): { loss: Tensor; correct: Tensor } };
type LstmNet = { c: mg.LstmParams; ow: Tensor; ob: Tensor };
const mann = mg.mann(cfg);
const net: Net = LSTM
  ? {
    init: (rng) => ({ c: mg.lstmCell.init(rng, P + C, cfg.controller), ow: rng.normal([cfg.controller, C], 0, 0.1), ob: mg.zeros([C]) }),
    loss: (q, x, y) => {
      const p = q as LstmNet, B = x.shape[0]!;
      let st = mg.lstmCell.initState(B, cfg.controller);
      const lab = mg.oneHot(y, C, 'float32');
      const outs: Tensor[] = [];
      for (let t = 0; t < T; t++) {
        const xt = mg.reshape(mg.slice(x, [0, t, 0], [B, 1, P]), [B, P]);
        const pl = t === 0 ? mg.zeros([B, C]) : mg.reshape(mg.slice(lab, [0, t - 1, 0], [B, 1, C]), [B, C]);
        st = mg.lstmCell.apply(p.c, mg.concat([xt, pl], 1), st);
        outs.push(mg.add(mg.matmul(st.h, p.ow), p.ob));
      }
      const logits = mg.stack(outs, 1);
      return { loss: mg.crossEntropy(mg.reshape(logits, [B * T, C]), mg.reshape(y, [B * T])), correct: mg.noGrad(() => mg.cast(mg.equal(mg.argmax(logits, -1), y), 'float32')) };
    },
  }
  : { init: (rng) => mann.init(rng), loss: (p, x, y) => mann.loss(p as mg.MannParams, x, y) };

let p = net.init(new mg.Rng(0));
const opt = mg.adam({ lr });
let st = opt.init(p);
const rng = new mg.Rng(1);
const t0 = Date.now();
async function byInstance(): Promise<number[]> {
  const s = sample(new mg.Rng(9), 128);
  const { correct } = mg.noGrad(() => net.loss(p, s.x, s.y));
  const by = await mg.accuracyByInstance(correct, s.inst, M);
  return by.correct.map((c, k) => (100 * c) / by.total[k]!);
}
const log: { iteration: number; loss: number; byInstance: number[]; seconds: number }[] = [];
for (let i = 0; i < iters; i++) {
  const s = sample(rng, batch);
  const r = sequenceStep(net, opt, p, st, s);
  p = r.p;
  st = r.st;
  if ((i + 1) % 50 === 0) {
    const e = { iteration: i + 1, loss: await r.loss.item(), byInstance: await byInstance(), seconds: (Date.now() - t0) / 1000 };
    log.push(e);
    console.log(`iter ${e.iteration} loss ${e.loss.toFixed(3)} by instance ${e.byInstance.map((a) => a.toFixed(1)).join(' ')} (${e.seconds.toFixed(0)} s)`);
  }
  r.loss.dispose();
}
const final = await byInstance();
let readsRemoved: number[] | null = null;
if (!LSTM) {
  const H = cfg.controller, RW = cfg.reads * cfg.width;
  const zeroRows = (w: Tensor, from: number, to: number) => {
    const d = Float32Array.from(w.dataSync() as Float32Array), cols = w.shape[1]!;
    d.fill(0, from * cols, to * cols);
    return mg.tensor(d, w.shape);
  };
  const q = p as mg.MannParams;
  p = { ...q, controller: { ...q.controller, wx: zeroRows(q.controller.wx, P + C, P + C + RW) }, out: { w: zeroRows(q.out.w, H, H + RW), b: q.out.b } };
  readsRemoved = await byInstance();
  console.log(`by instance with memory ${final.map((a) => a.toFixed(1)).join(' ')}; reads removed ${readsRemoved.map((a) => a.toFixed(1)).join(' ')}`);
}
const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results', 'mann-synthetic.json');
const runs = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown[]) : [];
runs.push({ model: LSTM ? 'lstm' : 'mann', config: { ...cfg, classes: C, instances: M, iterations: iters, batch, lr }, backend: mg.currentBackend().name, date: new Date().toISOString(), final, readsRemoved, log });
writeFileSync(file, JSON.stringify(runs, null, 1) + '\n');
