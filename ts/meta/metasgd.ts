// Meta-SGD (Li et al. 2017): besides the initialization θ, learn a learning rate per
// parameter element, α (same shapes as θ). The inner step is θ' = θ − α ⊙ ∇L_support(θ);
// both θ and α get exact meta-gradients through the inner loop.

import { fullLike } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeMap } from '../tensor/tree.js';
import { INNER_LOOP_OPTIONS, TASK_BATCH_OPTION, checkSteps, describeInnerLoop, detachTree, innerLoop, batchLoss, scoreAdapted } from './inner.js';
import { checkBatch } from './task-checks.js';
import { MetaError } from '../core/errors.js';
import { meanOverTasks, tapeTaskGrad } from './metabatch.js';
import { stackTree, taskBatchedGrad, taskBatchedModel, taskChunk, type TaskBatch } from './task-batch.js';
import type { LearnerEntry } from './registry.js';
import type { GradientMetaLearner, LossFn, MetaBatch, MetaModel } from './types.js';

export interface MetaSgdOptions {
  innerSteps?: number;
  /** initial value of every learned rate (default 0.01) */
  initLr?: number;
  firstOrder?: boolean;
  loss?: LossFn;
  training?: boolean;
  /** adapt the tasks of a meta-batch together (see MamlOptions.taskBatch); default false */
  taskBatch?: TaskBatch;
}

export type MetaSgdParams = { params: ParamTree; lrs: ParamTree };

export function metaSgd(model: MetaModel, opts: MetaSgdOptions = {}): GradientMetaLearner<MetaSgdParams> {
  const steps = opts.innerSteps ?? 1;
  checkSteps('metaSgd', steps);
  const initLr = opts.initLr ?? 0.01;
  if (!(initLr > 0)) throw new MetaError(`metaSgd: initLr must be positive, got ${initLr}`);
  const chunk = taskChunk('metaSgd', opts.taskBatch);
  if (chunk > 0) taskBatchedModel('metaSgd', model);
  const lrsOf = (meta: MetaSgdParams) => {
    if (!meta || !('params' in meta) || !('lrs' in meta)) throw new MetaError('metaSgd: meta-parameters must be { params, lrs } (from metaSgd(...).init(params))');
    const lrs: Tensor[] = treeFlatten(meta.lrs).leaves;
    return (_s: number, leaf: number) => lrs[leaf]!;
  };
  const fast = (meta: MetaSgdParams, support: MetaBatch, createGraph: boolean) =>
    innerLoop(model, meta.params, support, { steps, lr: lrsOf(meta), createGraph, loss: opts.loss, training: opts.training });
  const learner: GradientMetaLearner<MetaSgdParams> = {
    name: 'metasgd',
    queryStep: steps,
    init: (params) => ({ params, lrs: treeMap(params, (p) => fullLike(p, initLr)) }),
    modelParams: (meta) => meta.params,
    metaGrad: (meta, tasks) =>
      chunk > 0
        // the rates α (leaf-shaped) apply to every task's stacked fast weights [T, ...]
        ? taskBatchedGrad('metaSgd', model, meta, tasks, chunk, opts.loss, (m, c) => {
          const fastT = innerLoop(c.model, stackTree(m.params, c.tasks), c.support, { steps, lr: lrsOf(m), createGraph: !opts.firstOrder, loss: c.loss, training: opts.training });
          return batchLoss(c.model, fastT, c.query, { loss: c.loss, step: steps, training: opts.training });
        })
        : meanOverTasks('metaSgd', meta, tasks, (task) =>
        tapeTaskGrad(meta, (m) => {
          checkBatch('metaSgd', task.support, 'task.support');
          return batchLoss(model, fast(m, task.support, !opts.firstOrder), task.query, { loss: opts.loss, step: steps, training: opts.training });
        }),
      ),
    adapt: (meta, support) => detachTree(fast(meta, support, false)),
    scoreTask: (meta, task, o) => scoreAdapted(model, learner, meta, task, o),
  };
  return learner;
}

export const metaSgdEntry: LearnerEntry = {
  name: 'metasgd',
  family: 'gradient-based',
  summary: 'Meta-SGD: the initialization and a learning rate per parameter, both meta-learned (Li et al. 2017)',
  tasks: ['sinusoid', 'omniglot'],
  options: {
    innerSteps: INNER_LOOP_OPTIONS.innerSteps,
    innerLr: { ...INNER_LOOP_OPTIONS.innerLr, help: 'initial inner learning rate α (then learned per parameter)' },
    firstOrder: INNER_LOOP_OPTIONS.firstOrder,
    taskBatch: TASK_BATCH_OPTION,
  },
  build: (model, { options: o }) => metaSgd(model, { innerSteps: o['innerSteps'] as number, initLr: o['innerLr'] as number, firstOrder: o['firstOrder'] as boolean, taskBatch: o['taskBatch'] as number }),
  checkpoint: 'meta: θ and the per-parameter learning rates α; opt: Adam moments and step',
  describe: describeInnerLoop,
};
