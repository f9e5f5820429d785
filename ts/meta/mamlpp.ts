// MAML++ (Antoniou et al. 2019, "How to train your MAML") options on top of MAML:
//  - LSLR: learned per-layer (per parameter tensor), per-step inner learning rates;
//  - multi-step loss: the query loss after every inner step, weighted; the weights start
//    uniform and anneal towards the final step over `annealIterations`;
//  - per-step batch-norm statistics: the inner step index is handed to apply() as `step`
//    (the model's 'per-step' batch-norm mode keeps one set of statistics/affine per step);
//  - derivative-order annealing: first order for the first `firstOrderIterations`.

import { full } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeMap } from '../tensor/tree.js';
import { INNER_LOOP_OPTIONS, TASK_BATCH_OPTION, batchLoss, checkSteps, describeInnerLoop, detachTree, innerLoop, scoreAdapted } from './inner.js';
import { checkTask } from './task-checks.js';
import { MetaError } from '../core/errors.js';
import { weightedSum } from './maml.js';
import { meanOverTasks, tapeTaskGrad } from './metabatch.js';
import { stackTree, taskBatchedGrad, taskBatchedModel, taskChunk, type TaskBatch } from './task-batch.js';
import type { LearnerEntry } from './registry.js';
import type { GradientMetaLearner, LossFn, MetaBatch, MetaModel } from './types.js';

export interface MamlPlusPlusOptions {
  innerSteps?: number;
  /** initial value of every learned rate (default 0.01) */
  innerLr?: number;
  /** learn the per-layer per-step rates (default true) */
  learnLrs?: boolean;
  /** use the multi-step loss (default true) */
  multiStepLoss?: boolean;
  /** iterations over which the multi-step weights anneal to the last step only (default 1000) */
  annealIterations?: number;
  /** first-order meta-gradients for this many initial iterations (default 0) */
  firstOrderIterations?: number;
  loss?: LossFn;
  training?: boolean;
  /** adapt the tasks of a meta-batch together (see MamlOptions.taskBatch); default false */
  taskBatch?: TaskBatch;
}

export type MamlPlusPlusParams = { params: ParamTree; lrs: ParamTree[] };

/** MAML++'s multi-step loss weights at an iteration: uniform at 0, all weight on the last step after `anneal`. */
export function multiStepWeights(steps: number, iteration: number, anneal: number): number[] {
  const decay = 1 / steps / Math.max(1, anneal);
  const minNonFinal = 0.03 / steps;
  const w = Array.from({ length: steps }, () => Math.max(1 / steps - iteration * decay, minNonFinal));
  w[steps - 1] = Math.min(1 / steps + iteration * (steps - 1) * decay, 1 - (steps - 1) * minNonFinal);
  return w;
}

