// `metagrad train`: the meta-training loop with a progress bar, periodic validation,
// checkpoints (resumable), a learning-curve SVG and a final meta-test result line.
// The learner, its model, outer optimizer and task source come from the registries.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { CliError } from '../core/errors.js';
import { type OptionValue, defaultOf, resolveOptions } from '../core/options.js';
import { type TaskSource, taskEntry } from '../data/registry.js';
import { Rng } from '../ops/rng.js';
import type { Optimizer } from '../optim/optimizer.js';
import { evaluate, type EvaluateResult } from '../meta/evaluate.js';
import { type BuildContext, type LearnerEntry, entryModel, entryOptimizer, learnerEntry, learnerOptions } from '../meta/registry.js';
import { metaStep } from '../meta/step.js';
import type { MetaLearner } from '../meta/types.js';
import type { Model } from '../nn/model.js';
import { disposeAll } from '../tensor/scope.js';
import type { ParamTree } from '../tensor/tree.js';
import { type RunConfig, asCli, runSpecs } from './args.js';
import { loadInto, readRunState, saveRun, saveTree, type History, type RunState } from './ckpt.js';
import { learningCurveSvg, smooth } from './svg.js';

export function fmtResult(r: EvaluateResult): string {
  return r.metric === 'accuracy' ? `${(100 * r.mean).toFixed(2)}% ± ${(100 * r.ci95).toFixed(2)}%` : `${r.mean.toFixed(3)} ± ${r.ci95.toFixed(3)}`;
}

/** Per-iteration generator: the tasks of iteration i depend only on (seed, i), so a resumed run sees the same tasks. */
const iterRng = (seed: number, i: number) => new Rng([seed, i + 1]);
const VAL_SEED = 1_000_003, TEST_SEED = 2_000_003;

/** A learner built from its entry for a run's options and task source. */
interface Built {
  entry: LearnerEntry;
  cfg: RunConfig;
  model: Model;
  learner: MetaLearner<any>;
  optimizer: Optimizer;
}

function build(entry: LearnerEntry, cfg: RunConfig, src: TaskSource): Built {
  const ctx: BuildContext = { options: cfg, task: src };
  const model = entryModel(entry, ctx);
  return { entry, cfg, model, learner: entry.build(model, ctx), optimizer: entryOptimizer(entry, ctx) };
}

/** Fresh meta-parameters and optimizer state, from the run's seed. */
function fresh(b: Built): LoopState {
  const meta = b.learner.init(b.model.init(new Rng(b.cfg['seed'] as number)));
  return { meta, optState: b.optimizer.init(meta) };
}

interface LoopState {
  meta: ParamTree;
  optState: ParamTree;
}

