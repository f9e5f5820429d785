// conv2d and both of its transposes on software adapters, as the barrier-free GEMM over
// unfolded images, a chunk of images at a time so the unfolded buffer stays small:
//   forward        y[n]  = W · cols[n]                 (cols = im2col(x), [K, oh·ow])
//   input grad     dx[n] = col2im(Wᵀ · dy[n])
//   filter grad    dW    = Σ_chunks dyᵀ-chunk · rows   (rows = im2row(x), [n·oh·ow, K])
// with K = cIn·kh·kw. On a CPU the implicit GEMM spends most of its time on per-element
// index math and workgroup barriers; here the index math is once per row and the GEMM has
// no barriers. Grouped convolutions keep the implicit GEMM.

import { envVar } from '../../core/env.js';
import type { Conv2dGeometry } from '../kernels.js';
import { type Ctx, wgslType } from './context.js';
import { copy } from './elementwise.js';
import { chooseSplits, matmulInto, sumPartials, useDirect } from './gemm.js';
import type { GpuStorage } from './storage.js';
import { UNFOLD_PARAMS } from './params.js';

/** Largest unfolded buffer, in elements (64 MiB of float32); METAGRAD_IM2COL_LIMIT overrides it. */
const COLS_LIMIT = 16 * 2 ** 20;

function colsLimit(ctx: Ctx): number {
  const env = Number(envVar('METAGRAD_IM2COL_LIMIT'));
  return Math.min(env > 0 ? env : COLS_LIMIT, Math.floor(ctx.gpu.limits.maxStorageBufferBindingSize / 4));
}

/** Whether to take this path: a software adapter, one group, and one image's unfolding fits. */
export function useIm2col(ctx: Ctx, g: Conv2dGeometry): boolean {
  if (!useDirect(ctx) || g.groups !== 1) return false;
  return g.cIn * g.kh * g.kw * g.oh * g.ow <= colsLimit(ctx) && g.n * g.cIn * g.h * g.w * g.cOut > 0;
}

/** Images per chunk. */
function chunkSize(ctx: Ctx, g: Conv2dGeometry): number {
  return Math.max(1, Math.min(g.n, Math.floor(colsLimit(ctx) / (g.cIn * g.kh * g.kw * g.oh * g.ow))));
}

/** Launch im2col/im2row (kernels/im2col.wgsl) or col2im for images [n0, n0 + nl). */
function unfold(ctx: Ctx, file: 'im2col' | 'col2im', rowsLayout: boolean, src: GpuStorage, dst: GpuStorage, g: Conv2dGeometry, n0: number, nl: number): void {
  const rows = file === 'im2col' ? nl * g.cIn * g.kh * g.kw * g.oh : nl * g.cIn * g.h;
  const unitStride = g.strideH === 1 && g.strideW === 1;
  const kernel = ctx.kernel(file, { ROWS: rowsLayout, UNIT_STRIDE: file === 'col2im' && unitStride }, { T: wgslType(src.dtype) }, 1, 1, src.dtype === 'float16');
  const p = UNFOLD_PARAMS.fill({
    rows, n0, cIn: g.cIn, h: g.h, w: g.w, kh: g.kh, kw: g.kw, oh: g.oh, ow: g.ow,
    strideH: g.strideH, strideW: g.strideW, padH: g.padH, padW: g.padW, dilationH: g.dilationH, dilationW: g.dilationW,
  });
  ctx.launch(kernel, [src.buf, dst.buf], p, ctx.grid(Math.ceil(rows / 64)));
}

export function conv2dIm2col(ctx: Ctx, x: GpuStorage, w: GpuStorage, g: Conv2dGeometry): GpuStorage {
  const k = g.cIn * g.kh * g.kw, ohw = g.oh * g.ow;
  const y = ctx.alloc(x.dtype, g.n * g.cOut * ohw);
  const chunk = chunkSize(ctx, g);
  const cols = ctx.alloc(x.dtype, chunk * k * ohw);
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const nl = Math.min(chunk, g.n - n0);
    unfold(ctx, 'im2col', false, x, cols, g, n0, nl);
    matmulInto(ctx,
      { storage: w, offset: 0, batchStride: 0, rowStride: k, colStride: 1 },
      { storage: cols, offset: 0, batchStride: k * ohw, rowStride: ohw, colStride: 1 },
      { batch: nl, m: g.cOut, n: ohw, k }, y, n0 * g.cOut * ohw);
  }
  ctx.free(cols);
  return y;
}

export function conv2dBackwardInputIm2col(ctx: Ctx, dy: GpuStorage, w: GpuStorage, g: Conv2dGeometry): GpuStorage {
  const k = g.cIn * g.kh * g.kw, ohw = g.oh * g.ow;
  const dx = ctx.alloc(dy.dtype, g.n * g.cIn * g.h * g.w);
  const chunk = chunkSize(ctx, g);
  const dcols = ctx.alloc(dy.dtype, chunk * k * ohw);
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const nl = Math.min(chunk, g.n - n0);
    matmulInto(ctx,
      { storage: w, offset: 0, batchStride: 0, rowStride: 1, colStride: k },
      { storage: dy, offset: n0 * g.cOut * ohw, batchStride: g.cOut * ohw, rowStride: ohw, colStride: 1 },
      { batch: nl, m: k, n: ohw, k: g.cOut }, dcols, 0);
    unfold(ctx, 'col2im', false, dcols, dx, g, n0, nl);
  }
  ctx.free(dcols);
  return dx;
}

export function conv2dBackwardFilterIm2col(ctx: Ctx, x: GpuStorage, dy: GpuStorage, g: Conv2dGeometry): GpuStorage {
  const k = g.cIn * g.kh * g.kw, ohw = g.oh * g.ow;
  // dy as [cOut, n·oh·ow], so that a chunk of images is one contiguous stretch of the GEMM's k.
  const dyT = ctx.alloc(dy.dtype, g.n * g.cOut * ohw);
  const shape = [g.cOut, g.n, ohw];
  copy(ctx, { storage: dy, shape, strides: [ohw, g.cOut * ohw, 1], offset: 0 }, { storage: dyT, shape, strides: [g.n * ohw, ohw, 1], offset: 0 });
  const chunk = chunkSize(ctx, g);
  const chunks = Math.ceil(g.n / chunk);
  const { splits } = chooseSplits(Math.ceil(g.cOut / 32) * Math.ceil(k / 64), chunk * ohw);
  const parts = chunks * splits;
  const out = ctx.alloc(parts > 1 ? 'float32' : dy.dtype, parts * g.cOut * k);
  const rows = ctx.alloc(x.dtype, chunk * ohw * k);
  for (let c = 0; c < chunks; c++) {
    const n0 = c * chunk, nl = Math.min(chunk, g.n - n0);
    unfold(ctx, 'im2col', true, x, rows, g, n0, nl);
    // Every chunk writes all `splits` partials (a split past the end of k writes zeros).
    const kc = Math.ceil(nl * ohw / splits);
    matmulInto(ctx,
      { storage: dyT, offset: n0 * ohw, batchStride: 0, rowStride: g.n * ohw, colStride: 1 },
      { storage: rows, offset: 0, batchStride: 0, rowStride: k, colStride: 1 },
      { batch: 1, m: g.cOut, n: k, k: nl * ohw }, out, c * splits * g.cOut * k, splits, kc);
  }
  ctx.free(rows);
  ctx.free(dyT);
  return parts > 1 ? sumPartials(ctx, out, parts, g.cOut * k, dy.dtype) : out;
}
