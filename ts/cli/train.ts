// `metagrad train`: the meta-training loop with a progress bar, periodic validation,
// checkpoints (resumable), a learning-curve SVG and a final meta-test result line.

import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { disposeAll } from '../tensor/scope.js';
import { Rng } from '../ops/rng.js';
import type { ParamTree } from '../tensor/tree.js';
import { adam, sgd, type Optimizer } from '../optim/index.js';
import { evaluate, metaStep, type EvaluateResult, type MetaLearner } from '../meta/index.js';
import { type TrainConfig } from './args.js';
import { CliError } from '../core/errors.js';
import { loadInto, readRunState, saveRun, saveTree, type History, type RunState } from './ckpt.js';
import { learningCurveSvg, smooth } from './svg.js';
import { makeLearner, taskSource, type TaskSource } from './sources.js';

export function fmtResult(r: EvaluateResult): string {
  return r.metric === 'accuracy' ? `${(100 * r.mean).toFixed(2)}% ± ${(100 * r.ci95).toFixed(2)}%` : `${r.mean.toFixed(3)} ± ${r.ci95.toFixed(3)}`;
}

function makeOptimizer(cfg: TrainConfig): Optimizer {
  // Reptile's outer step is an interpolation θ ← θ + ε(φ̄ − θ): SGD on θ − φ̄ with ε annealed linearly to 0 (as in the paper).
  if (cfg.algo === 'reptile') return sgd({ lr: (s) => cfg.metaLr * Math.max(0, 1 - s / cfg.iterations) });
  return adam({ lr: cfg.metaLr });
}

/** Per-iteration generator: the tasks of iteration i depend only on (seed, i), so a resumed run sees the same tasks. */
const iterRng = (seed: number, i: number) => new Rng([seed, i + 1]);
const VAL_SEED = 1_000_003, TEST_SEED = 2_000_003;

interface LoopResult {
  meta: ParamTree;
  optState: ParamTree;
}

