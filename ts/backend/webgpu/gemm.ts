// Dispatch for the GEMM family (kernels/gemm.wgsl): batched matmul with operands read in
// place through their strides, and the launch that conv.ts uses for implicit-GEMM convolutions.
// Chooses per operand the unit-stride axis to load along and whether vec4 loads are aligned,
// splits K when there are too few output tiles to fill the GPU (partials summed by reduce),
// and cuts dispatches that would exceed maxComputeWorkgroupsPerDimension.

import { envVar } from '../../core/env.js';
import { BackendError } from '../../core/errors.js';
import type { DType } from '../../core/dtype.js';
import type { MatView, MatmulDims } from '../kernels.js';
import { type Ctx, type Kernel, wgslType } from './context.js';
import { cast } from './elementwise.js';
import { planDirect } from './gemm-direct.js';
import { contiguousStrides } from '../../core/shape.js';
import { aligned4 } from './layout.js';
import { reduce } from './reduce.js';
import type { PooledBuffer } from './buffer-pool.js';
import type { GpuStorage } from './storage.js';
import { GEMM_MATMUL_PARAMS, type GemmBase } from './params.js';

export const TILE = 64;

/** How many K-splits to use for a GEMM with `tiles` output tiles per batch entry. */
export function chooseSplits(tiles: number, k: number): { splits: number; kChunk: number } {
  let splits = 1;
  if (tiles < 64 && k >= 1024) splits = Math.min(Math.ceil(k / 512), Math.ceil(128 / tiles), 256);
  const kChunk = Math.ceil(k / splits / 16) * 16;
  return { splits: Math.ceil(k / kChunk), kChunk };
}

export interface GemmLaunch {
  kernel: Kernel;
  /** Rows per workgroup tile (64, or less for the barrier-free kernel on short matrices). */
  tm: number;
  /** Columns per workgroup tile. */
  tn: number;
  buffers: PooledBuffer[];
  m: number;
  n: number;
  k: number;
  batch: number;
  splits: number;
  kChunk: number;
  /** The dispatch's params block: the launch's base values and the member's own fields (params.ts). */
  params: (base: GemmBase) => Uint32Array;
}

/** Issue one or more dispatches covering [batch × splits] × rows × column tiles. */
export function launchGemm(ctx: Ctx, g: GemmLaunch): void {
  const rowTiles = Math.ceil(g.m / g.tm), colTiles = Math.ceil(g.n / g.tn);
  const max = ctx.maxGroups;
  if (rowTiles > max) throw new BackendError(`webgpu: a GEMM with ${g.m} rows exceeds the adapter's grid (${max * g.tm} rows)`);
  const batchesPer = Math.max(1, Math.floor(max / g.splits));
  for (let b0 = 0; b0 < g.batch; b0 += batchesPer) {
    const nb = Math.min(batchesPer, g.batch - b0);
    for (let c0 = 0; c0 < colTiles; c0 += max) {
      const p = g.params({ m: g.m, n: g.n, k: g.k, batchBase: b0, splits: g.splits, kChunk: g.kChunk, colTileBase: c0, batch: g.batch });
      ctx.launch(g.kernel, g.buffers, p, [Math.min(max, colTiles - c0), rowTiles, nb * g.splits]);
    }
  }
}

/** Sum split-K partials [splits, rest] into the output dtype. */
export function sumPartials(ctx: Ctx, partial: GpuStorage, splits: number, rest: number, dtype: DType): GpuStorage {
  const shape = [splits, rest];
  const summed = reduce(ctx, 'sum', { storage: partial, shape, strides: contiguousStrides(shape), offset: 0 }, [0]);
  ctx.free(partial);
  if (dtype === summed.dtype) return summed;
  const c = cast(ctx, { storage: summed, shape: [rest], strides: [1], offset: 0 }, dtype);
  ctx.free(summed);
  return c;
}

