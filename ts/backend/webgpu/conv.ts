// conv2d and both of its transposes on WebGPU: the strategy (im2col + GEMM on software
// adapters, conv-im2col.ts; otherwise the implicit GEMM of kernels/gemm.wgsl) and the
// implicit-GEMM launch. Kept apart from gemm.ts so that gemm.ts and conv-im2col.ts, which
// both run matmuls, do not import each other.

import type { DType } from '../../core/dtype.js';
import type { Conv2dGeometry } from '../kernels.js';
import { type Ctx, wgslType } from './context.js';
import { conv2dBackwardFilterIm2col, conv2dBackwardInputIm2col, conv2dIm2col, useIm2col } from './conv-im2col.js';
import { TILE, chooseSplits, launchGemm, sumPartials } from './gemm.js';
import type { GpuStorage } from './storage.js';
import { GEMM_CONV_PARAMS, type GemmBase } from './params.js';

type ConvMode = 'CONV_FWD' | 'CONV_BWD_INPUT' | 'CONV_BWD_FILTER';

function convParams(base: GemmBase, g: Conv2dGeometry): Uint32Array {
  return GEMM_CONV_PARAMS.fill({
    ...base,
    convN: g.n, convCIn: g.cIn, convH: g.h, convW: g.w, convCOut: g.cOut, convKh: g.kh, convKw: g.kw, convOh: g.oh, convOw: g.ow,
    convStrideH: g.strideH, convStrideW: g.strideW, convPadH: g.padH, convPadW: g.padW, convDilationH: g.dilationH, convDilationW: g.dilationW,
    convGroups: g.groups, convCig: g.cIn / g.groups, convCog: g.cOut / g.groups,
  });
}

function conv(ctx: Ctx, mode: ConvMode, aSt: GpuStorage, bSt: GpuStorage, g: Conv2dGeometry, m: number, n: number, k: number,
  outSize: number, aAlongK: boolean, bAlongN: boolean, allowSplit: boolean): GpuStorage {
  const dtype = aSt.dtype;
  if (outSize === 0 || k === 0 || m === 0 || n === 0) {
    const out = ctx.alloc(dtype, outSize);
    ctx.queue.clear(out.buf, out.buf.bytes);
    return out;
  }
  const tiles = Math.ceil(m / TILE) * Math.ceil(n / TILE) * g.groups;
  const { splits, kChunk } = allowSplit ? chooseSplits(tiles, k) : { splits: 1, kChunk: k };
  const partialDType: DType = splits > 1 ? 'float32' : dtype;
  const out = ctx.alloc(partialDType, splits * outSize);
  // Convolutions keep the shared-memory kernel on every adapter: their im2col index math per
  // element is amortized over the workgroup there, and the barrier-free kernel measured 2–3× slower.
  const kernel = ctx.kernel('gemm', { CONV: true, [mode]: true, A_ALONG_K: aAlongK, B_ALONG_N: bAlongN },
    { TA: wgslType(dtype), TC: wgslType(partialDType) }, 2, 1, dtype === 'float16');
  launchGemm(ctx, {
    kernel, tm: TILE, tn: TILE, buffers: [aSt.buf, bSt.buf, out.buf], m, n, k, batch: g.groups, splits, kChunk,
    params: (base) => convParams(base, g),
  });
  return splits > 1 ? sumPartials(ctx, out, splits, outSize, dtype) : out;
}

export function conv2d(ctx: Ctx, x: GpuStorage, w: GpuStorage, g: Conv2dGeometry): GpuStorage {
  if (useIm2col(ctx, g)) return conv2dIm2col(ctx, x, w, g);
  const cig = g.cIn / g.groups, cog = g.cOut / g.groups;
  return conv(ctx, 'CONV_FWD', w, x, g, cog, g.n * g.oh * g.ow, cig * g.kh * g.kw, g.n * g.cOut * g.oh * g.ow, true, true, false);
}

export function conv2dBackwardInput(ctx: Ctx, dy: GpuStorage, w: GpuStorage, g: Conv2dGeometry): GpuStorage {
  if (useIm2col(ctx, g)) return conv2dBackwardInputIm2col(ctx, dy, w, g);
  const cig = g.cIn / g.groups, cog = g.cOut / g.groups;
  return conv(ctx, 'CONV_BWD_INPUT', w, dy, g, cig, g.n * g.h * g.w, cog * g.kh * g.kw, g.n * g.cIn * g.h * g.w, true, true, false);
}

export function conv2dBackwardFilter(ctx: Ctx, x: GpuStorage, dy: GpuStorage, g: Conv2dGeometry): GpuStorage {
  if (useIm2col(ctx, g)) return conv2dBackwardFilterIm2col(ctx, x, dy, g);
  const cig = g.cIn / g.groups, cog = g.cOut / g.groups;
  return conv(ctx, 'CONV_BWD_FILTER', dy, x, g, cog, cig * g.kh * g.kw, g.n * g.oh * g.ow, g.cOut * cig * g.kh * g.kw, true, false, true);
}
