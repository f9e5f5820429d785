// Optimizers over parameter trees; their state is a parameter tree too (so it serializes).

export type { LR, Optimizer } from './optimizer.js';
export { sgd, type SgdOptions, type SgdState } from './sgd.js';
export { adam, adamw, type AdamOptions, type AdamState } from './adam.js';
export { rmsprop, type RmspropOptions } from './rmsprop.js';
export { clipGradNorm, clipByGlobalNorm } from './clip.js';
export { schedules } from './schedules.js';
