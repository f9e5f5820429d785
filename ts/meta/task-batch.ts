// Task-batched inner loops (DESIGN.md: "a meta-batch can be one batch"). The T tasks of a
// meta-batch (or of a chunk of it) are adapted together: their fast weights are stacked on a
// leading task dimension (every leaf [T, ...], the meta-parameters broadcast to start with),
// their support and query sets stacked likewise ([T, N, ...]), and the model's applyTasks
// runs all of them in one pass of larger kernels — grouped convolutions, batched matmuls,
// one batch norm over T·C channels whose statistics stay per task. The inner loss is the sum
// of the per-task losses, so its gradient with respect to the stacked fast weights is, slice
// by slice, each task's own gradient; the query losses are summed the same way, and the
// gradient with respect to the meta-parameters through the broadcast is the sum of the
// per-task meta-gradients. Nothing here is a new derivative: it is the same program on
// larger tensors, so exact second order (createGraph) holds as on the serial path, and the
// result equals the serial path's to float rounding (test/meta/task-batch.test.ts).
//
// Memory: a chunk holds the graphs of all its tasks at once (the serial path holds one);
// `taskBatch: n` bounds that to n tasks.

import { MetaError, ShapeError, fmtShape } from '../core/errors.js';
import { expectCaller } from '../core/shape.js';
import { noGrad } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ParamTree, treeMap } from '../tensor/tree.js';
import { add, mul } from '../ops/elementwise.js';
import { broadcastTo, expandDims, stack, unstack } from '../ops/shape-ops.js';
import { batchLoss, defaultLoss, innerLoop, type InnerLr } from './inner.js';
import { checkBatch } from './task-checks.js';
import { meanOfParts, tapeTaskGrad } from './metabatch.js';
import type { LossFn, MetaBatch, MetaGradResult, MetaModel, MetaTask } from './types.js';

function checkTasks(who: string, tasks: readonly MetaTask[]): void {
  if (typeof who !== 'string') throw new MetaError(`task batch: the caller's name must be a string, got ${typeof who}`);
  if (!Array.isArray(tasks) || tasks.length === 0) throw new MetaError(`${who}: need a non-empty array of tasks, got ${Array.isArray(tasks) ? 'an empty array' : typeof tasks}`);
}

/** false or 0: one task at a time; true: the whole meta-batch at once; n: chunks of up to n tasks. */
export type TaskBatch = boolean | number;

/** Tasks per chunk for a taskBatch setting (0: serial), checked. */
export function taskChunk(who: string, taskBatch: TaskBatch | undefined): number {
  expectCaller(who, 'taskChunk', 'who');
  if (taskBatch === undefined || taskBatch === false) return 0;
  if (taskBatch === true) return Infinity;
  if (!Number.isInteger(taskBatch) || taskBatch < 0) throw new MetaError(`${who}: taskBatch must be true, false or an integer >= 0 (tasks adapted together), got ${String(taskBatch)}`);
  return taskBatch;
}

/** The model whose apply is the model's applyTasks (checked to exist). */
export function taskBatchedModel(who: string, model: MetaModel): MetaModel {
  if (!model || typeof model.applyTasks !== 'function') {
    throw new MetaError(`${who}: taskBatch needs a model with applyTasks (task-stacked parameters; conv4 and mlp have it); this model has none — use taskBatch: false`);
  }
  return { apply: (p, x, o) => model.applyTasks!(p, x, o), head: model.head };
}

/** The support and query sets of tasks stacked on a leading task axis: x [T, N, ...], y [T, N, ...]. All tasks must have the same shapes. */
export function stackTasks(who: string, tasks: readonly MetaTask[]): { support: MetaBatch; query: MetaBatch } {
  checkTasks(who, tasks);
  const first = tasks[0]!;
  const sig = (b: MetaBatch): string => `x ${fmtShape(b.x.shape)} ${b.x.dtype}, y ${fmtShape(b.y.shape)} ${b.y.dtype}`;
  tasks.forEach((task, i) => {
    if (!task || typeof task !== 'object') throw new MetaError(`${who}: task ${i} must be a task { support, query }, got ${String(task)}`);
    checkBatch(who, task.support, `task ${i}'s support`);
    checkBatch(who, task.query, `task ${i}'s query`);
    for (const part of ['support', 'query'] as const) {
      if (sig(task[part]) !== sig(first[part])) {
        throw new ShapeError(`${who}: taskBatch adapts tasks of one shape together, but task ${i}'s ${part} is ${sig(task[part])} and task 0's is ${sig(first[part])}; use taskBatch: false for tasks of different sizes`);
      }
    }
  });
  const st = (part: 'support' | 'query'): MetaBatch => ({ x: stack(tasks.map((t) => t[part].x)), y: stack(tasks.map((t) => t[part].y)) });
  return { support: st('support'), query: st('query') };
}

