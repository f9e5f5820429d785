// The meta-test protocol of the MAML/ProtoNets papers: adapt to many tasks drawn from
// held-out classes and report the mean query accuracy (classification) or MSE
// (regression) with a 95% confidence interval, 1.96·sd/√n, over at least 600 tasks.

import { scope } from '../tensor/scope.js';
import { Rng } from '../ops/rng.js';
import type { ParamTree } from '../tensor/tree.js';
import { MetaError } from '../core/errors.js';
import type { LossFn, MetaLearner, MetaTask } from './types.js';

export interface EvaluateOptions {
  /** number of tasks (default 600) */
  tasks?: number;
  /** seed or generator for the task stream (default seed 0) */
  rng?: Rng | number;
  loss?: LossFn;
  training?: boolean;
  /** called after each task with (done, total, running mean) */
  onTask?: (done: number, total: number, mean: number) => void;
}

export interface EvaluateResult {
  /** accuracy in [0, 1] for classification, query loss (MSE) for regression */
  metric: 'accuracy' | 'loss';
  mean: number;
  ci95: number;
  tasks: number;
  /** the mean query loss, for classification too */
  meanLoss: number;
  /** the per-task metric (for paired comparisons on the same task stream) */
  scores: number[];
}

/** Mean and 95% confidence half-width (normal approximation) of a sample. */
export function meanCi95(xs: readonly number[]): { mean: number; ci95: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, ci95: NaN };
  const variance = xs.reduce((a, b) => a + (b - mean) * (b - mean), 0) / (n - 1);
  return { mean, ci95: (1.96 * Math.sqrt(variance)) / Math.sqrt(n) };
}

/** Meta-test the learner on tasks drawn from `sample`: each task's support set is read (adapted to) and its query set scored by learner.scoreTask. */
export async function evaluate<S extends ParamTree>(learner: MetaLearner<S>, meta: S, sample: (rng: Rng) => MetaTask, opts: EvaluateOptions = {}): Promise<EvaluateResult> {
  const n = opts.tasks ?? 600;
  if (!Number.isInteger(n) || n < 1) throw new MetaError(`evaluate: tasks must be a positive integer, got ${n}`);
  const rng = opts.rng instanceof Rng ? opts.rng : new Rng(opts.rng ?? 0);
  const scores: number[] = [];
  const losses: number[] = [];
  let metric: 'accuracy' | 'loss' = 'loss';
  for (let i = 0; i < n; i++) {
    const r = scope(() => learner.scoreTask(meta, sample(rng), { loss: opts.loss, training: opts.training }));
    const l = await r.loss.item();
    losses.push(l);
    if (r.accuracy) {
      metric = 'accuracy';
      scores.push(await r.accuracy.item());
    } else scores.push(l);
    r.loss.dispose();
    r.accuracy?.dispose();
    opts.onTask?.(i + 1, n, scores.reduce((a, b) => a + b, 0) / scores.length);
  }
  const { mean, ci95 } = meanCi95(scores);
  return { metric, mean, ci95, tasks: n, meanLoss: losses.reduce((a, b) => a + b, 0) / n, scores };
}
