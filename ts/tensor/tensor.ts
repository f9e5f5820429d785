// Tensor: a shape, a dtype and a view (strides, offset) onto a storage on one backend.
//
// Lifetime is deterministic, never left to the garbage collector (GPU memory cannot wait):
// a tensor's storage is freed once (a) its user handle is dropped (dispose(), or the end of
// the scope() that created it) and (b) no live tape node saved it for a backward pass.
// Storages are shared by views and reference counted. Nodes hold their inputs; releasing a
// node (after a backward without retainGraph, or when its output dies) cascades.

import type { Backend, Storage } from '../backend/kernels.js';
import { BackendError, DTypeError, DisposedError, ShapeError, fmtShape } from '../core/errors.js';
import type { DType, TypedArray } from '../core/dtype.js';
import { contiguousStrides, numel } from '../core/shape.js';

/** A shared, reference-counted storage. */
export class StorageRef {
  /** @internal */
  refs = 1;
  constructor(readonly storage: Storage, readonly backend: Backend) {}
  /** @internal */
  retain(): this {
    this.refs++;
    return this;
  }
  /** @internal */
  release(): void {
    if (--this.refs === 0) this.backend.free(this.storage);
  }
}

/** A vector-Jacobian product: the cotangent of the output -> one cotangent (or null) per input. */
export type VjpFn = (g: Tensor, out: Tensor, inputs: readonly Tensor[], saved: readonly Tensor[]) => (Tensor | null)[];

/** A recorded op on the tape. Written by ts/tensor/tape.ts, read by the backward pass. */
export interface Node {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly saved: readonly Tensor[];
  readonly vjp: VjpFn;
  released: boolean;
}

/** The part of a tensor that outlives its JS object until freed (held by the finalizer). */
interface Core {
  buf: StorageRef;
  node: Node | null;
  userHeld: boolean;
  graphRefs: number;
  freed: boolean;
  /** registered with the finalizer */
  watched: boolean;
}

let nextId = 1;
let liveTensors = 0;
/** > 0 while the engine runs vjps: they may read tensors the user already disposed. */
let engineDepth = 0;

/** Last safety net only: scopes and dispose() are the real mechanism. */
const finalizer = new FinalizationRegistry<Core>((core) => {
  if (!core.freed) {
    core.userHeld = false;
    core.graphRefs = 0;
    freeCore(core);
  }
});

function freeCore(core: Core): void {
  if (core.freed || core.userHeld || core.graphRefs > 0) return;
  core.freed = true;
  liveTensors--;
  core.buf.release();
  const node = core.node;
  core.node = null;
  if (node) releaseNode(node);
}

/** Drop a node's hold on its inputs and saved tensors. Idempotent. */
export function releaseNode(node: Node): void {
  if (node.released) return;
  node.released = true;
  for (const t of node.inputs) t._unref();
  for (const t of node.saved) t._unref();
}

type ScopeHook = (t: Tensor) => void;
let onCreate: ScopeHook | null = null;
/** Installed by scope.ts so every new tensor is tracked by the innermost scope. */
export function setCreateHook(hook: ScopeHook | null): void {
  onCreate = hook;
}

export function liveTensorCount(): number {
  return liveTensors;
}

/** Run fn with the engine's right to read disposed-but-saved tensors (backward passes only). */
export function asEngine<T>(fn: () => T): T {
  engineDepth++;
  try {
    return fn();
  } finally {
    engineDepth--;
  }
}

/** The argument must be a live Tensor (else a DTypeError naming the op and what it got). */
export function expectTensor(x: unknown, op: string, what = 'input'): Tensor {
  if (!(x instanceof Tensor)) {
    throw new DTypeError(`${op}: ${what} must be a Tensor, got ${x === null ? 'null' : typeof x === 'object' ? (x as object).constructor?.name ?? 'object' : typeof x}`);
  }
  x.checkAlive(op);
  return x;
}

