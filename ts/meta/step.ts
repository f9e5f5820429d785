// One meta-training iteration: the learner's meta-gradient on a meta-batch, then the outer
// optimizer's update. Everything temporary is freed; the old meta-parameters and optimizer
// state are disposed unless the update passed them through, so a loop runs in flat memory.

import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeMap } from '../tensor/tree.js';
import { add, div, minimum, mul, sqrt } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { noGrad } from '../tensor/tape.js';
import { MetaError } from '../core/errors.js';
import type { MetaLearner, MetaTask } from './types.js';

/** The outer optimizer: the shape of ts/optim's Optimizer (state is a parameter tree). */
export interface OuterOptimizer<S extends ParamTree = ParamTree> {
  init(params: ParamTree): S;
  update<P extends ParamTree>(params: P, grads: P, state: S): { params: P; state: S };
}

export interface MetaStepResult<S extends ParamTree> {
  meta: S;
  optState: ParamTree;
  /** mean post-adaptation query loss (0-d tensor: read it with await .item()) */
  loss: Tensor;
  accuracy?: Tensor;
}

/** Scale gradients so their global norm is at most maxNorm (in tensors: no host read). */
function clipByNorm<P extends ParamTree>(grads: P, maxNorm: number): P {
  return noGrad(() => {
    const leaves = treeFlatten(grads).leaves;
    const norm = sqrt(leaves.map((g) => sum(mul(g, g))).reduce((a, b) => add(a, b)));
    const scale = minimum(div(maxNorm, add(norm, 1e-12)), 1);
    return treeMap(grads, (g) => mul(g, scale));
  });
}

export function metaStep<S extends ParamTree>(
  learner: MetaLearner<S>, meta: S, optimizer: OuterOptimizer, optState: ParamTree, tasks: readonly MetaTask[], opts: { clipNorm?: number } = {},
): MetaStepResult<S> {
  if (opts.clipNorm !== undefined && !(opts.clipNorm > 0)) throw new MetaError(`metaStep: clipNorm must be positive, got ${opts.clipNorm}`);
  const out = scope(() => {
    const { loss, accuracy, grads } = learner.metaGrad(meta, tasks);
    const g = opts.clipNorm !== undefined ? clipByNorm(grads, opts.clipNorm) : grads;
    const upd = noGrad(() => optimizer.update(meta, g, optState));
    return { meta: upd.params, optState: upd.state, loss, accuracy };
  });
  const live = new Set<Tensor>([...treeFlatten(out.meta).leaves, ...treeFlatten(out.optState).leaves]);
  for (const t of [...treeFlatten(meta).leaves, ...treeFlatten(optState).leaves]) if (!live.has(t)) t.dispose();
  return out;
}
