// The inner loop every gradient-based meta-learner shares: a few steps of gradient descent
// on a task's support set, starting from the meta-parameters.
//
// With createGraph the inner gradients are recorded on the tape, so a later gradient of the
// query loss with respect to the starting parameters flows through every inner step
// (exact, second-order MAML). Without it each inner gradient is taken on a detached copy
// and enters as a constant: the outer gradient then passes through the update
// θ' = θ − α·g with identity Jacobian, which is exactly first-order MAML.

import { MetaError, fmtShape } from '../core/errors.js';
import { gradients } from '../autodiff/backward.js';
import { detach, noGrad, requireGrad } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeUnflatten } from '../tensor/tree.js';
import { cast, equal, mul, sub } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { argmax } from '../ops/reduce.js';
import { crossEntropy, mse } from '../ops/losses.js';
import type { OptionSpec, ResolvedOptions } from '../core/options.js';
import { checkBatch } from './task-checks.js';
import type { GradientMetaLearner, LossFn, MetaBatch, MetaModel, MetaTask, ScoreOptions, TaskScore } from './types.js';

/** Cross-entropy for int32 labels, MSE for float targets. */
export function defaultLoss(pred: Tensor, target: Tensor): Tensor {
  return target.dtype === 'int32' ? crossEntropy(pred, target) : mse(pred, target);
}

export interface EvalOptions {
  loss?: LossFn;
  /** inner step index handed to the model (per-step batch norm) */
  step?: number;
  /** batch-norm mode flag handed to the model (default true: transductive statistics, as in MAML) */
  training?: boolean;
}

/** The loss of params on a batch, and (classification) the accuracy, both 0-d tensors. */
export function batchLoss(model: MetaModel, params: ParamTree, batch: MetaBatch, opts: EvalOptions = {}): { loss: Tensor; accuracy?: Tensor } {
  const pred = model.apply(params, batch.x, { training: opts.training ?? true, step: opts.step });
  const loss = (opts.loss ?? defaultLoss)(pred, batch.y);
  if (loss.size !== 1) throw new MetaError(`batchLoss: the loss must be a scalar, got shape ${fmtShape(loss.shape)}`);
  if (batch.y.dtype !== 'int32') return { loss };
  const accuracy = noGrad(() => mean(cast(equal(argmax(pred, -1), batch.y), 'float32')));
  return { loss, accuracy };
}

/** The learning rate of leaf `leaf` (dotted name `name`) at inner step `step`: a number or a tensor (scalar or leaf-shaped). */
export type InnerLr = number | ((step: number, leaf: number, name: string) => Tensor | number);

export interface InnerLoopOptions {
  steps: number;
  lr: InnerLr;
  /** record the inner gradients (exact second-order meta-gradients) */
  createGraph: boolean;
  /** which leaves adapt, by dotted name (ANIL: the head only); default all */
  adapt?: (name: string) => boolean;
  loss?: LossFn;
  training?: boolean;
  /** called with the parameters after each step (MAML++'s multi-step loss) */
  onStep?: (fast: ParamTree, step: number) => void;
  /** index of the first step (for resuming a loop split into segments) */
  firstStep?: number;
}

export function checkSteps(who: string, steps: number, min = 1): void {
  if (!Number.isInteger(steps) || steps < min) throw new MetaError(`${who}: inner steps must be an integer >= ${min}, got ${steps}`);
}

/**
 * Gradient descent on the support set from `params`: returns the adapted parameters (same
 * tree structure). Leaves that do not adapt are passed through unchanged.
 */
export function innerLoop<P extends ParamTree>(model: MetaModel, params: P, support: MetaBatch, opts: InnerLoopOptions): P {
  checkSteps('innerLoop', opts.steps, 0);
  checkBatch('innerLoop', support, 'support');
  const { names, leaves } = treeFlatten(params);
  const adapts = names.map((n) => (opts.adapt ? opts.adapt(n) : true));
  if (!adapts.some(Boolean)) throw new MetaError(`innerLoop: no parameter adapts (names: ${names.join(', ')})`);
  const idx = adapts.flatMap((a, i) => (a ? [i] : []));
  const first = opts.firstStep ?? 0;
  let fast = leaves.slice();
  for (let s = first; s < first + opts.steps; s++) {
    const grads = innerGradients(model, params, fast, idx, support, s, opts);
    fast = fast.slice();
    idx.forEach((i, k) => {
      const lrv = typeof opts.lr === 'number' ? opts.lr : opts.lr(s, i, names[i]!);
      fast[i] = sub(fast[i]!, mul(grads[k]!, lrv));
    });
    opts.onStep?.(treeUnflatten(params, fast), s);
  }
  return treeUnflatten(params, fast);
}

