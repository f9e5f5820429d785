// What every kernel family's dispatch code needs: the device, the command queue, the
// buffer pool, compiled pipelines, and helpers to allocate storages, build a specialized
// kernel and launch it over a grid that respects maxComputeWorkgroupsPerDimension.
/// <reference types="@webgpu/types" />

import { envVar } from '../../core/env.js';
import { BackendError } from '../../core/errors.js';
import type { DType } from '../../core/dtype.js';
import type { Storage } from '../kernels.js';
import { BufferPool, type PooledBuffer } from './buffer-pool.js';
import type { AcquiredDevice } from './device.js';
import { paramAccessors } from './params.js';
import { PipelineCache } from './pipelines.js';
import { CommandQueue, PARAM_WORDS } from './queue.js';
import { type KernelFile, specialize } from './source.js';
import { GpuStorage, storageBytes } from './storage.js';

export interface Kernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** WGSL element type of a dtype. */
export function wgslType(d: DType): string {
  switch (d) {
    case 'float32': return 'f32';
    case 'int32': return 'i32';
    case 'float16': return 'f16';
    default: throw new BackendError(`webgpu: dtype ${d} is not supported (WGSL has no float64)`);
  }
}

/** The webgpu backend's dispatch state over one AcquiredDevice (device.ts): queue, pool, pipelines, kernels. */
export class Ctx {
  readonly queue: CommandQueue;
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  live = 0;
  liveBytes = 0;
  private kernels = new Map<string, Kernel>();
  /** Set when the device is lost or disposed: every later call fails with it. */
  dead: string | null = null;
  /** The first GPU validation error seen since the last read. */
  gpuError: string | null = null;

  constructor(public gpu: AcquiredDevice, private readonly sources: Map<KernelFile, string>) {
    const d = gpu.device;
    this.pool = new BufferPool(d, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      gpu.limits.maxStorageBufferBindingSize, 1024 * 2 ** 20, 'storage');
    this.queue = new CommandQueue(d, () => this.check());
    this.pipelines = new PipelineCache(d);
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }
  get maxGroups(): number {
    return this.gpu.limits.maxComputeWorkgroupsPerDimension;
  }

  /**
   * Pick kernel variants for a software adapter? METAGRAD_WEBGPU_CPU=0/1 overrides the
   * detection (tests use it to cover the GPU variants on lavapipe).
   */
  get cpuLike(): boolean {
    const env = envVar('METAGRAD_WEBGPU_CPU');
    return env === '1' ? true : env === '0' ? false : this.gpu.isCpu;
  }

  check(): void {
    if (this.dead) throw new BackendError(this.dead);
  }

  /** Fail on a GPU error reported since the last check (called after reads). */
  takeGpuError(): void {
    const e = this.gpuError;
    if (e) {
      this.gpuError = null;
      throw new BackendError(`webgpu: a GPU command failed: ${e}`);
    }
  }

  alloc(dtype: DType, size: number): GpuStorage {
    this.check();
    if (dtype === 'float16' && !this.gpu.hasF16) throw new BackendError(`webgpu: dtype float16 needs the adapter feature 'shader-f16', which ${this.gpu.adapterName} lacks`);
    wgslType(dtype);
    const s = new GpuStorage(dtype, size, this.pool.acquire(storageBytes(dtype, size)));
    this.live++;
    this.liveBytes += s.buf.bytes;
    return s;
  }

  free(s: GpuStorage): void {
    if (s.freed) return;
    s.freed = true;
    this.live--;
    this.liveBytes -= s.buf.bytes;
    if (!this.dead) this.pool.release(s.buf);
  }

  storage(s: Storage): GpuStorage {
    if (!(s instanceof GpuStorage)) throw new BackendError(`webgpu: storage from backend '${s.backend}' given to the webgpu backend`);
    if (s.freed) throw new BackendError('webgpu: storage used after it was freed');
    return s;
  }

  /** Build (or fetch) a kernel from a file, its //#if flags and {{KEY}} values. */
  kernel(file: KernelFile, flags: Record<string, boolean>, subs: Record<string, string | number>, reads: number, writes: number, f16: boolean): Kernel {
    // Specializing the source costs more than a dispatch: look the variant up by its recipe first.
    let key = `${file}|${reads}|${writes}|${f16}`;
    for (const f in flags) if (flags[f]) key += `|${f}`;
    for (const k in subs) key += `|${k}=${subs[k]}`;
    const hit = this.kernels.get(key);
    if (hit) return hit;
    const made = this.buildKernel(file, flags, subs, reads, writes, f16);
    this.kernels.set(key, made);
    return made;
  }

  private buildKernel(file: KernelFile, flags: Record<string, boolean>, subs: Record<string, string | number>, reads: number, writes: number, f16: boolean): Kernel {
    const body = specialize(this.sources.get(file)!, flags, subs);
    const code = `${f16 ? 'enable f16;\n' : ''}${this.sources.get('common')!}\n${paramAccessors(file)}\n${body}`;
    const label = `mg-${file}`;
    return { pipeline: this.pipelines.get(code, reads, writes, label), layout: this.pipelines.layout(reads, writes) };
  }

  /** Workgroups for a grid-stride kernel: all of them on GPUs, a few per core on software adapters. */
  cappedGroups(groups: number): number {
    return this.cpuLike ? Math.min(groups, 256) : groups;
  }

  /** Workgroup counts for `groups` workgroups, folded into y when x would exceed the limit. */
  grid(groups: number, z = 1): [number, number, number] {
    if (groups <= this.maxGroups) return [Math.max(groups, 1), 1, z];
    const y = Math.ceil(groups / this.maxGroups);
    if (y > this.maxGroups) throw new BackendError(`webgpu: ${groups} workgroups exceed the adapter's grid`);
    return [Math.ceil(groups / y), y, z];
  }

  launch(k: Kernel, buffers: PooledBuffer[], params: Uint32Array | Int32Array, groups: [number, number, number]): void {
    this.check();
    if (params.length > PARAM_WORDS) throw new BackendError('webgpu: internal: too many kernel params');
    this.queue.dispatch({ pipeline: k.pipeline, layout: k.layout, buffers, params, groups });
  }
}
