// A tensor's storage on the GPU: a pooled buffer plus dtype and element count.

import type { Storage } from '../kernels.js';
import type { DType } from '../../core/dtype.js';
import type { PooledBuffer } from './buffer-pool.js';

export class GpuStorage implements Storage {
  readonly backend = 'webgpu';
  freed = false;
  constructor(readonly dtype: DType, readonly size: number, readonly buf: PooledBuffer) {}
  get buffer(): GPUBuffer {
    return this.buf.buffer;
  }
}

/** Bytes a storage of `size` elements needs (float16 rounded up to whole 32-bit words). */
export function storageBytes(dtype: DType, size: number): number {
  const raw = dtype === 'float16' ? size * 2 : size * 4;
  return Math.max(4, Math.ceil(raw / 4) * 4);
}
