// Creating tensors: from values, constants, ranges and identity matrices.

import { getBackend, type BackendName } from '../backend/registry.js';
import type { Backend, Storage } from '../backend/kernels.js';
import { DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { type DType, type TypedArray, checkDType, hostArray } from '../core/dtype.js';
import { checkShape, numel } from '../core/shape.js';
import { StorageRef, Tensor } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  backend?: BackendName | Backend;
  requiresGrad?: boolean;
}

export type NestedArray = number | boolean | readonly NestedArray[];

export function resolveBackend(b: BackendName | Backend | undefined): Backend {
  if (b === undefined || typeof b === 'string') return getBackend(b);
  return b;
}

/** Wrap a fresh storage as a contiguous tensor (internal to ops and backends). */
export function fromStorage(storage: Storage, shape: readonly number[], backend: Backend): Tensor {
  return new Tensor(new StorageRef(storage, backend), shape, storage.dtype);
}

function checkBackendDType(backend: Backend, dtype: DType, op: string): void {
  if (!backend.supportsDType(dtype)) throw new DTypeError(`${op}: backend '${backend.name}' does not support dtype ${dtype}`);
}

function flatten(data: NestedArray, op: string): { values: number[]; shape: number[] } {
  const shape: number[] = [];
  let probe: NestedArray = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0] as NestedArray;
  }
  const values: number[] = [];
  const walk = (x: NestedArray, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(x)) throw new ShapeError(`${op}: ragged nested array at ${path}: expected a number, got an array`);
      values.push(typeof x === 'boolean' ? Number(x) : (x as number));
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      throw new ShapeError(`${op}: ragged nested array at ${path}: expected length ${shape[depth]}, got ${Array.isArray(x) ? x.length : 'a number'}`);
    }
    x.forEach((y: NestedArray, i: number) => walk(y, depth + 1, `${path}[${i}]`));
  };
  walk(data, 0, 'data');
  return { values, shape };
}

/** A tensor from a number, nested arrays or a typed array (with `shape`). */
export function tensor(data: NestedArray | TypedArray, shapeOrOpts?: readonly number[] | CreateOptions, maybeOpts: CreateOptions = {}): Tensor {
  const opts = Array.isArray(shapeOrOpts) || shapeOrOpts === undefined ? maybeOpts : (shapeOrOpts as CreateOptions);
  const givenShape = Array.isArray(shapeOrOpts) ? checkShape(shapeOrOpts, 'tensor') : undefined;
  const backend = resolveBackend(opts.backend);
  let values: ArrayLike<number>;
  let shape: number[];
  let dtype: DType;
  if (ArrayBuffer.isView(data)) {
    values = data as TypedArray;
    shape = givenShape ?? [values.length];
    dtype = opts.dtype ?? (data instanceof Int32Array ? 'int32' : data instanceof Float64Array ? 'float64' : 'float32');
  } else {
    const f = flatten(data as NestedArray, 'tensor');
    values = f.values;
    shape = givenShape ?? f.shape;
    dtype = opts.dtype ?? 'float32';
  }
  checkDType(dtype, 'tensor');
  if (numel(shape) !== values.length) {
    throw new ShapeError(`tensor: ${values.length} values cannot have shape ${fmtShape(shape)} (${numel(shape)} elements)`);
  }
  checkBackendDType(backend, dtype, 'tensor');
  const host = hostArray(dtype, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (dtype === 'int32' && !Number.isInteger(v)) throw new DTypeError(`tensor: value ${v} at flat index ${i} is not an integer, but dtype is int32`);
    host[i] = v;
  }
  const t = fromStorage(backend.upload(host, dtype), shape, backend);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** A 0-d tensor. */
export function scalar(value: number, opts: CreateOptions = {}): Tensor {
  return tensor(value, [], opts);
}

export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  const s = checkShape(shape, 'full');
  const dtype = checkDType(opts.dtype ?? 'float32', 'full');
  const backend = resolveBackend(opts.backend);
  checkBackendDType(backend, dtype, 'full');
  if (dtype === 'int32' && !Number.isInteger(value)) throw new DTypeError(`full: value ${value} is not an integer, but dtype is int32`);
  const t = fromStorage(backend.fill(numel(s), value, dtype), s, backend);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

export function zerosLike(x: Tensor, opts: CreateOptions = {}): Tensor {
  return full(x.shape, 0, { dtype: x.dtype, backend: x.backend, ...opts });
}

export function onesLike(x: Tensor, opts: CreateOptions = {}): Tensor {
  return full(x.shape, 1, { dtype: x.dtype, backend: x.backend, ...opts });
}

export function fullLike(x: Tensor, value: number, opts: CreateOptions = {}): Tensor {
  return full(x.shape, value, { dtype: x.dtype, backend: x.backend, ...opts });
}

/** start, start+step, ... below stop (numpy's arange). */
export function arange(start: number, stop?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new ShapeError(`arange: step must be a finite non-zero number, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const host = new Float64Array(n);
  for (let i = 0; i < n; i++) host[i] = start + i * step;
  const dtype = opts.dtype ?? (Number.isInteger(start) && Number.isInteger(step) ? 'int32' : 'float32');
  return tensor(host, [n], { ...opts, dtype });
}

/** n evenly spaced values from start to stop inclusive. */
export function linspace(start: number, stop: number, n: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new ShapeError(`linspace: n must be a non-negative integer, got ${n}`);
  const host = new Float64Array(n);
  for (let i = 0; i < n; i++) host[i] = n === 1 ? start : start + ((stop - start) * i) / (n - 1);
  return tensor(host, [n], { dtype: 'float32', ...opts });
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  const host = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) host[i * m + i] = 1;
  return tensor(host, [n, m], { dtype: 'float32', ...opts });
}
