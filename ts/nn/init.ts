// Weight initializers. Uniform fan-in scaling (PyTorch's default for linear and conv
// layers: U(-1/sqrt(fanIn), 1/sqrt(fanIn))) and Glorot/Xavier (the MAML reference).

import { ShapeError } from '../core/errors.js';
import type { Rng } from '../ops/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/create.js';
import type { InitOptions } from './model.js';

export type Initializer = 'uniform' | 'glorot' | 'zeros';

/** A weight of `shape` with the given fan-in/fan-out, drawn by `kind`. */
export function initWeight(rng: Rng, shape: readonly number[], fanIn: number, fanOut: number, kind: Initializer, opts: InitOptions = {}): Tensor {
  const o = { dtype: opts.dtype ?? 'float32', backend: opts.backend };
  switch (kind) {
    case 'zeros':
      return zeros(shape, o);
    case 'uniform': {
      const b = 1 / Math.sqrt(fanIn);
      return rng.uniform(shape, -b, b, o);
    }
    case 'glorot': {
      const b = Math.sqrt(6 / (fanIn + fanOut));
      return rng.uniform(shape, -b, b, o);
    }
    default:
      throw new ShapeError(`initWeight: unknown initializer '${String(kind)}' (expected uniform, glorot or zeros)`);
  }
}

export function checkPositiveInt(v: unknown, what: string, fn: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ShapeError(`${fn}: ${what} must be a positive integer, got ${String(v)}`);
  return v;
}
