// Parameter-free layers as plain functions: pooling, flattening, activations.

import { ShapeError, fmtShape } from '../core/errors.js';
import { expectOptions } from '../core/shape.js';
import { expectTensor } from '../tensor/tensor.js';
import { elu, gelu, leakyRelu, silu, softplus } from '../ops/activations.js';
import { relu, sigmoid, tanh } from '../ops/elementwise.js';
import { avgPoolAs, maxPoolAs, type Pool2dOptions } from '../ops/pool.js';
import { flatten as flattenOp, reshape } from '../ops/shape-ops.js';
import type { Tensor } from '../tensor/tensor.js';

// the layers' defaults: kernel 2; stride and padding passed on only when given
const poolOptions = (opts: Partial<Pool2dOptions>): Pool2dOptions => ({
  kernelSize: opts.kernelSize ?? 2,
  ...(opts.stride !== undefined ? { stride: opts.stride } : {}),
  ...(opts.padding !== undefined ? { padding: opts.padding } : {}),
});

/** Max pooling (NCHW); kernel 2 (stride = kernel) by default. */
export function maxPool(x: Tensor, opts: Partial<Pool2dOptions> = {}): Tensor {
  expectOptions(opts, 'maxPool');
  return maxPoolAs('maxPool', x, poolOptions(opts));
}

/**
 * maxPool(relu(x)), computed as relu(maxPool(x)): max-pooling commutes with ReLU (a monotone
 * map), the values and gradients are the same (ReLU's gradient is 0 wherever a window's max is
 * ≤ 0, and it keeps the order of positives, so the argmax is the same), and ReLU and its mask
 * run on the pooled quarter of the data instead of all of it.
 */
export function reluMaxPool(x: Tensor, opts: Partial<Pool2dOptions> = {}): Tensor {
  expectOptions(opts, 'reluMaxPool');
  return relu(maxPoolAs('reluMaxPool', x, poolOptions(opts)));
}

/** Average pooling (NCHW); kernel 2 by default. */
export function avgPool(x: Tensor, opts: Partial<Pool2dOptions> = {}): Tensor {
  expectOptions(opts, 'avgPool');
  return avgPoolAs('avgPool', x, poolOptions(opts));
}

/**
 * Flatten from startAxis on, keeping the batch axis by default (PyTorch's nn.Flatten): [N, ...] -> [N, prod(...)].
 * @deprecated the same as the op `mg.flatten(x, startAxis)` with another default; use `flattenBatch(x)`
 * for [N, ...] -> [N, prod(...)], or the op. (Kept because nn exported it.)
 */
export function flatten(x: Tensor, startAxis = 1): Tensor {
  return flattenOp(x, startAxis);
}

/** [N, ...] -> [N, prod(...)] */
export function flattenBatch(x: Tensor): Tensor {
  expectTensor(x, 'flattenBatch');
  if (x.rank < 1) throw new ShapeError(`flattenBatch: input must have a batch axis, got ${fmtShape(x.shape)}`);
  return reshape(x, [x.shape[0]!, -1]);
}

export type ActivationName = 'relu' | 'tanh' | 'sigmoid' | 'leakyRelu' | 'elu' | 'gelu' | 'silu' | 'softplus' | 'identity';

export const activations: Record<ActivationName, (x: Tensor) => Tensor> = {
  relu, tanh, sigmoid,
  leakyRelu: (x) => leakyRelu(x),
  elu: (x) => elu(x),
  gelu, silu, softplus,
  identity: (x) => x,
};

export function activation(name: ActivationName): (x: Tensor) => Tensor {
  const f = activations[name];
  if (!f) throw new ShapeError(`activation: unknown activation '${String(name)}' (expected ${Object.keys(activations).join(', ')})`);
  return f;
}
