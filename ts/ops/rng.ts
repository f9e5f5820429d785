// Rng: an explicit, seeded, counter-based generator (Philox4x32-10). The same seed gives
// the same bits on every backend: tensors are filled by the backend's own Philox kernel
// at the generator's counter, and host-side draws use the same function.

import type { BackendName } from '../backend/registry.js';
import type { Backend } from '../backend/kernels.js';
import { ShapeError, ValueError } from '../core/errors.js';
import { type DType } from '../core/dtype.js';
import { fromStorage, resolveBackend, tensor } from '../tensor/create.js';
import { philoxBlock } from '../core/philox.js';
import { checkShape, numel } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, mul } from './elementwise.js';
import { noGrad } from '../tensor/tape.js';
import { scope } from '../tensor/scope.js';

export interface RandomOptions {
  dtype?: DType;
  backend?: BackendName | Backend;
}

export class Rng {
  /** Philox key (two uint32). */
  readonly key: readonly [number, number];
  /** Next unused 128-bit block. */
  private counter = 0;
  private buffered: number[] = [];

  constructor(seed: number | readonly [number, number] = 0) {
    if (typeof seed === 'number') {
      if (!Number.isSafeInteger(seed) || seed < 0) throw new ValueError(`Rng: seed must be a non-negative safe integer, got ${seed}`);
      this.key = [seed >>> 0, Math.floor(seed / 4294967296) >>> 0];
    } else {
      this.key = [seed[0] >>> 0, seed[1] >>> 0];
    }
  }

  /** Take n fresh blocks; returns the first block index. */
  private take(blocks: number): number {
    this.buffered = [];
    const c = this.counter;
    this.counter += blocks;
    return c;
  }

  /** A new independent generator (derived from this one's key and counter). */
  split(): Rng {
    const w = [0, 0, 0, 0];
    const c = this.take(1);
    philoxBlock(this.key[0], this.key[1], c >>> 0, Math.floor(c / 4294967296) >>> 0, 0x5eed, 1, w);
    return new Rng([w[0]!, w[1]!]);
  }

  /** Generators for n independent streams (e.g. one per task in a meta-batch). */
  splitN(n: number): Rng[] {
    return Array.from({ length: n }, () => this.split());
  }

  /** The next uint32, drawn on the host. */
  nextUint32(): number {
    if (this.buffered.length === 0) {
      const w = [0, 0, 0, 0];
      const c = this.take(1);
      philoxBlock(this.key[0], this.key[1], c >>> 0, Math.floor(c / 4294967296) >>> 0, 0, 0, w);
      this.buffered = w.reverse();
    }
    return this.buffered.pop()!;
  }

  /** A host float in [0, 1) (24 random bits, as the tensor kernels). */
  nextFloat(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** A host integer in [0, n), unbiased (rejection sampling). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new ShapeError(`Rng.nextInt: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const u = this.nextUint32();
      if (u < limit) return u % n;
    }
  }

  /** A host float in [low, high). */
  nextUniform(low = 0, high = 1): number {
    return low + (high - low) * this.nextFloat();
  }

  /** A host standard normal (Box-Muller). */
  nextNormal(): number {
    const u1 = ((this.nextUint32() >>> 8) + 1) / 16777216;
    const u2 = (this.nextUint32() >>> 8) / 16777216;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Shuffle a host array in place (Fisher-Yates). */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      [arr[i], arr[j]] = [arr[j]!, arr[i]!];
    }
    return arr;
  }

  /** k distinct integers from [0, n), in random order. */
  choice(n: number, k: number): number[] {
    if (k > n) throw new ShapeError(`Rng.choice: cannot draw ${k} distinct values from ${n}`);
    return this.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, k);
  }

  private fill(kind: 'uniform' | 'normal', shape: readonly number[], opts: RandomOptions, op: string): Tensor {
    const s = checkShape(shape, op);
    const backend = resolveBackend(opts.backend, op);
    const size = numel(s);
    const c = this.take(Math.ceil(size / 4));
    return fromStorage(backend.random(kind, this.key, c, size, opts.dtype ?? 'float32'), s, backend);
  }

  /** Uniform values in [low, high). */
  uniform(shape: readonly number[], low = 0, high = 1, opts: RandomOptions = {}): Tensor {
    if (low === 0 && high === 1) return this.fill('uniform', shape, opts, 'Rng.uniform');
    // the scope frees the unscaled draw and the product; only the result survives
    return noGrad(() => scope(() => add(mul(this.fill('uniform', shape, opts, 'Rng.uniform'), high - low), low)));
  }

  /** Normal values with the given mean and standard deviation. */
  normal(shape: readonly number[], mean = 0, std = 1, opts: RandomOptions = {}): Tensor {
    if (mean === 0 && std === 1) return this.fill('normal', shape, opts, 'Rng.normal');
    return noGrad(() => scope(() => add(mul(this.fill('normal', shape, opts, 'Rng.normal'), std), mean)));
  }

  /** int32 values in [low, high), drawn on the host (so identical everywhere). */
  integers(shape: readonly number[], low: number, high: number, opts: { backend?: BackendName | Backend } = {}): Tensor {
    const s = checkShape(shape, 'Rng.integers');
    if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) throw new ShapeError(`Rng.integers: need integers low < high, got ${low}, ${high}`);
    const vals = new Int32Array(numel(s));
    for (let i = 0; i < vals.length; i++) vals[i] = low + this.nextInt(high - low);
    return tensor(vals, s, { dtype: 'int32', backend: opts.backend });
  }

  /** A random permutation of 0..n-1 as an int32 tensor. */
  permutation(n: number, opts: { backend?: BackendName | Backend } = {}): Tensor {
    return tensor(Int32Array.from(this.shuffle(Array.from({ length: n }, (_, i) => i))), [n], { dtype: 'int32', backend: opts.backend });
  }
}
