// The sinusoid regression network of the MAML paper: 1 -> 40 -> 40 -> 1 with ReLU.

import { ShapeError, fmtShape } from '../core/errors.js';
import { expectOptions } from '../core/shape.js';
import { relu } from '../ops/elementwise.js';
import type { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkPositiveInt } from './init.js';
import { linear } from './linear.js';
import type { ApplyOptions, InitOptions, Model } from './model.js';

export type MlpParams = { layers: { w: Tensor; b: Tensor }[] };

export interface MlpOptions {
  inputs?: number;
  outputs?: number;
  hidden?: number[];
}

/** A ReLU MLP; layers.{i}.w [in, out], layers.{i}.b [out]. The last layer is linear. */
export function mlp(opts: MlpOptions = {}): Model<MlpParams> {
  expectOptions(opts, 'mlp');
  const sizes = [opts.inputs ?? 1, ...(opts.hidden ?? [40, 40]), opts.outputs ?? 1];
  sizes.forEach((s, i) => checkPositiveInt(s, `layer size ${i}`, 'mlp'));
  const hiddenPass = (params: MlpParams, x: Tensor): Tensor => {
    if (!params || !Array.isArray(params.layers) || params.layers.length !== sizes.length - 1) {
      throw new ShapeError(`mlp.apply: params.layers must hold ${sizes.length - 1} layers for sizes ${JSON.stringify(sizes)}`);
    }
    if (x.rank !== 2 || x.shape[1] !== sizes[0]) throw new ShapeError(`mlp.apply: input ${fmtShape(x.shape)} must be [N, ${sizes[0]}]`);
    let h = x;
    for (let i = 0; i < params.layers.length - 1; i++) h = relu(linear.apply(params.layers[i]!, h));
    return h;
  };
  return {
    head: `layers.${sizes.length - 2}`,
    init(rng: Rng, o: InitOptions = {}): MlpParams {
      const layers = [];
      for (let i = 0; i < sizes.length - 1; i++) layers.push(linear.init(rng, sizes[i]!, sizes[i + 1]!, o) as { w: Tensor; b: Tensor });
      return { layers };
    },
    apply(params: MlpParams, x: Tensor, _opts?: ApplyOptions): Tensor {
      return linear.apply(params.layers[params.layers.length - 1]!, hiddenPass(params, x));
    },
    /** T tasks at once: every leaf [T, ...] (stacked fast weights), x [T, N, in] -> [T, N, out]: batched matmuls */
    applyTasks(params: MlpParams, x: Tensor, _opts?: ApplyOptions): Tensor {
      if (!params || !Array.isArray(params.layers) || params.layers.length !== sizes.length - 1) {
        throw new ShapeError(`mlp.applyTasks: params.layers must hold ${sizes.length - 1} layers for sizes ${JSON.stringify(sizes)}`);
      }
      if (x.rank !== 3 || x.shape[2] !== sizes[0]) throw new ShapeError(`mlp.applyTasks: input ${fmtShape(x.shape)} must be [T, N, ${sizes[0]}] (T tasks of N inputs)`);
      let h = x;
      params.layers.forEach((l, i) => {
        h = linear.applyTasks(l, h);
        if (i < params.layers.length - 1) h = relu(h);
      });
      return h;
    },
    features(params: MlpParams, x: Tensor): Tensor {
      return hiddenPass(params, x);
    },
  };
}

/** 1 -> 40 -> 40 -> 1, ReLU (MAML's sinusoid network); x [N, 1] -> [N, 1]. */
export function sinusoidMLP(opts: { hidden?: number[] } = {}): Model<MlpParams> {
  expectOptions(opts, 'sinusoidMLP');
  return mlp({ inputs: 1, outputs: 1, hidden: opts.hidden ?? [40, 40] });
}
