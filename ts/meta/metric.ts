// What the metric-based learners share: an episode is embedded in one pass (support and
// query together, so transductive batch norm sees the whole episode), scored against the
// support set, and its loss differentiated by the tape. A metric learner is its episode
// loss; metaGrad (the mean over a meta-batch) and scoreTask (no graph) come from here.

import { noGrad } from '../tensor/tape.js';
import { MetaError, fmtShape } from '../core/errors.js';
import { argmax, mean, sum } from '../ops/reduce.js';
import { cast, div, equal, maximum, sqrt, square } from '../ops/elementwise.js';
import { oneHot } from '../ops/indexing.js';
import { matmul } from '../ops/matmul.js';
import { concat, split, transpose } from '../ops/shape-ops.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';
import type { OptionSpec, ResolvedOptions } from '../core/options.js';
import type { Model } from '../nn/model.js';
import { adam } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { schedules } from '../optim/schedules.js';
import { meanOverTasks, tapeTaskGrad } from './metabatch.js';
import type { BuildContext } from './registry.js';
import type { MetaApplyOptions, MetaLearner, MetaModel, MetaTask, ScoreOptions } from './types.js';

/** A backbone that exposes its embedding (conv4 and mlp do). */
export interface EmbeddingModel extends MetaModel {
  features(params: ParamTree, x: Tensor, opts?: MetaApplyOptions): Tensor;
}

/** One episode's loss and query accuracy (0-d). */
export interface EpisodeResult {
  loss: Tensor;
  accuracy: Tensor;
}

/** An episode's loss as a function of the meta-parameters, the task and its number of ways. */
export type EpisodeLoss<S extends ParamTree> = (meta: S, task: MetaTask, ways: number) => EpisodeResult;

/**
 * A metric learner is a MetaLearner (metaStep and evaluate take it as they take MAML): its
 * scoreTask always gives an accuracy, and it exposes its episode loss. It scores a task with
 * its own episode loss and transductive batch norm, so ScoreOptions' `loss` and
 * `training: false` are refused rather than ignored.
 */
export interface MetricLearner<S extends ParamTree = ParamTree> extends MetaLearner<S> {
  scoreTask(meta: S, task: MetaTask, opts?: ScoreOptions): { loss: Tensor; accuracy: Tensor };
  /** One episode's loss and accuracy, recorded on the tape (gradcheck it, or build on it). */
  episodeLoss(meta: S, task: MetaTask): EpisodeResult;
}

/** The episode's number of ways: task.ways when the sampler gives it, else the support labels' maximum + 1. */
export function taskWays(task: MetaTask, who: string): number {
  if (task.ways !== undefined) return task.ways;
  const y = task.support.y;
  if (y.dtype !== 'int32' || y.rank !== 1) throw new MetaError(`${who}: support labels must be int32 [N] (classification), got ${y.dtype} ${fmtShape(y.shape)}`);
  if (!y.backend.readSync) throw new MetaError(`${who}: on backend '${y.backend.name}' labels cannot be read synchronously; give the task its ways (task.ways), as EpisodeSampler does`);
  const labels = y.dataSync();
  let ways = 0;
  for (const l of labels) ways = Math.max(ways, l + 1);
  return ways;
}

/** Build a metric learner from its episode loss; `init` picks the meta-parameters out of the model's parameters. */
export function metricLearner<S extends ParamTree>(name: string, init: (params: ParamTree) => S, episode: EpisodeLoss<S>): MetricLearner<S> {
  const check = (task: MetaTask) => {
    if (!task?.support?.x || !task.query?.x) throw new MetaError(`${name}: a task needs support and query sets { x, y }`);
    if (task.query.y.dtype !== 'int32') throw new MetaError(`${name}: query labels must be int32 class indices, got ${task.query.y.dtype}`);
    return taskWays(task, name);
  };
  return {
    name,
    init,
    metaGrad: (meta, tasks) =>
      meanOverTasks(name, meta, tasks, (task) => {
        const ways = check(task);
        return tapeTaskGrad(meta, (traced) => episode(traced, task, ways));
      }),
    scoreTask: (meta, task, opts = {}) => {
      if (opts.loss !== undefined) throw new MetaError(`${name}: scoreTask scores with the learner's own episode loss; a loss option does not apply to a metric learner`);
      if (opts.training === false) throw new MetaError(`${name}: scoreTask normalizes each episode with its own batch statistics (transductive); training: false does not apply to a metric learner`);
      const ways = check(task);
      return noGrad(() => episode(meta, task, ways));
    },
    episodeLoss: (meta, task) => episode(meta, task, check(task)),
  };
}

