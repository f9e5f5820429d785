// Tasks: a support set to adapt on and a query set to evaluate the adapted model.

import type { Tensor } from '../tensor/tensor.js';

/** regression: y float [N, 1]; classification: y int32 [N] (labels 0..ways-1) */
export interface Batch {
  x: Tensor;
  y: Tensor;
}

export interface Task {
  support: Batch;
  query: Batch;
  /** classification: the number of classes (labels 0..ways-1), when the sampler knows it */
  ways?: number;
}
