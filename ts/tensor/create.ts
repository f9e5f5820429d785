// Creating tensors: from values, constants, ranges and identity matrices.

import { backendNamed, type BackendName } from '../backend/registry.js';
import type { Backend, Storage } from '../backend/kernels.js';
import { BackendError, DTypeError, ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { type DType, type TypedArray, bytesPerElement, checkDType, hostArray } from '../core/dtype.js';
import { checkShape, checkSize, describe, expectCaller, fmtBytes, numel } from '../core/shape.js';
import { StorageRef, Tensor, expectTensor } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  backend?: BackendName | Backend;
  requiresGrad?: boolean;
}

export type NestedArray = number | boolean | readonly NestedArray[];

/** @internal a backend by name, or the current one. */
/** A backend from its name or itself; `who` names the caller in the error for anything else. */
export function resolveBackend(b: BackendName | Backend | undefined, who = 'resolveBackend'): Backend {
  expectCaller(who, 'resolveBackend', 'who');
  if (b === undefined || typeof b === 'string') return backendNamed(b, who);
  if (b === null || typeof b !== 'object' || typeof (b as Partial<Backend>).supportsDType !== 'function') {
    throw new BackendError(`${who}: backend must be a backend name ('js', 'native', 'webgpu') or a Backend object, got ${describe(b)}`);
  }
  return b;
}

/** @internal wrap a fresh storage as a contiguous tensor (ops and backends). */
export function fromStorage(storage: Storage, shape: readonly number[], backend: Backend): Tensor {
  if (storage === null || typeof storage !== 'object' || backend === null || typeof backend !== 'object' || !Array.isArray(shape)) {
    throw new ValueError(`fromStorage: expected (a backend Storage, a shape array, its Backend), got ${describe(storage)}, ${describe(shape)} and ${describe(backend)}`);
  }
  return new Tensor(new StorageRef(storage, backend), shape, storage.dtype);
}

const OPTION_KEYS = ['dtype', 'backend', 'requiresGrad'];

/** @internal options must be a plain object of known keys: a misplaced or misspelt option is an error, never ignored. */
export function checkCreateOptions(opts: unknown, op: string): CreateOptions {
  expectCaller(op, 'checkCreateOptions');
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts) || ArrayBuffer.isView(opts)) {
    throw new ValueError(`${op}: options must be an object { dtype, backend, requiresGrad }, got ${describe(opts)}`);
  }
  for (const k of Object.keys(opts)) {
    if (!OPTION_KEYS.includes(k)) {
      const hint = k === 'shape' ? `; pass the shape as the second argument: ${op}(data, [${String((opts as { shape?: unknown }).shape)}], opts)` : '';
      throw new ValueError(`${op}: unknown option '${k}'; expected ${OPTION_KEYS.join(', ')}${hint}`);
    }
  }
  const o = opts as CreateOptions;
  if (o.requiresGrad !== undefined && typeof o.requiresGrad !== 'boolean') throw new ValueError(`${op}: requiresGrad must be a boolean, got ${describe(o.requiresGrad)}`);
  if (o.backend !== undefined && typeof o.backend !== 'string' && (typeof o.backend !== 'object' || o.backend === null)) {
    throw new ValueError(`${op}: backend must be a backend name or a Backend, got ${describe(o.backend)}`);
  }
  return o;
}

/** Gradients are for floating-point tensors only. */
function checkGradDType(dtype: DType, requiresGrad: boolean | undefined, op: string): void {
  if (requiresGrad && dtype === 'int32') throw new DTypeError(`${op}: an int32 tensor cannot require gradients (they are only defined for floating-point dtypes)`);
}

/** A backend allocation that cannot be satisfied becomes a BackendError naming the op, shape and bytes. */
function allocating<T>(op: string, shape: readonly number[], dtype: DType, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RangeError) {
      throw new BackendError(`${op}: cannot allocate ${dtype} ${fmtShape(shape)} (${fmtBytes(numel(shape) * bytesPerElement(dtype))}): ${e.message}`);
    }
    throw e;
  }
}

