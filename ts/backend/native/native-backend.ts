// The native backend: the kernel interface implemented by C++ (native/*.cc) through
// node-addon-api. Storage is the js backend's HostStorage (a TypedArray): C++ reads and
// writes the TypedArray's memory directly, so no kernel copies data across the boundary,
// and readSync is a plain slice. This class only marshals views into Float64Array
// metadata and turns every addon failure into a BackendError.

import { numel } from '../../core/shape.js';
import { BackendError, MetagradError } from '../../core/errors.js';
import { type DType, type TypedArray, bytesPerElement, hostView } from '../../core/dtype.js';
import type {
  ArgReduceOp, BinaryOp, ChannelDims, Conv2dGeometry, MatView, MatmulDims, MemoryInfo, Pool2dGeometry, RandomKind, ReduceOp, Storage, TriangularSolveDims, UnaryOp, View,
} from '../kernels.js';
import { BINARY_OPS, RANDOM_KINDS, REDUCE_OPS, UNARY_OPS } from '../kernels.js';
import { HostStorage, JsBackend } from '../js/js-backend.js';
import type { NativeAddon } from './addon.js';
import { HostBufferPool } from './storage-pool.js';
import type { BatchNormReluMaxPoolResult } from '../bn-relu-pool.js';

// Op codes: positions in the op lists of ts/backend/kernels.ts (loadAddon has checked that
// the addon's own lists, native/elementwise.h, reduce.h and philox.h, are the same).
const codes = <K extends string>(names: readonly K[]): Record<K, number> => Object.fromEntries(names.map((n, i) => [n, i])) as Record<K, number>;
const UNARY = codes(UNARY_OPS);
const BINARY = codes(BINARY_OPS);
const REDUCE = codes(REDUCE_OPS);
const RANDOM = codes(RANDOM_KINDS);

// Metadata arrays are reused: the addon reads them synchronously during the call, so one
// array per (argument slot, rank) is enough and saves an allocation per kernel argument.
const metaCache: Float64Array[][] = [[], [], [], []];

/** [rank, offset, ...shape, ...strides] for a view (shape may override the view's own), in slot 0..3. */
function meta(v: Pick<View, 'shape' | 'strides' | 'offset'>, shape: readonly number[] = v.shape, slot = 0): Float64Array {
  const r = shape.length;
  const m = (metaCache[slot]![r] ??= new Float64Array(2 + 2 * r));
  m[0] = r;
  m[1] = v.offset;
  for (let i = 0; i < r; i++) {
    m[2 + i] = shape[i]!;
    m[2 + r + i] = v.strides[i] ?? 0;
  }
  return m;
}

const matA = new Float64Array(4), matB = new Float64Array(4), dims4 = new Float64Array(4);
function matMeta(a: MatView, m: Float64Array): Float64Array {
  m[0] = a.offset;
  m[1] = a.batchStride;
  m[2] = a.rowStride;
  m[3] = a.colStride;
  return m;
}

const channelDims3 = new Float64Array(3);
function channelMeta(d: ChannelDims): Float64Array {
  channelDims3[0] = d.n;
  channelDims3[1] = d.c;
  channelDims3[2] = d.s;
  return channelDims3;
}

export class NativeBackend extends JsBackend {
  override readonly name: string = 'native';
  // Buffers are pooled so a training loop reuses its memory instead of making V8 allocate
  // (and garbage-collect) a fresh ArrayBuffer for every intermediate (storage-pool.ts).
  private readonly pool = new HostBufferPool(Number(process.env['METAGRAD_NATIVE_POOL_MB'] ?? 512) * 2 ** 20);
  private liveCount = 0;
  private liveByteCount = 0;
  private peakLiveByteCount = 0;
  /** storages allocated by kernel calls in progress (freed again if the call fails) */
  private readonly inFlight: HostStorage[] = [];
  private guardDepth = 0;

  constructor(private readonly addon: NativeAddon) {
    super();
  }

