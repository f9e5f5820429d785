// Dispatch for reductions and arg-reductions (kernels/reduce.wgsl). Picks a thread per
// output for short reductions, a workgroup tree otherwise, and splits long reductions with
// few outputs into chunks (partials reduced by a second pass) so the GPU stays busy.

import type { ArgReduceOp, ReduceOp, View } from '../kernels.js';
import { type Ctx, type Kernel, wgslType } from './context.js';
import { contiguousStrides, numel } from '../../core/shape.js';
import { coalesce } from './layout.js';
import type { GpuStorage } from './storage.js';
import { REDUCE_PARAMS } from './params.js';

const MIN_I32 = 'bitcast<i32>(0x80000000u)';

function accType(t: string): string {
  return t === 'i32' ? 'i32' : 'f32';
}

function identity(op: ReduceOp, acc: string): string {
  const f = acc === 'f32';
  switch (op) {
    case 'sum': return f ? '0.0' : '0';
    case 'prod': return f ? '1.0' : '1';
    case 'max': return f ? '-inf_f32()' : MIN_I32;
    case 'min': return f ? 'inf_f32()' : '2147483647';
  }
}

function combine(op: ReduceOp, acc: string): string {
  const f = acc === 'f32';
  switch (op) {
    case 'sum': return 'a + b';
    case 'prod': return 'a * b';
    // NaN wins, as in the reference.
    case 'max': return f ? 'select(a, b, b > a || is_nan(b))' : 'max(a, b)';
    case 'min': return f ? 'select(a, b, b < a || is_nan(b))' : 'min(a, b)';
  }
}

interface Split {
  keptShape: number[];
  keptStrides: number[];
  redShape: number[];
  redStrides: number[];
  outer: number;
  inner: number;
}

function split(x: View, axes: readonly number[]): Split {
  const kept: number[] = [];
  for (let d = 0; d < x.shape.length; d++) if (!axes.includes(d)) kept.push(d);
  const k = coalesce(kept.map((d) => x.shape[d]!), [kept.map((d) => x.strides[d]!)]);
  const r = coalesce(axes.map((d) => x.shape[d]!), [axes.map((d) => x.strides[d]!)]);
  return {
    keptShape: k.shape, keptStrides: k.strides[0]!, redShape: r.shape, redStrides: r.strides[0]!,
    outer: numel(kept.map((d) => x.shape[d]!)), inner: numel(axes.map((d) => x.shape[d]!)),
  };
}

function fillParams(s: Split, offset: number, chunkLen: number, chunks: number): Uint32Array {
  const p = REDUCE_PARAMS.fill({
    outer: s.outer, inner: s.inner, chunkLen, chunks,
    dims: [
      { rank: s.keptShape.length, shape: s.keptShape, strides: s.keptStrides.slice(0, s.keptShape.length) },
      { rank: s.redShape.length, shape: s.redShape, strides: s.redStrides.slice(0, s.redShape.length) },
    ],
    offset,
  });
  return p;
}

/**
 * A thread per output when the reduced part is short, when the outputs are plenty, or when
 * neighbouring outputs are neighbours in memory while the reduced elements are not (a sum
 * over axis 0: threads then read coalesced rows). Software adapters avoid barrier trees.
 */
function threadPerOutput(ctx: Ctx, s: Split): boolean {
  const { outer, inner } = s;
  if (inner <= 32 || (outer >= 8192 && inner <= 128)) return true;
  const keptUnit = s.keptStrides.length > 0 && s.keptStrides[s.keptStrides.length - 1] === 1;
  const redUnit = s.redStrides.length > 0 && s.redStrides[s.redStrides.length - 1] === 1;
  if (keptUnit && !redUnit && outer >= 256) return true;
  return ctx.cpuLike && outer >= 16;
}

export function reduce(ctx: Ctx, op: ReduceOp, x: View, axes: readonly number[]): GpuStorage {
  const xs = ctx.storage(x.storage);
  const s = split(x, axes);
  const t = wgslType(xs.dtype), acc = accType(t);
  const subs = { T: t, ACC: acc, COMBINE: combine(op, acc), IDENTITY: identity(op, acc) };
  const f16 = xs.dtype === 'float16';
  const out = ctx.alloc(xs.dtype, s.outer);
  if (s.outer === 0) return out;
  if (ctx.cpuLike || threadPerOutput(ctx, s)) return reduceByThreads(ctx, op, x, s, subs, out);
  // Enough workgroups to fill a large GPU: split long rows when there are few of them.
  let chunks = 1;
  if (s.outer < 256 && s.inner > 4096) chunks = Math.min(Math.ceil(256 / s.outer), Math.ceil(s.inner / 2048));
  const chunkLen = Math.ceil(s.inner / chunks);
  chunks = Math.ceil(s.inner / chunkLen);
  const k = ctx.kernel('reduce', { ROW: true }, subs, 1, 1, f16);
  return launchChunks(ctx, op, k, x, s, chunkLen, chunks, out, 1);
}