function checkBackendDType(backend: Backend, dtype: DType, op: string): void {
  if (!backend.supportsDType(dtype)) throw new DTypeError(`${op}: backend '${backend.name}' does not support dtype ${dtype}`);
}

/** A nested array literal as its row-major values and its shape (ragged nesting is an error). */
function flattenNested(data: NestedArray, op: string): { values: number[]; shape: number[] } {
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const values: number[] = [];
  const walk = (x: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(x)) throw new ShapeError(`${op}: ragged nested array at ${path}: expected a number, got an array`);
      if (typeof x === 'number') values.push(x);
      else if (typeof x === 'boolean') values.push(Number(x));
      else throw new DTypeError(`${op}: ${path} is ${describe(x)}; expected a number or a boolean`);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      throw new ShapeError(`${op}: ragged nested array at ${path}: expected length ${shape[depth]}, got ${Array.isArray(x) ? x.length : 'a number'}`);
    }
    for (let i = 0; i < x.length; i++) walk(x[i], depth + 1, `${path}[${i}]`);
  };
  walk(data, 0, 'data');
  return { values, shape };
}

function isNumericArray(x: unknown): x is TypedArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView) && !(x instanceof BigInt64Array) && !(x instanceof BigUint64Array);
}

/** A tensor from a number, nested arrays or a typed array (with `shape`). */
export function tensor(data: NestedArray | TypedArray, shapeOrOpts?: readonly number[] | CreateOptions, maybeOpts?: CreateOptions): Tensor {
  return makeTensor('tensor', data, shapeOrOpts, maybeOpts);
}

