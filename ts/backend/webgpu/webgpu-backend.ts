// The WebGPU backend: the kernel interface of ts/backend/kernels.ts on WGSL kernels.
// Work is recorded lazily (queue.ts) and only reads wait. float32 and int32 always;
// float16 where the adapter has shader-f16 (values travel through the host as float32).
/// <reference types="@webgpu/types" />

import type { DType, TypedArray } from '../../core/dtype.js';
import type {
  ArgReduceOp, Backend, BinaryOp, ChannelDims, Conv2dGeometry, MatView, MatmulDims, MemoryInfo, Pool2dGeometry,
  RandomKind, ReduceOp, Storage, TriangularSolveDims, UnaryOp, View,
} from '../kernels.js';
import { Ctx } from './context.js';
import { acquireDevice } from './device.js';
import * as ew from './elementwise.js';
import { decodeHalf, encodeHalf } from '../../core/half.js';
import * as conv from './conv.js';
import * as gemm from './gemm.js';
import { IndexChecks } from './index-check.js';
import * as indexing from './indexing.js';
import * as channel from './channel.js';
import * as linalg from './linalg.js';
import { maxPool2d, maxPool2dBackward } from './maxpool.js';
import { random } from './random.js';
import * as red from './reduce.js';
import { softmax } from './softmax.js';
import { loadKernelSources } from './source.js';
import { storageBytes } from './storage.js';
import { composeBatchNormReluMaxPool, composeBatchNormReluMaxPoolBackward, type BatchNormReluMaxPoolResult } from '../bn-relu-pool.js';

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  /** The adapter's description, for benchmarks and error messages. */
  readonly adapterName: string;
  private disposed = false;
  private readonly indexChecks: IndexChecks;

  private constructor(private readonly ctx: Ctx) {
    this.indexChecks = new IndexChecks(ctx);
    this.adapterName = ctx.gpu.adapterName;
    const device = ctx.device;
    device.lost.then((info) => {
      if (!this.disposed) ctx.dead = `webgpu: the GPU device was lost (${info.reason}: ${info.message}); restart the process or call initBackend again after shutdownBackends()`;
    }, () => undefined);
    device.onuncapturederror = (e: GPUUncapturedErrorEvent) => {
      ctx.gpuError ??= e.error.message;
    };
  }

  static async create(): Promise<WebGpuBackend> {
    const [gpu, sources] = await Promise.all([acquireDevice(), loadKernelSources()]);
    return new WebGpuBackend(new Ctx(gpu, sources));
  }

  /** Whether the adapter computes in float16 (shader-f16). */
  get hasFloat16(): boolean {
    return this.ctx.gpu.hasF16;
  }
  /** The device, for benchmarks that time with it (read-only use). */
  get device(): GPUDevice {
    return this.ctx.device;
  }

  supportsDType(d: DType): boolean {
    return d === 'float32' || d === 'int32' || (d === 'float16' && this.ctx.gpu.hasF16);
  }

  // --- storage -----------------------------------------------------------------
  zeros(size: number, dtype: DType): Storage {
    return ew.zeros(this.ctx, size, dtype);
  }

  upload(data: TypedArray, dtype: DType): Storage {
    const s = this.ctx.alloc(dtype, data.length);
    if (data.length === 0) return s;
    let host: ArrayBufferView;
    if (dtype === 'float16') host = encodeHalf(data);
    else if (dtype === 'int32') host = data instanceof Int32Array ? data : Int32Array.from(data, (v) => Math.trunc(v));
    else host = data instanceof Float32Array ? data : Float32Array.from(data);
    if (host.byteLength % 4 !== 0 || host.byteOffset % 4 !== 0) {
      const padded = new Uint8Array(storageBytes(dtype, data.length));
      padded.set(new Uint8Array(host.buffer, host.byteOffset, host.byteLength));
      host = padded;
    }
    this.ctx.queue.upload(s.buf, host);
    return s;
  }

  async read(storage: Storage): Promise<TypedArray> {
    const s = this.ctx.storage(storage);
    const bytes = storageBytes(s.dtype, s.size);
    const reading = s.size === 0 ? Promise.resolve(new ArrayBuffer(0)) : this.ctx.queue.read(s.buf, bytes);
    // the index-check flag is copied in the same submission as the data (see index-check.ts)
    const checked = this.indexChecks.take();
    const [raw] = await Promise.all([reading, checked]);
    this.ctx.takeGpuError();
    if (s.dtype === 'float16') return decodeHalf(new Uint16Array(raw), s.size);
    if (s.dtype === 'int32') return new Int32Array(raw, 0, s.size);
    return new Float32Array(raw, 0, s.size);
  }

  free(storage: Storage): void {
    this.ctx.free(this.ctx.storage(storage));
  }

  memory(): MemoryInfo {
    const c = this.ctx;
    return {
      liveStorages: c.live,
      liveBytes: c.liveBytes,
      pooledBytes: c.pool.pooledBytes,
      pooledBuffers: c.pool.pooledBuffers,
      gpuBytes: c.pool.allocatedBytes,
      buffersCreated: c.pool.created,
      buffersReused: c.pool.reused,
      stagingBytes: c.queue.staging.allocatedBytes,
      pipelines: c.pipelines.size,
      dispatches: c.queue.dispatches,
      submits: c.queue.submits,
      bindGroupsCreated: c.queue.bindGroupsCreated,
    };
  }

  async sync(): Promise<void> {
    this.ctx.check();
    const checked = this.indexChecks.take();
    await Promise.all([this.ctx.queue.idle(), checked]);
    this.ctx.takeGpuError();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const c = this.ctx;
    try {
      if (!c.dead) c.queue.flush();
    } catch {
      // the device is going away anyway
    }
    this.indexChecks.dispose();
    c.dead = 'webgpu: the backend was disposed (shutdownBackends); initialize it again with initBackend("webgpu")';
    c.queue.dispose();
    c.pool.trim();
    c.device.destroy();
  }

  // --- elementwise ---------------------------------------------------------------
  unary(op: UnaryOp, x: View, dtype: DType): Storage {
    return ew.unary(this.ctx, op, x, dtype);
  }
  binary(op: BinaryOp, a: View, b: View, shape: readonly number[], dtype: DType): Storage {
    return ew.binary(this.ctx, op, a, b, shape, dtype);
  }
  where(cond: View, a: View, b: View, shape: readonly number[], dtype: DType): Storage {
    return ew.where(this.ctx, cond, a, b, shape, dtype);
  }
  cast(x: View, dtype: DType): Storage {
    return ew.cast(this.ctx, x, dtype);
  }
  copy(src: View, dst: View): void {
    ew.copy(this.ctx, src, dst);
  }
  fill(size: number, value: number, dtype: DType): Storage {
    return ew.fill(this.ctx, size, value, dtype);
  }

  // --- reductions ---------------------------------------------------------------
  reduce(op: ReduceOp, x: View, axes: readonly number[]): Storage {
    return red.reduce(this.ctx, op, x, axes);
  }
  argReduce(op: ArgReduceOp, x: View, axis: number): Storage {
    return red.argReduce(this.ctx, op, x, axis);
  }
  softmax(x: View, rows: number, cols: number, log: boolean): Storage {
    return softmax(this.ctx, x, rows, cols, log);
  }

  // --- linear algebra --------------------------------------------------------------
  matmul(a: MatView, b: MatView, dims: MatmulDims, dtype: DType): Storage {
    return gemm.matmul(this.ctx, a, b, dims, dtype);
  }
  cholesky(a: MatView, batch: number, n: number, _dtype: DType): { factor: Storage; info: Storage } {
    return linalg.cholesky(this.ctx, a, batch, n);
  }
  triangularSolve(t: MatView, b: MatView, dims: TriangularSolveDims, lower: boolean, _dtype: DType): Storage {
    return linalg.triangularSolve(this.ctx, t, b, dims, lower);
  }
  conv2d(x: Storage, w: Storage, g: Conv2dGeometry, bias: Storage | null = null): Storage {
    const y = conv.conv2d(this.ctx, this.ctx.storage(x), this.ctx.storage(w), g);
    if (bias) channel.addChannelBias(this.ctx, y, this.ctx.storage(bias), { n: g.n, c: g.cOut, s: g.oh * g.ow });
    return y;
  }
  conv2dBackwardInput(dy: Storage, w: Storage, g: Conv2dGeometry): Storage {
    return conv.conv2dBackwardInput(this.ctx, this.ctx.storage(dy), this.ctx.storage(w), g);
  }
  conv2dBackwardFilter(x: Storage, dy: Storage, g: Conv2dGeometry): Storage {
    return conv.conv2dBackwardFilter(this.ctx, this.ctx.storage(x), this.ctx.storage(dy), g);
  }
  conv2dBackwardFilterBias(x: Storage, dy: Storage, g: Conv2dGeometry): { dw: Storage; db: Storage } {
    // two kernels here: the filter gradient, then the reduction over [n, cOut, plane]
    const planes = { storage: dy, shape: [g.n, g.cOut, g.oh * g.ow], strides: [g.cOut * g.oh * g.ow, g.oh * g.ow, 1], offset: 0 };
    return { dw: this.conv2dBackwardFilter(x, dy, g), db: this.reduce('sum', planes, [0, 2]) };
  }

  // --- pooling, indexing, randomness ------------------------------------------------
  maxPool2d(x: Storage, g: Pool2dGeometry): { values: Storage; indices: Storage } {
    return maxPool2d(this.ctx, this.ctx.storage(x), g);
  }
  maxPool2dBackward(dy: Storage, indices: Storage, g: Pool2dGeometry): Storage {
    return maxPool2dBackward(this.ctx, this.ctx.storage(dy), this.ctx.storage(indices), g);
  }

  // --- per-channel (batch norm) ---------------------------------------------------------
  batchNorm(x: Storage, gamma: Storage, beta: Storage, d: ChannelDims, eps: number): { y: Storage; xhat: Storage; mean: Storage; variance: Storage; rstd: Storage } {
    const c = this.ctx;
    return channel.batchNorm(c, c.storage(x), c.storage(gamma), c.storage(beta), d, eps);
  }
  batchNormBackward(g: Storage, xhat: Storage, w: Storage, d: ChannelDims): Storage {
    const c = this.ctx;
    return channel.batchNormBackward(c, c.storage(g), c.storage(xhat), c.storage(w), d);
  }
  batchNormBackwardSums(g: Storage, xhat: Storage, w: Storage, d: ChannelDims): { dx: Storage; sumG: Storage; sumGX: Storage } {
    const c = this.ctx;
    return channel.batchNormBackwardSums(c, c.storage(g), c.storage(xhat), c.storage(w), d);
  }
  batchNormReluMaxPool(x: Storage, gamma: Storage, beta: Storage, d: ChannelDims, eps: number, h: number, w: number): BatchNormReluMaxPoolResult {
    return composeBatchNormReluMaxPool(this, x, gamma, beta, d, eps, h, w);
  }
  batchNormReluMaxPoolBackward(gp: Storage, pooled: Storage, indices: Storage, xhat: Storage, w: Storage, d: ChannelDims, h: number, wd: number): { dx: Storage; sumG: Storage; sumGX: Storage } {
    return composeBatchNormReluMaxPoolBackward(this, gp, pooled, indices, xhat, w, d, h, wd);
  }
  channelAffine(x: Storage, scale: Storage, shift: Storage | null, d: ChannelDims): Storage {
    const c = this.ctx;
    return channel.channelAffine(c, c.storage(x), c.storage(scale), shift ? c.storage(shift) : null, d);
  }
  channelDot(a: Storage, b: Storage, d: ChannelDims): Storage {
    const c = this.ctx;
    return channel.channelDot(c, c.storage(a), c.storage(b), d);
  }

  gather(x: View, idx: View, axis: number, shape: readonly number[]): Storage {
    return indexing.gather(this.ctx, x, idx, axis, shape);
  }
  scatterAdd(updates: View, idx: View, axis: number, outShape: readonly number[]): Storage {
    return indexing.scatterAdd(this.ctx, updates, idx, axis, outShape);
  }
  checkIndices(idx: View, limit: number, message: string): void {
    this.indexChecks.check(idx, limit, message);
  }
  random(kind: RandomKind, key: readonly [number, number], counter: number, size: number, dtype: DType): Storage {
    return random(this.ctx, kind, key, counter, size, dtype);
  }
}
