// Batch normalization with batch statistics as one fused op, differentiable to any order.
// The forward is one kernel (statistics, x̂ and y = x̂·γ + β). Its vjp is written in fused
// differentiable ops (DESIGN.md rule 5): the input gradient is batchNormBackward, whose own
// vjp is batchNormBackward again plus channelDot / channelAffine (ts/ops/channel.ts). x̂ and
// rstd are tape tensors of their own, so a second backward differentiates through them:
//   x̂    = (x - mean)·rstd,  vjp  g ↦ batchNormBackward(g, x̂, rstd)
//   rstd = (var + eps)^-½,   vjp  r ↦ -rstd³/M · (x - mean)·r      (M values per channel)
//   y    = x̂·γ + β,          vjp  g ↦ (batchNormBackward(g, x̂, rstd·γ), Σ g·x̂, Σ g)
// The three come from one kernel (batchNormBackwardSums: the input gradient's pass sums Σ g and
// Σ g·x̂ anyway), each recorded with the vjp of the op it replaces.

import { ShapeError, fmtShape } from '../core/errors.js';
import type { Storage } from '../backend/kernels.js';
import { pairPoolGeometry } from '../backend/bn-relu-pool.js';
import { isGradEnabled, record } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { channelAffine, channelDims, channelDot, channelSum, checkChannelVector, recordChannelDot, recordChannelSum } from './channel.js';
import { add, mul, neg, reciprocal, reluMask, sqrt, sub } from './elementwise.js';
import { maxPool2dBackward } from './pool.js';
import { contiguous } from './shape-ops.js';
import { checkFloat, checkTensor, wrap, opScope } from './util.js';

export interface BatchNormResult {
  /** the normalized, scaled and shifted input, x's shape */
  y: Tensor;
  /** the batch mean per channel [C] (no gradient: for running statistics) */
  mean: Tensor;
  /** the biased batch variance per channel [C] (no gradient) */
  variance: Tensor;
}

/**
 * y = (x - mean)/sqrt(var + eps)·gamma + beta with the batch's statistics per channel
 * (x [N, C, ...], statistics over every axis but 1; gamma, beta [C]).
 */
export function batchNormTrain(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): BatchNormResult {
  return opScope(() => {
    const { d, m } = checkTrainArgs('batchNormTrain', x, gamma, beta, eps);
    const xc = contiguous(x), gc = contiguous(gamma), bc = contiguous(beta);
    const k = x.backend.batchNorm(xc.storage, gc.storage, bc.storage, d, eps);
    const y = wrap(k.y, x.shape, x);
    const { xhat, rstd, mean, variance } = statistics(xc, k, m);
    const out = record(y, 'batchNorm', [xc, gc, bc], (g, _y, [xi, gi, bi]) => {
      if (!xi!.requiresGrad) return [null, gi!.requiresGrad ? channelDot(g, xhat) : null, bi!.requiresGrad ? channelSum(g) : null];
      const r = batchNormBackwardSums(g, xhat, mul(rstd, gi!));
      return [r.dx, gi!.requiresGrad ? r.sumGX : null, bi!.requiresGrad ? r.sumG : null];
    }, [xhat, rstd]);
    return { y: out, mean, variance };
  });
}

// The checks of a batch norm with batch statistics: x float [N, C, ...] with 2+ values per
// channel, gamma and beta [C], eps >= 0. Returns x's [n, c, s] and the values per channel.
function checkTrainArgs(op: string, x: Tensor, gamma: Tensor, beta: Tensor, eps: number) {
  checkTensor(x, op);
  checkFloat(op, x);
  const d = channelDims(x, op);
  checkChannelVector(op, 'gamma', gamma, x, d.c);
  checkChannelVector(op, 'beta', beta, x, d.c);
  const m = d.n * d.s;
  if (m < 2) throw new ShapeError(`${op}: batch statistics need more than one value per channel, input is ${fmtShape(x.shape)}`);
  if (!(eps >= 0)) throw new ShapeError(`${op}: eps must be >= 0, got ${eps}`);
  return { d, m };
}