// tensor's body; `op` is the name errors give (tensor, scalar)
function makeTensor(op: string, data: NestedArray | TypedArray, shapeOrOpts?: readonly number[] | CreateOptions, maybeOpts?: CreateOptions): Tensor {
  const shapeGiven = Array.isArray(shapeOrOpts);
  if (!shapeGiven && shapeOrOpts !== undefined && maybeOpts !== undefined) {
    throw new ShapeError(`${op}: the second argument must be the shape (an array), got ${describe(shapeOrOpts)}; the signature is ${op}(data, shape?, opts?)`);
  }
  const opts = checkCreateOptions(shapeGiven || shapeOrOpts === undefined ? maybeOpts : shapeOrOpts, op);
  const givenShape = shapeGiven ? checkShape(shapeOrOpts, op) : undefined;
  if (givenShape) checkSize(givenShape, 4, op);
  const backend = resolveBackend(opts.backend, op);
  let values: ArrayLike<number>;
  let shape: number[];
  let dtype: DType;
  if (isNumericArray(data)) {
    values = data;
    shape = givenShape ?? [values.length];
    dtype = opts.dtype ?? (data instanceof Int32Array ? 'int32' : data instanceof Float64Array ? 'float64' : 'float32');
  } else if (typeof data === 'number' || typeof data === 'boolean' || Array.isArray(data)) {
    const f = flattenNested(data as NestedArray, op);
    values = f.values;
    shape = givenShape ?? f.shape;
    dtype = opts.dtype ?? 'float32';
  } else {
    throw new DTypeError(`${op}: data must be a number, a boolean, a nested array of numbers or a typed array, got ${describe(data)}`);
  }
  checkDType(dtype, op);
  checkGradDType(dtype, opts.requiresGrad, op);
  if (numel(shape) !== values.length) {
    throw new ShapeError(`${op}: ${values.length} values cannot have shape ${fmtShape(shape)} (${numel(shape)} elements)`);
  }
  checkBackendDType(backend, dtype, op);
  const host = hostArray(dtype, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (dtype === 'int32' && !(Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31)) throw new DTypeError(`${op}: value ${v} at flat index ${i} is not an int32 integer, but dtype is int32`);
    host[i] = v;
  }
  const t = fromStorage(allocating(op, shape, dtype, () => backend.upload(host, dtype)), shape, backend);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** A 0-d tensor. */
export function scalar(value: number, opts: CreateOptions = {}): Tensor {
  return makeTensor('scalar', value, [], opts);
}

function filled(op: string, shape: readonly number[], value: number, opts: CreateOptions | undefined): Tensor {
  const s = checkShape(shape, op);
  const o = checkCreateOptions(opts, op);
  const dtype = checkDType(o.dtype ?? 'float32', op);
  if (typeof value !== 'number') throw new DTypeError(`${op}: the fill value must be a number, got ${describe(value)}`);
  checkSize(s, bytesPerElement(dtype), op);
  checkGradDType(dtype, o.requiresGrad, op);
  const backend = resolveBackend(o.backend, op);
  checkBackendDType(backend, dtype, op);
  if (dtype === 'int32' && !(Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31)) throw new DTypeError(`${op}: value ${value} is not an int32 integer, but dtype is int32`);
  const t = fromStorage(allocating(op, s, dtype, () => backend.fill(numel(s), value, dtype)), s, backend);
  if (o.requiresGrad) t.requiresGrad = true;
  return t;
}

export function full(shape: readonly number[], value: number, opts?: CreateOptions): Tensor {
  return filled('full', shape, value, opts);
}

export function zeros(shape: readonly number[], opts?: CreateOptions): Tensor {
  return filled('zeros', shape, 0, opts);
}

export function ones(shape: readonly number[], opts?: CreateOptions): Tensor {
  return filled('ones', shape, 1, opts);
}

export function zerosLike(x: Tensor, opts?: CreateOptions): Tensor {
  return filledLike('zerosLike', x, 0, opts);
}

export function onesLike(x: Tensor, opts?: CreateOptions): Tensor {
  return filledLike('onesLike', x, 1, opts);
}

export function fullLike(x: Tensor, value: number, opts?: CreateOptions): Tensor {
  return filledLike('fullLike', x, value, opts);
}

function filledLike(op: string, x: Tensor, value: number, opts: CreateOptions | undefined): Tensor {
  expectTensor(x, op);
  return filled(op, x.shape, value, { dtype: x.dtype, backend: x.backend, ...checkCreateOptions(opts, op) });
}

/** start, start+step, ... below stop (numpy's arange). */
export function arange(start: number, stop?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (typeof start !== 'number' || typeof stop !== 'number' || !Number.isFinite(start) || !Number.isFinite(stop)) {
    throw new ValueError(`arange: start and stop must be finite numbers, got ${describe(start)} and ${describe(stop)}`);
  }
  if (typeof step !== 'number' || step === 0 || !Number.isFinite(step)) throw new ShapeError(`arange: step must be a finite non-zero number, got ${describe(step)}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  checkSize([n], 4, 'arange');
  const host = new Float64Array(n);
  for (let i = 0; i < n; i++) host[i] = start + i * step;
  const dtype = opts.dtype ?? (Number.isInteger(start) && Number.isInteger(step) ? 'int32' : 'float32');
  return tensor(host, [n], { ...opts, dtype });
}

/** n evenly spaced values from start to stop inclusive. */
export function linspace(start: number, stop: number, n: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new ShapeError(`linspace: n must be a non-negative integer, got ${describe(n)}`);
  checkSize([n], 4, 'linspace');
  const host = new Float64Array(n);
  for (let i = 0; i < n; i++) host[i] = n === 1 ? start : start + ((stop - start) * i) / (n - 1);
  return tensor(host, [n], { dtype: 'float32', ...opts });
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  checkSize(checkShape([n, m], 'eye'), 4, 'eye');
  const host = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) host[i * m + i] = 1;
  return tensor(host, [n, m], { dtype: 'float32', ...opts });
}
