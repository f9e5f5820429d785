// conv2d on software adapters as im2col + the barrier-free batched GEMM: y[n] = W · cols[n]
// with W [cOut, cIn·kh·kw] and cols [cIn·kh·kw, oh·ow] built by kernels/im2col.wgsl. On a
// CPU the implicit GEMM spends most of its time on per-element index math and workgroup
// barriers; here the index math is once per row and the GEMM needs no barriers. The cols
// buffer is built for a chunk of images at a time so it stays small.

import type { Conv2dGeometry } from '../kernels.js';
import { type Ctx, params, wgslType } from './context.js';
import { matmulInto, useDirect } from './gemm.js';
import type { GpuStorage } from './storage.js';

/** Largest im2col buffer, in elements (64 MiB of float32); METAGRAD_IM2COL_LIMIT overrides it. */
const COLS_LIMIT = 16 * 2 ** 20;

/** Whether conv2d should take this path: a software adapter, one group, and one image's cols fits. */
export function useIm2col(ctx: Ctx, g: Conv2dGeometry): boolean {
  if (!useDirect(ctx) || g.groups !== 1) return false;
  return g.cIn * g.kh * g.kw * g.oh * g.ow <= colsLimit(ctx);
}

function colsLimit(ctx: Ctx): number {
  const env = Number(typeof process !== 'undefined' ? process.env?.['METAGRAD_IM2COL_LIMIT'] : undefined);
  return Math.min(env > 0 ? env : COLS_LIMIT, Math.floor(ctx.gpu.limits.maxStorageBufferBindingSize / 4));
}

export function conv2dIm2col(ctx: Ctx, x: GpuStorage, w: GpuStorage, g: Conv2dGeometry): GpuStorage {
  const k = g.cIn * g.kh * g.kw, ohw = g.oh * g.ow;
  const y = ctx.alloc(x.dtype, g.n * g.cOut * ohw);
  const chunk = Math.max(1, Math.min(g.n, Math.floor(colsLimit(ctx) / (k * ohw))));
  const cols = ctx.alloc(x.dtype, chunk * k * ohw);
  const im2col = ctx.kernel('im2col', {}, { T: wgslType(x.dtype) }, 1, 1, x.dtype === 'float16');
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const nl = Math.min(chunk, g.n - n0);
    const rows = nl * k * g.oh;
    const p = params();
    [rows, n0, g.cIn, g.h, g.w, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW]
      .forEach((v, i) => (p[i] = v));
    ctx.launch(im2col, [x.buf, cols.buf], p, ctx.grid(Math.ceil(rows / 64)));
    matmulInto(ctx,
      { storage: w, offset: 0, batchStride: 0, rowStride: k, colStride: 1 },
      { storage: cols, offset: 0, batchStride: k * ohw, rowStride: ohw, colStride: 1 },
      { batch: nl, m: g.cOut, n: ohw, k }, y, n0 * g.cOut * ohw);
  }
  ctx.free(cols);
  return y;
}
