// What the model-based and learned-optimizer learners share: they are MetaLearners (the one
// contract of types.ts: init, metaGrad, scoreTask), and score query logits the same way.

import { noGrad } from '../tensor/tape.js';
import { ShapeError, fmtShape, MetaError } from '../core/errors.js';
import { cast, equal } from '../ops/elementwise.js';
import { crossEntropy } from '../ops/losses.js';
import { argmax, mean } from '../ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';
import type { LossFn, MetaLearner, MetaTask } from './types.js';

/** The model-based learners are plain MetaLearners (the old name, kept as an alias). */
export type ScoredLearner<S extends ParamTree = ParamTree> = MetaLearner<S>;

/** Cross-entropy of logits [Q, C] against int32 labels [Q], and the accuracy (no graph). */
export function scoreLogits(who: string, logits: Tensor, y: Tensor, loss?: LossFn): { loss: Tensor; accuracy: Tensor } {
  if (y.dtype !== 'int32' || y.rank !== 1 || logits.rank !== 2 || logits.shape[0] !== y.shape[0]) {
    throw new ShapeError(`${who}: query labels ${fmtShape(y.shape)} (${y.dtype}) must be int32 [${logits.shape[0]}] for logits ${fmtShape(logits.shape)}`);
  }
  return { loss: (loss ?? crossEntropy)(logits, y), accuracy: noGrad(() => mean(cast(equal(argmax(logits, -1), y), 'float32'))) };
}

/** The number of classes of a task: labels are 0..ways−1, read from the support set (host read on js/native). */
export function checkWays(who: string, task: MetaTask, ways: number): void {
  const y = task.support.y;
  if (y.dtype !== 'int32' || y.rank !== 1) throw new ShapeError(`${who}: support labels ${fmtShape(y.shape)} (${y.dtype}) must be int32 [N·K]`);
  if (y.shape[0]! % ways !== 0) throw new ShapeError(`${who}: ${y.shape[0]} support examples are not ${ways} classes × K shots`);
}

/** The embedding's feature size D from a backbone's parameters (its head's w is [D, ·]), and the dtype/backend to create new weights with. */
export function embeddingSize(who: string, params: ParamTree): { D: number; io: { dtype: Tensor['dtype']; backend: Tensor['backend'] } } {
  const w = (params as { head?: { w?: Tensor } }).head?.w;
  if (!w || w.rank !== 2) throw new MetaError(`${who}: init needs the embedding model's parameters with a head { w: [D, ·] } to read the feature size D`);
  return { D: w.shape[0]!, io: { dtype: w.dtype, backend: w.backend } };
}