/**
 * Launch a reduction kernel over [outer × chunks] work items (`perGroup` per workgroup) into
 * `out`, or with several chunks into partials [outer, chunks] that are reduced again.
 */
function launchChunks(ctx: Ctx, op: ReduceOp, k: Kernel, x: View, s: Split, chunkLen: number, chunks: number, out: GpuStorage, perGroup: number): GpuStorage {
  const xs = ctx.storage(x.storage);
  if (chunks === 1) {
    ctx.launch(k, [xs.buf, out.buf], fillParams(s, x.offset, chunkLen, 1), ctx.grid(Math.ceil(s.outer / perGroup)));
    return out;
  }
  ctx.free(out);
  const partial = ctx.alloc(xs.dtype, s.outer * chunks);
  ctx.launch(k, [xs.buf, partial.buf], fillParams(s, x.offset, chunkLen, chunks), ctx.grid(Math.ceil(s.outer * chunks / perGroup)));
  const res = reduce(ctx, op, { storage: partial, shape: [s.outer, chunks], strides: contiguousStrides([s.outer, chunks]), offset: 0 }, [1]);
  ctx.free(partial);
  return res;
}

/**
 * A thread per output, or on a software adapter per (output, chunk) when there are few outputs:
 * then the partials [outer, chunks] are reduced again. Contiguous aligned rows load as vec4s
 * (on lavapipe every load is a per-lane sequence, so 4 elements per load is what counts).
 */
function reduceByThreads(ctx: Ctx, op: ReduceOp, x: View, s: Split, subs: Record<string, string>, out: GpuStorage): GpuStorage {
  const xs = ctx.storage(x.storage);
  let chunks = 1;
  // Software adapters: enough threads for every core (a workgroup runs on one), 2048+ elements each.
  if (ctx.cpuLike && s.outer < 1024 && s.inner >= 4096) chunks = Math.max(1, Math.min(Math.ceil(4096 / s.outer), Math.ceil(s.inner / 2048), 1024));
  const chunkLen = Math.ceil(s.inner / chunks / 4) * 4;
  chunks = Math.ceil(s.inner / chunkLen);
  const vec = s.redShape.length === 1 && s.redStrides[0] === 1 && s.inner % 4 === 0 && x.offset % 4 === 0 &&
    s.keptStrides.every((st) => st % 4 === 0);
  const red2 = !vec && s.redShape.length === 2;
  const k = ctx.kernel('reduce', { THREAD: true, VEC: vec, RED2: red2 }, subs, 1, 1, xs.dtype === 'float16');
  return launchChunks(ctx, op, k, x, s, chunkLen, chunks, out, 64);
}

export function argReduce(ctx: Ctx, op: ArgReduceOp, x: View, axis: number): GpuStorage {
  const xs = ctx.storage(x.storage);
  const s = split(x, [axis]);
  const t = wgslType(xs.dtype), acc = accType(t);
  const float = acc === 'f32';
  const inf = float ? 'inf_f32()' : '2147483647', ninf = float ? '-inf_f32()' : MIN_I32;
  const subs = {
    T: t, ACC: acc, COMBINE: 'a', IDENTITY: '0',
    BETTER: op === 'argmax' ? 'v > bv' : 'v < bv',
    WORST: op === 'argmax' ? ninf : inf,
  };
  const out = ctx.alloc('int32', s.outer);
  if (s.outer === 0) return out;
  const thread = threadPerOutput(ctx, s);
  const k = ctx.kernel('reduce', { ARG: true, FLOAT: float, THREAD: thread, ROW: !thread }, subs, 1, 1, xs.dtype === 'float16');
  ctx.launch(k, [xs.buf, out.buf], fillParams(s, x.offset, s.inner, 1), ctx.grid(thread ? Math.ceil(s.outer / 64) : s.outer));
  return out;
}
