// Dispatch for the fused softmax / log-softmax (kernels/softmax.wgsl): a thread per row for
// short rows with plenty of them (no barriers), else a workgroup per row (64 or 256 threads).

import type { View } from '../kernels.js';
import { type Ctx, wgslType } from './context.js';
import type { GpuStorage } from './storage.js';
import { SOFTMAX_PARAMS } from './params.js';

export function softmax(ctx: Ctx, x: View, rows: number, cols: number, log: boolean): GpuStorage {
  const xs = ctx.storage(x.storage);
  const out = ctx.alloc(xs.dtype, rows * cols);
  if (rows === 0 || cols === 0) return out;
  const thread = cols <= 32 || (cols <= 128 && rows >= 4096) || (ctx.cpuLike && rows >= 16);
  const wg = cols <= 256 ? 64 : 256;
  const k = ctx.kernel('softmax', { LOG: log, THREAD: thread }, { T: wgslType(xs.dtype), WG: wg }, 1, 1, xs.dtype === 'float16');
  const p = SOFTMAX_PARAMS.fill({ rows, cols, offset: x.offset });
  ctx.launch(k, [xs.buf, out.buf], p, ctx.grid(thread ? Math.ceil(rows / 64) : rows));
  return out;
}
