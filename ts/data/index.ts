// Task distributions: sinusoid regression and Omniglot N-way K-shot episodes.

export type { Batch, Task } from './task.js';
export { SinusoidTasks, type SinusoidOptions } from './sinusoid.js';
