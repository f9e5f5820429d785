// GPU buffers pooled by size class. Creating and destroying buffers is slow and fragments
// memory, so freed buffers wait in a free list of their class: powers of two split into
// quarters (at most 25% waste), at least 256 bytes. The pool is capped so an unusual peak
// does not pin memory forever.
/// <reference types="@webgpu/types" />

import { BackendError } from '../../core/errors.js';
import { sizeClass } from '../size-class.js';

/** The byte size a request is rounded up to (256 bytes at least, powers of two in quarters). */
export { sizeClass };

export interface PooledBuffer {
  readonly buffer: GPUBuffer;
  /** Unique for the life of the process (bind groups are cached by these). */
  readonly id: number;
  readonly bytes: number;
  /** The command batch that last used it (see queue.ts: uploads must not overtake it). */
  lastBatch: number;
}

let nextId = 1;

/**
 * Remove and return the free buffer with the lowest id. Which buffer a request gets is then a
 * function of the set of free buffers, not of the order they were freed in, so a training
 * loop settles into the same buffers for the same tensors every iteration (or every other,
 * as parameters alternate) and its bind groups, cached by buffer ids, recur instead of being
 * created anew for almost every dispatch.
 */
function takeLowestId(list: PooledBuffer[]): PooledBuffer | undefined {
  if (list.length === 0) return undefined;
  let best = 0;
  for (let i = 1; i < list.length; i++) if (list[i]!.id < list[best]!.id) best = i;
  const b = list[best]!;
  list[best] = list[list.length - 1]!;
  list.pop();
  return b;
}

export class BufferPool {
  private free = new Map<number, PooledBuffer[]>();
  pooledBytes = 0;
  pooledBuffers = 0;
  /** Bytes of every buffer this pool created and has not destroyed. */
  allocatedBytes = 0;
  created = 0;
  reused = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number,
    private readonly maxBytes: number,
    private readonly capBytes: number,
    private readonly label: string,
  ) {}

  acquire(bytes: number): PooledBuffer {
    const cls = sizeClass(Math.max(bytes, 4));
    if (cls > this.maxBytes) {
      throw new BackendError(`webgpu: a ${this.label} buffer of ${bytes} bytes exceeds the adapter's limit of ${this.maxBytes} bytes`);
    }
    const list = this.free.get(cls);
    const hit = list && takeLowestId(list);
    if (hit) {
      this.pooledBytes -= cls;
      this.pooledBuffers--;
      this.reused++;
      return hit;
    }
    let buffer: GPUBuffer;
    try {
      buffer = this.device.createBuffer({ size: cls, usage: this.usage, label: this.label });
    } catch (err) {
      throw new BackendError(`webgpu: allocating ${cls} bytes failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.allocatedBytes += cls;
    this.created++;
    return { buffer, id: nextId++, bytes: cls, lastBatch: -1 };
  }

  release(b: PooledBuffer): void {
    if (this.pooledBytes + b.bytes > this.capBytes) {
      this.destroy(b);
      return;
    }
    let list = this.free.get(b.bytes);
    if (!list) this.free.set(b.bytes, (list = []));
    list.push(b);
    this.pooledBytes += b.bytes;
    this.pooledBuffers++;
  }

  destroy(b: PooledBuffer): void {
    b.buffer.destroy();
    this.allocatedBytes -= b.bytes;
  }

  /** Destroy every pooled buffer (live ones stay with their owners). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) this.destroy(b);
    this.free.clear();
    this.pooledBytes = 0;
    this.pooledBuffers = 0;
  }
}
