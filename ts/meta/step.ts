// One meta-training iteration: the learner's meta-gradient on a meta-batch, then the outer
// optimizer's update. Everything temporary is freed; the old meta-parameters and optimizer
// state are disposed unless the update passed them through, so a loop runs in flat memory.

import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten } from '../tensor/tree.js';
import { noGrad } from '../tensor/tape.js';
import { ValueError } from '../core/errors.js';
import { clipByGlobalNorm } from '../optim/clip.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { MetaLearner, MetaTask } from './types.js';

/** @deprecated the outer optimizer is an ordinary Optimizer (ts/optim); this alias stays for code that named it. */
export type OuterOptimizer<S extends ParamTree = ParamTree> = Optimizer<S>;

/** O: the optimizer state's type (AdamState for adam, ...). */
export interface MetaStepResult<S extends ParamTree, O extends ParamTree = ParamTree> {
  meta: S;
  optState: O;
  /** mean post-adaptation query loss (0-d tensor: read it with await .item()) */
  loss: Tensor;
  accuracy?: Tensor;
}

export function metaStep<S extends ParamTree, O extends ParamTree = ParamTree>(
  learner: MetaLearner<S>, meta: S, optimizer: Optimizer<O>, optState: ParamTree, tasks: readonly MetaTask[], opts: { clipNorm?: number } = {},
): MetaStepResult<S, O> {
  if (opts.clipNorm !== undefined && !(opts.clipNorm > 0)) throw new ValueError(`metaStep: clipNorm must be positive, got ${opts.clipNorm}`);
  if (learner.metaUpdate) {
    const u = learner.metaUpdate(meta, optimizer, optState, tasks, opts);
    return { meta: u.meta, optState: u.optState as O, loss: u.loss, accuracy: u.accuracy };
  }
  return scope(() => {
    const { loss, accuracy, grads } = learner.metaGrad(meta, tasks);
    return { ...outerUpdate(meta, optimizer, optState, grads, opts.clipNorm, 'metaStep'), loss, accuracy };
  });
}

/**
 * One outer update from a meta-gradient: clipped to the global norm clipNorm when given, applied
 * by the optimizer; the old meta-parameters and optimizer state are disposed unless the update
 * passed them through. metaStep's update, and each of a metaUpdate's (the LSTM optimizer's truncations).
 */
export function outerUpdate<S extends ParamTree, O extends ParamTree = ParamTree>(
  meta: S, optimizer: Optimizer<O>, optState: ParamTree, grads: S, clipNorm: number | undefined, who: string,
): { meta: S; optState: O } {
  const upd = scope(() => {
    const g = clipNorm !== undefined ? clipByGlobalNorm(grads, clipNorm, who).grads : grads;
    return noGrad(() => optimizer.update(meta, g, optState));
  });
  const live = new Set<Tensor>([...treeFlatten(upd.params).leaves, ...treeFlatten(upd.state).leaves]);
  for (const t of [...treeFlatten(meta).leaves, ...treeFlatten(optState).leaves]) if (!live.has(t)) t.dispose();
  return { meta: upd.params, optState: upd.state };
}
