// MAML (Finn et al. 2017): learn an initialization θ such that a few gradient steps on a
// task's support set give low loss on its query set. The meta-gradient differentiates
// through the inner steps (second order: Hessian-vector products appear, and the tape
// provides them because the inner gradients are recorded with createGraph).
// firstOrder drops those terms (FOMAML); recompute recomputes inner-loop segments in the
// backward pass instead of storing them (see recompute.ts).

import type { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';
import { add, mul } from '../ops/elementwise.js';
import { recomputedTaskGrad } from './recompute.js';
import { INNER_LOOP_OPTIONS, TASK_BATCH_OPTION, batchLoss, checkSteps, describeInnerLoop, detachTree, innerLoop, scoreAdapted, type InnerLr } from './inner.js';
import { checkTask } from './task-checks.js';
import { MetaError } from '../core/errors.js';
import { meanOverTasks, tapeTaskGrad } from './metabatch.js';
import { taskBatchedMetaGrad, taskBatchedModel, taskChunk, type TaskBatch } from './task-batch.js';
import type { LearnerEntry } from './registry.js';
import type { GradientMetaLearner, LossFn, MetaBatch, MetaModel, MetaTask } from './types.js';

export interface MamlOptions {
  /** inner gradient steps (default 1) */
  innerSteps?: number;
  /** inner learning rate α (default 0.01; a number, or per step/leaf, see InnerLr) */
  innerLr?: InnerLr;
  /** drop second-order terms (first-order MAML) */
  firstOrder?: boolean;
  /** which leaves adapt in the inner loop (ANIL: the head); default all */
  adapt?: (name: string) => boolean;
  /** inner steps per recomputed segment (exact MAML only); memory then grows with steps/segment + segment */
  recompute?: number;
  /** @deprecated the earlier name of `recompute` */
  checkpoint?: number;
  loss?: LossFn;
  /** batch norm flag passed to apply (default true: transductive, as the MAML reference) */
  training?: boolean;
  /** inner steps used at meta-test time (default innerSteps) */
  testSteps?: number;
  /**
   * adapt the tasks of a meta-batch together (task-batched inner loops, see task-batch.ts):
   * true for all at once, n for chunks of up to n tasks, false/0 one at a time (default).
   * Needs a model with applyTasks and tasks of one shape; same meta-gradient to float rounding.
   */
  taskBatch?: TaskBatch;
  name?: string;
}

export function resolveMaml(who: string, o: MamlOptions) {
  const innerSteps = o.innerSteps ?? 1;
  checkSteps(who, innerSteps);
  const innerLr = o.innerLr ?? 0.01;
  if (typeof innerLr === 'number' && !(innerLr > 0 && Number.isFinite(innerLr))) throw new MetaError(`${who}: innerLr must be a positive number, got ${innerLr}`);
  // `checkpoint` is the deprecated name of `recompute`; errors name the one given.
  if (o.recompute !== undefined && o.checkpoint !== undefined && o.recompute !== o.checkpoint) {
    throw new MetaError(`${who}: recompute (${o.recompute}) and its deprecated name checkpoint (${o.checkpoint}) disagree; give recompute only`);
  }
  const recompute = o.recompute ?? o.checkpoint;
  const key = o.recompute !== undefined ? 'recompute' : 'checkpoint';
  if (recompute !== undefined) {
    if (!Number.isInteger(recompute) || recompute < 1) throw new MetaError(`${who}: ${key} (inner steps per segment) must be an integer >= 1, got ${recompute}`);
    if (o.firstOrder) throw new MetaError(`${who}: ${key} applies to exact (second-order) MAML; first-order MAML stores no inner graph to begin with`);
    if (typeof innerLr !== 'number') throw new MetaError(`${who}: ${key} supports a fixed numeric innerLr only`);
  }
  const chunk = taskChunk(who, o.taskBatch);
  if (chunk > 0 && recompute !== undefined) throw new MetaError(`${who}: taskBatch and ${key} do not combine (recomputation reruns one task's inner loop); pick one`);
  return { innerSteps, innerLr, testSteps: o.testSteps ?? innerSteps, chunk, recompute };
}

/** The post-adaptation query loss of one task, as a function of the (traced) initial parameters. */
export function mamlTaskLoss(model: MetaModel, params: ParamTree, task: MetaTask, o: MamlOptions & { innerSteps: number; innerLr: InnerLr }): { loss: Tensor; accuracy?: Tensor } {
  checkTask('maml', task);
  const fast = innerLoop(model, params, task.support, {
    steps: o.innerSteps, lr: o.innerLr, createGraph: !o.firstOrder, adapt: o.adapt, loss: o.loss, training: o.training,
  });
  return batchLoss(model, fast, task.query, { loss: o.loss, step: o.innerSteps, training: o.training });
}

/** MAML as a MetaLearner over the model's initial parameters. */
export function maml(model: MetaModel, opts: MamlOptions = {}): GradientMetaLearner<ParamTree> {
  const name = opts.name ?? (opts.firstOrder ? 'fomaml' : 'maml');
  const { innerSteps, innerLr, testSteps, chunk, recompute } = resolveMaml(name, opts);
  if (chunk > 0) taskBatchedModel(name, model);
  const o = { ...opts, innerSteps, innerLr };
  const learner: GradientMetaLearner<ParamTree> = {
    name,
    queryStep: testSteps,
    init: (params) => params,
    modelParams: (meta) => meta,
    metaGrad: (meta, tasks) =>
      chunk > 0 ? taskBatchedMetaGrad(name, model, meta, tasks, o, chunk) : meanOverTasks(name, meta, tasks, (task) =>
        recompute !== undefined
          ? recomputedTaskGrad(model, meta, task, { ...o, innerLr: innerLr as number, segment: recompute })
          : tapeTaskGrad(meta, (p) => mamlTaskLoss(model, p, task, o)),
      ),
    adapt: (meta, support: MetaBatch) =>
      detachTree(innerLoop(model, meta, support, { steps: testSteps, lr: innerLr, createGraph: false, adapt: opts.adapt, loss: opts.loss, training: opts.training })),
    scoreTask: (meta, task, o) => scoreAdapted(model, learner, meta, task, o),
  };
  return learner;
}

/** First-order MAML: the query gradient at the adapted parameters, applied to the initialization. */
export function fomaml(model: MetaModel, opts: Omit<MamlOptions, 'firstOrder' | 'recompute' | 'checkpoint'> = {}): GradientMetaLearner<ParamTree> {
  return maml(model, { ...opts, firstOrder: true, name: opts.name ?? 'fomaml' });
}

/** Weighted sum of losses (multi-step loss), weights summing to anything. */
export function weightedSum(losses: readonly Tensor[], weights: readonly number[]): Tensor {
  let total: Tensor | null = null;
  losses.forEach((l, i) => {
    const w = mul(l, weights[i]!);
    total = total ? add(total, w) : w;
  });
  return total!;
}

const { innerSteps, testSteps, innerLr, firstOrder } = INNER_LOOP_OPTIONS;

const taskBatch = TASK_BATCH_OPTION;

export const mamlEntry: LearnerEntry = {
  name: 'maml',
  family: 'gradient-based',
  summary: 'MAML, exact second-order meta-gradients through the inner loop (Finn et al. 2017)',
  tasks: ['sinusoid', 'omniglot', 'mini-imagenet'],
  options: {
    innerSteps, testSteps, innerLr, firstOrder, taskBatch,
    recomputeSegment: { kind: 'int', default: undefined, min: 1, help: 'exact MAML: recompute the inner loop in segments of N steps in the backward pass instead of storing it (rematerialization, a.k.a. gradient checkpointing)' },
    checkpointSegment: { kind: 'int', default: undefined, min: 1, help: 'deprecated name of --recompute-segment' },
  },
  build: (model, { options: o }) => maml(model, {
    innerSteps: o['innerSteps'] as number, innerLr: o['innerLr'] as number, testSteps: o['testSteps'] as number,
    firstOrder: o['firstOrder'] as boolean, recompute: o['recomputeSegment'] as number | undefined, checkpoint: o['checkpointSegment'] as number | undefined, taskBatch: o['taskBatch'] as number,
  }),
  checkpoint: 'meta: θ (the initialization); opt: Adam moments and step',
  describe: describeInnerLoop,
};

export const fomamlEntry: LearnerEntry = {
  name: 'fomaml',
  family: 'gradient-based',
  summary: 'first-order MAML: the query gradient at the adapted parameters (Finn et al. 2017)',
  tasks: ['sinusoid', 'omniglot', 'mini-imagenet'],
  options: { innerSteps, testSteps, innerLr, taskBatch },
  build: (model, { options: o }) => fomaml(model, { innerSteps: o['innerSteps'] as number, innerLr: o['innerLr'] as number, testSteps: o['testSteps'] as number, taskBatch: o['taskBatch'] as number }),
  checkpoint: 'meta: θ (the initialization); opt: Adam moments and step',
  describe: describeInnerLoop,
};
