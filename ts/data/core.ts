// Task distributions: regression (sinusoid, your own function families), N-way K-shot
// episodes over any class source (Omniglot, mini-ImageNet, your own labelled data).
// Browser-safe: the file loaders are in ./files.ts; ./index.ts (Node) exports both.

export type { Batch, Task } from './task.js';
export { SinusoidTasks, type SinusoidOptions } from './sinusoid.js';
export { QuadraticTasks, type QuadraticOptions } from './quadratic.js';
export { FunctionTasks, type FunctionFamily, type RegressionTaskSource } from './regression.js';
export { Omniglot, omniglotFromZips, buildOmniglotStore, encodeOmniglotCache, decodeOmniglotCache, type OmniglotSplit, type OmniglotSource } from './omniglot.js';
export { expandVinyalsSplit, type VinyalsSplit } from './omniglot-vinyals.js';
export { OmniglotClasses, type OmniglotCharacter, type OmniglotClass, type OmniglotStore } from './omniglot-classes.js';
export { EpisodeSampler, type EpisodeOptions, type ClassSource, type Episode } from './episodes.js';
export { LabelSequenceSampler, type LabelSequenceOptions, type LabelSequences } from './label-sequences.js';
export { ArrayDataset, DatasetClasses, datasetClasses, remapLabels, type LabelledDataset } from './labelled.js';
export { ImageClasses, type ImageClass, type ImageStore } from './image-classes.js';
export { decodeImage } from './decode-image.js';
export { decodePng, type DecodedImage } from './png.js';
export { areaWeights, resizeArea, resizeToPlanar } from './image.js';
export { registerTask, unregisterTask, taskEntry, taskEntries, type TaskEntry, type TaskInfo, type TaskSource, type BackboneOptions } from './registry.js';
export { sinusoidTask } from './sinusoid.js';
