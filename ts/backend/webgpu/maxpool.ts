// Dispatch for maxPool2d (kernels/pool.wgsl): a thread per output window. Its backward is
// a scatterAdd of the indices, composed in ts/ops.

import type { Pool2dGeometry } from '../kernels.js';
import { type Ctx, wgslType } from './context.js';
import type { GpuStorage } from './storage.js';

export function maxPool2d(ctx: Ctx, x: GpuStorage, g: Pool2dGeometry): { values: GpuStorage; indices: GpuStorage } {
  const total = g.planes * g.oh * g.ow;
  const values = ctx.alloc(x.dtype, total);
  const indices = ctx.alloc('int32', total);
  if (total === 0) return { values, indices };
  const k = ctx.kernel('pool', {}, { T: wgslType(x.dtype) }, 1, 2, x.dtype === 'float16');
  const p = new Uint32Array(64);
  [total, g.h, g.w, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW, g.padH, g.padW].forEach((v, i) => (p[i] = v));
  ctx.launch(k, [x.buf, values.buf, indices.buf], p, ctx.grid(Math.ceil(total / 256)));
  return { values, indices };
}
