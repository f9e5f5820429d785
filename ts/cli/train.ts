// `metagrad train`: the meta-training loop with a progress bar, periodic validation,
// checkpoints (resumable, also on Ctrl-C), learning curves (SVG and PNG) and a final
// meta-test result line.
// The learner, its model, outer optimizer and task source come from the registries.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors, loadTree, saveSafetensors } from '../io/index.js';
import cliProgress from 'cli-progress';
import { CliError } from '../core/errors.js';
import { type OptionSpec, type OptionValue, defaultOf, resolveOptions } from '../core/options.js';
import { type TaskSource, taskEntry } from '../data/registry.js';
import { Rng } from '../ops/rng.js';
import type { Optimizer } from '../optim/optimizer.js';
import { evaluate, type EvaluateResult } from '../meta/evaluate.js';
import { type BuildContext, type LearnerEntry, COMMON_OPTIONS, entryModel, entryOptimizer, learnerEntry, learnerOptions, lookupLearner } from '../meta/registry.js';
import { metaStep } from '../meta/step.js';
import type { MetaLearner } from '../meta/types.js';
import type { Model } from '../nn/model.js';
import { disposeAll } from '../tensor/scope.js';
import type { ParamTree } from '../tensor/tree.js';
import { type RunConfig, asCli, runSpecs } from './args.js';
import { appendHistory, checkWritable, loadRunTrees, readHistory, readRun, saveRun, writeHistory, RUN_FORMAT, RUN_VERSION, type HistoryEvent, type RunRecord } from './run-state.js';
import { learningCurve, smooth, type Panel, type Point } from './plot/figure.js';
import { figureSvg } from './plot/svg.js';
import { figurePng } from './plot/png.js';
import { onInterrupt, type Interrupt } from './interrupt.js';

export function fmtResult(r: EvaluateResult): string {
  const value = r.metric === 'accuracy' ? `${(100 * r.mean).toFixed(2)}%` : r.mean.toFixed(3);
  // one task gives no interval (meanCi95's NaN): say so instead of printing '± NaN'
  if (r.tasks < 2) return `${value} (one task: no interval)`;
  return r.metric === 'accuracy' ? `${value} ± ${(100 * r.ci95).toFixed(2)}%` : `${value} ± ${r.ci95.toFixed(3)}`;
}

/** Per-iteration generator: the tasks of iteration i depend only on (seed, i), so a resumed run sees the same tasks. */
const iterRng = (seed: number, i: number) => new Rng([seed, i + 1]);
const VAL_SEED = 1_000_003, TEST_SEED = 2_000_003;
const MAIN = 'main', BASELINE = 'baseline';

/** Thrown out of the loop after Ctrl-C, once the current iteration is done (and saved). */
class Interrupted extends Error {}

/** Settings that may change when a run is resumed; any other difference from the saved configuration is refused. */
export const RESUMABLE_KEYS = ['iterations', 'metaLr', 'valEvery', 'valTasks', 'evalTasks', 'checkpointEvery', 'backend', 'data', 'baseline', 'resume', 'out'] as const;

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

interface LoopOptions {
  label: string;
  series: string;
  /** the run folder the history is appended to */
  out: string;
  /** the run's history so far, kept in memory for the curves (history.jsonl is only appended to) */
  history: HistoryEvent[];
  save: ((iteration: number, trees: LoopState) => Promise<void>) | null;
  interrupt: Interrupt;
  lastVal: number | undefined;
}

