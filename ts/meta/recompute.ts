// Recomputation (rematerialization, known as gradient checkpointing: Chen et al. 2016) for
// exact MAML's inner loop, applied to the unrolled inner optimization. Not to be confused with
// run checkpoints (the CLI's saved parameters and optimizer state, ts/cli/run-state.ts). The plain tape stores every inner step's forward and
// backward graph until the meta-gradient is taken: memory linear in the inner steps.
// Here the forward pass runs without a graph and keeps only the parameters at segment
// boundaries; the backward pass walks the segments in reverse, recomputes one segment
// with createGraph from its stored start, and pulls the cotangent back through it with
// `gradients(segmentEnd, segmentStart, { gradOutputs })` — a vjp of the segment. Memory:
// (steps / segment) parameter copies + one segment's graph; segment ≈ √steps gives O(√steps).
// The result is the same exact second-order meta-gradient, at the cost of one extra forward.

import { gradients } from '../autodiff/backward.js';
import { detach, requireGrad } from '../tensor/tape.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeFlatten, treeUnflatten } from '../tensor/tree.js';
import { batchLoss, innerLoop } from './inner.js';
import type { TaskGrad } from './metabatch.js';
import type { LossFn, MetaModel, MetaTask } from './types.js';

export interface RecomputeOptions {
  innerSteps: number;
  innerLr: number;
  /** inner steps per recomputed segment */
  segment: number;
  adapt?: (name: string) => boolean;
  loss?: LossFn;
  training?: boolean;
}

/** A good default segment length for a number of inner steps: ⌈√steps⌉. */
export function defaultSegment(steps: number): number {
  return Math.max(1, Math.ceil(Math.sqrt(steps)));
}

/** Exact MAML meta-gradient of one task with the inner loop recomputed segment by segment. */
export function recomputedTaskGrad(model: MetaModel, params: ParamTree, task: MetaTask, o: RecomputeOptions): TaskGrad {
  const run = (start: Tensor[], first: number, steps: number, createGraph: boolean): Tensor[] =>
    treeFlatten(innerLoop(model, treeUnflatten(params, start), task.support, {
      steps, lr: o.innerLr, createGraph, adapt: o.adapt, loss: o.loss, training: o.training, firstStep: first,
    })).leaves;

  // Forward without a graph, keeping the parameters at each segment's start.
  const starts: { step: number; leaves: Tensor[] }[] = [];
  let cur = treeFlatten(params).leaves.map(detach);
  for (let s = 0; s < o.innerSteps; s += o.segment) {
    starts.push({ step: s, leaves: cur });
    const n = Math.min(o.segment, o.innerSteps - s);
    const prev = cur;
    cur = scope(() => run(prev, s, n, false).map(detach));
  }

  // Query loss and its gradient at the adapted parameters.
  const fast = cur.map((t) => requireGrad(detach(t)));
  const { loss, accuracy } = batchLoss(model, treeUnflatten(params, fast), task.query, { loss: o.loss, step: o.innerSteps, training: o.training });
  let cot = gradients(loss, fast);

  // Backward through the segments, last first: recompute with a graph, pull the cotangent back, free.
  for (let k = starts.length - 1; k >= 0; k--) {
    const { step, leaves } = starts[k]!;
    const n = Math.min(o.segment, o.innerSteps - step);
    const g = cot;
    cot = scope(() => {
      const start = leaves.map((t) => requireGrad(detach(t)));
      const end = run(start, step, n, true);
      return gradients(end, start, { gradOutputs: g });
    });
    for (const t of g) t.dispose();
    for (const t of leaves) t.dispose();
  }
  return { loss: detach(loss), accuracy, grads: cot };
}

/** @deprecated the earlier name of recomputedTaskGrad (this recomputation was called checkpointing). */
export const checkpointedTaskGrad = recomputedTaskGrad;
/** @deprecated the earlier name of RecomputeOptions. */
export type CheckpointOptions = RecomputeOptions;
