// Meta-SGD (Li et al. 2017): besides the initialization θ, learn a learning rate per
// parameter element, α (same shapes as θ). The inner step is θ' = θ − α ⊙ ∇L_support(θ);
// both θ and α get exact meta-gradients through the inner loop.

import { fullLike } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeMap } from '../tensor/tree.js';
import { checkBatch, checkSteps, detachTree, innerLoop, batchLoss } from './inner.js';
import { MetaError } from '../core/errors.js';
import { meanOverTasks, tapeTaskGrad } from './metabatch.js';
import type { LossFn, MetaBatch, MetaLearner, MetaModel } from './types.js';

export interface MetaSgdOptions {
  innerSteps?: number;
  /** initial value of every learned rate (default 0.01) */
  initLr?: number;
  firstOrder?: boolean;
  loss?: LossFn;
  training?: boolean;
}

export type MetaSgdParams = { params: ParamTree; lrs: ParamTree };

export function metaSgd(model: MetaModel, opts: MetaSgdOptions = {}): MetaLearner<MetaSgdParams> {
  const steps = opts.innerSteps ?? 1;
  checkSteps('metaSgd', steps);
  const initLr = opts.initLr ?? 0.01;
  if (!(initLr > 0)) throw new MetaError(`metaSgd: initLr must be positive, got ${initLr}`);
  const lrsOf = (meta: MetaSgdParams) => {
    if (!meta || !('params' in meta) || !('lrs' in meta)) throw new MetaError('metaSgd: meta-parameters must be { params, lrs } (from metaSgd(...).init(params))');
    const lrs: Tensor[] = treeFlatten(meta.lrs).leaves;
    return (_s: number, leaf: number) => lrs[leaf]!;
  };
  const fast = (meta: MetaSgdParams, support: MetaBatch, createGraph: boolean) =>
    innerLoop(model, meta.params, support, { steps, lr: lrsOf(meta), createGraph, loss: opts.loss, training: opts.training });
  return {
    name: 'metasgd',
    queryStep: steps,
    init: (params) => ({ params, lrs: treeMap(params, (p) => fullLike(p, initLr)) }),
    modelParams: (meta) => meta.params,
    metaGrad: (meta, tasks) =>
      meanOverTasks('metaSgd', meta, tasks, (task) =>
        tapeTaskGrad(meta, (m) => {
          checkBatch('metaSgd', task.support, 'task.support');
          return batchLoss(model, fast(m, task.support, !opts.firstOrder), task.query, { loss: opts.loss, step: steps, training: opts.training });
        }),
      ),
    adapt: (meta, support) => detachTree(fast(meta, support, false)),
  };
}