async function loop(b: Built, src: TaskSource, start: LoopState & { iteration: number }, o: LoopOptions): Promise<LoopState> {
  const { cfg, learner, optimizer } = b;
  const iterations = cfg['iterations'] as number, metaBatch = cfg['metaBatch'] as number, seed = cfg['seed'] as number;
  const valEvery = cfg['valEvery'] as number, checkpointEvery = cfg['checkpointEvery'] as number;
  let { meta, optState } = start;
  // the bar's short name for the validation metric (quadratics are scored by their loss, not an MSE)
  const metric = src.kind === 'classification' ? 'acc' : /MSE/.test(src.metric) ? 'mse' : 'loss';
  const bar = new cliProgress.SingleBar({
    format: `${o.label.padEnd(10)} {bar} {value}/{total} | loss {loss} ${src.kind === 'classification' ? '| acc {acc} ' : ''}| val ${metric} {val} | {eta_formatted}`,
    barsize: 24, hideCursor: true, noTTYOutput: true, notTTYSchedule: 10000, etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  bar.start(iterations, start.iteration, { loss: '-', acc: '-', val: o.lastVal !== undefined ? o.lastVal.toFixed(3) : '-' });
  try {
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
      if (!Number.isFinite(loss)) throw new CliError(`${o.label}: the meta-loss became ${loss} at iteration ${it + 1}; lower --meta-lr or the learner's step sizes`);
      const done = it + 1;
      const events: HistoryEvent[] = [{ kind: 'train', series: o.series, iteration: done, loss, accuracy: acc }];
      const payload: Record<string, string> = { loss: loss.toFixed(4), acc: acc === null ? '-' : acc.toFixed(3) };
      if (done % valEvery === 0 || done === iterations) {
        const v = await evaluate(learner, meta, src.val, { tasks: cfg['valTasks'] as number, rng: VAL_SEED });
        events.push({ kind: 'val', series: o.series, iteration: done, mean: v.mean, ci95: v.ci95 });
        payload['val'] = v.mean.toFixed(3);
      }
      appendHistory(o.out, events);
      o.history.push(...events);
      bar.update(done, payload);
      // Let the bar's redraw timer (and a Ctrl-C handler) run: on synchronous backends every await above resolves at once.
      await new Promise((resolve) => setImmediate(resolve));
      const stopping = o.interrupt.requested;
      if (o.save && (stopping || done % checkpointEvery === 0 || done === iterations)) await o.save(done, { meta, optState });
      if (stopping) throw new Interrupted(`${o.label} interrupted after iteration ${done}`);
    }
  } finally {
    bar.stop();
  }
  return { meta, optState };
}

/** Learning curves from the history: training loss (and accuracy) per series, validation per series. */
function curves(cfg: RunConfig, baseName: string | undefined, events: readonly HistoryEvent[], kind: TaskSource['kind']): { svg: string; png: Uint8Array } {
  const colors: Record<string, string> = { [MAIN]: '#1f77b4', [BASELINE]: '#ff7f0e' };
  const names: Record<string, string> = { [MAIN]: cfg.algo, [BASELINE]: `${baseName ?? 'comparison'} baseline` };
  const seriesNames = [...new Set(events.map((e) => e.series))];
  const pick = (f: (e: HistoryEvent) => Point | null, smoothed: boolean) =>
    seriesNames.map((s) => {
      const pts = events.filter((e) => e.series === s).map(f).filter((p): p is Point => p !== null);
      return { name: names[s] ?? s, color: colors[s] ?? '#2ca02c', points: smoothed ? smooth(pts) : pts };
    });
  const panels: Panel[] = [
    { title: 'meta-training: post-adaptation query loss (smoothed)', yLabel: 'loss', series: pick((e) => (e.kind === 'train' ? [e.iteration, e.loss] : null), true) },
  ];
  if (kind === 'classification') panels.push({ title: 'meta-training query accuracy (smoothed)', yLabel: 'accuracy', series: pick((e) => (e.kind === 'train' && e.accuracy !== null ? [e.iteration, e.accuracy] : null), true) });
  panels.push({ title: kind === 'classification' ? 'validation accuracy (held-out classes)' : 'validation post-adaptation MSE', yLabel: kind === 'classification' ? 'accuracy' : 'MSE', series: pick((e) => (e.kind === 'val' ? [e.iteration, e.mean] : null), false) });
  const fig = learningCurve(`metagrad ${cfg.algo} · ${cfg.task}`, panels);
  return { svg: figureSvg(fig), png: figurePng(fig) };
}

/** The saved config with the flags given now: those in RESUMABLE_KEYS apply; any other change is refused. */
function resumedConfig(saved: RunConfig, now: RunConfig, given: Readonly<Record<string, OptionValue>>, flags: Readonly<Record<string, string>>): RunConfig {
  const differs = (k: string) => JSON.stringify(now[k]) !== JSON.stringify(saved[k]);
  const refused = Object.keys(given).filter((k) => !(RESUMABLE_KEYS as readonly string[]).includes(k) && differs(k));
  if (refused.length > 0) {
    const show = (k: string) => `${flags[k] ?? k} (saved ${JSON.stringify(saved[k])}, given ${JSON.stringify(now[k])})`;
    throw new CliError(`--resume: the run in ${String(now.out)} was trained with different settings: ${refused.map(show).join(', ')}; only ${RESUMABLE_KEYS.filter((k) => k !== 'resume' && k !== 'out').join(', ')} may change on resume (drop those flags or start a new --out)`);
  }
  const cfg: RunConfig = { ...saved, out: now.out };
  for (const k of Object.keys(given)) if ((RESUMABLE_KEYS as readonly string[]).includes(k) && k in saved) cfg[k] = now[k];
  return cfg;
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
export async function train(cfgIn: RunConfig, resume: boolean, given: Readonly<Record<string, OptionValue>>, flags: Readonly<Record<string, string>> = {}): Promise<void> {
  const out = cfgIn.out as string;
  checkWritable(out);
  let cfg = cfgIn;
  let saved: RunRecord<RunConfig> | null = null;
  if (resume) {
    saved = readRun(out, validateRunConfig);
    const c = saved.config;
    if (c.algo !== cfg.algo || c.task !== cfg.task) throw new CliError(`--resume: ${out} holds a ${c.algo} run on ${c.task}, not ${cfg.algo} on ${cfg.task}`);
    cfg = resumedConfig(c, cfg, given, flags);
    if ((cfg['iterations'] as number) < saved.iteration) throw new CliError(`--resume: --iterations ${String(cfg['iterations'])} is below the ${saved.iteration} already done`);
  }
  const entry = learnerEntry(cfg.algo);
  const src = await taskEntry(cfg.task).load(cfg);
  const run = asCli(() => build(entry, cfg, src));
  let start = { ...fresh(run), iteration: 0 };
  let events: HistoryEvent[] = [];
  if (saved) {
    const trees = await loadRunTrees(out, { meta: start.meta, opt: start.optState });
    // The baseline is retrained from scratch after the main run; lines past the checkpoint are lost work.
    events = readHistory(out, saved.iteration).filter((e) => e.series === MAIN);
    writeHistory(out, events);
    start = { meta: trees.meta, optState: trees.opt, iteration: saved.iteration };
    console.log(`resuming ${out} at iteration ${saved.iteration} of ${cfg['iterations']}`);
  } else writeHistory(out, []);
  const baseEntry = src.baseline !== undefined && cfg['baseline'] !== false ? learnerEntry(src.baseline) : null;
  const baseCfg = baseEntry ? (saved?.baseline ?? baselineConfig(entry, baseEntry, cfg, saved ? {} : given)) : undefined;
  const settings = entry.describe ? `${entry.describe(cfg)}, ` : '';
  console.log(`metagrad: ${cfg.algo} on ${src.describe}; ${settings}meta-batch ${cfg['metaBatch']}, ${cfg['iterations']} iterations, outer ${run.optimizer.name ?? 'optimizer'} lr ${cfg['metaLr']}`);
  const interrupt = onInterrupt();
  const t0 = Date.now();
  const write = (iteration: number, trees: LoopState, result?: Record<string, unknown>) =>
    saveRun(out, { format: RUN_FORMAT, version: RUN_VERSION, config: cfg, ...(baseCfg ? { baseline: baseCfg } : {}), iteration, ...(result ? { result } : {}) }, { meta: trees.meta, opt: trees.optState }, curves(cfg, baseEntry?.name, events, src.kind));
  const lastVal = [...events].reverse().find((e) => e.kind === 'val');
  try {
    const done = await loop(run, src, start, { label: cfg.algo, series: MAIN, out, history: events, save: write, interrupt, lastVal: lastVal?.kind === 'val' ? lastVal.mean : undefined });
    const secs = (Date.now() - t0) / 1000;

    const evalTasks = cfg['evalTasks'] as number;
    const test = await evaluate(run.learner, done.meta, src.test, { tasks: evalTasks, rng: TEST_SEED });
    const result: Record<string, unknown> = { metric: test.metric, mean: test.mean, ci95: test.ci95, tasks: test.tasks, trainSeconds: secs };
    let line = `result: ${cfg.algo} ${src.resultLabel} ${fmtResult(test)} over ${test.tasks} tasks`;

    if (baseEntry && baseCfg) {
      // The comparison the task's papers make (MAML: pretrain one model on all tasks jointly, fine-tune with the same inner steps).
      const base = build(baseEntry, baseCfg, src);
      const b = await loop(base, src, { ...fresh(base), iteration: 0 }, { label: baseEntry.name, series: BASELINE, out, history: events, save: null, interrupt, lastVal: undefined });
      await saveSafetensors(join(out, 'baseline.safetensors'), b.meta);
      const bt = await evaluate(base.learner, b.meta, src.test, { tasks: evalTasks, rng: TEST_SEED });
      result['baseline'] = { mean: bt.mean, ci95: bt.ci95 };
      line += `; ${baseEntry.name} baseline ${fmtResult(bt)} (${bt.mean > test.mean ? `${cfg.algo} better by ${(bt.mean / test.mean).toFixed(1)}×` : `baseline better`})`;
    }
    await write(cfg['iterations'] as number, done, result);
    console.log(`checkpoint, config, history and learning curves: ${out}/{checkpoint.safetensors,config.json,history.jsonl,curve.svg,curve.png} (${secs.toFixed(0)} s of meta-training)`);
    console.log(line);
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    const at = readRun(out, validateRunConfig).iteration;
    console.log(`\ninterrupted: saved iteration ${at} of ${String(cfg['iterations'])} to ${out}`);
    console.log(`resume with: metagrad train ${cfg.algo} --task ${cfg.task} --out ${out} --resume`);
    process.exitCode = 130;
  } finally {
    interrupt.dispose();
  }
}

/** config.json's configuration, re-read against its learner's and task's specs. */
function validateRunConfig(raw: unknown): RunConfig {
  if (raw === null || typeof raw !== 'object' || typeof (raw as RunConfig).algo !== 'string' || typeof (raw as RunConfig).task !== 'string') {
    throw new CliError('config.json: the configuration must be an object naming its algo and task');
  }
  const c = raw as RunConfig;
  return { ...configFor(asCli(() => lookupLearner(c.algo, 'config.json')), c), out: c.out };
}

/**
 * A saved configuration re-read against the learner's and task's specs (so a hand-edited
 * config.json fails clearly): keys they do not have are dropped, new ones get their `absent`
 * value (what the code did before the option existed) or their defaults.
 */
function configFor(entry: LearnerEntry, saved: RunConfig, overrides: Readonly<Record<string, OptionValue>> = {}): RunConfig {
  const specs = runSpecs(entry, saved.task);
  const given: Record<string, OptionValue> = {};
  for (const [k, v] of Object.entries(saved)) if (k in specs && v !== undefined) given[k] = v;
  // an option the saved run predates takes the value that reproduces how it was trained
  for (const [k, spec] of Object.entries(specs)) if (!(k in saved) && spec.absent !== undefined) given[k] = spec.absent;
  return asCli(() => resolveOptions(`${entry.name} (config.json)`, specs, { ...given, ...overrides }, { task: saved.task, algo: entry.name })) as RunConfig;
}

/** Common options eval may change: the shape of the meta-test episodes. */
const EVAL_EPISODE_OPTIONS: Record<string, OptionSpec> = { ways: COMMON_OPTIONS['ways']!, shots: COMMON_OPTIONS['shots']!, queries: COMMON_OPTIONS['queries']! };

/** `metagrad eval --checkpoint DIR`: rebuild the run's model and learner, load its meta-parameters, meta-test. */
export async function evalRun(dir: string, opts: { tasks?: number; split?: string; seed?: number; overrides: Readonly<Record<string, OptionValue>>; flags: Readonly<Record<string, string>> }): Promise<void> {
  const saved = readRun(dir, validateRunConfig);
  const entry = asCli(() => learnerEntry(saved.config.algo));
  // the meta-test episodes may differ from the run's (ProtoNets: trained 60-way, tested 5- and 20-way)
  const own: Record<string, OptionSpec> = { ...entry.options, ...taskEntry(saved.config.task).options, ...EVAL_EPISODE_OPTIONS };
  for (const key of Object.keys(opts.overrides)) {
    if (own[key]?.structural && JSON.stringify(opts.overrides[key]) !== JSON.stringify(saved.config[key])) {
      throw new CliError(`${opts.flags[key]} cannot be changed at eval: it shapes the network ${dir} trained (saved ${JSON.stringify(saved.config[key])}, given ${JSON.stringify(opts.overrides[key])})`);
    }
    if (!(key in own)) throw new CliError(`${opts.flags[key]} cannot be changed at eval: ${dir} is a ${entry.name} run on ${saved.config.task}, whose own flags are ${Object.entries(own).map(([k]) => opts.flags[k] ?? k).join(', ') || 'none'}`);
  }
  const cfg: RunConfig = { ...configFor(entry, saved.config, opts.overrides), out: dir };
  const src = await taskEntry(cfg.task).load(cfg);
  const run = asCli(() => build(entry, cfg, src));
  const like = fresh(run);
  const meta = (await loadRunTrees(dir, { meta: like.meta, opt: like.optState })).meta;
  const split = opts.split ?? 'test';
  const n = opts.tasks ?? 600;
  const r = await evaluate(run.learner, meta, split === 'val' ? src.val : src.test, { tasks: n, rng: opts.seed ?? TEST_SEED });
  let line = `result: ${cfg.algo} (${saved.iteration} iterations) on ${src.describe}, ${split} split: ${src.metric} ${fmtResult(r)} over ${r.tasks} tasks`;
  if (src.baseline !== undefined && existsSync(join(dir, 'baseline.safetensors'))) {
    const baseEntry = learnerEntry(src.baseline);
    const base = build(baseEntry, saved.baseline ? { ...configFor(baseEntry, saved.baseline, opts.overrides), out: dir } : baselineConfig(entry, baseEntry, cfg, {}), src);
    const like0 = base.model.init(new Rng(cfg['seed'] as number));
    const bmeta = loadTree(like0, (await loadSafetensors(join(dir, 'baseline.safetensors'))).tensors);
    disposeAll(like0);
    const b = await evaluate(base.learner, bmeta, src.test, { tasks: n, rng: opts.seed ?? TEST_SEED });
    line += `; ${baseEntry.name} baseline ${fmtResult(b)}`;
  }
  console.log(line);
}