/** Gradients of the support loss at `fast` for the adapting leaves `idx`. */
function innerGradients(model: MetaModel, like: ParamTree, fast: Tensor[], idx: number[], support: MetaBatch, step: number, opts: InnerLoopOptions): Tensor[] {
  const loss = opts.loss;
  const training = opts.training;
  if (opts.createGraph) {
    // Every adapting leaf must be on the tape; meta-parameters that nothing traced yet are made leaves here.
    const at = fast.map((t, i) => (idx.includes(i) && !t.requiresGrad ? requireGrad(detach(t)) : t));
    const { loss: l } = batchLoss(model, treeUnflatten(like, at), support, { loss, step, training });
    const gs = gradients(l, idx.map((i) => at[i]!), { createGraph: true });
    idx.forEach((i) => (fast[i] = at[i]!));
    return gs;
  }
  // First order: differentiate a detached copy; the gradient is a constant to the outer level.
  // (Inputs on the tape, such as ANIL's features, are detached too: this backward pass frees its graph.)
  const at = fast.map((t, i) => (idx.includes(i) ? requireGrad(detach(t)) : detach(t)));
  const data = support.x.requiresGrad ? { x: detach(support.x), y: support.y } : support;
  const { loss: l } = batchLoss(model, treeUnflatten(like, at), data, { loss, step, training });
  return gradients(l, idx.map((i) => at[i]!));
}

/** Detached copies of every leaf: the values without history. */
export function detachTree<P extends ParamTree>(tree: P): P {
  return treeUnflatten(tree, treeFlatten(tree, '', 'detachTree').leaves.map(detach));
}

/** Leaves made differentiable (detached copies marked requiresGrad), for taking a gradient with respect to them. */
export function traceTree<P extends ParamTree>(tree: P): { tree: P; leaves: Tensor[] } {
  const leaves = treeFlatten(tree, '', 'traceTree').leaves.map((l) => requireGrad(detach(l)));
  return { tree: treeUnflatten(tree, leaves), leaves };
}

/** Meta-test one task the gradient-based way: adapt on the support set, score the adapted parameters on the query set. */
export function scoreAdapted<S extends ParamTree>(model: MetaModel, learner: Pick<GradientMetaLearner<S>, 'adapt' | 'queryStep'>, meta: S, task: MetaTask, opts: ScoreOptions = {}): TaskScore {
  const fast = learner.adapt(meta, task.support);
  return batchLoss(model, fast, task.query, { loss: opts.loss, step: learner.queryStep, training: opts.training });
}

/** The registry options the gradient-based learners share (their entries pick the ones they take). */
export const INNER_LOOP_OPTIONS = {
  innerSteps: { kind: 'int', default: { sinusoid: 1, default: 5 }, min: 1, help: 'inner gradient steps in meta-training' },
  testSteps: { kind: 'int', default: (o: ResolvedOptions) => o['innerSteps'], min: 1, help: 'inner steps at meta-test time (default: --inner-steps; MAML used 10 on Omniglot)' },
  innerLr: { kind: 'num', default: { sinusoid: 0.01, 'mini-imagenet': 0.01, default: 0.4 }, above: 0, help: 'inner learning rate α (MAML: 0.4 on Omniglot, 0.01 on mini-ImageNet)' },
  firstOrder: { kind: 'bool', default: false, help: 'first-order meta-gradients (drop the second-order terms)' },
} satisfies Record<string, OptionSpec>;

/**
 * The registry's taskBatch option (MAML, FOMAML, Meta-SGD, MAML++): tasks adapted together, 0 =
 * one at a time. Default: the whole meta-batch where it measured faster (the sinusoid MLP, whose
 * tasks are a few small matmuls each: 3-5x less CPU), one task at a time elsewhere (Conv-4 on
 * Omniglot measured at parity in CPU time and holds every batched task's graph at once;
 * docs/backends.md, bench/results/peers-2026-12-02-*).
 */
export const TASK_BATCH_OPTION = {
  kind: 'int', default: (o: ResolvedOptions) => (o.task === 'sinusoid' ? o['metaBatch'] : 0), min: 0,
  help: 'adapt up to N tasks of a meta-batch together (stacked fast weights: grouped convolutions, batched matmuls); 0: one task at a time (default: the whole meta-batch on sinusoid, 0 otherwise)',
  // runs saved before task batching existed adapted one task at a time
  absent: 0,
} satisfies OptionSpec;

/** The run header's words for an inner loop: '5 inner step(s) α=0.4'. */
export function describeInnerLoop(o: ResolvedOptions): string {
  return `${o['innerSteps']} inner step(s) α=${o['innerLr']}`;
}
