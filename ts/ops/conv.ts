// conv2d (NCHW) and its two transposes. The three are closed under differentiation:
// each one's vjp is made of the other two (and itself), so convolutions nest to any order.
//   y  = conv2d(x, w)
//   dx = conv2dBackwardInput(dy, w)      (the transposed convolution)
//   dw = conv2dBackwardFilter(x, dy)
// conv2dBias adds a bias per output channel in the same kernel (db = Σ dy per channel).

import type { Conv2dGeometry, Storage } from '../backend/kernels.js';
import { isGradEnabled, record } from '../tensor/tape.js';
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { describe, expectCaller, expectOptions } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { channelSum } from './channel.js';
import { add } from './elementwise.js';
import { contiguous, reshape } from './shape-ops.js';
import { checkFloat, checkSameBackend, checkSameDType, checkTensor, wrap, opScope } from './util.js';

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

/** A spatial option (stride, padding, dilation, kernel size) as [h, w]: one integer >= min for both, or a pair; shared by conv and pooling. */
export function spatialPair(v: number | [number, number] | undefined, dflt: number, what: string, op: string, min: number): [number, number] {
  expectCaller(op, 'spatialPair');
  if (typeof what !== 'string' || !Number.isInteger(dflt) || !Number.isInteger(min)) throw new ValueError(`spatialPair: expected (v, dflt: an integer, what: a string, op, min: an integer), got dflt ${describe(dflt)}, what ${describe(what)} and min ${describe(min)}`);
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < min)) {
    throw new ShapeError(`${op}: ${what} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Validate shapes and options and work out the geometry (output size included). */
function checkSizePair(op: string, what: string, v: unknown): void {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ShapeError(`${op}: ${what} must be a pair of positive integers [h, w], got ${describe(v)}`);
  }
}

export function conv2dGeometry(op: string, xShape: readonly number[], wShape: readonly number[], o: Conv2dOptions): Conv2dGeometry {
  expectCaller(op, 'conv2dGeometry');
  if (!Array.isArray(xShape) || !Array.isArray(wShape)) throw new ShapeError(`${op}: shapes must be arrays, got ${describe(xShape)} and ${describe(wShape)}`);
  expectOptions(o, op, true);
  if (xShape.length !== 4) throw new ShapeError(`${op}: input must be [N, C, H, W], got ${fmtShape(xShape)}`);
  if (wShape.length !== 4) throw new ShapeError(`${op}: weight must be [Cout, Cin/groups, KH, KW], got ${fmtShape(wShape)}`);
  const [strideH, strideW] = spatialPair(o.stride, 1, 'stride', op, 1);
  const [padH, padW] = spatialPair(o.padding, 0, 'padding', op, 0);
  const [dilationH, dilationW] = spatialPair(o.dilation, 1, 'dilation', op, 1);
  const groups = o.groups ?? 1;
  const [n, cIn, h, w] = xShape as [number, number, number, number];
  const [cOut, cig, kh, kw] = wShape as [number, number, number, number];
  if (!Number.isInteger(groups) || groups < 1 || cIn % groups !== 0 || cOut % groups !== 0) {
    throw new ShapeError(`${op}: groups ${groups} must divide input channels ${cIn} and output channels ${cOut}`);
  }
  if (cig !== cIn / groups) {
    throw new ShapeError(`${op}: weight ${fmtShape(wShape)} expects ${cig * groups} input channels (${cig} per group × ${groups} groups), input ${fmtShape(xShape)} has ${cIn}`);
  }
  const oh = Math.floor((h + 2 * padH - dilationH * (kh - 1) - 1) / strideH) + 1;
  const ow = Math.floor((w + 2 * padW - dilationW * (kw - 1) - 1) / strideW) + 1;
  if (oh <= 0 || ow <= 0) {
    throw new ShapeError(`${op}: kernel ${kh}×${kw} (dilation ${dilationH}×${dilationW}) does not fit input ${h}×${w} with padding ${padH}×${padW}`);
  }
  return { n, cIn, h, w, cOut, kh, kw, oh, ow, strideH, strideW, padH, padW, dilationH, dilationW, groups };
}

/**
 * Run a convolution kernel, or give zeros when the batch or a channel count is 0: the sum
 * over an empty set, the same on every backend (kernels never see an empty geometry).
 */
function convKernel(like: Tensor, g: Conv2dGeometry, size: number, run: () => Storage): Storage {
  return g.n === 0 || g.cIn === 0 || g.cOut === 0 ? like.backend.zeros(size, like.dtype) : run();
}

function optsOf(g: Conv2dGeometry): Conv2dOptions {
  return { stride: [g.strideH, g.strideW], padding: [g.padH, g.padW], dilation: [g.dilationH, g.dilationW], groups: g.groups };
}

/** 2-D convolution (cross-correlation, as in PyTorch): x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW]. */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  return opScope(() => {
    checkTensor(x, 'conv2d', 'input');
    checkTensor(w, 'conv2d', 'weight');
    checkSameBackend('conv2d', x, w);
    checkSameDType('conv2d', x, w);
    checkFloat('conv2d', x, w);
    const g = conv2dGeometry('conv2d', x.shape, w.shape, opts);
    const xc = contiguous(x), wc = contiguous(w);
    const out = wrap(convKernel(x, g, g.n * g.cOut * g.oh * g.ow, () => x.backend.conv2d(xc.storage, wc.storage, g)), [g.n, g.cOut, g.oh, g.ow], x);
    return record(out, 'conv2d', [xc, wc], (dy, _y, [xi, wi]) => [
      xi!.requiresGrad ? conv2dBackwardInput(dy, wi!, [g.h, g.w], optsOf(g)) : null,
      wi!.requiresGrad ? conv2dBackwardFilter(xi!, dy, [g.kh, g.kw], optsOf(g)) : null,
    ]);
  });
}

/**
 * conv2d(x, w, opts) + b[c] on every output plane of channel c (b [Cout]), the bias added by
 * the convolution's kernel in place (as PyTorch's conv2d with a bias): no second pass over
 * the output nor a second buffer. Its vjp: the conv's two, and Σ dy per channel for b (with
 * the filter gradient, from one kernel, when the backward is not itself recorded).
 */
export function conv2dBias(x: Tensor, w: Tensor, b: Tensor, opts: Conv2dOptions = {}): Tensor {
  return opScope(() => {
    checkTensor(x, 'conv2dBias', 'input');
    checkTensor(w, 'conv2dBias', 'weight');
    checkTensor(b, 'conv2dBias', 'bias');
    checkSameBackend('conv2dBias', x, w);
    checkSameBackend('conv2dBias', x, b);
    checkSameDType('conv2dBias', x, w);
    checkSameDType('conv2dBias', x, b);
    checkFloat('conv2dBias', x, w, b);
    const g = conv2dGeometry('conv2dBias', x.shape, w.shape, opts);
    if (b.rank !== 1 || b.shape[0] !== g.cOut) throw new ShapeError(`conv2dBias: bias ${fmtShape(b.shape)} does not fit weight ${fmtShape(w.shape)} (expected [${g.cOut}])`);
    // an empty sum (no input channels) never reaches a kernel: zeros, then the bias
    if (g.n === 0 || g.cIn === 0 || g.cOut === 0) return add(conv2d(x, w, opts), reshape(b, [1, -1, 1, 1]));
    const xc = contiguous(x), wc = contiguous(w), bc = contiguous(b);
    const out = wrap(x.backend.conv2d(xc.storage, wc.storage, g, bc.storage), [g.n, g.cOut, g.oh, g.ow], x);
    return record(out, 'conv2dBias', [xc, wc, bc], (dy, _y, [xi, wi, bi]) => {
      const dx = xi!.requiresGrad ? conv2dBackwardInput(dy, wi!, [g.h, g.w], optsOf(g)) : null;
      if (!isGradEnabled() && wi!.requiresGrad && bi!.requiresGrad) {
        // not recorded: the filter and bias gradients from one pass over dy
        const k = x.backend.conv2dBackwardFilterBias(xc.storage, contiguous(dy).storage, g);
        return [dx, wrap(k.dw, wc.shape, x), wrap(k.db, [g.cOut], x)];
      }
      return [dx, wi!.requiresGrad ? conv2dBackwardFilter(xi!, dy, [g.kh, g.kw], optsOf(g)) : null, bi!.requiresGrad ? channelSum(dy) : null];
    });
  });
}

function geometryFromOutput(op: string, dyShape: readonly number[], xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions): Conv2dGeometry {
  const g = conv2dGeometry(op, xShape, wShape, opts);
  if (dyShape.length !== 4 || dyShape[0] !== g.n || dyShape[1] !== g.cOut || dyShape[2] !== g.oh || dyShape[3] !== g.ow) {
    throw new ShapeError(`${op}: output gradient ${fmtShape(dyShape)} does not match the convolution's output [${g.n}, ${g.cOut}, ${g.oh}, ${g.ow}]`);
  }
  return g;
}

