// Meta-batches: the meta-gradient is the mean of per-task meta-gradients. Each task's
// graph is built, differentiated and freed before the next (scope), so memory holds one
// task's graph at a time whatever the meta-batch size.

import { gradients } from '../autodiff/backward.js';
import { detach, noGrad } from '../tensor/tape.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeUnflatten } from '../tensor/tree.js';
import { add, div } from '../ops/elementwise.js';
import { traceTree } from './inner.js';
import { MetaError } from '../core/errors.js';
import type { MetaGradResult, MetaTask } from './types.js';

export interface TaskGrad {
  loss: Tensor;
  accuracy?: Tensor;
  /** flat gradient, in treeFlatten order of the meta-parameters */
  grads: Tensor[];
}

/** Average per-task results over a meta-batch. `perTask` runs inside its own scope. */
export function meanOverTasks<S extends ParamTree>(who: string, meta: S, tasks: readonly MetaTask[], perTask: (task: MetaTask, index: number) => TaskGrad): MetaGradResult<S> {
  if (!Array.isArray(tasks) || tasks.length === 0) throw new MetaError(`${who}.metaGrad: need a non-empty array of tasks, got ${Array.isArray(tasks) ? 'an empty array' : typeof tasks}`);
  return meanOfParts(meta, tasks.length, tasks.length, (i) => perTask(tasks[i]!, i));
}

/**
 * The mean over `n` tasks of results computed in `parts` pieces (one task each, or a chunk of
 * tasks adapted together, ts/meta/task-batch.ts): each piece gives the SUM over its tasks and
 * runs in its own scope, the running sum is kept and the rest freed, so memory holds one
 * piece's graph at a time.
 */
export function meanOfParts<S extends ParamTree>(meta: S, n: number, parts: number, part: (index: number) => TaskGrad): MetaGradResult<S> {
  let acc: TaskGrad | null = null;
  for (let i = 0; i < parts; i++) {
    const r = scope(() => part(i));
    if (!acc) acc = r;
    else {
      const prev: TaskGrad = acc;
      acc = scope(() =>
        noGrad(() => ({
          loss: add(prev.loss, r.loss),
          accuracy: prev.accuracy && r.accuracy ? add(prev.accuracy, r.accuracy) : undefined,
          grads: prev.grads.map((g, k) => add(g, r.grads[k]!)),
        })),
      );
      for (const t of [prev.loss, prev.accuracy, ...prev.grads, r.loss, r.accuracy, ...r.grads]) t?.dispose();
    }
  }
  const sum = acc! as TaskGrad;
  const out = noGrad(() => ({
    loss: div(sum.loss, n),
    accuracy: sum.accuracy ? div(sum.accuracy, n) : undefined,
    grads: treeUnflatten(meta, sum.grads.map((g) => div(g, n))),
  }));
  for (const t of [sum.loss, sum.accuracy, ...sum.grads]) t?.dispose();
  return out;
}

/** One task's meta-gradient by the tape: trace the meta-parameters, build the meta-loss, differentiate. */
export function tapeTaskGrad<S extends ParamTree>(meta: S, metaLoss: (traced: S) => { loss: Tensor; accuracy?: Tensor }): TaskGrad {
  const { tree, leaves } = traceTree(meta);
  const { loss, accuracy } = metaLoss(tree);
  const grads = gradients(loss, leaves);
  return { loss: detach(loss), accuracy, grads };
}
