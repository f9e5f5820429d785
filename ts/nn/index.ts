// Functional layers and backbones over parameter trees. Each layer is an { init, apply }
// pair; models implement the Model contract (model.ts).

export { type ParamTree, treeFlatten, treeUnflatten, treeLeaves, treeMap, treeZip } from '../tensor/tree.js';
export type { ApplyOptions, InitOptions, Model } from './model.js';
export { initWeight, type Initializer } from './init.js';
export { linear, type LinearParams, type LinearInitOptions } from './linear.js';
export { conv2d, type Conv2dParams, type Conv2dInitOptions } from './conv2d.js';
export {
  batchNorm, type BatchNormMode, type BatchNormConfig, type BatchNormParams, type BatchNormState, type BatchNormApplyOptions,
} from './batchnorm.js';
export { lstmCell, type LstmParams, type LstmState } from './lstm.js';
export { embedding, type EmbeddingParams } from './embedding.js';
export { maxPool, reluMaxPool, avgPool, flatten, flattenBatch, activation, activations, type ActivationName } from './functional.js';
export { mlp, sinusoidMLP, type MlpParams, type MlpOptions } from './mlp.js';
export { conv4, embed, type Conv4Options, type Conv4Params, type Conv4State, type Conv4Model } from './conv4.js';
