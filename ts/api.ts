// The public API shared by the Node entry (index.ts) and the browser entry (browser.ts):
// browser-safe modules only. A test bundles browser.ts for the browser and fails on any
// Node built-in reached from here.

export * from './core/errors.js';
export { checkOption, resolveOptions, defaultOf, defaultHelp, flagOf, type OptionDefault, type OptionSpecs } from './core/options.js';
export type { DType, FloatDType, TypedArray } from './core/dtype.js';
export { Tensor, liveTensorCount } from './tensor/tensor.js';
export { scope, keep, disposeAll } from './tensor/scope.js';
export * from './tensor/create.js';
export { Rng } from './ops/rng.js';
export { philoxFill } from './core/philox.js';
export * from './tensor/tree.js';
export { broadcastShapes, numel } from './core/shape.js';

export type {
  Storage, View, UnaryOp, BinaryOp, ReduceOp, ArgReduceOp, MatView, MatmulDims, Conv2dGeometry, Pool2dGeometry, ChannelDims,
  TriangularSolveDims, RandomKind, MemoryInfo, Backend,
} from './backend/kernels.js';
export {
  registerBackend, registeredBackends, initBackend, getBackend, setBackend, withBackend, currentBackend,
  backendAvailable, backendFailure, shutdownBackends, type BackendName,
} from './backend/registry.js';
export { toBackend } from './tensor/transfer.js';

export * from './ops/elementwise.js';
export * from './ops/activations.js';
export * from './ops/reduce.js';
export * from './ops/softmax.js';
export * from './ops/shape-ops.js';
export * from './ops/matmul.js';
export * from './ops/conv.js';
export { maxPool2d, avgPool2d, type Pool2dOptions } from './ops/pool.js';
// the recordChannel* helpers stay internal (the fused batch-norm kernels' tape records)
export { channelAffine, channelAxes, channelDims, channelDot, channelSum, checkChannelVector } from './ops/channel.js';
export * from './ops/batchnorm.js';
export * from './ops/indexing.js';
export * from './ops/losses.js';
export * from './ops/distance.js';
export * from './ops/linalg.js';

export { noGrad, detach, stopGradient, requireGrad, isGradEnabled } from './tensor/tape.js';
export { gradients, type GradOptions } from './autodiff/backward.js';
export { grad, valueAndGrad, vjp, jvp, hvp, hessian, type GradsAt } from './autodiff/functional.js';
export { gradcheck, gradgradcheck, type GradcheckOptions } from './autodiff/gradcheck.js';

// The nn layer pairs `linear` and `conv2d` and nn's `flatten` (batch kept) share names with
// the ops; the top level keeps the ops, and every nn export is also reachable as `nn.*`.
export { linear } from './ops/matmul.js';
export { conv2d } from './ops/conv.js';
export { flatten } from './ops/shape-ops.js';
export * from './nn/index.js';
export * as nn from './nn/index.js';
export * from './optim/index.js';
export * from './data/core.js';
export * from './io/core.js';
export * from './meta/index.js';
// The meta layer's entry points with their arguments checked (./meta/validated.ts): these
// names shadow the unchecked ones of the `export *` above (an explicit export wins).
export {
  maml, fomaml, anil, metaSgd, mamlPlusPlus, reptile, imaml, pretrained, protonet, matching, r2d2, relationNet, siamese, gnn, mann, mannLearner, hypernet, metaNetworks, snail,
  metaLearnerLstm, lstmOptimizer, innerLoop, scoreAdapted, batchLoss, defaultLoss, describeInnerLoop, meanOverTasks, tapeTaskGrad, mamlTaskLoss,
  recomputedTaskGrad, checkpointedTaskGrad, taskBatchedGrad, taskBatchedMetaGrad, stackTasks, stackTree, taskSumLoss, reptileSerial, conjugateGradient, evaluate, meanCi95, metaStep, taskWays, embedEpisode, classSums, classMeans, featuresOf, pairwiseCosine, accuracyOf, preprocessGradient,
  metricLearner, multiStepWeights, defaultSegment, tcDepth,
  ridgeWeights, scoreLogits, learnerOptions, entryModel, entryOptimizer, quadraticOptimizee, mlpOptimizee, initLstmOptimizer, lstmOptimizerStep,
  lstmOptimizerAsOptimizer, unrollSegment, runOptimizer, trainLstmOptimizer, accuracyByInstance, denseBlock, attentionBlock,
} from './meta/validated.js';
