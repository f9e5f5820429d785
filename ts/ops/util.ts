// Checks and small helpers shared by every op file.

import type { View } from '../backend/kernels.js';
import { BackendError, DTypeError, IndexError, fmtShape } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import { fromStorage } from '../tensor/create.js';
import { Tensor, expectTensor } from '../tensor/tensor.js';
import { scope } from '../tensor/scope.js';
import type { Storage } from '../backend/kernels.js';

/**
 * An op's body runs in opScope: the temporaries it makes (contiguous copies, scalars,
 * intermediate results) are freed when it returns, and only its result stays alive — with
 * whatever the tape saved for the vjp, which the result's graph node references. It is
 * `scope` (ts/tensor/scope.ts) under the name that says why every op uses it.
 */
export const opScope: <T>(fn: () => T) => T = scope;

export type TensorLike = Tensor | number;

/** The argument must be a live Tensor. */
export const checkTensor: (x: unknown, op: string, what?: string) => Tensor = expectTensor;

export function checkFloat(op: string, ...xs: Tensor[]): void {
  for (const x of xs) {
    if (!isFloat(x.dtype)) throw new DTypeError(`${op}: expected a floating-point tensor, got ${x.dtype} ${fmtShape(x.shape)}`);
  }
}

export function checkSameBackend(op: string, ...xs: Tensor[]): void {
  const b = xs[0]!.backend;
  for (const x of xs) {
    if (x.backend !== b) {
      throw new BackendError(`${op}: tensors live on different backends (${xs.map((t) => t.backend.name).join(', ')}); move them with toBackend() first`);
    }
  }
}

export function checkSameDType(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new DTypeError(`${op}: dtypes differ: ${a.dtype} ${fmtShape(a.shape)} vs ${b.dtype} ${fmtShape(b.shape)}; cast one first`);
  }
}

/**
 * int32 indices must lie in [0, limit). Checked on the host where the backend reads
 * synchronously (js, native); elsewhere (WebGPU) the backend's deferred check flags a bad
 * index on the device and the next read raises it, naming the op.
 */
export function checkIndices(op: string, idx: Tensor, limit: number): void {
  if (idx.dtype !== 'int32') throw new DTypeError(`${op}: indices must be int32, got ${idx.dtype} ${fmtShape(idx.shape)}`);
  if (idx.size === 0) return;
  if (idx.backend.readSync) {
    const vals = idx.dataSync();
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i]!;
      if (v < 0 || v >= limit) throw new IndexError(`${op}: index ${v} at flat position ${i} of indices ${fmtShape(idx.shape)} is out of range [0, ${limit})`);
    }
  } else if (idx.backend.checkIndices) {
    idx.backend.checkIndices(idx, limit, `${op}: an index of indices ${fmtShape(idx.shape)} is out of range [0, ${limit})`);
  } else {
    throw new BackendError(`${op}: backend '${idx.backend.name}' can neither read indices synchronously nor check them on the device`);
  }
}

/** Numbers become 0-d tensors with the dtype and backend of `like`. */
export function toTensor(x: TensorLike, like: Tensor, op: string): Tensor {
  if (typeof x === 'number') {
    return fromStorage(like.backend.fill(1, x, like.dtype), [], like.backend);
  }
  return checkTensor(x, op);
}

/** A new tensor reading x's storage through another view (no copy). */
export function makeView(x: Tensor, shape: readonly number[], strides: readonly number[], offset: number, op: string): Tensor {
  return new Tensor(x._buf(op).retain(), shape, x.dtype, strides, offset);
}

/** A kernel view of x broadcast (0 strides) to `shape`; shape must be a valid broadcast target. */
export function broadcastView(x: Tensor, shape: readonly number[]): View {
  const rank = shape.length;
  const strides = new Array<number>(rank).fill(0);
  for (let i = 0; i < x.rank; i++) {
    const j = rank - x.rank + i;
    strides[j] = x.shape[i] === 1 && shape[j] !== 1 ? 0 : x.strides[i]!;
  }
  return { storage: x.storage, shape, strides, offset: x.offset };
}

export function wrap(storage: Storage, shape: readonly number[], like: Tensor): Tensor {
  return fromStorage(storage, shape, like.backend);
}

