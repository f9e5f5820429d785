// Dispatch for the per-channel kernels (kernels/channel.wgsl) over contiguous [n, c, s]:
// reductions run a workgroup per channel, the elementwise writes a thread per element.

import type { ChannelDims } from '../kernels.js';
import { type Ctx, wgslType } from './context.js';
import type { GpuStorage } from './storage.js';
import { CHANNEL_PARAMS } from './params.js';

function channelParams(d: ChannelDims, eps = 0): Uint32Array {
  return CHANNEL_PARAMS.fill({ n: d.n, c: d.c, s: d.s, eps, total: d.n * d.c * d.s });
}

/** Workgroup size of the per-channel reductions: smaller for short channels. */
function reductionWidth(d: ChannelDims): number {
  return d.n * d.s <= 1024 ? 64 : 256;
}

function kernel(ctx: Ctx, flag: string, d: ChannelDims, dtype: GpuStorage['dtype'], reads: number, writes: number, extra: Record<string, boolean> = {}) {
  return ctx.kernel('channel', { [flag]: true, ...extra }, { T: wgslType(dtype), WG: reductionWidth(d) }, reads, writes, dtype === 'float16');
}

export function batchNorm(ctx: Ctx, x: GpuStorage, gamma: GpuStorage, beta: GpuStorage, d: ChannelDims, eps: number) {
  const total = d.n * d.c * d.s, dt = x.dtype;
  const y = ctx.alloc(dt, total), xhat = ctx.alloc(dt, total);
  const mean = ctx.alloc(dt, d.c), variance = ctx.alloc(dt, d.c), rstd = ctx.alloc(dt, d.c);
  if (d.c === 0) return { y, xhat, mean, variance, rstd };
  const p = channelParams(d, eps);
  ctx.launch(kernel(ctx, 'STATS', d, dt, 1, 3), [x.buf, mean.buf, variance.buf, rstd.buf], p, ctx.grid(d.c));
  if (total > 0) ctx.launch(kernel(ctx, 'NORM', d, dt, 5, 2), [x.buf, gamma.buf, beta.buf, mean.buf, rstd.buf, y.buf, xhat.buf], p, ctx.grid(Math.ceil(total / 256)));
  return { y, xhat, mean, variance, rstd };
}

export function batchNormBackward(ctx: Ctx, g: GpuStorage, xhat: GpuStorage, w: GpuStorage, d: ChannelDims): GpuStorage {
  const out = ctx.alloc(g.dtype, d.n * d.c * d.s);
  if (d.n * d.c * d.s === 0) return out;
  ctx.launch(kernel(ctx, 'BACKWARD', d, g.dtype, 3, 1), [g.buf, xhat.buf, w.buf, out.buf], channelParams(d), ctx.grid(d.c));
  return out;
}

/** batchNormBackward and the per-channel sums Σg, Σg·x̂ from the same pass. */
export function batchNormBackwardSums(ctx: Ctx, g: GpuStorage, xhat: GpuStorage, w: GpuStorage, d: ChannelDims) {
  const dx = ctx.alloc(g.dtype, d.n * d.c * d.s), sumG = ctx.alloc(g.dtype, d.c), sumGX = ctx.alloc(g.dtype, d.c);
  if (d.c === 0) return { dx, sumG, sumGX };
  if (d.n * d.s === 0) {
    ctx.queue.clear(sumG.buf, sumG.buf.bytes);
    ctx.queue.clear(sumGX.buf, sumGX.buf.bytes);
    return { dx, sumG, sumGX };
  }
  ctx.launch(kernel(ctx, 'BACKWARD', d, g.dtype, 3, 3, { SUMS: true }), [g.buf, xhat.buf, w.buf, dx.buf, sumG.buf, sumGX.buf], channelParams(d), ctx.grid(d.c));
  return { dx, sumG, sumGX };
}

/** y[n, c, s] += bias[c], in place (a convolution's bias on the buffer it just wrote). */
export function addChannelBias(ctx: Ctx, y: GpuStorage, bias: GpuStorage, d: ChannelDims): void {
  const total = d.n * d.c * d.s;
  if (total === 0) return;
  ctx.launch(kernel(ctx, 'BIAS', d, y.dtype, 1, 1), [bias.buf, y.buf], channelParams(d), ctx.grid(Math.ceil(total / 256)));
}

export function channelAffine(ctx: Ctx, x: GpuStorage, scale: GpuStorage, shift: GpuStorage | null, d: ChannelDims): GpuStorage {
  const total = d.n * d.c * d.s;
  const out = ctx.alloc(x.dtype, total);
  if (total === 0) return out;
  const bufs = shift ? [x.buf, scale.buf, shift.buf, out.buf] : [x.buf, scale.buf, out.buf];
  ctx.launch(kernel(ctx, 'AFFINE', d, x.dtype, shift ? 3 : 2, 1, { NOSHIFT: !shift }), bufs, channelParams(d), ctx.grid(Math.ceil(total / 256)));
  return out;
}

export function channelDot(ctx: Ctx, a: GpuStorage, b: GpuStorage, d: ChannelDims): GpuStorage {
  const out = ctx.alloc(a.dtype, d.c);
  if (d.c === 0) return out;
  if (d.n * d.s === 0) {
    ctx.queue.clear(out.buf, out.buf.bytes);
    return out;
  }
  ctx.launch(kernel(ctx, 'DOT', d, a.dtype, 2, 1), [a.buf, b.buf, out.buf], channelParams(d), ctx.grid(d.c));
  return out;
}