  protected override make(dtype: DType, data: TypedArray): HostStorage {
    if (!this.supportsDType(dtype)) throw new BackendError(`${this.name}: dtype ${dtype} is not supported`);
    this.liveCount++;
    this.liveByteCount += data.byteLength;
    if (this.liveByteCount > this.peakLiveByteCount) this.peakLiveByteCount = this.liveByteCount;
    return new HostStorage(this.name, dtype, data);
  }
  /** Every kernel overwrites its whole output, so a pooled buffer needs no clearing here. */
  protected override alloc(size: number, dtype: DType): HostStorage {
    if (!Number.isSafeInteger(size) || size < 0) throw new BackendError(`${this.name}: invalid storage size ${size}`);
    const s = this.make(dtype, hostView(dtype, this.pool.take(size * bytesPerElement(dtype)), size));
    if (this.guardDepth > 0) this.inFlight.push(s); // zeros() outside a kernel is not tracked
    return s;
  }
  override zeros(size: number, dtype: DType): Storage {
    const s = this.alloc(size, dtype);
    s.data.fill(0);
    return s;
  }
  /** Host data (task batches, every iteration) goes into pooled memory too. */
  override upload(data: TypedArray, dtype: DType): Storage {
    const s = this.alloc(data.length, dtype);
    s.data.set(data);
    return s;
  }
  override free(s: Storage): void {
    const data = this.arr(s);
    if (this.pool.give(data.buffer as ArrayBuffer) === 'double-free') return; // already counted
    this.liveCount--;
    this.liveByteCount -= data.byteLength;
  }
  /** Live and pooled bytes; `peakLiveBytes` since the last resetPeak(); `pooledFootprint` counts per-buffer overhead. */
  override memory(): MemoryInfo {
    return {
      liveStorages: this.liveCount, liveBytes: this.liveByteCount, pooledBytes: this.pool.bytes, pooledBuffers: this.pool.buffers,
      pooledFootprint: this.pool.footprint, releasedBytes: this.pool.releasedBytes, peakLiveBytes: this.peakLiveByteCount,
    };
  }
  /** Start a new peakLiveBytes measurement. */
  resetPeak(): void {
    this.peakLiveByteCount = this.liveByteCount;
  }
  /** Hand back to the garbage collector every pooled buffer no request took since the last call (or window). */
  releaseIdle(): void {
    this.pool.releaseIdle();
  }

  /** SIMD level and thread count the addon chose for this machine. */
  info(): { isa: string; threads: number } {
    return this.addon.info();
  }
  /** Resize the thread pool (1 = single-threaded, for benchmarks). */
  setThreads(n: number): void {
    this.guard('setThreads', () => this.addon.setThreads(n));
  }

  /** Cap the SIMD level ('scalar' | 'avx2' | 'avx512'; never above what the CPU has), for tests and benchmarks. */
  setSimd(isa: 'scalar' | 'avx2' | 'avx512'): void {
    this.guard('setSimd', () => this.addon.setIsa(isa));
  }

  dispose(): void {
    this.pool.clear();
    this.addon.shutdown();
  }

  protected override arr(s: Storage): TypedArray {
    if (!(s instanceof HostStorage) || s.backend !== this.name) {
      throw new BackendError(`${this.name}: storage from backend '${s?.backend}' given`);
    }
    return s.data;
  }