async function loop(label: string, b: Built, src: TaskSource, start: LoopState & { iteration: number; history: History }, save: ((s: RunState, trees: LoopState) => Promise<void>) | null): Promise<LoopState> {
  const { cfg, learner, optimizer } = b;
  const iterations = cfg['iterations'] as number, metaBatch = cfg['metaBatch'] as number, seed = cfg['seed'] as number;
  const valEvery = cfg['valEvery'] as number, checkpointEvery = cfg['checkpointEvery'] as number;
  let { meta, optState } = start;
  const history = start.history;
  const metric = src.kind === 'classification' ? 'acc' : 'mse';
  const bar = new cliProgress.SingleBar({
    format: `${label.padEnd(10)} {bar} {value}/{total} | loss {loss} ${src.kind === 'classification' ? '| acc {acc} ' : ''}| val ${metric} {val} | {eta_formatted}`,
    barsize: 24, hideCursor: true, noTTYOutput: true, notTTYSchedule: 10000, etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  const last = history.val[history.val.length - 1];
  bar.start(iterations, start.iteration, { loss: '-', acc: '-', val: last ? last[1].toFixed(3) : '-' });
  for (let it = start.iteration; it < iterations; it++) {
    learner.setIteration?.(it);
    const rng = iterRng(seed, it);
    const tasks = Array.from({ length: metaBatch }, () => src.train(rng));
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
      throw new CliError(`${label}: the meta-loss became ${loss} at iteration ${it + 1}; lower --meta-lr or the learner's step sizes`);
    }
    history.train.push([it + 1, loss, acc]);
    const payload: Record<string, string> = { loss: loss.toFixed(4), acc: acc === null ? '-' : acc.toFixed(3) };
    const done = it + 1;
    if (done % valEvery === 0 || done === iterations) {
      const v = await evaluate(learner, meta, src.val, { tasks: cfg['valTasks'] as number, rng: VAL_SEED });
      history.val.push([done, v.mean, v.ci95]);
      payload['val'] = v.mean.toFixed(3);
    }
    bar.update(done, payload);
    // Let the bar's redraw timer run: on synchronous backends every await above resolves at once.
    await new Promise((resolve) => setImmediate(resolve));
    if (save && (done % checkpointEvery === 0 || done === iterations)) {
      await save({ version: 1, config: cfg, iteration: done, history }, { meta, optState });
    }
  }
  bar.stop();
  return { meta, optState };
}

function curve(cfg: RunConfig, h: History, kind: TaskSource['kind']): string {
  const panels = [
    { name: 'meta-training: post-adaptation query loss (smoothed)', points: smooth(h.train.map(([i, l]) => [i, l] as [number, number])), color: '#1f77b4' },
    { name: kind === 'classification' ? 'validation accuracy (held-out classes)' : 'validation post-adaptation MSE', points: h.val.map(([i, v]) => [i, v] as [number, number]), color: '#d62728' },
  ];
  if (kind === 'classification') panels.splice(1, 0, { name: 'meta-training query accuracy (smoothed)', points: smooth(h.train.map(([i, , a]) => [i, a ?? NaN] as [number, number])), color: '#2ca02c' });
  return learningCurveSvg(`metagrad ${cfg.algo} · ${cfg.task}`, panels);
}

/**
 * The configuration of the task source's comparison learner (sinusoid: the jointly
 * pretrained model): the run's options, except the common options the run's learner gives
 * its own defaults and the user did not set, which take the comparison learner's defaults
 * (Reptile's outer step 1 is not an Adam learning rate).
 */
export function baselineConfig(entry: LearnerEntry, base: LearnerEntry, cfg: RunConfig, given: Readonly<Record<string, OptionValue>>): RunConfig {
  const out: RunConfig = { ...cfg, algo: base.name };
  const specs = learnerOptions(base);
  for (const key of Object.keys(entry.overrides ?? {})) if (given[key] === undefined && specs[key]) out[key] = defaultOf(specs[key]!, out);
  return out;
}

/** Train a run from its configuration (or continue the one saved in cfg.out), then meta-test it and print the result line. */
export async function train(cfgIn: RunConfig, resume: boolean, given: Readonly<Record<string, OptionValue>>): Promise<void> {
  let cfg = cfgIn;
  let saved: RunState | null = null;
  if (resume) {
    saved = await readRunState(cfg.out as string);
    const c = saved.config;
    if (c.algo !== cfg.algo || c.task !== cfg.task) throw new CliError(`--resume: ${cfg.out} holds a ${c.algo} run on ${c.task}, not ${cfg.algo} on ${cfg.task}`);
    // Flags given now may extend the run (more --iterations); everything else comes from the saved config.
    cfg = { ...configFor(learnerEntry(c.algo), c), iterations: Math.max(cfg['iterations'] as number, c['iterations'] as number), backend: cfg['backend'] };
  }
  const entry = learnerEntry(cfg.algo);
  const src = await taskEntry(cfg.task).load(cfg);
  const run = build(entry, cfg, src);
  let start = { ...fresh(run), iteration: 0, history: { train: [], val: [] } as History };
  if (saved) {
    const trees = await loadInto(join(cfg.out as string, 'checkpoint.safetensors'), { meta: start.meta, opt: start.optState });
    start = { meta: trees.meta, optState: trees.opt, iteration: saved.iteration, history: saved.history };
    console.log(`resuming ${cfg.out} at iteration ${saved.iteration} of ${cfg['iterations']}`);
  }
  const baseEntry = src.baseline !== undefined ? learnerEntry(src.baseline) : null;
  const baseCfg = baseEntry ? (saved?.baseline ?? baselineConfig(entry, baseEntry, cfg, saved ? {} : given)) : undefined;
  const state = (s: RunState): RunState => (baseCfg ? { ...s, baseline: baseCfg } : s);
  const settings = entry.describe ? `${entry.describe(cfg)}, ` : '';
  console.log(`metagrad: ${cfg.algo} on ${src.describe}; ${settings}meta-batch ${cfg['metaBatch']}, ${cfg['iterations']} iterations, outer ${run.optimizer.name ?? 'optimizer'} lr ${cfg['metaLr']}`);
  const t0 = Date.now();
  const out = cfg.out as string;
  const save = async (s: RunState, trees: LoopState) => saveRun(out, state(s), { meta: trees.meta, opt: trees.optState }, curve(cfg, s.history, src.kind));
  const done = await loop(cfg.algo, run, src, start, save);
  const secs = (Date.now() - t0) / 1000;

  const evalTasks = cfg['evalTasks'] as number;
  const test = await evaluate(run.learner, done.meta, src.test, { tasks: evalTasks, rng: TEST_SEED });
  const result: Record<string, unknown> = { metric: test.metric, mean: test.mean, ci95: test.ci95, tasks: test.tasks, trainSeconds: secs };
  let line = `result: ${cfg.algo} ${src.resultLabel} ${fmtResult(test)} over ${test.tasks} tasks`;

  if (baseEntry && baseCfg) {
    // The comparison the task's papers make (MAML: pretrain one model on all tasks jointly, fine-tune with the same inner steps).
    const base = build(baseEntry, baseCfg, src);
    const b = await loop(baseEntry.name, base, src, { ...fresh(base), iteration: 0, history: { train: [], val: [] } }, null);
    await saveTree(join(out, 'baseline.safetensors'), b.meta);
    const bt = await evaluate(base.learner, b.meta, src.test, { tasks: evalTasks, rng: TEST_SEED });
    result['baseline'] = { mean: bt.mean, ci95: bt.ci95 };
    line += `; ${baseEntry.name} baseline ${fmtResult(bt)} (${bt.mean > test.mean ? `${cfg.algo} better by ${(bt.mean / test.mean).toFixed(1)}×` : `baseline better`})`;
  }
  const history = start.history;
  await saveRun(out, state({ version: 1, config: cfg, iteration: cfg['iterations'] as number, history, result }), { meta: done.meta, opt: done.optState }, curve(cfg, history, src.kind));
  console.log(`checkpoint, config and learning curve: ${out}/{checkpoint.safetensors,config.json,curve.svg} (${secs.toFixed(0)} s of meta-training)`);
  console.log(line);
}

/**
 * A saved configuration re-read against the learner's and task's specs (so a hand-edited
 * config.json fails clearly): keys they do not have are dropped, new ones get defaults.
 */
function configFor(entry: LearnerEntry, saved: RunConfig, overrides: Readonly<Record<string, OptionValue>> = {}): RunConfig {
  const specs = runSpecs(entry, saved.task);
  const given: Record<string, OptionValue> = {};
  for (const [k, v] of Object.entries(saved)) if (k in specs && v !== undefined) given[k] = v;
  return asCli(() => resolveOptions(`${entry.name} (config.json)`, specs, { ...given, ...overrides }, { task: saved.task, algo: entry.name })) as RunConfig;
}

/** `metagrad eval --checkpoint DIR`: rebuild the run's model and learner, load its meta-parameters, meta-test. */
export async function evalRun(dir: string, opts: { tasks?: number; split?: string; seed?: number; overrides: Readonly<Record<string, OptionValue>>; flags: Readonly<Record<string, string>> }): Promise<void> {
  const saved = await readRunState(dir);
  const entry = asCli(() => learnerEntry(saved.config.algo));
  const own = { ...entry.options, ...taskEntry(saved.config.task).options };
  for (const key of Object.keys(opts.overrides)) {
    if (!(key in own)) throw new CliError(`${opts.flags[key]} cannot be changed at eval: ${dir} is a ${entry.name} run on ${saved.config.task}, whose own flags are ${Object.entries(own).map(([k]) => opts.flags[k] ?? k).join(', ') || 'none'}`);
  }
  const cfg: RunConfig = { ...configFor(entry, saved.config, opts.overrides), out: dir };
  const src = await taskEntry(cfg.task).load(cfg);
  const run = build(entry, cfg, src);
  const like = fresh(run);
  const meta = (await loadInto(join(dir, 'checkpoint.safetensors'), { meta: like.meta, opt: like.optState })).meta;
  const split = opts.split ?? 'test';
  const n = opts.tasks ?? 600;
  const r = await evaluate(run.learner, meta, split === 'val' ? src.val : src.test, { tasks: n, rng: opts.seed ?? TEST_SEED });
  let line = `result: ${cfg.algo} (${saved.iteration} iterations) on ${src.describe}, ${split} split: ${src.metric} ${fmtResult(r)} over ${r.tasks} tasks`;
  if (src.baseline !== undefined && existsSync(join(dir, 'baseline.safetensors'))) {
    const baseEntry = learnerEntry(src.baseline);
    const base = build(baseEntry, saved.baseline ? { ...configFor(baseEntry, saved.baseline, opts.overrides), out: dir } : baselineConfig(entry, baseEntry, cfg, {}), src);
    const bmeta = await loadInto(join(dir, 'baseline.safetensors'), base.model.init(new Rng(cfg['seed'] as number)));
    const b = await evaluate(base.learner, bmeta, src.test, { tasks: n, rng: opts.seed ?? TEST_SEED });
    line += `; ${baseEntry.name} baseline ${fmtResult(b)}`;
  }
  console.log(line);
}
