// Dispatch for the fused softmax / log-softmax (kernels/softmax.wgsl): a workgroup per row,
// 64 threads for short rows, 256 for long ones.

import type { View } from '../kernels.js';
import { type Ctx, wgslType } from './context.js';
import type { GpuStorage } from './storage.js';

export function softmax(ctx: Ctx, x: View, rows: number, cols: number, log: boolean): GpuStorage {
  const xs = ctx.storage(x.storage);
  const out = ctx.alloc(xs.dtype, rows * cols);
  if (rows === 0 || cols === 0) return out;
  const wg = cols <= 256 ? 64 : 256;
  const k = ctx.kernel('softmax', { LOG: log }, { T: wgslType(xs.dtype), WG: wg }, 1, 1, xs.dtype === 'float16');
  const p = new Uint32Array(64);
  p[0] = rows;
  p[1] = cols;
  p[2] = x.offset;
  ctx.launch(k, [xs.buf, out.buf], p, ctx.grid(rows));
  return out;
}
