// The functions the learned optimizers are trained to minimize (Andrychowicz et al. 2016):
//   quadratic:  f(θ) = ‖Wθ − y‖², θ [d, 1] per function (W, y from data/quadratic.ts), θ₀ ~ N(0, 0.01²)
//               as in the paper's reference code; a task stacks `count` independent functions and f is
//               their mean, as there (so each θ_i sees ∇f_i / count: train and test at one count);
//   mlp:        an MLP classifier (one hidden layer of 20 sigmoid units, the paper's MNIST network)
//               trained by cross-entropy on a task's support batch.
// Each is a Model (init/apply over a parameter tree) plus its loss.

import { ShapeError, fmtShape } from '../core/errors.js';
import { mul, sigmoid, square, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { reshape } from '../ops/shape-ops.js';
import type { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ParamTree } from '../tensor/tree.js';
import { linear } from '../nn/linear.js';
import type { InitOptions, Model } from '../nn/model.js';
import { defaultLoss } from './inner.js';
import { quadraticModel, type QuadraticParams } from '../data/quadratic.js';
import type { LossFn } from './types.js';

export interface Optimizee<P extends ParamTree = any> {
  model: Model<P>;
  loss: LossFn;
}

export type { QuadraticParams } from '../data/quadratic.js';

/** θ [count, d, 1]; apply(θ, W [count, d, d]) = Wθ; loss = mean over the functions of ‖Wθ − y‖². */
export function quadraticOptimizee(opts: { dims?: number; count?: number; initStd?: number } = {}): Optimizee<QuadraticParams> {
  const n = opts.count ?? 1;
  const model = quadraticModel(opts);
  const loss: LossFn = (pred, y) => {
    if (y.shape.length !== pred.shape.length || y.shape.some((s, i) => s !== pred.shape[i])) throw new ShapeError(`quadraticOptimizee.loss: y ${fmtShape(y.shape)} must match Wθ ${fmtShape(pred.shape)}`);
    return mul(sum(square(sub(pred, y))), 1 / n);
  };
  return { model, loss };
}

export type MlpOptimizeeParams = { hidden: { w: Tensor; b: Tensor }; out: { w: Tensor; b: Tensor } };

/** inputs (any shape, flattened per example) → `hidden` sigmoid units → `classes` logits; cross-entropy. */
export function mlpOptimizee(opts: { inputs: number; classes: number; hidden?: number }): Optimizee<MlpOptimizeeParams> {
  const h = opts.hidden ?? 20;
  for (const [k, v] of [['inputs', opts.inputs], ['classes', opts.classes], ['hidden', h]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ShapeError(`mlpOptimizee: ${k} must be a positive integer, got ${v}`);
  }
  const model: Model<MlpOptimizeeParams> = {
    init: (rng: Rng, o: InitOptions = {}) => ({
      hidden: linear.init(rng, opts.inputs, h, o) as { w: Tensor; b: Tensor },
      out: linear.init(rng, h, opts.classes, o) as { w: Tensor; b: Tensor },
    }),
    apply(p: MlpOptimizeeParams, x: Tensor): Tensor {
      const flat = reshape(x, [x.shape[0]!, -1]);
      if (flat.shape[1] !== opts.inputs) throw new ShapeError(`mlpOptimizee.apply: input ${fmtShape(x.shape)} has ${flat.shape[1]} features per example, expected ${opts.inputs}`);
      return linear.apply(p.out, sigmoid(linear.apply(p.hidden, flat)));
    },
  };
  return { model, loss: defaultLoss };
}
