// Argument checks every learner shares: a task's support and query sets are batches
// { x, y } whose inputs and targets agree in number.

import { MetaError, ShapeError, fmtShape } from '../core/errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { MetaBatch, MetaTask } from './types.js';

/** `b` is a batch { x: Tensor, y: Tensor } with as many targets as inputs; `what` names it in the error. */
export function checkBatch(who: string, b: MetaBatch, what: string): void {
  if (!b || !(b.x instanceof Tensor) || !(b.y instanceof Tensor)) throw new MetaError(`${who}: ${what} must be a batch { x: Tensor, y: Tensor }`);
  if (b.x.shape[0] !== b.y.shape[0]) {
    throw new ShapeError(`${who}: ${what} has ${b.x.shape[0]} inputs (${fmtShape(b.x.shape)}) but ${b.y.shape[0]} targets (${fmtShape(b.y.shape)})`);
  }
}

/** Both of a task's sets are batches (checkBatch on task.support, then task.query). */
export function checkTask(who: string, task: MetaTask): void {
  checkBatch(who, task.support, 'task.support');
  checkBatch(who, task.query, 'task.query');
}
