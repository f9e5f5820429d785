// Dispatch for cholesky and triangularSolve (kernels/linalg.wgsl): a thread per matrix or
// per (matrix, column). Their vjps are composed in ts/ops from these and matmul.

import type { MatView, TriangularSolveDims } from '../kernels.js';
import { type Ctx, params, wgslType } from './context.js';
import type { GpuStorage } from './storage.js';

export function cholesky(ctx: Ctx, a: MatView, batch: number, n: number): { factor: GpuStorage; info: GpuStorage } {
  const as = ctx.storage(a.storage);
  const factor = ctx.alloc(as.dtype, batch * n * n), info = ctx.alloc('int32', batch);
  if (batch === 0) return { factor, info };
  const p = params();
  [batch, n, a.offset, a.batchStride, a.rowStride, a.colStride].forEach((v, i) => (p[i] = v));
  const k = ctx.kernel('linalg', { CHOLESKY: true }, { T: wgslType(as.dtype) }, 1, 2, as.dtype === 'float16');
  ctx.launch(k, [as.buf, factor.buf, info.buf], p, ctx.grid(Math.ceil(batch / 64)));
  return { factor, info };
}

export function triangularSolve(ctx: Ctx, t: MatView, b: MatView, d: TriangularSolveDims, lower: boolean): GpuStorage {
  const ts = ctx.storage(t.storage), bs = ctx.storage(b.storage);
  const out = ctx.alloc(ts.dtype, d.batch * d.n * d.m);
  const tasks = d.batch * d.m;
  if (tasks === 0 || d.n === 0) return out;
  const p = params();
  [tasks, d.n, d.m, lower ? 1 : 0, t.offset, t.batchStride, t.rowStride, t.colStride, b.offset, b.batchStride, b.rowStride, b.colStride].forEach((v, i) => (p[i] = v));
  const k = ctx.kernel('linalg', { TRISOLVE: true }, { T: wgslType(ts.dtype) }, 2, 1, ts.dtype === 'float16');
  ctx.launch(k, [ts.buf, bs.buf, out.buf], p, ctx.grid(Math.ceil(tasks / 64)));
  return out;
}
