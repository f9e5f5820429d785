// The shapes the meta-learners speak. Model and Task are structural copies of ts/nn's and
// ts/data's contracts (a Model is init/apply over a parameter tree; a Task is a support
// and a query batch), so the algorithms depend only on that small surface.

import type { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';
import type { Optimizer } from '../optim/optimizer.js';

export interface MetaApplyOptions {
  training?: boolean;
  /** inner-loop step index (per-step batch norm, MAML++) */
  step?: number;
}

/** What a meta-learner needs of a model: a pure function of a parameter tree. */
export interface MetaModel<P extends ParamTree = ParamTree> {
  apply(params: P, x: Tensor, opts?: MetaApplyOptions): Tensor;
  /** T tasks at once: every leaf of params [T, ...], x [T, N, ...] -> [T, N, ...] (see ts/nn/model.ts; MAML's taskBatch) */
  applyTasks?(params: P, x: Tensor, opts?: MetaApplyOptions): Tensor;
  /** the dotted name of the final layer's subtree (ANIL adapts it), e.g. 'head' or 'layers.2' */
  readonly head?: string;
}

export interface MetaBatch {
  x: Tensor;
  /** regression: float [N, 1]; classification: int32 [N] */
  y: Tensor;
}

export interface MetaTask {
  support: MetaBatch;
  query: MetaBatch;
  /** classification: the number of classes (EpisodeSampler sets it; metric learners read it) */
  ways?: number;
}

/** A loss of predictions against targets (default: cross-entropy for int32 targets, MSE otherwise). */
export type LossFn = (pred: Tensor, target: Tensor) => Tensor;

/** The result of a meta-gradient over a meta-batch: all tensors, so no backend has to read synchronously. */
export interface MetaGradResult<S extends ParamTree = ParamTree> {
  /** mean post-adaptation query loss (0-d) */
  loss: Tensor;
  /** mean post-adaptation query accuracy (0-d), classification only */
  accuracy?: Tensor;
  /** gradient of the meta-objective with respect to every meta-parameter */
  grads: S;
}

/** What meta-testing one task gives: its query loss and (classification) accuracy, 0-d tensors. */
export interface TaskScore {
  loss: Tensor;
  accuracy?: Tensor;
}

export interface ScoreOptions {
  loss?: LossFn;
  /** batch-norm flag handed to the model (default true: transductive statistics) */
  training?: boolean;
}

/**
 * Every family of meta-learner behind one interface: meta-parameters made from a model's
 * freshly initialised parameters, their meta-gradient on a meta-batch of tasks (the one
 * training step, metaStep, serves every family), and the meta-test of one task (the one
 * evaluation protocol, evaluate). What "adapting to the support set" means is the
 * learner's business: gradient steps, class prototypes, one forward pass of a memory
 * model, or an unrolled learned optimizer.
 */
export interface MetaLearner<S extends ParamTree = ParamTree> {
  readonly name: string;
  /** The meta-parameters for a model's initial parameters (takes ownership of nothing: copies where it adds leaves). */
  init(params: ParamTree): S;
  /** Mean meta-loss over the tasks, accuracy (classification) and d loss / d meta. Frees its intermediates. */
  metaGrad(meta: S, tasks: readonly MetaTask[]): MetaGradResult<S>;
  /** Meta-test ONE task: adapt to / read its support set, score its query set; no graph kept. */
  scoreTask(meta: S, task: MetaTask, opts?: ScoreOptions): TaskScore;
  /** Tell the learner the outer iteration (schedules such as MAML++'s annealing). */
  setIteration?(iteration: number): void;
  /**
   * A learner whose schedule makes several outer updates per meta-batch (the LSTM optimizer:
   * one per truncation of the unrolled trajectories) runs the whole iteration here; metaStep
   * calls it instead of metaGrad and one update. Old meta and optState are disposed when replaced.
   */
  metaUpdate?(meta: S, optimizer: Optimizer, optState: ParamTree, tasks: readonly MetaTask[], opts?: { clipNorm?: number }): { meta: S; optState: ParamTree; loss: Tensor; accuracy?: Tensor };
}

/** Gradient-based learners (MAML ... iMAML) also expose their adaptation. */
export interface GradientMetaLearner<S extends ParamTree = ParamTree> extends MetaLearner<S> {
  /** Task-specific parameters after adaptation on a support set (no graph kept). */
  adapt(meta: S, support: MetaBatch): ParamTree;
  /** The model parameters inside the meta-parameters. */
  modelParams(meta: S): ParamTree;
  /** The inner-step index the model sees when the adapted parameters score a query set (per-step batch norm). */
  readonly queryStep?: number;
}