// x̂, rstd, mean and variance from a batch-norm kernel as tensors, x̂ and rstd on the tape as
// functions of x (xc contiguous, m values per channel), so a second backward differentiates them
function statistics(xc: Tensor, k: { xhat: Storage; rstd: Storage; mean: Storage; variance: Storage }, m: number) {
  const c = xc.shape[1]!;
  const xhat = wrap(k.xhat, xc.shape, xc), rstd = wrap(k.rstd, [c], xc);
  const mean = wrap(k.mean, [c], xc), variance = wrap(k.variance, [c], xc);
  // rstd first: its vjp needs only x (and the mean, recomputed differentiably), no cycle with x̂
  record(rstd, 'batchNormRstd', [xc], (r, rs, [xi]) => {
    const mu = mul(channelSum(xi!), 1 / m);
    const k = mul(mul(mul(rs, rs), rs), neg(mul(r, 1 / m)));
    return [channelAffine(xi!, k, neg(mul(mu, k)))];
  });
  record(xhat, 'batchNormXhat', [xc], (g, xh) => [batchNormBackward(g, xh, rstd)], [rstd]);
  return { xhat, rstd, mean, variance };
}

/**
 * relu(maxPool2d(batchNormTrain(x, gamma, beta, eps).y, 2×2 stride 2)) as one fused op (x
 * [N, C, H, W], H, W ≥ 2; an odd last row or column is in no window, as in maxPool2d): the
 * normalized y is never stored. Its vjp is batchNormTrain's applied to maxPool2d's and relu's:
 * gy = maxPool2dBackward(reluMask(g, out), argmax), then batchNormBackwardSums(gy, x̂, rstd·γ),
 * in those differentiable ops while the backward is recorded (second order), and in one fused
 * kernel when it is not. `mean`, `variance`: the batch statistics (no gradient).
 */
export function batchNormReluMaxPool(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): BatchNormResult {
  return opScope(() => {
    const op = 'batchNormReluMaxPool';
    checkTensor(x, op);
    checkFloat(op, x);
    if (x.rank !== 4 || x.shape[2]! < 2 || x.shape[3]! < 2) throw new ShapeError(`${op}: input ${fmtShape(x.shape)} must be [N, C, H, W] with H, W >= 2 (one 2×2 window at least)`);
    const { d, m } = checkTrainArgs(op, x, gamma, beta, eps);
    const [h, w] = [x.shape[2]!, x.shape[3]!];
    const xc = contiguous(x), gc = contiguous(gamma), bc = contiguous(beta);
    const k = x.backend.batchNormReluMaxPool(xc.storage, gc.storage, bc.storage, d, eps, h, w);
    const outShape = [d.n, d.c, Math.floor(h / 2), Math.floor(w / 2)];
    const pooled = wrap(k.pooled, outShape, x), idx = wrap(k.indices, [d.n * d.c, outShape[2]! * outShape[3]!], x);
    const { xhat, rstd, mean, variance } = statistics(xc, k, m);
    const pg = pairPoolGeometry(d, h, w);
    const out = record(pooled, op, [xc, gc, bc], (g, y, [xi, gi, bi]) => {
      if (!isGradEnabled()) {
        // not recorded: one kernel from the pooled gradient to dx and the two sums
        const gpc = contiguous(g), wv = mul(rstd, gi!);
        const r = x.backend.batchNormReluMaxPoolBackward(gpc.storage, y.storage, idx.storage, xhat.storage, wv.storage, d, h, w);
        const dx = wrap(r.dx, x.shape, x), sumG = wrap(r.sumG, [d.c], x), sumGX = wrap(r.sumGX, [d.c], x);
        if (!xi!.requiresGrad) dx.dispose();
        if (!gi!.requiresGrad) sumGX.dispose();
        if (!bi!.requiresGrad) sumG.dispose();
        return [xi!.requiresGrad ? dx : null, gi!.requiresGrad ? sumGX : null, bi!.requiresGrad ? sumG : null];
      }
      const gy = maxPool2dBackward(reluMask(g, y), idx, xc.shape, pg);
      if (!xi!.requiresGrad) return [null, gi!.requiresGrad ? channelDot(gy, xhat) : null, bi!.requiresGrad ? channelSum(gy) : null];
      const r = batchNormBackwardSums(gy, xhat, mul(rstd, gi!));
      return [r.dx, gi!.requiresGrad ? r.sumGX : null, bi!.requiresGrad ? r.sumG : null];
    }, [xhat, rstd, idx]);
    idx.dispose();
    return { y: out, mean, variance };
  });
}

/**
 * The batch-norm input gradient as an op: w[c]·(g - mean(g) - x̂·mean(g·x̂)), the means per
 * channel over every axis but 1 (g, x̂ [N, C, ...]; w [C], rstd·γ for batch norm).
 */