export function mamlPlusPlus(model: MetaModel, opts: MamlPlusPlusOptions = {}): GradientMetaLearner<MamlPlusPlusParams> {
  const steps = opts.innerSteps ?? 5;
  checkSteps('mamlPlusPlus', steps);
  const initLr = opts.innerLr ?? 0.01;
  if (!(initLr > 0)) throw new MetaError(`mamlPlusPlus: innerLr must be positive, got ${initLr}`);
  const learnLrs = opts.learnLrs ?? true;
  const anneal = opts.annealIterations ?? 1000;
  const chunk = taskChunk('mamlPlusPlus', opts.taskBatch);
  if (chunk > 0) taskBatchedModel('mamlPlusPlus', model);
  let iteration = 0;

  const lrFn = (meta: MamlPlusPlusParams) => {
    if (!meta || !Array.isArray(meta.lrs) || meta.lrs.length !== steps) {
      throw new MetaError(`mamlPlusPlus: meta-parameters must be { params, lrs } with one rate tree per inner step (${steps}); use mamlPlusPlus(...).init(params)`);
    }
    const perStep: Tensor[][] = meta.lrs.map((t) => treeFlatten(t).leaves);
    return (s: number, leaf: number) => (learnLrs ? perStep[s]![leaf]! : initLr);
  };
  const run = (meta: MamlPlusPlusParams, support: MetaBatch, createGraph: boolean, onStep?: (p: ParamTree, s: number) => void) =>
    innerLoop(model, meta.params, support, { steps, lr: lrFn(meta), createGraph, loss: opts.loss, training: opts.training, onStep });
  /**
   * One task's objective (or, task-batched, the sum over a chunk's tasks): the final query loss,
   * or the weighted query losses after every step (the model sees the step index for per-step
   * batch norm). `on` is the model, `params` the starting fast weights, `loss` the loss.
   */
  const objective = (on: MetaModel, m: MamlPlusPlusParams, params: ParamTree, support: MetaBatch, query: MetaBatch, loss: LossFn | undefined, firstOrder: boolean, weights: number[]) => {
    const loop = (onStep?: (p: ParamTree, s: number) => void) =>
      innerLoop(on, params, support, { steps, lr: lrFn(m), createGraph: !firstOrder, loss, training: opts.training, onStep });
    if (!(opts.multiStepLoss ?? true)) return batchLoss(on, loop(), query, { loss, step: steps, training: opts.training });
    const losses: Tensor[] = [];
    let last: { loss: Tensor; accuracy?: Tensor } | null = null;
    loop((p, s) => {
      last = batchLoss(on, p, query, { loss, step: s + 1, training: opts.training });
      losses.push(last.loss);
    });
    return { loss: weightedSum(losses, weights), accuracy: last!.accuracy };
  };

  const learner: GradientMetaLearner<MamlPlusPlusParams> = {
    name: 'maml++',
    queryStep: steps,
    init: (params) => ({ params, lrs: Array.from({ length: steps }, () => treeMap(params, (p) => full([], initLr, { dtype: p.dtype, backend: p.backend }))) }),
    modelParams: (meta) => meta.params,
    setIteration: (i) => {
      iteration = i;
    },
    metaGrad: (meta, tasks) => {
      const firstOrder = iteration < (opts.firstOrderIterations ?? 0);
      const weights = multiStepWeights(steps, iteration, anneal);
      const out = chunk > 0
        ? taskBatchedGrad('mamlPlusPlus', model, meta, tasks, chunk, opts.loss, (m, c) =>
          objective(c.model, m, stackTree(m.params, c.tasks), c.support, c.query, c.loss, firstOrder, weights))
        : meanOverTasks('mamlPlusPlus', meta, tasks, (task) =>
          tapeTaskGrad(meta, (m) => {
            checkTask('mamlPlusPlus', task);
            return objective(model, m, m.params, task.support, task.query, opts.loss, firstOrder, weights);
          }),
        );
      iteration++;
      return out;
    },
    adapt: (meta, support) => detachTree(run(meta, support, false)),
    scoreTask: (meta, task, o) => scoreAdapted(model, learner, meta, task, o),
  };
  return learner;
}

export const mamlPlusPlusEntry: LearnerEntry = {
  name: 'mamlpp',
  family: 'gradient-based',
  summary: 'MAML++: per-step learning rates and batch norm, multi-step loss annealed over the first third of the run (Antoniou et al. 2019)',
  tasks: ['sinusoid', 'omniglot'],
  options: { innerSteps: INNER_LOOP_OPTIONS.innerSteps, innerLr: INNER_LOOP_OPTIONS.innerLr, taskBatch: TASK_BATCH_OPTION },
  // per-step batch norm: statistics and affine parameters for every inner step and the query pass
  model: ({ options: o, task }) => task.backbone({ batchNorm: 'per-step', maxSteps: o['innerSteps'] as number }),
  build: (model, { options: o }) => mamlPlusPlus(model, {
    innerSteps: o['innerSteps'] as number, innerLr: o['innerLr'] as number, annealIterations: Math.max(1, Math.round((o['iterations'] as number) / 3)),
    taskBatch: o['taskBatch'] as number,
  }),
  checkpoint: 'meta: θ (with per-step batch norm) and per-step, per-leaf learning rates; opt: Adam moments and step',
  describe: describeInnerLoop,
};
