// The meta-learners of all four families over the nn/optim/data layers — gradient-based
// (MAML with exact second order, FOMAML, Reptile, ANIL, Meta-SGD, MAML++, iMAML), metric-based
// (Prototypical, Matching, Relation, Siamese, GNN, R2D2), model-based (MANN, Meta Networks,
// SNAIL, hypernetwork) and learned optimizers (the LSTM optimizer, the meta-learner LSTM) —
// with the one meta-training step, the one meta-test protocol and the learner registry.

export type { MetaLearner, GradientMetaLearner, TaskScore, ScoreOptions, MetaGradResult, MetaModel, MetaTask, MetaBatch, MetaApplyOptions, LossFn } from './types.js';
export { innerLoop, scoreAdapted, INNER_LOOP_OPTIONS, describeInnerLoop, batchLoss, defaultLoss, detachTree, traceTree, type InnerLoopOptions, type InnerLr, type EvalOptions } from './inner.js';
export { meanOverTasks, tapeTaskGrad, type TaskGrad } from './metabatch.js';
export { maml, fomaml, mamlTaskLoss, type MamlOptions } from './maml.js';
export { recomputedTaskGrad, checkpointedTaskGrad, defaultSegment, type RecomputeOptions, type CheckpointOptions } from './recompute.js';
export { taskBatchedGrad, taskBatchedMetaGrad, stackTasks, stackTree, taskSumLoss, taskChunk, type TaskBatch, type TaskBatchOptions, type TaskBatchContext } from './task-batch.js';
export { anil, type AnilOptions } from './anil.js';
export { metaSgd, type MetaSgdOptions, type MetaSgdParams } from './metasgd.js';
export { mamlPlusPlus, multiStepWeights, type MamlPlusPlusOptions, type MamlPlusPlusParams } from './mamlpp.js';
export { reptile, reptileSerial, type ReptileOptions } from './reptile.js';
export { imaml, conjugateGradient, type ImamlOptions } from './imaml.js';
export { evaluate, meanCi95, type EvaluateOptions, type EvaluateResult } from './evaluate.js';
export { metaStep, type OuterOptimizer, type MetaStepResult } from './step.js';
export { pretrained } from './pretrain.js';
export { metricLearner, taskWays, embedEpisode, classMeans, classSums, pairwiseCosine, accuracyOf, type MetricLearner, type EmbeddingModel, type EpisodeLoss, type EpisodeResult } from './metric.js';
export { protonet, featuresOf, type ProtonetOptions, type ProtonetParams } from './protonet.js';
export { matching, type MatchingOptions, type MatchingParams } from './matching.js';
export { relationNet, type RelationOptions, type RelationParams, type FeatureMapModel } from './relation.js';
export { siamese, type SiameseOptions, type SiameseParams } from './siamese.js';
export { gnn, type GnnOptions, type GnnParams } from './gnn.js';
export { r2d2, ridgeWeights, type R2d2Options, type R2d2Params } from './r2d2.js';
export {
  registerLearner, unregisterLearner, learnerEntry, learnerEntries, learnerOptions, entryModel, entryOptimizer, COMMON_OPTIONS,
  type LearnerEntry, type LearnerFamily, type BuildContext, type OptionSpec, type OptionValue, type ResolvedOptions,
} from './registry.js';
export { quadraticOptimizee, mlpOptimizee, type Optimizee, type QuadraticParams, type MlpOptimizeeParams } from './optimizees.js';
export {
  lstmOptimizer, lstmOptimizerAsOptimizer, trainLstmOptimizer, lstmOptimizerStep, initLstmOptimizer, preprocessGradient, unrollSegment, runOptimizer,
  type LstmOptimizerParams, type LstmOptimizerOptions, type LstmOptimizerConfig, type LstmOptimizerLearner, type Trajectory, type SegmentOptions,
} from './lstm-optimizer.js';
export { mann, mannLearner, accuracyByInstance, type Mann, type MannOptions, type MannParams } from './mann.js';
export { scoreLogits, type ScoredLearner } from './scored.js';
export { hypernet, type HypernetOptions, type HypernetParams } from './hypernet.js';
export { snail, denseBlock, attentionBlock, tcDepth, type SnailOptions, type SnailParams, type SnailNet } from './snail.js';
export { metaLearnerLstm, type MetaLstmOptions, type MetaLstmParams, type MetaLstmHooks, type MetaLstmLearner } from './meta-lstm.js';
export { metaNetworks, type MetaNetOptions, type MetaNetParams } from './metanet.js';
