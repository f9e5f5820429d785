// Dispatch for maxPool2d (kernels/pool.wgsl): a thread per output window; and for its
// transpose, maxPool2dBackward: a thread per input element (deterministic, no atomics).

import type { Pool2dGeometry } from '../kernels.js';
import { type Ctx, wgslType } from './context.js';
import type { GpuStorage } from './storage.js';
import { POOL_PARAMS } from './params.js';

export function maxPool2d(ctx: Ctx, x: GpuStorage, g: Pool2dGeometry): { values: GpuStorage; indices: GpuStorage } {
  const total = g.planes * g.oh * g.ow;
  const values = ctx.alloc(x.dtype, total);
  const indices = ctx.alloc('int32', total);
  if (total === 0) return { values, indices };
  const k = ctx.kernel('pool', {}, { T: wgslType(x.dtype) }, 1, 2, x.dtype === 'float16');
  ctx.launch(k, [x.buf, values.buf, indices.buf], poolParams(total, g), ctx.grid(Math.ceil(total / 256)));
  return { values, indices };
}

export function maxPool2dBackward(ctx: Ctx, dy: GpuStorage, indices: GpuStorage, g: Pool2dGeometry): GpuStorage {
  const total = g.planes * g.h * g.w;
  const dx = ctx.alloc(dy.dtype, total);
  if (total === 0) return dx;
  const k = ctx.kernel('pool', { BACKWARD: true }, { T: wgslType(dy.dtype) }, 2, 1, dy.dtype === 'float16');
  ctx.launch(k, [dy.buf, indices.buf, dx.buf], poolParams(total, g), ctx.grid(Math.ceil(total / 256)));
  return dx;
}

function poolParams(total: number, g: Pool2dGeometry): Uint32Array {
  const p = POOL_PARAMS.fill({ total, h: g.h, w: g.w, kh: g.kh, kw: g.kw, oh: g.oh, ow: g.ow, strideH: g.strideH, strideW: g.strideW, padH: g.padH, padW: g.padW });
  return p;
}
