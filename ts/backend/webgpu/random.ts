// Dispatch for Philox4x32-10 (kernels/philox.wgsl): the same bits as ts/core/philox.ts.

import type { DType } from '../../core/dtype.js';
import type { RandomKind } from '../kernels.js';
import { type Ctx, wgslType } from './context.js';
import type { GpuStorage } from './storage.js';
import { PHILOX_PARAMS } from './params.js';

export function random(ctx: Ctx, kind: RandomKind, key: readonly [number, number], counter: number, size: number, dtype: DType): GpuStorage {
  const outType: DType = kind === 'bits' ? 'int32' : dtype;
  const out = ctx.alloc(outType, size);
  if (size === 0) return out;
  const p = PHILOX_PARAMS.fill({ n: size, key0: key[0] >>> 0, key1: key[1] >>> 0, ctrLo: counter >>> 0, ctrHi: Math.floor(counter / 4294967296) >>> 0 });
  const flag = kind === 'bits' ? 'BITS' : kind === 'normal' ? 'NORMAL' : 'UNIFORM';
  const k = ctx.kernel('philox', { [flag]: true }, { T: wgslType(outType) }, 0, 1, outType === 'float16');
  ctx.launch(k, [out.buf], p, ctx.grid(Math.ceil(Math.ceil(size / 4) / 64)));
  return out;
}
