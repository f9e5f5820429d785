// Per-channel ops on [N, C, ...] tensors (channels on axis 1): an affine map with a scale
// and shift per channel, and a dot product per channel. Each is one fused kernel, and each
// one's vjp is the other (plus a sum), so they nest to any order. Batch norm is built on them.

import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { describe, expectCaller } from '../core/shape.js';
import { record } from '../tensor/tape.js';
import type { ChannelDims } from '../backend/kernels.js';
import type { Tensor } from '../tensor/tensor.js';
import { sum } from './reduce.js';
import { broadcastTo, contiguous, reshape } from './shape-ops.js';
import { checkFloat, checkSameBackend, checkSameDType, checkTensor, wrap, opScope } from './util.js';

/** [n, c, s] of an [N, C, ...] tensor, checked. */
export function channelDims(x: Tensor, op: string): ChannelDims {
  expectCaller(op, 'channelDims');
  checkTensor(x, op);
  if (x.rank < 2) throw new ShapeError(`${op}: input ${fmtShape(x.shape)} must be [N, C, ...] (channels on axis 1)`);
  return { n: x.shape[0]!, c: x.shape[1]!, s: x.shape.slice(2).reduce((p, d) => p * d, 1) };
}

/** The axes a per-channel reduction sums over: all but axis 1. */
export function channelAxes(x: Tensor): number[] {
  checkTensor(x, 'channelAxes');
  return x.shape.map((_, i) => i).filter((i) => i !== 1);
}

/** Check a per-channel vector: [C], same dtype and backend as x. */
export function checkChannelVector(op: string, what: string, v: Tensor, x: Tensor, c: number): void {
  expectCaller(op, 'checkChannelVector');
  checkTensor(x, op, 'input');
  if (typeof what !== 'string' || !Number.isInteger(c) || c < 0) throw new ValueError(`checkChannelVector: expected (op, what: a string, v, x, c: a channel count), got what ${describe(what)} and c ${describe(c)}`);
  checkTensor(v, op, what);
  checkSameBackend(op, x, v);
  checkSameDType(op, x, v);
  if (v.rank !== 1 || v.shape[0] !== c) throw new ShapeError(`${op}: ${what} ${fmtShape(v.shape)} must be [${c}] for input ${fmtShape(x.shape)}`);
}

/** The per-channel sum over every axis but 1, [C]. */
export function channelSum(x: Tensor): Tensor {
  checkTensor(x, 'channelSum');
  return sum(x, channelAxes(x));
}

/**
 * Record out [C], computed by a fused kernel, as channelSum(x): its vjp is that of the sum
 * (h broadcast over every axis but 1). x: the contiguous input the kernel read.
 */
export function recordChannelSum(out: Tensor, x: Tensor): Tensor {
  const kept = x.shape.map((d, i) => (i === 1 ? d : 1));
  return record(out, 'sum', [x], (h) => [broadcastTo(reshape(h, kept), x.shape)]);
}

/** Record out [C], computed by a fused kernel, as channelDot(a, b) (a, b: the contiguous inputs it read). */
export function recordChannelDot(out: Tensor, a: Tensor, b: Tensor): Tensor {
  return record(out, 'channelDot', [a, b], (g, _y, [ai, bi]) => [
    ai!.requiresGrad ? channelAffine(bi!, g) : null,
    bi!.requiresGrad ? channelAffine(ai!, g) : null,
  ]);
}

/** y = x·scale[c] + shift[c] for x [N, C, ...]; shift may be omitted (0). */
export function channelAffine(x: Tensor, scale: Tensor, shift?: Tensor): Tensor {
  return opScope(() => {
    checkTensor(x, 'channelAffine');
    checkFloat('channelAffine', x);
    const d = channelDims(x, 'channelAffine');
    checkChannelVector('channelAffine', 'scale', scale, x, d.c);
    if (shift !== undefined) checkChannelVector('channelAffine', 'shift', shift, x, d.c);
    const xc = contiguous(x), sc = contiguous(scale), tc = shift && contiguous(shift);
    const out = wrap(x.backend.channelAffine(xc.storage, sc.storage, tc ? tc.storage : null, d), x.shape, x);
    const inputs = tc ? [xc, sc, tc] : [xc, sc];
    return record(out, 'channelAffine', inputs, (g, _y, [xi, si, ti]) => [
      xi!.requiresGrad ? channelAffine(g, si!) : null,
      si!.requiresGrad ? channelDot(g, xi!) : null,
      ...(ti ? [ti.requiresGrad ? channelSum(g) : null] : []),
    ]);
  });
}

/** out[c] = Σ over every axis but 1 of a·b, for a and b [N, C, ...] of one shape; [C]. */
export function channelDot(a: Tensor, b: Tensor): Tensor {
  return opScope(() => {
    checkTensor(a, 'channelDot', 'first input');
    checkTensor(b, 'channelDot', 'second input');
    checkSameBackend('channelDot', a, b);
    checkSameDType('channelDot', a, b);
    checkFloat('channelDot', a);
    const d = channelDims(a, 'channelDot');
    if (a.rank !== b.rank || a.shape.some((v, i) => v !== b.shape[i])) {
      throw new ShapeError(`channelDot: inputs ${fmtShape(a.shape)} and ${fmtShape(b.shape)} must have the same shape`);
    }
    const ac = contiguous(a), bc = contiguous(b);
    return recordChannelDot(wrap(a.backend.channelDot(ac.storage, bc.storage, d), [d.c], a), ac, bc);
  });
}
