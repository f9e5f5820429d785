// Deferred index checks (kernels/check-indices.wgsl). WebGPU cannot read indices back
// synchronously, so an out-of-range index cannot throw inside the op that received it.
// Instead a small kernel checks the indices on the device and flags the first failing check
// in an 8-byte buffer; the next read() or sync() reads that flag and throws an IndexError
// naming the op. (The indexing kernels still clamp, so memory is never touched out of bounds.)

import { IndexError } from '../../core/errors.js';
import type { View } from '../kernels.js';
import type { Ctx } from './context.js';
import { numel } from '../../core/shape.js';
import { coalesce } from './layout.js';
import type { GpuStorage } from './storage.js';
import { CHECK_INDICES_PARAMS } from './params.js';

const NONE = 0xffffffff;

export class IndexChecks {
  private flag: GpuStorage | null = null;
  /** message of every check recorded since the last read, by id */
  private readonly pending = new Map<number, string>();
  private nextId = 0;

  constructor(private readonly ctx: Ctx) {}

  /** Record a check that every index of idx lies in [0, limit). */
  check(idx: View, limit: number, message: string): void {
    const n = numel(idx.shape);
    if (n === 0) return;
    const is = this.ctx.storage(idx.storage);
    const { shape, strides } = coalesce(idx.shape, [idx.strides]);
    const flag = this.flagStorage();
    const id = this.nextId++;
    this.pending.set(id, message);
    const p = CHECK_INDICES_PARAMS.fill({ n, rank: shape.length, shape, strides: strides[0]!, offset: idx.offset, limit, check: id });
    const k = this.ctx.kernel('check-indices', {}, {}, 1, 1, false);
    this.ctx.launch(k, [is.buf, flag.buf], p, this.ctx.grid(Math.ceil(n / 256)));
  }

  /**
   * Read the flag if any check was recorded: resolves when all passed, rejects with the
   * first failure's IndexError. Call it right after starting a read, so the flag is copied
   * in the same submission.
   */
  async take(): Promise<void> {
    if (this.pending.size === 0 || !this.flag) return;
    const upto = this.nextId;
    const raw = new Int32Array(await this.ctx.queue.read(this.flag.buf, 8));
    const failed = raw[0]! >>> 0;
    const message = failed === NONE ? null : this.pending.get(failed) ?? 'an index is out of range';
    for (const id of this.pending.keys()) if (id < upto) this.pending.delete(id);
    if (message === null) return;
    this.ctx.queue.upload(this.flag.buf, new Uint32Array([NONE, 0]));
    throw new IndexError(`${message}: found ${raw[1]} (checked on the GPU and reported at the first read after the op)`);
  }

  private flagStorage(): GpuStorage {
    if (!this.flag) {
      this.flag = this.ctx.alloc('int32', 2);
      this.ctx.queue.upload(this.flag.buf, new Uint32Array([NONE, 0]));
    }
    return this.flag;
  }

  dispose(): void {
    if (this.flag) this.ctx.free(this.flag);
    this.flag = null;
    this.pending.clear();
  }
}