// Tensor is a View (shape, strides, offset, storage) for the kernels, but it does not say
// `implements View`: `storage` is internal, stripped from the published .d.ts, and a declared
// `implements` would not compile there without it. Every kernel call that passes a tensor as a
// View checks the shape of it here, in the source.
export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
  readonly backend: Backend;
  private grads = false;
  /** True for leaves the user asked gradients of, and for outputs recorded on the tape. Floating-point dtypes only. */
  get requiresGrad(): boolean {
    return this.grads;
  }
  set requiresGrad(on: boolean) {
    if (on && this.dtype === 'int32') throw new DTypeError(`requiresGrad: an int32 tensor ${fmtShape(this.shape)} cannot require gradients (they are only defined for floating-point dtypes)`);
    this.grads = on;
  }
  private readonly core: Core;

  /** Not for users: make tensors with the creation functions (tensor, zeros, ...). */
  constructor(buf: StorageRef, shape: readonly number[], dtype: DType, strides?: readonly number[], offset = 0) {
    // private copies (typed readonly); not frozen: freezing costs more than the whole op on small tensors
    this.shape = shape.slice();
    this.strides = strides ? strides.slice() : contiguousStrides(shape);
    this.offset = offset;
    this.dtype = dtype;
    this.backend = buf.backend;
    this.core = { buf, node: null, userHeld: true, graphRefs: 0, freed: false, watched: false };
    liveTensors++;
    // Inside a scope the scope frees the tensor; the finalizer (about 1 µs per registration,
    // as much as a small op) only watches device tensors no scope controls (see scope.ts).
    if (onCreate) onCreate(this);
    else this._watch();
  }

  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return numel(this.shape);
  }
  /** @internal the storage, checked: using a disposed tensor is an error naming the op. */
  get storage(): Storage {
    return this.checkAlive('storage').buf.storage;
  }
  get isDisposed(): boolean {
    return this.core.freed || (!this.core.userHeld && engineDepth === 0);
  }
  /** @internal the tape node that produced this tensor (ts/autodiff). */
  get node(): Node | null {
    return this.core.node;
  }
  get isLeaf(): boolean {
    return this.core.node === null;
  }
  get isContiguous(): boolean {
    if (this.offset !== 0) return false;
    const want = contiguousStrides(this.shape);
    for (let i = 0; i < this.shape.length; i++) if (this.shape[i] !== 1 && this.strides[i] !== want[i]) return false;
    return this.core.buf.storage.size === this.size;
  }

  /** @internal throws DisposedError naming `op` if the tensor can no longer be used. */
  checkAlive(op: string): Core {
    if (this.isDisposed) {
      throw new DisposedError(`${op}: tensor #${this.id} ${this.dtype} ${fmtShape(this.shape)} was used after dispose()`);
    }
    return this.core;
  }

  /** @internal the shared storage, for making views. */
  _buf(op: string): StorageRef {
    return this.checkAlive(op).buf;
  }
  /** @internal attach a tape node (ts/tensor/tape.ts). */
  _setNode(node: Node | null): void {
    const old = this.core.node;
    this.core.node = node;
    if (old && old !== node) releaseNode(old);
  }
  /** @internal let the garbage collector free this tensor if the user never disposes it. */
  _watch(): void {
    if (this.core.watched || this.core.freed || this.backend.hostMemory) return;
    this.core.watched = true;
    finalizer.register(this, this.core, this.core);
  }
  /** @internal a tape node saved this tensor. */
  _ref(): void {
    this.core.graphRefs++;
  }
  /** @internal a tape node let go of this tensor. */
  _unref(): void {
    this.core.graphRefs--;
    freeCore(this.core);
  }

  /** Free the storage now (or as soon as no recorded gradient needs it). Idempotent. */
  dispose(): void {
    if (!this.core.userHeld) return;
    this.core.userHeld = false;
    if (this.core.watched) finalizer.unregister(this.core);
    freeCore(this.core);
  }

  /** All values, contiguous in row-major order, as a host array (float16 reads as Float32Array). */
  async data(): Promise<TypedArray> {
    const src = this.contiguousSource('data');
    const all = await this.backend.read(src.storage);
    return src.finish(all);
  }

  /** Synchronous read where the backend allows it (js, native); WebGPU needs `await t.data()`. */
  dataSync(): TypedArray {
    const read = this.backend.readSync;
    if (!read) {
      throw new BackendError(`dataSync: backend '${this.backend.name}' cannot read synchronously; use await t.data()`);
    }
    const src = this.contiguousSource('dataSync');
    return src.finish(read.call(this.backend, src.storage));
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new ShapeError(`item: expected a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return (await this.data())[0]!;
  }

  /** Synchronous item() where the backend allows it. */
  itemSync(): number {
    if (this.size !== 1) throw new ShapeError(`itemSync: expected a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return this.dataSync()[0]!;
  }

  /** Nested arrays of the values (synchronous backends only). */
  arraySync(): unknown {
    return nest(Array.from(this.dataSync()), this.shape);
  }

  toString(): string {
    const head = `Tensor(${this.dtype}, ${fmtShape(this.shape)}, ${this.backend.name}${this.requiresGrad ? ', requiresGrad' : ''})`;
    if (this.isDisposed) return `${head} <disposed>`;
    if (!this.backend.readSync) return `${head} <on ${this.backend.name}: await t.data() to read>`;
    const vals = Array.from(this.dataSync());
    const fmt = (v: number) => (this.dtype === 'int32' ? String(v) : formatFloat(v));
    const shown = vals.length > 1000 ? `${vals.slice(0, 6).map(fmt).join(', ')}, ... (${vals.length} values)` : render(vals.map(fmt), this.shape);
    return `${head}\n${shown}`;
  }

  /** A contiguous copy's storage (or this one), and how to cut the result out of the read. */
  private contiguousSource(op: string): { storage: Storage; finish: (all: TypedArray) => TypedArray } {
    const core = this.checkAlive(op);
    if (this.isContiguous) return { storage: core.buf.storage, finish: (a) => a };
    const out = this.backend.zeros(this.size, this.dtype);
    this.backend.copy(this, { storage: out, shape: this.shape, strides: contiguousStrides(this.shape), offset: 0 });
    return {
      storage: out,
      finish: (a) => {
        this.backend.free(out);
        return a;
      },
    };
  }
}


function formatFloat(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return v.toFixed(1).replace(/\.0$/, '.');
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(4) : v.toFixed(4);
}

function render(vals: string[], shape: readonly number[]): string {
  if (shape.length === 0) return vals[0] ?? '';
  const nested = nest(vals, shape);
  const show = (x: unknown, depth: number): string =>
    Array.isArray(x) ? `[${x.map((y) => show(y, depth + 1)).join(depth === shape.length - 1 ? ', ' : `,\n${' '.repeat(depth + 1)}`)}]` : String(x);
  return show(nested, 0);
}

function nest<T>(flat: T[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  const step = numel(shape.slice(1));
  return Array.from({ length: shape[0]! }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), shape.slice(1)));
}