/**
 * The transposed convolution: the gradient of conv2d with respect to its input.
 * dy [N, Cout, OH, OW], w [Cout, Cin/groups, KH, KW] -> [N, Cin, H, W] with H, W = inputSize.
 */
export function conv2dBackwardInput(dy: Tensor, w: Tensor, inputSize: readonly [number, number] | readonly number[], opts: Conv2dOptions = {}): Tensor {
  return opScope(() => {
    checkTensor(dy, 'conv2dBackwardInput', 'output gradient');
    checkTensor(w, 'conv2dBackwardInput', 'weight');
    checkSameBackend('conv2dBackwardInput', dy, w);
    checkSameDType('conv2dBackwardInput', dy, w);
    checkSizePair('conv2dBackwardInput', 'inputSize', inputSize);
    expectOptions(opts, 'conv2dBackwardInput');
    const groups = opts.groups ?? 1;
    const xShape = [dy.shape[0]!, w.shape[1]! * groups, inputSize[0]!, inputSize[1]!];
    const g = geometryFromOutput('conv2dBackwardInput', dy.shape, xShape, w.shape, opts);
    const dyc = contiguous(dy), wc = contiguous(w);
    const out = wrap(convKernel(dy, g, g.n * g.cIn * g.h * g.w, () => dy.backend.conv2dBackwardInput(dyc.storage, wc.storage, g)), xShape, dy);
    return record(out, 'conv2dBackwardInput', [dyc, wc], (gx, _y, [dyi, wi]) => [
      dyi!.requiresGrad ? conv2d(gx, wi!, optsOf(g)) : null,
      wi!.requiresGrad ? conv2dBackwardFilter(gx, dyi!, [g.kh, g.kw], optsOf(g)) : null,
    ]);
  });
}