/** Embed support and query in one pass: { support [Ns, ...], query [Nq, ...] }. */
export function embedEpisode(embed: (x: Tensor) => Tensor, task: MetaTask): { support: Tensor; query: Tensor } {
  const ns = task.support.x.shape[0]!, nq = task.query.x.shape[0]!;
  const [support, query] = split(embed(concat([task.support.x, task.query.x], 0)), [ns, nq], 0) as [Tensor, Tensor];
  return { support, query };
}

/** One-hot labels [N, ways] in x's dtype. */
export function oneHotLike(y: Tensor, ways: number, like: Tensor): Tensor {
  return oneHot(y, ways, like.dtype as 'float32');
}

/** Per-class sums of rows: onehot(y)ᵀ · x, [ways, ...] for x [N, ...] flattened to [N, D]. */
export function classSums(x: Tensor, y: Tensor, ways: number): Tensor {
  return matmul(transpose(oneHotLike(y, ways, x)), x);
}

/** Per-class means of rows (prototypes): classSums / counts. */
export function classMeans(x: Tensor, y: Tensor, ways: number): Tensor {
  const counts = noGrad(() => transpose(sum(oneHotLike(y, ways, x), 0, { keepDims: true })));
  return div(classSums(x, y, ways), counts);
}

/**
 * Rows scaled to unit length, norms clamped at eps as cosineSimilarity does: on the squared
 * norm, so an all-zero row (a ReLU embedding can be one) has finite gradients, not sqrt's 0/0.
 */
export function normalizeRows(x: Tensor, eps = 1e-8): Tensor {
  return div(x, sqrt(maximum(sum(square(x), -1, { keepDims: true }), eps * eps)));
}

/** Cosine similarities of every row of a [N, D] with every row of b [M, D]: [N, M]. */
export function pairwiseCosine(a: Tensor, b: Tensor): Tensor {
  return matmul(normalizeRows(a), transpose(normalizeRows(b)));
}

/** Fraction of rows whose highest score is the label (0-d, no graph). */
export function accuracyOf(scores: Tensor, y: Tensor): Tensor {
  return noGrad(() => mean(cast(equal(argmax(scores, -1), y), scores.dtype)));
}


// What the metric learners' registry entries share: the outer step decay of their papers
// (ProtoNets: Adam 1e-3 halved every 2000 episodes; Relation Networks: every 100,000) and the
// check that the task's backbone exposes what the learner reads.

/** The entry options of the outer learning-rate step decay, with the learner's default period (0: constant). */
export function lrDecayOptions(every: number): Record<string, OptionSpec> {
  return {
    lrDecayEvery: { kind: 'int', default: every, min: 0, help: 'multiply the outer learning rate by --lr-decay every N meta-updates, 0 for a constant rate (ProtoNets halve it every 2000 episodes, Relation Networks every 100,000)' },
    lrDecay: { kind: 'num', default: 0.5, above: 0, max: 1, help: 'the factor of the outer learning-rate step decay' },
  };
}

/** Adam with lr = metaLr · lrDecay^⌊update / lrDecayEvery⌋ (the schedule reads Adam's saved step, so a resumed run continues it). */
export function decayedAdam({ options: o }: BuildContext): Optimizer {
  const lr = o['metaLr'] as number, every = o['lrDecayEvery'] as number;
  return adam({ lr: every > 0 ? schedules.step(lr, every, o['lrDecay'] as number) : lr });
}

/** The decay in words for the run's first line, e.g. 'lr ×0.5 every 2000 meta-updates'. */
export function describeDecay(o: ResolvedOptions): string {
  const every = o['lrDecayEvery'] as number;
  return every > 0 ? `lr ×${String(o['lrDecay'])} every ${every} meta-updates` : 'constant lr';
}

/** The task's backbone as an embedding model (a MetaError when it has no features()). */
export function asEmbedding(who: string, model: Model): EmbeddingModel {
  if (typeof model.features !== 'function') throw new MetaError(`${who}: the backbone must expose features() (conv4 and mlp do)`);
  return model as unknown as EmbeddingModel;
}
