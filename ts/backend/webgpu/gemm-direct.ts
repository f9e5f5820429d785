// Matmul on software adapters through kernels/gemm-direct.wgsl: builds the unrolled register
// block for the kernel template, picks the orientation (C = A·B, or Cᵀ = Bᵀ·Aᵀ when that
// makes the right-hand operand unit-stride along its columns, so it loads as vec4s) and the
// block shape, and launches it over the same tile grid as the shared-memory GEMM.

import { envVar } from '../../core/env.js';
import type { MatView, MatmulDims } from '../kernels.js';
import type { DType } from '../../core/dtype.js';
import { type Ctx, type Kernel, wgslType } from './context.js';
import { aligned4 } from './layout.js';
import type { GpuStorage } from './storage.js';
import { GEMM_DIRECT_PARAMS, type GemmBase } from './params.js';

/** Register block per invocation: RPI rows × 4·CB columns; WX×WY invocations per workgroup. */
export interface DirectBlock {
  rpi: number;
  cb: number;
  wx: number;
  wy: number;
}

/**
 * 8 rows × 16 columns per invocation, 4×4 invocations: on lavapipe (AVX2) 16×16 blocks were
 * ~10% faster still but take 2–4 s to compile per variant, against under 1 s for this one.
 * Short or narrow matrices (matrix-vector products, 5-way prototypes) get smaller blocks and
 * workgroups, so invocations do not compute clamped duplicates of the edge.
 * METAGRAD_GEMM_BLOCK=RPIxCBxWXxWY overrides it, for benchmarks.
 */
export function chooseBlock(m: number, n: number): DirectBlock {
  const env = envVar('METAGRAD_GEMM_BLOCK');
  const parts = env && /^\d+x\d+x\d+x\d+$/.test(env) ? env.split('x').map(Number) : null;
  if (parts) return { rpi: parts[0]!, cb: parts[1]!, wx: parts[2]!, wy: parts[3]! };
  const b: DirectBlock = { rpi: m <= 2 ? 2 : m <= 4 ? 4 : 8, cb: n <= 4 ? 1 : n <= 8 ? 2 : 4, wx: 4, wy: 4 };
  while (b.wy > 1 && b.rpi * (b.wy / 2) >= m) b.wy /= 2;
  while (b.wx > 1 && 4 * b.cb * (b.wx / 2) >= n) b.wx /= 2;
  return b;
}

/** The unrolled parts of the kernel for one block shape. */
function unrolled(blk: DirectBlock, yVec: boolean): Record<string, string> {
  const decl: string[] = [], body: string[] = [], store: string[] = [];
  for (let r = 0; r < blk.rpi; r++) decl.push(`let xr${r} = xb + min(r0 + ${r}u, lastRow) * p_xRowStride();`);
  if (yVec) {
    decl.push('let lastVec = lastCol & ~3u;');
    for (let c = 0; c < blk.cb; c++) decl.push(`let yc${c} = yb + min(c0 + ${4 * c}u, lastVec);`);
  } else {
    for (let j = 0; j < 4 * blk.cb; j++) decl.push(`let yc${j} = yb + min(c0 + ${j}u, lastCol) * p_yColStride();`);
  }
  for (let r = 0; r < blk.rpi; r++) for (let c = 0; c < blk.cb; c++) decl.push(`var acc${r}_${c} = vec4<f32>(0.0);`);
  for (let c = 0; c < blk.cb; c++) {
    body.push(yVec
      ? `let y${c} = vec4<f32>(Y[(yc${c} + yk) >> 2u]);`
      : `let y${c} = vec4<f32>(f32(Y[yc${4 * c} + yk]), f32(Y[yc${4 * c + 1} + yk]), f32(Y[yc${4 * c + 2} + yk]), f32(Y[yc${4 * c + 3} + yk]));`);
  }
  for (let r = 0; r < blk.rpi; r++) {
    body.push(`let x${r} = vec4<f32>(f32(X[xr${r} + xk]));`);
    for (let c = 0; c < blk.cb; c++) body.push(`acc${r}_${c} = fma(x${r}, y${c}, acc${r}_${c});`);
  }
  for (let r = 0; r < blk.rpi; r++) for (let c = 0; c < blk.cb; c++) store.push(`store(cb, r0 + ${r}u, c0 + ${4 * c}u, acc${r}_${c});`);
  const indent = (lines: string[], n: number) => lines.join('\n' + ' '.repeat(n));
  return { DECL: indent(decl, 2), BODY: indent(body, 4), STORE: indent(store, 2) };
}

