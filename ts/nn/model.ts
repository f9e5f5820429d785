// The model contract: a model is a pair of pure functions over a parameter tree.
// MAML's fast weights are just another tree passed to the same apply.

import type { Backend } from '../backend/kernels.js';
import type { BackendName } from '../backend/registry.js';
import type { DType } from '../core/dtype.js';
import type { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';

export interface InitOptions {
  dtype?: DType;
  backend?: BackendName | Backend;
}

export interface ApplyOptions {
  /** Batch norm: true uses batch statistics (and lets applyWithState update running ones). */
  training?: boolean;
  /** inner-loop step index, for per-step batch norm (MAML++) */
  step?: number;
  /**
   * Non-trainable state (running batch-norm statistics, from initState/applyWithState).
   * Read only when not training; 'running' batch norm needs it then.
   */
  state?: ParamTree;
}

export interface Model<P extends ParamTree = ParamTree> {
  init(rng: Rng, opts?: InitOptions): P;
  apply(params: P, x: Tensor, opts?: ApplyOptions): Tensor;
  /** Models with running statistics: the initial state (a ParamTree, so it serializes). */
  initState?(opts?: InitOptions): ParamTree;
  /**
   * One forward pass that also returns the updated state (running statistics moved
   * towards this batch's when training; unchanged otherwise). Old state is not disposed.
   */
  applyWithState?(params: P, state: ParamTree, x: Tensor, opts?: ApplyOptions): { y: Tensor; state: ParamTree };
  /**
   * Task-batched apply (MAML's taskBatch): T tasks at once. Every leaf of params carries a
   * leading task dimension (T tasks' fast weights stacked), x is [T, N, ...] (N inputs per
   * task), the result [T, N, ...]; slice t equals apply(params[t], x[t]) — batch statistics
   * included, which stay per task.
   */
  applyTasks?(params: P, x: Tensor, opts?: ApplyOptions): Tensor;
  /** The dotted name of the final layer's subtree in the parameter tree (conv4: 'head', mlp: 'layers.<last>'); ANIL adapts it. */
  readonly head?: string;
  /** The representation before the final (head) layer, [N, D]; see embed(). */
  features?(params: P, x: Tensor, opts?: ApplyOptions): Tensor;
}