export function batchNormBackward(g: Tensor, xhat: Tensor, w: Tensor): Tensor {
  return opScope(() => {
    checkBackwardInputs('batchNormBackward', g, xhat);
    const d = channelDims(g, 'batchNormBackward');
    checkChannelVector('batchNormBackward', 'w', w, g, d.c);
    const gc = contiguous(g), xc = contiguous(xhat), wc = contiguous(w);
    return recordBatchNormBackward(wrap(g.backend.batchNormBackward(gc.storage, xc.storage, wc.storage, d), g.shape, g), gc, xc, wc, d.n * d.s);
  });
}

/**
 * batchNormBackward(g, xhat, w) and, from the same kernel, sumG = Σ g and sumGX = Σ g·xhat per
 * channel ([C] each: batch norm's β and γ gradients), each differentiable as channelSum(g) and
 * channelDot(g, xhat) are.
 */
export function batchNormBackwardSums(g: Tensor, xhat: Tensor, w: Tensor): { dx: Tensor; sumG: Tensor; sumGX: Tensor } {
  return opScope(() => {
    checkBackwardInputs('batchNormBackwardSums', g, xhat);
    const d = channelDims(g, 'batchNormBackwardSums');
    checkChannelVector('batchNormBackwardSums', 'w', w, g, d.c);
    const gc = contiguous(g), xc = contiguous(xhat), wc = contiguous(w);
    const k = g.backend.batchNormBackwardSums(gc.storage, xc.storage, wc.storage, d);
    return {
      dx: recordBatchNormBackward(wrap(k.dx, g.shape, g), gc, xc, wc, d.n * d.s),
      sumG: recordChannelSum(wrap(k.sumG, [d.c], g), gc),
      sumGX: recordChannelDot(wrap(k.sumGX, [d.c], g), gc, xc),
    };
  });
}

function checkBackwardInputs(op: string, g: Tensor, xhat: Tensor): void {
  checkTensor(g, op, 'gradient');
  checkTensor(xhat, op, 'xhat');
  checkFloat(op, g, xhat);
  if (g.rank !== xhat.rank || g.shape.some((v, i) => v !== xhat.shape[i])) {
    throw new ShapeError(`${op}: gradient ${fmtShape(g.shape)} and xhat ${fmtShape(xhat.shape)} must have the same shape`);
  }
}

// out = batchNormBackward(gc, xc, wc) on the tape (gc, xc, wc contiguous; m values per channel)
function recordBatchNormBackward(out: Tensor, gc: Tensor, xc: Tensor, wc: Tensor, m: number): Tensor {
  return record(out, 'batchNormBackward', [gc, xc, wc], (h, _y, [gi, xi, wi]) => {
    // out is symmetric in g: its g-vjp is the same map applied to h
    const dg = gi!.requiresGrad ? batchNormBackward(h, xi!, wi!) : null;
    if (!xi!.requiresGrad && !wi!.requiresGrad) return [dg, null, null];
    const sgx = channelDot(gi!, xi!), shx = channelDot(h, xi!);
    const dxhat = xi!.requiresGrad
      ? add(channelAffine(h, mul(mul(wi!, sgx), -1 / m)), channelAffine(gi!, mul(mul(wi!, shx), -1 / m)))
      : null;
    const dw = wi!.requiresGrad
      ? sub(sub(channelDot(h, gi!), mul(mul(channelSum(h), channelSum(gi!)), 1 / m)), mul(mul(shx, sgx), 1 / m))
      : null;
    return [dg, dxhat, dw];
  });
}

/** Batch norm with given (running) statistics: y = (x - mean)·(variance + eps)^-½·gamma + beta, one kernel over x. */
export function batchNormInference(x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  return opScope(() => {
    checkTensor(x, 'batchNormInference');
    checkFloat('batchNormInference', x);
    const d = channelDims(x, 'batchNormInference');
    for (const [what, v] of [['mean', mean], ['variance', variance], ['gamma', gamma], ['beta', beta]] as const) checkChannelVector('batchNormInference', what, v, x, d.c);
    // [C]-sized work; differentiable in every input (the statistics too, should a caller need it)
    const rstd = reciprocal(sqrt(add(variance, eps)));
    const scale = mul(gamma, rstd);
    return channelAffine(x, scale, sub(beta, mul(mean, scale)));
  });
}
