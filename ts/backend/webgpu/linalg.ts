// Dispatch for cholesky and triangularSolve (kernels/linalg.wgsl): a thread per matrix or
// per (matrix, column). Their vjps are composed in ts/ops from these and matmul.

import type { MatView, TriangularSolveDims } from '../kernels.js';
import { type Ctx, wgslType } from './context.js';
import type { GpuStorage } from './storage.js';
import { CHOLESKY_PARAMS, TRIANGULAR_SOLVE_PARAMS } from './params.js';

export function cholesky(ctx: Ctx, a: MatView, batch: number, n: number): { factor: GpuStorage; info: GpuStorage } {
  const as = ctx.storage(a.storage);
  const factor = ctx.alloc(as.dtype, batch * n * n), info = ctx.alloc('int32', batch);
  if (batch === 0) return { factor, info };
  const p = CHOLESKY_PARAMS.fill({ batch, n, offset: a.offset, batchStride: a.batchStride, rowStride: a.rowStride, colStride: a.colStride });
  const k = ctx.kernel('linalg', { CHOLESKY: true }, { T: wgslType(as.dtype) }, 1, 2, as.dtype === 'float16');
  ctx.launch(k, [as.buf, factor.buf, info.buf], p, ctx.grid(Math.ceil(batch / 64)));
  return { factor, info };
}

export function triangularSolve(ctx: Ctx, t: MatView, b: MatView, d: TriangularSolveDims, lower: boolean): GpuStorage {
  const ts = ctx.storage(t.storage), bs = ctx.storage(b.storage);
  const out = ctx.alloc(ts.dtype, d.batch * d.n * d.m);
  const tasks = d.batch * d.m;
  if (tasks === 0 || d.n === 0) return out;
  const p = TRIANGULAR_SOLVE_PARAMS.fill({
    tasks, n: d.n, m: d.m, lower: lower ? 1 : 0,
    tOffset: t.offset, tBatchStride: t.batchStride, tRowStride: t.rowStride, tColStride: t.colStride,
    bOffset: b.offset, bBatchStride: b.batchStride, bRowStride: b.rowStride, bColStride: b.colStride,
  });
  const k = ctx.kernel('linalg', { TRISOLVE: true }, { T: wgslType(ts.dtype) }, 2, 1, ts.dtype === 'float16');
  ctx.launch(k, [ts.buf, bs.buf, out.buf], p, ctx.grid(Math.ceil(tasks / 64)));
  return out;
}