// Kernels by recipe, so the unrolled source is generated once per variant, not per call.
const kernelCache = new WeakMap<Ctx, Map<string, Kernel>>();

function directKernel(ctx: Ctx, blk: DirectBlock, yVec: boolean, cVec: boolean, tx: DType, tc: DType): Kernel {
  let cache = kernelCache.get(ctx);
  if (!cache) kernelCache.set(ctx, (cache = new Map()));
  const key = `${blk.rpi}x${blk.cb}x${blk.wx}x${blk.wy}|${yVec}|${cVec}|${tx}|${tc}`;
  let k = cache.get(key);
  if (!k) {
    k = ctx.kernel('gemm-direct', { Y_VEC: yVec, C_VEC: cVec },
      { TX: wgslType(tx), TC: wgslType(tc), WX: blk.wx, WY: blk.wy, TM: blk.rpi * blk.wy, TN: 4 * blk.cb * blk.wx,
        RPI: blk.rpi, CPI: 4 * blk.cb, ...unrolled(blk, yVec) },
      2, 1, tx === 'float16' || tc === 'float16');
    cache.set(key, k);
  }
  return k;
}

/** One operand of the kernel: element (b, i, j) at offset + b·batch + i·s0 + j·s1. */
interface Operand {
  st: GpuStorage;
  offset: number;
  batch: number;
  s0: number;
  s1: number;
}

/** Launch parameters for launchGemm: the tile sizes, kernel and params block. */
export interface DirectPlan {
  kernel: Kernel;
  buffers: GpuStorage[];
  m: number;
  n: number;
  tm: number;
  tn: number;
  params: (base: GemmBase) => Uint32Array;
}

/**
 * Plan A·B into `out` (batches contiguous from `outOffset`, each M×N row-major; split-K
 * partials after each other). The kernel's Y operand loads as vec4 along its columns when
 * unit-stride and aligned there: B itself, or Aᵀ when B is not and A is (then D = Cᵀ).
 */
export function planDirect(ctx: Ctx, a: MatView, b: MatView, d: MatmulDims, out: GpuStorage, outOffset: number): DirectPlan {
  const as = ctx.storage(a.storage), bs = ctx.storage(b.storage);
  const bsA = d.batch > 1 ? a.batchStride : 0, bsB = d.batch > 1 ? b.batchStride : 0;
  // A unit stride is what the vec4 loads assume; a stride over an axis of length 1 is irrelevant.
  const unit = (s: number, len: number) => s === 1 || len === 1;
  const bAlongN = unit(b.colStride, d.n) && aligned4(b.offset, d.k > 1 ? b.rowStride : 0, bsB);
  const aAlongM = unit(a.rowStride, d.m) && aligned4(a.offset, d.k > 1 ? a.colStride : 0, bsA);
  const swap = !bAlongN && aAlongM && d.m > 1;
  const A: Operand = { st: as, offset: a.offset, batch: bsA, s0: a.rowStride, s1: a.colStride };
  const B: Operand = { st: bs, offset: b.offset, batch: bsB, s0: b.rowStride, s1: b.colStride };
  // D = X·Y: X is M×K (s0 along rows, s1 along k), Y is K×N (s0 along k, s1 along columns).
  const [X, Y, m, n] = swap
    ? [{ ...B, s0: B.s1, s1: B.s0 }, { ...A, s0: A.s1, s1: A.s0 }, d.n, d.m]
    : [A, B, d.m, d.n];
  const yVec = swap || bAlongN;
  const [sRow, sCol] = swap ? [1, d.n] : [d.n, 1];
  const cVec = !swap && d.n % 4 === 0 && outOffset % 4 === 0;
  const blk = chooseBlock(m, n);
  const tm = blk.rpi * blk.wy, tn = 4 * blk.cb * blk.wx;
  const kernel = directKernel(ctx, blk, yVec, cVec, as.dtype, out.dtype);
  return {
    kernel, buffers: [X.st, Y.st, out], m, n, tm, tn,
    params: (base) => GEMM_DIRECT_PARAMS.fill({
      ...base,
      xOffset: X.offset, xBatch: X.batch, xRowStride: X.s0, xKStride: X.s1,
      yOffset: Y.offset, yBatch: Y.batch, yKStride: Y.s0, yColStride: yVec ? 1 : Y.s1,
      cOffset: outOffset, cRowStride: sRow, cColStride: sCol,
    }),
  };
}