/** The gradient of conv2d with respect to its filter: x [N, Cin, H, W], dy [N, Cout, OH, OW] -> [Cout, Cin/groups, KH, KW]. */
export function conv2dBackwardFilter(x: Tensor, dy: Tensor, kernelSize: readonly [number, number] | readonly number[], opts: Conv2dOptions = {}): Tensor {
  return opScope(() => {
    checkTensor(x, 'conv2dBackwardFilter', 'input');
    checkTensor(dy, 'conv2dBackwardFilter', 'output gradient');
    checkSameBackend('conv2dBackwardFilter', x, dy);
    checkSameDType('conv2dBackwardFilter', x, dy);
    checkSizePair('conv2dBackwardFilter', 'kernelSize', kernelSize);
    expectOptions(opts, 'conv2dBackwardFilter');
    const groups = opts.groups ?? 1;
    const wShape = [dy.shape[1]!, x.shape[1]! / groups, kernelSize[0]!, kernelSize[1]!];
    const g = geometryFromOutput('conv2dBackwardFilter', dy.shape, x.shape, wShape, opts);
    const xc = contiguous(x), dyc = contiguous(dy);
    const out = wrap(convKernel(x, g, g.cOut * (g.cIn / g.groups) * g.kh * g.kw, () => x.backend.conv2dBackwardFilter(xc.storage, dyc.storage, g)), wShape, x);
    return record(out, 'conv2dBackwardFilter', [xc, dyc], (gw, _y, [xi, dyi]) => [
      xi!.requiresGrad ? conv2dBackwardInput(dyi!, gw, [g.h, g.w], optsOf(g)) : null,
      dyi!.requiresGrad ? conv2d(xi!, gw, optsOf(g)) : null,
    ]);
  });
}
