// The task-source registry: the task distributions a training run can draw from
// (sinusoid regression, Omniglot episodes, ...), each with its own options and a loader,
// declared in the source's own file and listed once in tasks.ts. A learner may register a
// task source of its own (quadratic optimizees, pairs, ...) the same way.

import { NamedRegistry } from '../core/named-registry.js';
import type { OptionSpec, ResolvedOptions } from '../core/options.js';
import type { Model } from '../nn/model.js';
import type { BatchNormMode } from '../nn/batchnorm.js';
import type { Rng } from '../ops/rng.js';
import type { Task } from './task.js';

/** What a learner may ask of a task's backbone. */
export interface BackboneOptions {
  /** batch-norm mode (default: the backbone's, transductive for Conv-4) */
  batchNorm?: BatchNormMode;
  /** per-step batch norm: inner steps it keeps statistics for */
  maxSteps?: number;
  /** outputs of the head (default: the task's ways, or 1 for regression) */
  outputs?: number;
  /** Conv-4: blocks (from the first) that halve the resolution (default 4; Relation Networks: 2) */
  pooledBlocks?: number;
}

/** What a learner's build sees of the task source. */
export interface TaskInfo {
  name: string;
  kind: 'classification' | 'regression';
  /** classes per episode (classification) */
  ways?: number;
  /** tasks are label sequences: support = query = one episode in presentation order (omniglot-sequences) */
  sequences?: boolean;
  /** the shape of one input, e.g. [1, 28, 28] or [1] */
  inputShape: readonly number[];
  /** the network the source's papers use for it (Conv-4, the sinusoid MLP) */
  backbone(opts?: BackboneOptions): Model;
}

/** A loaded task source: task streams for meta-training, validation and meta-test. */
export interface TaskSource extends TaskInfo {
  /** one line for the run's header, e.g. 'sinusoid regression, K=10 points' */
  describe: string;
  /** the meta-test metric in words, e.g. 'accuracy' or 'post-adaptation MSE (1 step)' */
  metric: string;
  /** the final result's label, e.g. '5-way 1-shot Omniglot test accuracy' */
  resultLabel: string;
  /** the learner the source's papers compare with (sinusoid: the jointly pretrained model), when its options ask for one */
  baseline?: string;
  train(rng: Rng): Task;
  val(rng: Rng): Task;
  test(rng: Rng): Task;
}

export interface TaskEntry {
  /** CLI name, e.g. 'omniglot' */
  name: string;
  kind: TaskInfo['kind'];
  /** one line in --help */
  summary: string;
  /** its own options (camelCase key -> --kebab-case flag), beside the learner's and the common ones */
  options: Record<string, OptionSpec>;
  /** read the data (from the path the options give) and make the task streams */
  load(options: ResolvedOptions): Promise<TaskSource>;
}

const entries = new NamedRegistry<TaskEntry>('registerTask', 'task source', 'task');

export function registerTask(entry: TaskEntry): void {
  entries.add(entry);
}

/** The entry of a registered task source, or a ValueError naming the valid ones. */
export function taskEntry(name: string): TaskEntry {
  return lookupTask(name, 'taskEntry');
}

/** @internal taskEntry with the caller named in the error (the CLI: 'train', 'config.json'). */
export function lookupTask(name: string, who: string): TaskEntry {
  return entries.get(name, who);
}

export function taskEntries(): readonly TaskEntry[] {
  return entries.all();
}

export function unregisterTask(name: string): void {
  entries.delete(name);
}
