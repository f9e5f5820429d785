// Pooling. maxPool2d is a gather at the argmax positions: its vjp is maxPool2dBackward (a
// dedicated per-plane scatter of the window gradients to their argmax, deterministic), whose
// vjp is that gather again; avgPool2d is a depthwise convolution with a constant
// kernel (so it inherits conv2d's transposes). Both nest to any order.

import { ShapeError, fmtShape } from '../core/errors.js';
import { record } from '../tensor/tape.js';
import { full } from '../tensor/create.js';
import { describe } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { conv2d, spatialPair } from './conv.js';
import { takeAlongAxis } from './indexing.js';
import { contiguous, reshape } from './shape-ops.js';
import { checkFloat, checkTensor, wrap, opScope } from './util.js';
import type { Pool2dGeometry } from '../backend/kernels.js';

export interface Pool2dOptions {
  kernelSize: number | [number, number];
  /** defaults to kernelSize */
  stride?: number | [number, number];
  padding?: number | [number, number];
}

function geometry(op: string, x: Tensor, o: Pool2dOptions) {
  if (o === null || typeof o !== 'object') throw new ShapeError(`${op}: options must be an object { kernelSize, stride?, padding? }, got ${describe(o)}`);
  if (x.rank !== 4) throw new ShapeError(`${op}: input must be [N, C, H, W], got ${fmtShape(x.shape)}`);
  const [kh, kw] = spatialPair(o.kernelSize, 1, 'kernelSize', op, 1);
  const [sh, sw] = spatialPair(o.stride ?? o.kernelSize, 1, 'stride', op, 1);
  const [ph, pw] = spatialPair(o.padding, 0, 'padding', op, 0);
  if (ph > kh / 2 || pw > kw / 2) throw new ShapeError(`${op}: padding ${ph}×${pw} must be at most half the kernel ${kh}×${kw}`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (oh <= 0 || ow <= 0) throw new ShapeError(`${op}: kernel ${kh}×${kw} does not fit input ${fmtShape(x.shape)} with padding ${ph}×${pw}`);
  return { n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow };
}

/** Max over windows (NCHW). Padding never wins. */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  return maxPoolAs('maxPool2d', x, opts);
}

/** @internal maxPool2d with the caller (nn's maxPool) named in its errors. */
export function maxPoolAs(who: string, x: Tensor, opts: Pool2dOptions): Tensor {
  return opScope(() => {
    checkTensor(x, who);
    checkFloat(who, x);
    const g = geometry(who, x, opts);
    const xc = contiguous(x);
    const pg = poolGeometry(g);
    // an empty batch (or no channels) pools to an empty output on every backend, without a kernel
    const { values, indices } = g.n * g.c === 0
      ? { values: x.backend.zeros(0, x.dtype), indices: x.backend.zeros(0, 'int32') }
      : x.backend.maxPool2d(xc.storage, pg);
    const outShape = [g.n, g.c, g.oh, g.ow];
    const out = wrap(values, outShape, x);
    const idx = wrap(indices, [pg.planes, g.oh * g.ow], x);
    // y = takeAlongAxis(x as [planes, h*w], idx): the vjp scatters back, and nests.
    const res = record(out, 'maxPool2d', [xc], (dy) => [maxPool2dBackward(dy, idx, xc.shape, pg)], [idx]);
    idx.dispose();
    return res;
  });
}

function poolGeometry(g: ReturnType<typeof geometry>): Pool2dGeometry {
  return { planes: g.n * g.c, h: g.h, w: g.w, kh: g.kh, kw: g.kw, oh: g.oh, ow: g.ow, strideH: g.sh, strideW: g.sw, padH: g.ph, padW: g.pw };
}

/**
 * The transpose of maxPool2d (its vjp as an op): dx [N, C, H, W] with each window's gradient
 * dy [N, C, OH, OW] added at its argmax `indices` ([N·C, OH·OW], int32, from the forward).
 * Linear in dy; its vjp is the gather at the same indices. @internal (batch norm's fused pooling uses it)
 */
export function maxPool2dBackward(dy: Tensor, indices: Tensor, xShape: readonly number[], pg: Pool2dGeometry): Tensor {
  return opScope(() => {
    const dyc = contiguous(dy);
    const out = wrap(dy.backend.maxPool2dBackward(dyc.storage, indices.storage, pg), xShape, dy);
    return record(out, 'maxPool2dBackward', [dyc], (h) => [
      reshape(takeAlongAxis(reshape(h, [pg.planes, pg.h * pg.w]), indices, 1), dyc.shape),
    ], [indices]);
  });
}

/** Mean over windows (NCHW), counting padded positions as zeros (PyTorch's default). */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  return avgPoolAs('avgPool2d', x, opts);
}

/** @internal avgPool2d with the caller (nn's avgPool) named in its errors. */
export function avgPoolAs(who: string, x: Tensor, opts: Pool2dOptions): Tensor {
  return opScope(() => {
    checkTensor(x, who);
    checkFloat(who, x);
    const g = geometry(who, x, opts);
    const kernel = full([g.c, 1, g.kh, g.kw], 1 / (g.kh * g.kw), { dtype: x.dtype, backend: x.backend });
    const y = conv2d(x, kernel, { stride: [g.sh, g.sw], padding: [g.ph, g.pw], groups: g.c });
    kernel.dispose();
    return y;
  });
}