  /** Run an addon call; any failure that is not already a MetagradError becomes a BackendError. */
  private guard<T>(op: string, fn: () => T): T {
    const mark = this.inFlight.length;
    this.guardDepth++;
    try {
      return fn();
    } catch (err) {
      // outputs allocated by a failed kernel go back to the pool, not into the live count
      for (let i = mark; i < this.inFlight.length; i++) this.free(this.inFlight[i]!);
      if (err instanceof MetagradError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new BackendError(`native ${op}: ${msg}`);
    } finally {
      this.guardDepth--;
      this.inFlight.length = mark;
    }
  }

  override unary(op: UnaryOp, x: View, dtype: DType): Storage {
    return this.guard('unary', () => {
      const code = UNARY[op];
      if (code === undefined) throw new BackendError(`native unary: unknown op '${op}'`);
      const out = this.alloc(numel(x.shape), dtype);
      this.addon.unary(code, this.arr(x.storage), meta(x), out.data);
      return out;
    });
  }

  override binary(op: BinaryOp, a: View, b: View, shape: readonly number[], dtype: DType): Storage {
    return this.guard('binary', () => {
      const code = BINARY[op];
      if (code === undefined) throw new BackendError(`native binary: unknown op '${op}'`);
      const out = this.alloc(numel(shape), dtype);
      this.addon.binary(code, this.arr(a.storage), meta(a, shape, 0), this.arr(b.storage), meta(b, shape, 1), out.data);
      return out;
    });
  }

  override where(cond: View, a: View, b: View, shape: readonly number[], dtype: DType): Storage {
    return this.guard('where', () => {
      const out = this.alloc(numel(shape), dtype);
      this.addon.where(this.arr(cond.storage), meta(cond, shape, 0), this.arr(a.storage), meta(a, shape, 1), this.arr(b.storage), meta(b, shape, 2), out.data);
      return out;
    });
  }

  override cast(x: View, dtype: DType): Storage {
    return this.guard('cast', () => {
      const out = this.alloc(numel(x.shape), dtype);
      this.addon.cast(this.arr(x.storage), meta(x), out.data);
      return out;
    });
  }

  override copy(src: View, dst: View): void {
    this.guard('copy', () => this.addon.copy(this.arr(src.storage), meta(src, src.shape, 0), this.arr(dst.storage), meta(dst, dst.shape, 1)));
  }

  override fill(size: number, value: number, dtype: DType): Storage {
    return this.guard('fill', () => {
      const out = this.alloc(size, dtype);
      this.addon.fill(out.data, value);
      return out;
    });
  }

  override reduce(op: ReduceOp, x: View, axes: readonly number[]): Storage {
    return this.guard('reduce', () => {
      const code = REDUCE[op];
      if (code === undefined) throw new BackendError(`native reduce: unknown op '${op}'`);
      const kept = x.shape.filter((_, i) => !axes.includes(i));
      const out = this.alloc(numel(kept), x.storage.dtype);
      this.addon.reduce(code, this.arr(x.storage), meta(x), Float64Array.from(axes), out.data);
      return out;
    });
  }

  override argReduce(op: ArgReduceOp, x: View, axis: number): Storage {
    return this.guard('argReduce', () => {
      const kept = x.shape.filter((_, i) => i !== axis);
      const out = this.alloc(numel(kept), 'int32');
      this.addon.argReduce(op === 'argmax', this.arr(x.storage), meta(x), axis, out.data);
      return out;
    });
  }

  override softmax(x: View, rows: number, cols: number, log: boolean): Storage {
    return this.guard('softmax', () => {
      const out = this.alloc(rows * cols, x.storage.dtype);
      this.addon.softmax(this.arr(x.storage), meta(x), rows, cols, log, out.data);
      return out;
    });
  }

  override matmul(a: MatView, b: MatView, d: MatmulDims, dtype: DType): Storage {
    return this.guard('matmul', () => {
      const out = this.alloc(d.batch * d.m * d.n, dtype);
      dims4[0] = d.batch;
      dims4[1] = d.m;
      dims4[2] = d.n;
      dims4[3] = d.k;
      this.addon.matmul(this.arr(a.storage), matMeta(a, matA), this.arr(b.storage), matMeta(b, matB), dims4, out.data);
      return out;
    });
  }

  override cholesky(a: MatView, batch: number, n: number, dtype: DType): { factor: Storage; info: Storage } {
    return this.guard('cholesky', () => {
      const factor = this.alloc(batch * n * n, dtype), info = this.alloc(batch, 'int32');
      this.addon.cholesky(this.arr(a.storage), matMeta(a, matA), batch, n, factor.data, info.data);
      return { factor, info };
    });
  }

  override triangularSolve(t: MatView, b: MatView, d: TriangularSolveDims, lower: boolean, dtype: DType): Storage {
    return this.guard('triangularSolve', () => {
      const out = this.alloc(d.batch * d.n * d.m, dtype);
      this.addon.triangularSolve(this.arr(t.storage), matMeta(t, matA), this.arr(b.storage), matMeta(b, matB), Float64Array.of(d.batch, d.n, d.m), lower, out.data);
      return out;
    });
  }

  private convMeta(g: Conv2dGeometry): Float64Array {
    return Float64Array.of(g.n, g.cIn, g.h, g.w, g.cOut, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW, g.groups);
  }

  override conv2d(x: Storage, w: Storage, g: Conv2dGeometry, bias: Storage | null = null): Storage {
    return this.guard('conv2d', () => {
      const out = this.alloc(g.n * g.cOut * g.oh * g.ow, x.dtype);
      this.addon.conv2d(this.arr(x), this.arr(w), this.convMeta(g), out.data, bias ? this.arr(bias) : null);
      return out;
    });
  }

  override conv2dBackwardInput(dy: Storage, w: Storage, g: Conv2dGeometry): Storage {
    return this.guard('conv2dBackwardInput', () => {
      const out = this.alloc(g.n * g.cIn * g.h * g.w, dy.dtype);
      this.addon.conv2dBackwardInput(this.arr(dy), this.arr(w), this.convMeta(g), out.data);
      return out;
    });
  }

  override conv2dBackwardFilter(x: Storage, dy: Storage, g: Conv2dGeometry): Storage {
    return this.guard('conv2dBackwardFilter', () => {
      const out = this.alloc(g.cOut * (g.cIn / g.groups) * g.kh * g.kw, x.dtype);
      this.addon.conv2dBackwardFilter(this.arr(x), this.arr(dy), this.convMeta(g), out.data);
      return out;
    });
  }

  override conv2dBackwardFilterBias(x: Storage, dy: Storage, g: Conv2dGeometry): { dw: Storage; db: Storage } {
    return this.guard('conv2dBackwardFilter', () => {
      const dw = this.alloc(g.cOut * (g.cIn / g.groups) * g.kh * g.kw, x.dtype), db = this.alloc(g.cOut, x.dtype);
      this.addon.conv2dBackwardFilter(this.arr(x), this.arr(dy), this.convMeta(g), dw.data, db.data);
      return { dw, db };
    });
  }

  override maxPool2d(x: Storage, g: Pool2dGeometry): { values: Storage; indices: Storage } {
    return this.guard('maxPool2d', () => {
      const n = g.planes * g.oh * g.ow;
      const values = this.alloc(n, x.dtype), indices = this.alloc(n, 'int32');
      this.addon.maxPool2d(this.arr(x), Float64Array.of(g.planes, g.h, g.w, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW, g.padH, g.padW), values.data, indices.data);
      return { values, indices };
    });
  }

  override maxPool2dBackward(dy: Storage, indices: Storage, g: Pool2dGeometry): Storage {
    return this.guard('maxPool2dBackward', () => {
      const out = this.alloc(g.planes * g.h * g.w, dy.dtype);
      this.addon.maxPool2dBackward(this.arr(dy), this.arr(indices), Float64Array.of(g.planes, g.h, g.w, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW, g.padH, g.padW), out.data);
      return out;
    });
  }

  override batchNorm(x: Storage, gamma: Storage, beta: Storage, d: ChannelDims, eps: number): { y: Storage; xhat: Storage; mean: Storage; variance: Storage; rstd: Storage } {
    return this.guard('batchNorm', () => {
      const total = d.n * d.c * d.s, dt = x.dtype;
      const y = this.alloc(total, dt), xhat = this.alloc(total, dt);
      const mean = this.alloc(d.c, dt), variance = this.alloc(d.c, dt), rstd = this.alloc(d.c, dt);
      this.addon.batchNorm(this.arr(x), this.arr(gamma), this.arr(beta), channelMeta(d), eps, y.data, xhat.data, mean.data, variance.data, rstd.data);
      return { y, xhat, mean, variance, rstd };
    });
  }

  override batchNormBackward(g: Storage, xhat: Storage, w: Storage, d: ChannelDims): Storage {
    return this.guard('batchNormBackward', () => {
      const out = this.alloc(d.n * d.c * d.s, g.dtype);
      this.addon.batchNormBackward(this.arr(g), this.arr(xhat), this.arr(w), channelMeta(d), out.data);
      return out;
    });
  }

  override batchNormBackwardSums(g: Storage, xhat: Storage, w: Storage, d: ChannelDims): { dx: Storage; sumG: Storage; sumGX: Storage } {
    return this.guard('batchNormBackward', () => {
      const dx = this.alloc(d.n * d.c * d.s, g.dtype), sumG = this.alloc(d.c, g.dtype), sumGX = this.alloc(d.c, g.dtype);
      this.addon.batchNormBackwardSums(this.arr(g), this.arr(xhat), this.arr(w), channelMeta(d), dx.data, sumG.data, sumGX.data);
      return { dx, sumG, sumGX };
    });
  }

  override batchNormReluMaxPool(x: Storage, gamma: Storage, beta: Storage, d: ChannelDims, eps: number, h: number, w: number): BatchNormReluMaxPoolResult {
    return this.guard('batchNormReluMaxPool', () => {
      const dt = x.dtype, np = d.n * d.c * Math.floor(h / 2) * Math.floor(w / 2);
      const xhat = this.alloc(d.n * d.c * d.s, dt), pooled = this.alloc(np, dt), indices = this.alloc(np, 'int32');
      const mean = this.alloc(d.c, dt), variance = this.alloc(d.c, dt), rstd = this.alloc(d.c, dt);
      this.addon.batchNormReluMaxPool(this.arr(x), this.arr(gamma), this.arr(beta), channelMeta(d), eps, h, w, xhat.data, pooled.data, indices.data, mean.data, variance.data, rstd.data);
      return { pooled, indices, xhat, mean, variance, rstd };
    });
  }

  override batchNormReluMaxPoolBackward(gp: Storage, pooled: Storage, indices: Storage, xhat: Storage, w: Storage, d: ChannelDims, h: number, wd: number): { dx: Storage; sumG: Storage; sumGX: Storage } {
    return this.guard('batchNormReluMaxPoolBackward', () => {
      const dx = this.alloc(d.n * d.c * d.s, xhat.dtype), sumG = this.alloc(d.c, xhat.dtype), sumGX = this.alloc(d.c, xhat.dtype);
      this.addon.batchNormReluMaxPoolBackward(this.arr(gp), this.arr(pooled), this.arr(indices), this.arr(xhat), this.arr(w), channelMeta(d), h, wd, dx.data, sumG.data, sumGX.data);
      return { dx, sumG, sumGX };
    });
  }

  override channelAffine(x: Storage, scale: Storage, shift: Storage | null, d: ChannelDims): Storage {
    return this.guard('channelAffine', () => {
      const out = this.alloc(d.n * d.c * d.s, x.dtype);
      this.addon.channelAffine(this.arr(x), this.arr(scale), shift ? this.arr(shift) : null, channelMeta(d), out.data);
      return out;
    });
  }

  override channelDot(a: Storage, b: Storage, d: ChannelDims): Storage {
    return this.guard('channelDot', () => {
      const out = this.alloc(d.c, a.dtype);
      this.addon.channelDot(this.arr(a), this.arr(b), channelMeta(d), out.data);
      return out;
    });
  }

  override gather(x: View, idx: View, axis: number, shape: readonly number[]): Storage {
    return this.guard('gather', () => {
      const out = this.alloc(numel(shape), x.storage.dtype);
      this.addon.gather(this.arr(x.storage), meta(x, x.shape, 0), this.arr(idx.storage), meta(idx, shape, 1), axis, out.data);
      return out;
    });
  }

  override scatterAdd(updates: View, idx: View, axis: number, outShape: readonly number[]): Storage {
    return this.guard('scatterAdd', () => {
      const out = this.alloc(numel(outShape), updates.storage.dtype);
      this.addon.scatterAdd(this.arr(updates.storage), meta(updates, updates.shape, 0), this.arr(idx.storage), meta(idx, updates.shape, 1), axis, Float64Array.from(outShape), out.data);
      return out;
    });
  }

  override random(kind: RandomKind, key: readonly [number, number], counter: number, size: number, dtype: DType): Storage {
    return this.guard('random', () => {
      const code = RANDOM[kind];
      if (code === undefined) throw new BackendError(`native random: unknown kind '${kind}'`);
      const out = this.alloc(size, kind === 'bits' ? 'int32' : dtype);
      this.addon.random(code, key[0] >>> 0, key[1] >>> 0, counter, out.data);
      return out;
    });
  }
}
