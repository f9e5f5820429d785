// Freed host memory kept for reuse by size class, as on WebGPU: a request is rounded up to
// its class (powers of two in eighths, at most 12.5% waste, 64 bytes at least) and served by
// any freed buffer of that class, whatever dtype or length it held before; a storage is a
// TypedArray of exact length over the class-sized ArrayBuffer. (Pooling by exact length
// never reused the task data uploaded every iteration: issue 14 item 17.)
// Two bounds: the cap counts each buffer's object overhead, not only its payload; and memory
// that sat in the pool untouched for a whole window of allocations is released to the
// garbage collector, so a one-off peak or a change of shapes does not pin memory for good.

import { sizeClass } from '../size-class.js';

/** Bytes a pooled ArrayBuffer costs beyond its payload (JS object + backing-store record + malloc; ~380 measured on Node 20). */
export const BUFFER_OVERHEAD = 384;

/** The class a request of `bytes` is served from. */
export function hostSizeClass(bytes: number): number {
  return sizeClass(bytes, 64, 8);
}

interface ClassList {
  buffers: ArrayBuffer[];
  /** the fewest buffers this list held since the last release window began */
  low: number;
}

export type GiveResult = 'pooled' | 'dropped' | 'double-free';

export class HostBufferPool {
  private readonly free = new Map<number, ClassList>();
  /** buffers now in the pool: a second free of the same storage must not pool it twice */
  private readonly pooled = new WeakSet<ArrayBuffer>();
  /** payload bytes held (class sizes) */
  bytes = 0;
  buffers = 0;
  /** payload bytes handed back to the garbage collector because they sat idle for a window */
  releasedBytes = 0;
  private takes = 0;

  /**
   * @param capBytes most the pool holds, payload plus BUFFER_OVERHEAD per buffer
   * @param windowTakes allocations per release window: buffers of a class that no request
   *   took during a whole window are released (long enough to span a training iteration)
   */
  constructor(private readonly capBytes: number, private readonly windowTakes = 1 << 18) {}

  /** What the cap counts: payload plus per-buffer overhead. */
  get footprint(): number {
    return this.bytes + this.buffers * BUFFER_OVERHEAD;
  }

  /** A buffer of at least `bytes` (contents undefined), from the pool when one is free. */
  take(bytes: number): ArrayBuffer {
    if (++this.takes >= this.windowTakes) this.releaseIdle();
    const cls = hostSizeClass(bytes);
    const list = this.free.get(cls);
    const hit = list?.buffers.pop();
    if (hit) {
      list!.low = Math.min(list!.low, list!.buffers.length);
      this.pooled.delete(hit);
      this.bytes -= cls;
      this.buffers--;
      return hit;
    }
    return new ArrayBuffer(cls);
  }

  /** Return a buffer: pooled, dropped (not a class size, or the pool is full) or a double free. */
  give(buf: ArrayBuffer): GiveResult {
    if (this.pooled.has(buf)) return 'double-free';
    const cls = buf.byteLength;
    if (cls === 0 || hostSizeClass(cls) !== cls || this.footprint + cls + BUFFER_OVERHEAD > this.capBytes) return 'dropped';
    let list = this.free.get(cls);
    if (!list) this.free.set(cls, (list = { buffers: [], low: 0 }));
    list.buffers.push(buf);
    this.pooled.add(buf);
    this.bytes += cls;
    this.buffers++;
    return 'pooled';
  }

  /** Release, per class, the buffers that stayed free through the whole window (the oldest first). */
  releaseIdle(): void {
    this.takes = 0;
    for (const [cls, list] of this.free) {
      const idle = list.buffers.splice(0, list.low);
      for (const b of idle) this.pooled.delete(b);
      this.bytes -= idle.length * cls;
      this.buffers -= idle.length;
      this.releasedBytes += idle.length * cls;
      if (list.buffers.length === 0) this.free.delete(cls);
      else list.low = list.buffers.length;
    }
  }

  clear(): void {
    this.free.clear();
    this.bytes = 0;
    this.buffers = 0;
  }
}
