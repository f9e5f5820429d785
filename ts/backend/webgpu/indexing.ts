// Dispatch for gather (take along an axis) and scatterAdd (kernels/indexing.wgsl).

import type { View } from '../kernels.js';
import { type Ctx, wgslType } from './context.js';
import { contiguousStrides, numel } from '../../core/shape.js';
import { MAX_RANK } from './layout.js';
import { BackendError } from '../../core/errors.js';
import type { GpuStorage } from './storage.js';
import { INDEXING_PARAMS } from './params.js';

function checkRank(rank: number, op: string): void {
  if (rank > MAX_RANK) throw new BackendError(`webgpu: ${op} supports tensors of rank up to ${MAX_RANK}, got ${rank}`);
}

export function gather(ctx: Ctx, x: View, idx: View, axis: number, shape: readonly number[]): GpuStorage {
  const xs = ctx.storage(x.storage), is = ctx.storage(idx.storage);
  checkRank(shape.length, 'gather');
  const n = numel(shape);
  const out = ctx.alloc(xs.dtype, n);
  if (n === 0) return out;
  const rank = shape.length;
  const p = INDEXING_PARAMS.fill({
    n, rank, shape, axis, axisLength: x.shape[axis]!,
    srcOffset: x.offset, srcStrides: x.strides.slice(0, rank), idxOffset: idx.offset, idxStrides: idx.strides.slice(0, rank), outStrides: [], count: 0,
  });
  const t = wgslType(xs.dtype);
  const k = ctx.kernel('indexing', { GATHER: true }, { T: t }, 2, 1, xs.dtype === 'float16');
  ctx.launch(k, [xs.buf, is.buf, out.buf], p, ctx.grid(Math.ceil(n / 256)));
  return out;
}

export function scatterAdd(ctx: Ctx, updates: View, idx: View, axis: number, outShape: readonly number[]): GpuStorage {
  const us = ctx.storage(updates.storage), is = ctx.storage(idx.storage);
  const shape = updates.shape;
  checkRank(shape.length, 'scatterAdd');
  const total = numel(outShape);
  const out = ctx.alloc(us.dtype, total);
  const n = numel(shape);
  const t = wgslType(us.dtype);
  const ostr = contiguousStrides(outShape);
  const rank = shape.length;
  // Walk n elements over `walk`; count is the updates' axis length for the loop variant.
  const params = (n: number, walk: readonly number[], count: number) => INDEXING_PARAMS.fill({
    n, rank, shape: walk, axis, axisLength: outShape[axis]!,
    srcOffset: updates.offset, srcStrides: updates.strides.slice(0, rank), idxOffset: idx.offset, idxStrides: idx.strides.slice(0, rank),
    outStrides: ostr.slice(0, rank), count,
  });
  if (us.dtype === 'float16') {
    // No 16-bit atomics: walk the outputs, loop over the updates' axis.
    if (total === 0) return out;
    const p = params(total, outShape, shape[axis]!);
    const k = ctx.kernel('indexing', { SCATTER_LOOP: true }, { T: t }, 2, 1, true);
    ctx.launch(k, [us.buf, is.buf, out.buf], p, ctx.grid(Math.ceil(total / 256)));
    return out;
  }
  ctx.queue.clear(out.buf, out.buf.bytes);
  if (n === 0) return out;
  const p = params(n, shape, 0);
  const k = ctx.kernel('indexing', us.dtype === 'int32' ? { SCATTER_ATOMIC: true } : { SCATTER_CAS: true }, { T: t }, 2, 1, false);
  ctx.launch(k, [us.buf, is.buf, out.buf], p, ctx.grid(Math.ceil(n / 256)));
  return out;
}
