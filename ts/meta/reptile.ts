// Reptile (Nichol et al. 2018): adapt to a task with plain SGD, then move the
// initialization towards the adapted parameters: θ ← θ + ε (φ − θ). No second derivatives,
// no graph through the inner loop.
//  - batched: the meta-"gradient" is θ − mean_i φ_i; an outer SGD step with lr ε is the
//    paper's batched update (Adam on it also works);
//  - serial: reptileSerial() applies the interpolation task after task.
// With one inner step, θ − φ = α ∇L(θ): Reptile's direction is the SGD gradient's.

import { detach } from '../tensor/tape.js';
import { scope } from '../tensor/scope.js';
import { type ParamTree, treeFlatten, treeUnflatten } from '../tensor/tree.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { concat } from '../ops/shape-ops.js';
import { INNER_LOOP_OPTIONS, batchLoss, checkSteps, describeInnerLoop, detachTree, innerLoop, scoreAdapted } from './inner.js';
import { checkTask } from './task-checks.js';
import { MetaError } from '../core/errors.js';
import { meanOverTasks } from './metabatch.js';
import { sgd } from '../optim/sgd.js';
import type { LearnerEntry } from './registry.js';
import type { GradientMetaLearner, LossFn, MetaBatch, MetaModel, MetaTask } from './types.js';

export interface ReptileOptions {
  innerSteps?: number;
  innerLr?: number;
  /** adapt on support and query together (the Reptile paper trains on all of a task's data); default false */
  useQuery?: boolean;
  /** inner steps at meta-test time (default innerSteps) */
  testSteps?: number;
  loss?: LossFn;
  training?: boolean;
}

function resolve(o: ReptileOptions) {
  const innerSteps = o.innerSteps ?? 5;
  checkSteps('reptile', innerSteps);
  const innerLr = o.innerLr ?? 0.01;
  if (!(innerLr > 0)) throw new MetaError(`reptile: innerLr must be positive, got ${innerLr}`);
  return { innerSteps, innerLr, testSteps: o.testSteps ?? innerSteps };
}

function trainBatch(task: MetaTask, useQuery: boolean): MetaBatch {
  checkTask('reptile', task);
  return useQuery ? { x: concat([task.support.x, task.query.x]), y: concat([task.support.y, task.query.y]) } : task.support;
}

export function reptile(model: MetaModel, opts: ReptileOptions = {}): GradientMetaLearner<ParamTree> {
  const { innerSteps, innerLr, testSteps } = resolve(opts);
  const adaptN = (params: ParamTree, data: MetaBatch, steps: number) =>
    detachTree(innerLoop(model, params, data, { steps, lr: innerLr, createGraph: false, loss: opts.loss, training: opts.training }));
  const learner: GradientMetaLearner<ParamTree> = {
    name: 'reptile',
    init: (params) => params,
    modelParams: (meta) => meta,
    metaGrad: (meta, tasks) =>
      meanOverTasks('reptile', meta, tasks, (task) => {
        const fast = adaptN(meta, trainBatch(task, opts.useQuery ?? false), innerSteps);
        const { loss, accuracy } = batchLoss(model, fast, task.query, { loss: opts.loss, step: innerSteps, training: opts.training });
        const fastLeaves = treeFlatten(fast).leaves;
        const grads = treeFlatten(meta).leaves.map((p, i) => sub(p, fastLeaves[i]!));
        return { loss: detach(loss), accuracy, grads };
      }),
    adapt: (meta, support) => adaptN(meta, support, testSteps),
    scoreTask: (meta, task, o) => scoreAdapted(model, learner, meta, task, o),
  };
  return learner;
}

/** Serial Reptile: for each task in turn, θ ← θ + ε (φ(θ) − θ). Returns the new parameters (the old ones are not disposed). */
export function reptileSerial(model: MetaModel, params: ParamTree, tasks: readonly MetaTask[], opts: ReptileOptions & { outerLr: number }): ParamTree {
  const { innerSteps, innerLr } = resolve(opts);
  if (!(opts.outerLr > 0 && opts.outerLr <= 1)) throw new MetaError(`reptileSerial: outerLr (ε) must be in (0, 1], got ${opts.outerLr}`);
  let theta = params;
  for (const task of tasks) {
    const prev = theta;
    theta = scope(() => {
      const fast = innerLoop(model, prev, trainBatch(task, opts.useQuery ?? false), { steps: innerSteps, lr: innerLr, createGraph: false, loss: opts.loss, training: opts.training });
      const f = treeFlatten(fast).leaves;
      return treeUnflatten(prev, treeFlatten(prev).leaves.map((p, i) => detach(add(p, mul(sub(f[i]!, p), opts.outerLr)))));
    });
    if (prev !== params) for (const t of treeFlatten(prev).leaves) t.dispose();
  }
  return theta;
}

export const reptileEntry: LearnerEntry = {
  name: 'reptile',
  family: 'gradient-based',
  summary: 'Reptile: move θ towards the SGD-adapted parameters; outer SGD step ε annealed linearly to 0 (Nichol et al. 2018)',
  tasks: ['sinusoid', 'omniglot'],
  options: { innerSteps: INNER_LOOP_OPTIONS.innerSteps, testSteps: INNER_LOOP_OPTIONS.testSteps, innerLr: INNER_LOOP_OPTIONS.innerLr },
  // the outer step ε of θ ← θ + ε(φ̄ − θ); 1 is the paper's batched setting
  overrides: { metaLr: 1 },
  build: (model, { options: o }) => reptile(model, { innerSteps: o['innerSteps'] as number, innerLr: o['innerLr'] as number, testSteps: o['testSteps'] as number }),
  // θ ← θ + ε(φ̄ − θ) is SGD on θ − φ̄, with ε annealed linearly to 0 over the run (as in the paper)
  outerOptimizer: ({ options: o }) => {
    const eps = o['metaLr'] as number, iterations = o['iterations'] as number;
    return sgd({ lr: (s) => eps * Math.max(0, 1 - s / iterations) });
  },
  checkpoint: 'meta: θ (the initialization); opt: the SGD step counter',
  describe: describeInnerLoop,
};