async function loop(label: string, cfg: TrainConfig, src: TaskSource, learner: MetaLearner<any>, optimizer: Optimizer, start: LoopResult & { iteration: number; history: History }, save: ((s: RunState, trees: LoopResult) => Promise<void>) | null): Promise<LoopResult> {
  let { meta, optState } = start;
  const history = start.history;
  const metric = src.kind === 'classification' ? 'acc' : 'mse';
  const bar = new cliProgress.SingleBar({
    format: `${label.padEnd(10)} {bar} {value}/{total} | loss {loss} ${src.kind === 'classification' ? '| acc {acc} ' : ''}| val ${metric} {val} | {eta_formatted}`,
    barsize: 24, hideCursor: true, noTTYOutput: true, notTTYSchedule: 10000, etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  const last = history.val[history.val.length - 1];
  bar.start(cfg.iterations, start.iteration, { loss: '-', acc: '-', val: last ? last[1].toFixed(3) : '-' });
  for (let it = start.iteration; it < cfg.iterations; it++) {
    learner.setIteration?.(it);
    const rng = iterRng(cfg.seed, it);
    const tasks = Array.from({ length: cfg.metaBatch }, () => src.train(rng));
    const r = metaStep(learner, meta, optimizer, optState, tasks);
    disposeAll(tasks);
    meta = r.meta;
    optState = r.optState;
    const loss = await r.loss.item();
    const acc = r.accuracy ? await r.accuracy.item() : null;
    r.loss.dispose();
    r.accuracy?.dispose();
    if (!Number.isFinite(loss)) {
      bar.stop();
      throw new CliError(`${label}: the meta-loss became ${loss} at iteration ${it + 1}; lower --meta-lr or --inner-lr`);
    }
    history.train.push([it + 1, loss, acc]);
    const payload: Record<string, string> = { loss: loss.toFixed(4), acc: acc === null ? '-' : acc.toFixed(3) };
    const done = it + 1;
    if (done % cfg.valEvery === 0 || done === cfg.iterations) {
      const v = await evaluate(src.model, learner, meta, src.val, { tasks: cfg.valTasks, rng: VAL_SEED });
      history.val.push([done, v.mean, v.ci95]);
      payload['val'] = v.mean.toFixed(3);
    }
    bar.update(done, payload);
    // Let the bar's redraw timer run: on synchronous backends every await above resolves at once.
    await new Promise((resolve) => setImmediate(resolve));
    if (save && (done % cfg.checkpointEvery === 0 || done === cfg.iterations)) {
      await save({ version: 1, config: cfg, iteration: done, history }, { meta, optState });
    }
  }
  bar.stop();
  return { meta, optState };
}

function curve(cfg: TrainConfig, h: History, kind: TaskSource['kind']): string {
  const panels = [
    { name: 'meta-training: post-adaptation query loss (smoothed)', points: smooth(h.train.map(([i, l]) => [i, l] as [number, number])), color: '#1f77b4' },
    { name: kind === 'classification' ? 'validation accuracy (held-out classes)' : 'validation post-adaptation MSE', points: h.val.map(([i, v]) => [i, v] as [number, number]), color: '#d62728' },
  ];
  if (kind === 'classification') panels.splice(1, 0, { name: 'meta-training query accuracy (smoothed)', points: smooth(h.train.map(([i, , a]) => [i, a ?? NaN] as [number, number])), color: '#2ca02c' });
  return learningCurveSvg(`metagrad ${cfg.algo} · ${cfg.task}`, panels);
}

export async function train(cfg: TrainConfig, resume: boolean): Promise<void> {
  const src = await taskSource(cfg);
  const learner = makeLearner(cfg, src.model);
  const optimizer = makeOptimizer(cfg);
  const fresh = () => {
    const meta = learner.init(src.model.init(new Rng(cfg.seed)));
    return { meta, optState: optimizer.init(meta) };
  };
  let start = { ...fresh(), iteration: 0, history: { train: [], val: [] } as History };
  if (resume) {
    const saved = await readRunState(cfg.out);
    const c = saved.config;
    if (c.algo !== cfg.algo || c.task !== cfg.task) throw new CliError(`--resume: ${cfg.out} holds a ${c.algo} run on ${c.task}, not ${cfg.algo} on ${cfg.task}`);
    // Flags given now may extend the run (more --iterations); everything else comes from the saved config.
    cfg = { ...c, iterations: Math.max(cfg.iterations, c.iterations), backend: cfg.backend };
    const trees = await loadInto(join(cfg.out, 'checkpoint.safetensors'), { meta: start.meta, opt: start.optState });
    start = { meta: trees.meta, optState: trees.opt, iteration: saved.iteration, history: saved.history };
    console.log(`resuming ${cfg.out} at iteration ${saved.iteration} of ${cfg.iterations}`);
  }
  console.log(`metagrad: ${cfg.algo} on ${src.describe}; ${cfg.innerSteps} inner step(s) α=${cfg.innerLr}, meta-batch ${cfg.metaBatch}, ${cfg.iterations} iterations, outer ${cfg.algo === 'reptile' ? 'SGD' : 'Adam'} lr ${cfg.metaLr}`);
  const t0 = Date.now();
  const save = async (state: RunState, trees: LoopResult) => saveRun(cfg.out, state, { meta: trees.meta, opt: trees.optState }, curve(cfg, state.history, src.kind));
  const done = await loop(cfg.algo, cfg, src, learner, optimizer, start, save);
  const secs = (Date.now() - t0) / 1000;

  const test = await evaluate(src.model, learner, done.meta, src.test, { tasks: cfg.evalTasks, rng: TEST_SEED });
  const result: Record<string, unknown> = { metric: test.metric, mean: test.mean, ci95: test.ci95, tasks: test.tasks, trainSeconds: secs };
  let line = `result: ${cfg.algo} ${src.kind === 'classification' ? `${cfg.ways}-way ${cfg.shots}-shot Omniglot test accuracy` : `sinusoid K=${cfg.shots} post-adaptation MSE (${cfg.testSteps} step${cfg.testSteps > 1 ? 's' : ''})`} ${fmtResult(test)} over ${test.tasks} tasks`;

  if (cfg.baseline) {
    // The MAML paper's comparison: pretrain one model on all tasks jointly, fine-tune with the same inner steps.
    const base = makeLearner(cfg, src.model, 'baseline');
    const bOpt = adam({ lr: cfg.metaLr === 1 ? 0.001 : cfg.metaLr });
    const m0 = base.init(src.model.init(new Rng(cfg.seed)));
    const b = await loop('pretrained', cfg, src, base, bOpt, { meta: m0, optState: bOpt.init(m0), iteration: 0, history: { train: [], val: [] } }, null);
    await saveTree(join(cfg.out, 'baseline.safetensors'), b.meta);
    const bt = await evaluate(src.model, base, b.meta, src.test, { tasks: cfg.evalTasks, rng: TEST_SEED });
    result['baseline'] = { mean: bt.mean, ci95: bt.ci95 };
    line += `; pretrained baseline ${fmtResult(bt)} (${bt.mean > test.mean ? `${cfg.algo} better by ${(bt.mean / test.mean).toFixed(1)}×` : `baseline better`})`;
  }
  const state = await readRunState(cfg.out);
  await saveRun(cfg.out, { ...state, result }, { meta: done.meta, opt: done.optState }, curve(cfg, state.history, src.kind));
  console.log(`checkpoint, config and learning curve: ${cfg.out}/{checkpoint.safetensors,config.json,curve.svg} (${secs.toFixed(0)} s of meta-training)`);
  console.log(line);
}

/** `metagrad eval --checkpoint DIR`: rebuild the run's model and learner, load its meta-parameters, meta-test. */
export async function evalRun(dir: string, opts: { tasks?: number; split?: string; data?: string; seed?: number; testSteps?: number }): Promise<void> {
  const saved = await readRunState(dir);
  const cfg: TrainConfig = { ...saved.config, out: dir, data: opts.data ?? saved.config.data, testSteps: opts.testSteps ?? saved.config.testSteps };
  const src = await taskSource(cfg);
  const learner = makeLearner(cfg, src.model);
  const like = learner.init(src.model.init(new Rng(cfg.seed)));
  const meta = (await loadInto(join(dir, 'checkpoint.safetensors'), { meta: like, opt: makeOptimizer(cfg).init(like) })).meta;
  const split = opts.split ?? 'test';
  const n = opts.tasks ?? 600;
  const r = await evaluate(src.model, learner, meta, split === 'val' ? src.val : src.test, { tasks: n, rng: opts.seed ?? TEST_SEED });
  let line = `result: ${cfg.algo} (${saved.iteration} iterations) on ${src.describe}, ${split} split: ${r.metric === 'accuracy' ? 'accuracy' : `post-adaptation MSE (${cfg.testSteps} step${cfg.testSteps > 1 ? "s" : ""})`} ${fmtResult(r)} over ${r.tasks} tasks`;
  if (cfg.task === 'sinusoid' && (await import('node:fs')).existsSync(join(dir, 'baseline.safetensors'))) {
    const base = makeLearner(cfg, src.model, 'baseline');
    const bmeta = await loadInto(join(dir, 'baseline.safetensors'), src.model.init(new Rng(cfg.seed)));
    const b = await evaluate(src.model, base, bmeta, src.test, { tasks: n, rng: opts.seed ?? TEST_SEED });
    line += `; pretrained baseline ${fmtResult(b)}`;
  }
  console.log(line);
}
