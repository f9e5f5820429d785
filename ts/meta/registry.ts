// The learner registry: one entry per learner, declared in the learner's own file and
// listed once in learners.ts. An entry says everything a training run needs to know about
// its learner — name, family, options with defaults, ranges and help, how it is built from
// a model, its outer optimizer, what its checkpoint holds — so the CLI's flags, --help,
// config.json, eval and --resume are generated from the entries and name no learner.

import { ValueError } from '../core/errors.js';
import { NamedRegistry } from '../core/named-registry.js';
import type { OptionSpec, OptionSpecs, ResolvedOptions } from '../core/options.js';
import type { TaskInfo } from '../data/registry.js';
import type { Model } from '../nn/model.js';
import { adam } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { MetaLearner } from './types.js';

export type { OptionValue, OptionSpec, ResolvedOptions } from '../core/options.js';

export interface BuildContext {
  /** the common options (COMMON_OPTIONS), the task source's and the learner's own, resolved */
  options: ResolvedOptions;
  /** what the task source offers: its kind, ways, input shape and backbone */
  task: TaskInfo;
}

export type LearnerFamily = 'gradient-based' | 'metric-based' | 'model-based' | 'learned-optimizer';

export interface LearnerEntry {
  /** CLI name, e.g. 'protonet' */
  name: string;
  family: LearnerFamily;
  /** one line in --help (paper, year) */
  summary: string;
  /** task sources it trains on, e.g. ['omniglot'] */
  tasks: readonly string[];
  /** its own options: camelCase key -> --kebab-case flag */
  options: Record<string, OptionSpec>;
  /** its defaults for common options (e.g. protonet: metaBatch 1, queries 5) */
  overrides?: Record<string, OptionSpec['default']>;
  /** the model it trains (default: the task's backbone) */
  model?(ctx: BuildContext): Model;
  build(model: Model, ctx: BuildContext): MetaLearner<any>;
  /** the outer optimizer (default Adam with lr = metaLr) */
  outerOptimizer?(ctx: BuildContext): Optimizer;
  /** what the checkpoint holds, one line (e.g. 'meta: θ and α; opt: Adam moments') */
  checkpoint: string;
  /** its settings for the run's first line, e.g. '5 inner step(s) α=0.4' */
  describe?(options: ResolvedOptions): string;
}

/** The options every learner has (a learner changes their defaults with `overrides`). */
export const COMMON_OPTIONS: OptionSpecs = {
  ways: { kind: 'int', default: 5, min: 2, help: 'classes per episode (classification tasks)' },
  shots: { kind: 'int', default: { sinusoid: 10, default: 1 }, min: 1, help: 'support examples per class, or support points (regression)' },
  queries: { kind: 'int', default: { sinusoid: 10, default: 15 }, min: 1, help: 'query examples per class, or query points (regression)' },
  trainWays: { kind: 'int', default: (o) => o['ways'], min: 2, help: 'classes per training episode (default --ways; ProtoNets trains 60-way and tests 5- or 20-way). A classifier head gets max(ways, train-ways) outputs' },
  trainQueries: { kind: 'int', default: (o) => o['queries'], min: 1, help: 'query examples per class (or points) in training episodes (default --queries)' },
  metaBatch: { kind: 'int', default: { sinusoid: 10, 'mini-imagenet': 4, default: 32 }, min: 1, help: 'tasks per meta-update (MAML: 32 on Omniglot, 4 on mini-ImageNet)' },
  iterations: { kind: 'int', default: { sinusoid: 2000, default: 300 }, min: 1, help: 'meta-updates' },
  metaLr: { kind: 'num', default: 0.001, above: 0, help: 'outer learning rate' },
  seed: { kind: 'int', default: 0, min: 0, help: 'random seed' },
  hidden: { kind: 'int', default: { 'mini-imagenet': 32, default: 64 }, min: 1, help: 'Conv-4 channels (MAML: 64 on Omniglot, 32 on mini-ImageNet)' },
  imageSize: { kind: 'int', default: { 'mini-imagenet': 84, default: 28 }, min: 16, help: 'image side in pixels (Omniglot 28, mini-ImageNet 84)' },
};

const entries = new NamedRegistry<LearnerEntry>('registerLearner', 'learner', 'learner');

/** Add a learner; its option keys must not collide with the common options. */
export function registerLearner(entry: LearnerEntry): void {
  entries.add(entry, (e) => {
    for (const key of Object.keys(e.options)) {
      if (key in COMMON_OPTIONS) throw new ValueError(`registerLearner: ${e.name}'s option '${key}' is a common option; change its default with overrides instead`);
    }
    for (const key of Object.keys(e.overrides ?? {})) {
      if (!(key in COMMON_OPTIONS)) throw new ValueError(`registerLearner: ${e.name} overrides '${key}', which is not a common option (${Object.keys(COMMON_OPTIONS).join(', ')})`);
    }
    if (e.tasks.length === 0) throw new ValueError(`registerLearner: ${e.name} names no task source it trains on`);
  });
}

/** The entry of a registered learner, or a ValueError naming the valid learners. */
export function learnerEntry(name: string): LearnerEntry {
  return lookupLearner(name, 'learnerEntry');
}

/** @internal learnerEntry with the caller named in the error (the CLI: 'train', 'config.json'). */
export function lookupLearner(name: string, who: string): LearnerEntry {
  return entries.get(name, who);
}

/** Every registered learner, in registration order. */
export function learnerEntries(): readonly LearnerEntry[] {
  return entries.all();
}

/** Remove a learner (tests that register throwaway learners clean up with this). */
export function unregisterLearner(name: string): void {
  entries.delete(name);
}

/** The common options with the learner's defaults, then the learner's own. */
export function learnerOptions(entry: LearnerEntry): Record<string, OptionSpec> {
  const common: Record<string, OptionSpec> = {};
  for (const [key, spec] of Object.entries(COMMON_OPTIONS)) {
    common[key] = entry.overrides && key in entry.overrides ? { ...spec, default: entry.overrides[key] } : spec;
  }
  return { ...common, ...entry.options };
}

/** The model a learner trains on a task (its own, or the task's backbone). */
export function entryModel(entry: LearnerEntry, ctx: BuildContext): Model {
  return entry.model ? entry.model(ctx) : ctx.task.backbone({});
}

/** The outer optimizer of a learner (Adam with lr = metaLr unless the entry says otherwise). */
export function entryOptimizer(entry: LearnerEntry, ctx: BuildContext): Optimizer {
  return entry.outerOptimizer ? entry.outerOptimizer(ctx) : adam({ lr: ctx.options['metaLr'] as number });
}
