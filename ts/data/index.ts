// Task distributions: sinusoid regression and Omniglot N-way K-shot episodes.

export type { Batch, Task } from './task.js';
export { SinusoidTasks, type SinusoidOptions } from './sinusoid.js';
export { QuadraticTasks, type QuadraticOptions } from './quadratic.js';
export { loadOmniglot, Omniglot, type OmniglotSplit, type LoadOmniglotOptions } from './omniglot.js';
export { OmniglotClasses, type OmniglotCharacter, type OmniglotClass, type OmniglotStore } from './omniglot-classes.js';
export { EpisodeSampler, type EpisodeOptions, type ClassSource } from './episodes.js';
export { LabelSequenceSampler, type LabelSequenceOptions, type LabelSequences } from './label-sequences.js';
export { areaWeights, resizeArea } from './image.js';
export { packageRoot } from './paths.js';
