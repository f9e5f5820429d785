// Batch norm followed by ReLU of a 2×2 stride-2 max-pool, and its backward, written with a
// backend's own kernels (batchNorm, maxPool2d, relu; reluMask, maxPool2dBackward,
// batchNormBackwardSums). The reference js backend and WebGPU run these; native fuses each into
// one kernel (native/channel.cc), which must agree with them.

import type { Backend, ChannelDims, Pool2dGeometry, Storage, View } from './kernels.js';

/** The 2×2 stride-2 pooling of d's [n, c, h·w] planes. */
export function pairPoolGeometry(d: ChannelDims, h: number, w: number): Pool2dGeometry {
  return { planes: d.n * d.c, h, w, kh: 2, kw: 2, oh: Math.floor(h / 2), ow: Math.floor(w / 2), strideH: 2, strideW: 2, padH: 0, padW: 0 };
}

const flat = (storage: Storage, n: number): View => ({ storage, shape: [n], strides: [1], offset: 0 });

export interface BatchNormReluMaxPoolResult {
  pooled: Storage;
  indices: Storage;
  xhat: Storage;
  mean: Storage;
  variance: Storage;
  rstd: Storage;
}

export function composeBatchNormReluMaxPool(be: Backend, x: Storage, gamma: Storage, beta: Storage, d: ChannelDims, eps: number, h: number, w: number): BatchNormReluMaxPoolResult {
  const bn = be.batchNorm(x, gamma, beta, d, eps);
  const pg = pairPoolGeometry(d, h, w);
  const m = be.maxPool2d(bn.y, pg);
  be.free(bn.y);
  const n = pg.planes * pg.oh * pg.ow;
  const pooled = be.unary('relu', flat(m.values, n), x.dtype);
  be.free(m.values);
  return { pooled, indices: m.indices, xhat: bn.xhat, mean: bn.mean, variance: bn.variance, rstd: bn.rstd };
}

export function composeBatchNormReluMaxPoolBackward(be: Backend, gp: Storage, pooled: Storage, indices: Storage, xhat: Storage, wv: Storage, d: ChannelDims, h: number, w: number): { dx: Storage; sumG: Storage; sumGX: Storage } {
  const pg = pairPoolGeometry(d, h, w);
  const n = pg.planes * pg.oh * pg.ow;
  const gm = be.binary('reluMask', flat(gp, n), flat(pooled, n), [n], xhat.dtype);
  const gy = be.maxPool2dBackward(gm, indices, pg);
  be.free(gm);
  const r = be.batchNormBackwardSums(gy, xhat, wv, d);
  be.free(gy);
  return r;
}