export function matmul(ctx: Ctx, a: MatView, b: MatView, d: MatmulDims, dtype: DType): GpuStorage {
  const total = d.batch * d.m * d.n;
  if (total === 0 || d.k === 0) {
    const out = ctx.alloc(dtype, total);
    ctx.queue.clear(out.buf, out.buf.bytes);
    return out;
  }
  const tiles = Math.ceil(d.m / TILE) * Math.ceil(d.n / TILE) * d.batch;
  const { splits, kChunk } = chooseSplits(tiles, d.k);
  const partialDType: DType = splits > 1 ? 'float32' : dtype;
  const out = ctx.alloc(partialDType, splits * total);
  matmulInto(ctx, a, b, d, out, 0, splits, kChunk);
  return splits > 1 ? sumPartials(ctx, out, splits, total, dtype) : out;
}

/**
 * Write A·B (or its split-K partials) into `out` from element `outOffset` on: the batches
 * one after another, each M×N row-major.
 */
export function matmulInto(ctx: Ctx, a: MatView, b: MatView, d: MatmulDims, out: GpuStorage, outOffset: number, splits = 1, kChunk = d.k): void {
  if (useDirect(ctx)) {
    const plan = planDirect(ctx, a, b, d, out, outOffset);
    launchGemm(ctx, { ...plan, buffers: plan.buffers.map((st) => st.buf), k: d.k, batch: d.batch, splits, kChunk });
    return;
  }
  const as = ctx.storage(a.storage), bs = ctx.storage(b.storage);
  const bsA = d.batch > 1 ? a.batchStride : 0, bsB = d.batch > 1 ? b.batchStride : 0;
  // A: load along k when its columns are unit-stride, along m when its rows are (a transposed view).
  const aAlongK = a.colStride === 1 || a.rowStride !== 1 || d.m === 1;
  const aVec = aAlongK
    ? (a.colStride === 1 || d.k === 1) && aligned4(a.offset, d.m > 1 ? a.rowStride : 0, bsA)
    : aligned4(a.offset, d.k > 1 ? a.colStride : 0, bsA);
  const bAlongN = b.colStride === 1 || b.rowStride !== 1 || d.k === 1;
  const bVec = bAlongN
    ? (b.colStride === 1 || d.n === 1) && aligned4(b.offset, d.k > 1 ? b.rowStride : 0, bsB)
    : aligned4(b.offset, d.n > 1 ? b.colStride : 0, bsB);
  const cVec = d.n % 4 === 0 && outOffset % 4 === 0;
  const f16 = as.dtype === 'float16' || out.dtype === 'float16';
  const kernel = ctx.kernel('gemm', { MATMUL: true, A_ALONG_K: aAlongK, A_VEC: aVec, B_ALONG_N: bAlongN, B_VEC: bVec, C_VEC: cVec },
    { TA: wgslType(as.dtype), TC: wgslType(out.dtype) }, 2, 1, f16);
  // A unit stride along the vec axis is what a_vec assumes; the other stride may be anything.
  const fixStride = (s: number, n: number) => (n === 1 ? 1 : s);
  launchGemm(ctx, {
    kernel, tm: TILE, tn: TILE, buffers: [as.buf, bs.buf, out.buf], m: d.m, n: d.n, k: d.k, batch: d.batch, splits, kChunk,
    params: (base) => GEMM_MATMUL_PARAMS.fill({
      ...base,
      aOffset: a.offset, aBatchStride: bsA, aRowStride: fixStride(a.rowStride, d.m), aColStride: fixStride(a.colStride, d.k),
      bOffset: b.offset, bBatchStride: bsB, bRowStride: fixStride(b.rowStride, d.k), bColStride: fixStride(b.colStride, d.n),
      cOffset: outOffset,
    }),
  });
}

/**
 * Matmul on software adapters runs the barrier-free kernel (gemm-direct.ts); on lavapipe it
 * measured 2–4× the shared-memory one. METAGRAD_GEMM_BLOCK=shared picks the GPU kernel there
 * too, for benchmarks and tests.
 */
export function useDirect(ctx: Ctx): boolean {
  return ctx.cpuLike && envVar('METAGRAD_GEMM_BLOCK') !== 'shared';
}