/**
 * The sum over tasks of the per-task losses of a task batch (pred [T, N, ...], target [T, N, ...]).
 * The default losses are means over a task's values, and the tasks have equal sizes, so the
 * sum is T × the mean over all of them: one loss call. A given loss runs task by task.
 */
export function taskSumLoss(loss: LossFn | undefined): LossFn {
  if (loss !== undefined && typeof loss !== 'function') throw new MetaError(`taskSumLoss: loss must be a function (pred, target) => Tensor or undefined, got ${typeof loss}`);
  return (pred, target) => {
    const t = pred.shape[0]!;
    if (!loss) return mul(defaultLoss(pred, target), t);
    const ps = unstack(pred, 0), ys = unstack(target, 0);
    let total = loss(ps[0]!, ys[0]!);
    for (let i = 1; i < t; i++) total = add(total, loss(ps[i]!, ys[i]!));
    return total;
  };
}

/** Every leaf repeated T times on a new leading axis (a broadcast view; its vjp sums over the tasks). */
export function stackTree<P extends ParamTree>(tree: P, t: number): P {
  if (!Number.isInteger(t) || t < 1) throw new MetaError(`stackTree: the number of tasks must be an integer >= 1, got ${String(t)}`);
  return treeMap(tree, (leaf) => broadcastTo(expandDims(leaf, 0), [t, ...leaf.shape]));
}

export interface TaskBatchOptions {
  innerSteps: number;
  innerLr: InnerLr;
  firstOrder?: boolean;
  adapt?: (name: string) => boolean;
  loss?: LossFn;
  training?: boolean;
}

/** What a learner's batched meta-loss gets: the batched model, the stacked sets, T and the summing loss. */
export interface TaskBatchContext {
  /** the model whose apply is applyTasks */
  model: MetaModel;
  /** the chunk's support and query sets stacked, x [T, N, ...] */
  support: MetaBatch;
  query: MetaBatch;
  /** tasks in the chunk */
  tasks: number;
  /** the per-task losses summed (taskSumLoss of the learner's loss) */
  loss: LossFn;
}

/**
 * A meta-gradient over a meta-batch with the tasks adapted `chunk` at a time (Infinity: all at
 * once). `metaLoss(traced, ctx)` builds one chunk's meta-objective from the traced
 * meta-parameters: the SUM over the chunk's tasks of their query losses, and (classification)
 * the MEAN accuracy. Returns the mean query loss, mean accuracy and d(mean loss)/d meta, as
 * meanOverTasks gives on the serial path.
 */
export function taskBatchedGrad<S extends ParamTree>(
  who: string, model: MetaModel, meta: S, tasks: readonly MetaTask[], chunk: number, lossFn: LossFn | undefined,
  metaLoss: (traced: S, ctx: TaskBatchContext) => { loss: Tensor; accuracy?: Tensor },
): MetaGradResult<S> {
  checkTasks(`${who}.metaGrad`, tasks);
  if (!(chunk >= 1)) throw new MetaError(`${who}: taskBatch chunk must be >= 1, got ${chunk}`);
  if (typeof metaLoss !== 'function') throw new MetaError(`${who}: taskBatchedGrad needs a metaLoss function, got ${typeof metaLoss}`);
  const batched = taskBatchedModel(who, model);
  const sumLoss = taskSumLoss(lossFn);
  const size = Math.min(Math.floor(chunk), tasks.length);
  // each chunk gives the sums over its tasks of query loss, accuracy and meta-gradient
  return meanOfParts(meta, tasks.length, Math.ceil(tasks.length / size), (i) => {
    const part = tasks.slice(i * size, (i + 1) * size);
    const t = part.length;
    const { support, query } = stackTasks(who, part);
    return tapeTaskGrad(meta, (m) => {
      const q = metaLoss(m, { model: batched, support, query, tasks: t, loss: sumLoss });
      return { loss: q.loss, accuracy: q.accuracy ? noGrad(() => mul(q.accuracy!, t)) : undefined };
    });
  });
}

/** MAML's meta-gradient with the tasks adapted `chunk` at a time (taskBatchedGrad with MAML's inner loop). */
export function taskBatchedMetaGrad<S extends ParamTree>(who: string, model: MetaModel, meta: S, tasks: readonly MetaTask[], o: TaskBatchOptions, chunk: number): MetaGradResult<S> {
  if (!o || typeof o !== 'object') throw new MetaError(`taskBatchedMetaGrad: options { innerSteps, innerLr, ... } must be an object, got ${String(o)}`);
  return taskBatchedGrad(who, model, meta, tasks, chunk, o.loss, (m, c) => {
    const fast = innerLoop(c.model, stackTree(m, c.tasks), c.support, {
      steps: o.innerSteps, lr: o.innerLr, createGraph: !o.firstOrder, adapt: o.adapt, loss: c.loss, training: o.training,
    });
    return batchLoss(c.model, fast, c.query, { loss: c.loss, step: o.innerSteps, training: o.training });
  });
}
