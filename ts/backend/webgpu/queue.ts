// Lazy execution. Kernels are recorded into one command encoder (one open compute pass)
// and submitted in batches; nothing waits for the GPU until a value is read. Each dispatch
// gets a 256-byte slot of a per-batch uniform arena, written once just before submit.
// Reads copy into a pooled MAP_READ staging buffer in the same submission, then map it.
// Bind groups are cached by (layout, buffer ids): creating one costs more than the rest of
// a dispatch together, and a training loop's pooled buffers recur in the same combinations.
//
// Ordering rule: queue.writeBuffer runs at once on the queue timeline, ahead of commands
// still sitting in the unsubmitted encoder. So an upload into a buffer the current batch
// already used goes through a copy inside the encoder instead (see upload()).
/// <reference types="@webgpu/types" />

import { BackendError } from '../../core/errors.js';
import { BufferPool, type PooledBuffer } from './buffer-pool.js';

export const PARAM_WORDS = 64;
const SLOT_BYTES = 256;
const MAX_BATCH = 512;
const MAX_GROUPS = 8192;

export interface DispatchArgs {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  buffers: PooledBuffer[];
  params: Uint32Array | Int32Array | Float32Array;
  groups: readonly [number, number, number];
}

export class CommandQueue {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly arena: GPUBuffer;
  private readonly arenaHost = new Uint32Array((MAX_BATCH * SLOT_BYTES) / 4);
  private slots = 0;
  private afterSubmit: GPUBuffer[] = [];
  /** Id of the batch being recorded; buffers remember the last batch that touched them. */
  batch = 0;
  dispatches = 0;
  submits = 0;
  readonly staging: BufferPool;
  private groups = new Map<string, GPUBindGroup>();
  private layoutIds = new Map<GPUBindGroupLayout, number>();
  bindGroupsCreated = 0;

  constructor(private readonly device: GPUDevice, private readonly check: () => void) {
    this.arena = device.createBuffer({ size: MAX_BATCH * SLOT_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'mg-params' });
    this.staging = new BufferPool(device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, Number.MAX_SAFE_INTEGER, 256 * 2 ** 20, 'staging');
  }

  private enc(): GPUCommandEncoder {
    this.check();
    return (this.encoder ??= this.device.createCommandEncoder({ label: 'mg-batch' }));
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  dispatch(a: DispatchArgs): void {
    if (this.slots >= MAX_BATCH) this.flush();
    const enc = this.enc();
    const slot = this.slots++;
    if (a.params.length > PARAM_WORDS) throw new BackendError(`webgpu: internal: ${a.params.length} param words > ${PARAM_WORDS}`);
    this.arenaHost.set(new Uint32Array(a.params.buffer, a.params.byteOffset, a.params.length), (slot * SLOT_BYTES) / 4);
    let lid = this.layoutIds.get(a.layout);
    if (lid === undefined) this.layoutIds.set(a.layout, (lid = this.layoutIds.size));
    let key = `${lid}`;
    for (const b of a.buffers) {
      b.lastBatch = this.batch;
      key += `,${b.id}`;
    }
    let group = this.groups.get(key);
    if (!group) {
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.arena, offset: 0, size: SLOT_BYTES } }];
      a.buffers.forEach((b, i) => entries.push({ binding: i + 1, resource: { buffer: b.buffer } }));
      group = this.device.createBindGroup({ layout: a.layout, entries });
      // Entries of destroyed buffers are never hit again (ids are unique); bound the map.
      if (this.groups.size >= MAX_GROUPS) this.groups.clear();
      this.groups.set(key, group);
      this.bindGroupsCreated++;
    }
    this.pass ??= enc.beginComputePass();
    this.pass.setPipeline(a.pipeline);
    this.pass.setBindGroup(0, group, [slot * SLOT_BYTES]);
    this.pass.dispatchWorkgroups(a.groups[0], a.groups[1], a.groups[2]);
    this.dispatches++;
  }

  /** Zero a buffer in stream order. */
  clear(b: PooledBuffer, bytes: number): void {
    const enc = this.enc();
    this.endPass();
    b.lastBatch = this.batch;
    enc.clearBuffer(b.buffer, 0, Math.ceil(bytes / 4) * 4);
  }

  /** Copy host bytes into a buffer, after every kernel recorded so far. */
  upload(b: PooledBuffer, data: ArrayBufferView): void {
    this.check();
    const bytes = Math.ceil(data.byteLength / 4) * 4;
    if (b.lastBatch !== this.batch || !this.encoder) {
      this.device.queue.writeBuffer(b.buffer, 0, data.buffer, data.byteOffset, bytes);
      return;
    }
    const tmp = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(tmp.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    tmp.unmap();
    this.endPass();
    this.enc().copyBufferToBuffer(tmp, 0, b.buffer, 0, bytes);
    this.afterSubmit.push(tmp);
  }

  /** Submit what was recorded. */
  flush(): void {
    if (!this.encoder) return;
    this.check();
    this.endPass();
    if (this.slots > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaHost.buffer, 0, this.slots * SLOT_BYTES);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.slots = 0;
    this.batch++;
    this.submits++;
    for (const t of this.afterSubmit) t.destroy();
    this.afterSubmit = [];
  }

  /** Read `bytes` from the start of a buffer: flushes, then maps a staging copy. */
  async read(b: PooledBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const st = this.staging.acquire(size);
    const enc = this.enc();
    this.endPass();
    enc.copyBufferToBuffer(b.buffer, 0, st.buffer, 0, size);
    this.flush();
    try {
      await st.buffer.mapAsync(GPUMapMode.READ, 0, size);
    } catch (err) {
      this.staging.destroy(st);
      this.check();
      throw new BackendError(`webgpu: reading a buffer failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const out = st.buffer.getMappedRange(0, size).slice(0);
    st.buffer.unmap();
    this.staging.release(st);
    return out;
  }

  /** Wait until the GPU has finished everything submitted. */
  async idle(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
  }

  dispose(): void {
    this.encoder = null;
    this.pass = null;
    for (const t of this.afterSubmit) t.destroy();
    this.afterSubmit = [];
    this.groups.clear();
    this.staging.trim();
    this.arena.destroy();
  }
}
