// Named kernel parameters. Every dispatch gets a block of PARAM_WORDS 32-bit words in the
// params uniform (kernels/common.wgsl). Each kernel family declares here, once, the names,
// types and order of its words; from that one list come
//   - the WGSL accessors prepended to the family's kernels (context.ts): `p_rank()`,
//     `p_shape(i)`, and for a repeated group `p_operand_offset(k)`, `p_operand_strides(k, i)`;
//   - the TS writer: `LAYOUT.fill({ rank, shape, operand: [{ offset, strides }, ...] })`,
// so the WGSL side reads by the names the TS side writes, and no offset is written by hand.

import { BackendError } from '../../core/errors.js';
import { PARAM_WORDS } from './queue.js';
import type { KernelFile } from './source.js';

type Scalar = 'u32' | 'i32' | 'f32';
type Leaf = Scalar | readonly [Scalar, number];
interface Group {
  readonly repeat: number;
  readonly fields: Readonly<Record<string, Leaf>>;
}
type Field = Leaf | Group;
type Fields = Readonly<Record<string, Field>>;

type LeafValue<L extends Leaf> = L extends Scalar ? number : ArrayLike<number>;
type FieldValue<F extends Field> = F extends Group ? ArrayLike<{ [K in keyof F['fields']]: LeafValue<F['fields'][K]> }> : F extends Leaf ? LeafValue<F> : never;
/** The values of a layout's fields, by name: numbers for scalars, arrays (at most the declared length) for arrays and groups. */
export type ParamValues<F extends Fields> = { [K in keyof F]: FieldValue<F[K]> };

interface Slot {
  name: string;
  type: Scalar;
  /** first word */
  at: number;
  /** 1 for a scalar */
  length: number;
}

const READ: Record<Scalar, string> = { u32: 'P', i32: 'PI', f32: 'PF' };

/** One kernel family's parameter block. */
export class ParamLayout<F extends Fields = Fields> {
  /** words used */
  readonly words: number;
  /** the WGSL accessor functions, one per field */
  readonly wgsl: string;
  private readonly plan: { name: string; slot?: Slot; group?: { stride: number; repeat: number; slots: Slot[] } }[] = [];

  constructor(readonly family: string, fields: F) {
    let at = 0;
    const fns: string[] = [];
    const leaf = (name: string, l: Leaf, base: number): Slot => {
      const [type, length] = typeof l === 'string' ? [l, 1] : [l[0], l[1]];
      return { name, type, at: base, length };
    };
    for (const [name, f] of Object.entries(fields)) {
      if (typeof f === 'string' || Array.isArray(f)) {
        const slot = leaf(name, f as Leaf, at);
        this.plan.push({ name, slot });
        fns.push(slot.length === 1
          ? `fn p_${name}() -> ${slot.type} { return ${READ[slot.type]}(${slot.at}u); }`
          : `fn p_${name}(i: u32) -> ${slot.type} { return ${READ[slot.type]}(${slot.at}u + i); }`);
        at += slot.length;
      } else {
        const g = f as Group;
        const slots: Slot[] = [];
        let off = 0;
        for (const [sub, l] of Object.entries(g.fields)) {
          const slot = leaf(sub, l, off);
          slots.push(slot);
          off += slot.length;
        }
        for (const s of slots) {
          const first = `${at + s.at}u + k * ${off}u`;
          fns.push(s.length === 1
            ? `fn p_${name}_${s.name}(k: u32) -> ${s.type} { return ${READ[s.type]}(${first}); }`
            : `fn p_${name}_${s.name}(k: u32, i: u32) -> ${s.type} { return ${READ[s.type]}(${first} + i); }`);
        }
        this.plan.push({ name, group: { stride: off, repeat: g.repeat, slots: slots.map((s) => ({ ...s, at: at + s.at })) } });
        at += off * g.repeat;
      }
    }
    if (at > PARAM_WORDS) throw new BackendError(`webgpu: internal: the ${family} parameters need ${at} words, more than the ${PARAM_WORDS} of a params block`);
    this.words = at;
    this.wgsl = `// ${family} parameters (ts/backend/webgpu/params.ts)\n${fns.join('\n')}`;
  }

  /** A fresh params block holding `values` (fields left out, and array tails, are 0). */
  fill(values: ParamValues<F>): Uint32Array {
    const u = new Uint32Array(PARAM_WORDS);
    let f: Float32Array | undefined;
    const put = (s: Slot, base: number, v: number | ArrayLike<number>) => {
      const n = typeof v === 'number' ? 1 : v.length;
      if (n > s.length) throw new BackendError(`webgpu: internal: ${this.family} parameter '${s.name}' has room for ${s.length} values, got ${n}`);
      for (let i = 0; i < n; i++) {
        const x = typeof v === 'number' ? v : v[i]!;
        if (s.type === 'f32') (f ??= new Float32Array(u.buffer))[base + s.at + i] = x;
        else u[base + s.at + i] = x;
      }
    };
    const vals = values as Record<string, unknown>;
    for (const key in vals) if (!this.plan.some((p) => p.name === key)) throw new BackendError(`webgpu: internal: ${this.family} has no parameter '${key}'`);
    for (const p of this.plan) {
      const v = vals[p.name];
      if (v === undefined) continue;
      if (p.slot) put(p.slot, 0, v as number | ArrayLike<number>);
      else {
        const g = p.group!, items = v as ArrayLike<Record<string, number | ArrayLike<number>>>;
        if (items.length > g.repeat) throw new BackendError(`webgpu: internal: ${this.family} parameter '${p.name}' has room for ${g.repeat} entries, got ${items.length}`);
        for (let k = 0; k < items.length; k++) {
          for (const s of g.slots) {
            const x = items[k]![s.name];
            if (x !== undefined) put(s, k * g.stride, x);
          }
        }
      }
    }
    return u;
  }
}

const u32x8 = ['u32', 8] as const;

/** Elementwise (unary, binary, where, cast, copy): the output's merged dims, then each operand's view (inputs, then the output). */
export const ELEMENTWISE_PARAMS = new ParamLayout('elementwise', {
  n: 'u32', rank: 'u32', shape: u32x8,
  operand: { repeat: 4, fields: { offset: 'i32', strides: ['i32', 8] } },
});

/** Fill: the number of vec4 writes and the value (as f32, or as i32 for int32 storages). */
export const FILL_PARAMS = new ParamLayout('fill', { vec4s: 'u32', value: 'f32', intValue: 'i32' });

/** Reductions: rows (outer) × reduced length (inner) in chunks; dims[0] walks the kept dims, dims[1] the reduced ones. */
export const REDUCE_PARAMS = new ParamLayout('reduce', {
  outer: 'u32', inner: 'u32', chunkLen: 'u32', chunks: 'u32',
  dims: { repeat: 2, fields: { rank: 'u32', shape: u32x8, strides: u32x8 } },
  offset: 'u32',
});

export const SOFTMAX_PARAMS = new ParamLayout('softmax', { rows: 'u32', cols: 'u32', offset: 'u32' });

/** What every GEMM launch (gemm.wgsl and gemm-direct.wgsl) starts with. */
const GEMM_BASE = {
  m: 'u32', n: 'u32', k: 'u32', batchBase: 'u32', splits: 'u32', kChunk: 'u32', colTileBase: 'u32', batch: 'u32',
} as const;

/** The base values of a GEMM launch, which launchGemm fills per dispatch. */
export type GemmBase = ParamValues<typeof GEMM_BASE>;

/** gemm.wgsl as a matmul: A[b] at aOffset + b·aBatchStride + row·aRowStride + k·aColStride, B likewise, C from cOffset. */
export const GEMM_MATMUL_PARAMS = new ParamLayout('gemm (matmul)', {
  ...GEMM_BASE,
  aOffset: 'u32', aBatchStride: 'u32', aRowStride: 'u32', aColStride: 'u32',
  bOffset: 'u32', bBatchStride: 'u32', bRowStride: 'u32', bColStride: 'u32',
  cOffset: 'u32',
});

/** gemm.wgsl as an implicit-GEMM convolution: the NCHW geometry, channels per group last. */
export const GEMM_CONV_PARAMS = new ParamLayout('gemm (conv)', {
  ...GEMM_BASE,
  convN: 'u32', convCIn: 'u32', convH: 'u32', convW: 'u32', convCOut: 'u32', convKh: 'u32', convKw: 'u32', convOh: 'u32', convOw: 'u32',
  convStrideH: 'u32', convStrideW: 'u32', convPadH: 'u32', convPadW: 'u32', convDilationH: 'u32', convDilationW: 'u32',
  convGroups: 'u32', convCig: 'u32', convCog: 'u32',
});

/**
 * gemm-direct.wgsl, D = X·Y: X[b] (M×K) at xOffset + b·xBatch + row·xRowStride + k·xKStride, Y[b] (K×N)
 * at yOffset + b·yBatch + k·yKStride + col·yColStride; D's element (row, col) of batch b, split s at
 * cOffset + (s·batch + b)·M·N + row·cRowStride + col·cColStride.
 */
export const GEMM_DIRECT_PARAMS = new ParamLayout('gemm-direct', {
  ...GEMM_BASE,
  xOffset: 'u32', xBatch: 'u32', xRowStride: 'u32', xKStride: 'u32',
  yOffset: 'u32', yBatch: 'u32', yKStride: 'u32', yColStride: 'u32',
  cOffset: 'u32', cRowStride: 'u32', cColStride: 'u32',
});

/** im2col/im2row and col2im: rows to write, the first image, and the convolution geometry. */
export const UNFOLD_PARAMS = new ParamLayout('im2col/col2im', {
  rows: 'u32', n0: 'u32', cIn: 'u32', h: 'u32', w: 'u32', kh: 'u32', kw: 'u32', oh: 'u32', ow: 'u32',
  strideH: 'u32', strideW: 'u32', padH: 'u32', padW: 'u32', dilationH: 'u32', dilationW: 'u32',
});

/** Max pooling over [planes, h, w] and its backward. */
export const POOL_PARAMS = new ParamLayout('pool', {
  total: 'u32', h: 'u32', w: 'u32', kh: 'u32', kw: 'u32', oh: 'u32', ow: 'u32', strideH: 'u32', strideW: 'u32', padH: 'u32', padW: 'u32',
});

/**
 * Gather and scatter-add: n elements walked over `shape` (rank dims), the axis and its length in
 * the source (gather) or output (scatter); the source's view, the indices' view, the output's
 * strides (scatter), and the index count along the axis (scatter's gather-back).
 */
export const INDEXING_PARAMS = new ParamLayout('indexing', {
  n: 'u32', rank: 'u32', shape: u32x8, axis: 'u32', axisLength: 'u32',
  srcOffset: 'u32', srcStrides: u32x8, idxOffset: 'u32', idxStrides: u32x8, outStrides: u32x8, count: 'u32',
});

/** The deferred index check: n indices walked over their view, valid below `limit`; `check` names the pending message. */
export const CHECK_INDICES_PARAMS = new ParamLayout('check-indices', {
  n: 'u32', rank: 'u32', shape: u32x8, strides: u32x8, offset: 'u32', limit: 'u32', check: 'u32',
});

/** Philox: n values from key (key0, key1) and the 64-bit block counter (ctrLo, ctrHi). */
export const PHILOX_PARAMS = new ParamLayout('philox', { n: 'u32', key0: 'u32', key1: 'u32', ctrLo: 'u32', ctrHi: 'u32' });

/** Cholesky: a batch of n×n matrices read at offset + b·batchStride + i·rowStride + j·colStride. */
export const CHOLESKY_PARAMS = new ParamLayout('linalg (cholesky)', {
  batch: 'u32', n: 'u32', offset: 'u32', batchStride: 'u32', rowStride: 'u32', colStride: 'u32',
});

/** Triangular solve: tasks = batch × m columns; T (n×n, lower or upper) and B (n×m) views. */
export const TRIANGULAR_SOLVE_PARAMS = new ParamLayout('linalg (triangular solve)', {
  tasks: 'u32', n: 'u32', m: 'u32', lower: 'u32',
  tOffset: 'u32', tBatchStride: 'u32', tRowStride: 'u32', tColStride: 'u32',
  bOffset: 'u32', bBatchStride: 'u32', bRowStride: 'u32', bColStride: 'u32',
});

/** Per-channel kernels over contiguous [n, c, s]: eps for the statistics, the element count for the elementwise ones. */
export const CHANNEL_PARAMS = new ParamLayout('channel', { n: 'u32', c: 'u32', s: 'u32', eps: 'f32', total: 'u32' });

/** The layouts whose accessors each kernel file gets (a file may hold several members of a family). */
export const KERNEL_PARAMS: Readonly<Record<Exclude<KernelFile, 'common'>, readonly ParamLayout[]>> = {
  elementwise: [ELEMENTWISE_PARAMS],
  fill: [FILL_PARAMS],
  reduce: [REDUCE_PARAMS],
  softmax: [SOFTMAX_PARAMS],
  gemm: [GEMM_MATMUL_PARAMS, GEMM_CONV_PARAMS],
  'gemm-direct': [GEMM_DIRECT_PARAMS],
  im2col: [UNFOLD_PARAMS],
  col2im: [UNFOLD_PARAMS],
  pool: [POOL_PARAMS],
  indexing: [INDEXING_PARAMS],
  'check-indices': [CHECK_INDICES_PARAMS],
  philox: [PHILOX_PARAMS],
  linalg: [CHOLESKY_PARAMS, TRIANGULAR_SOLVE_PARAMS],
  channel: [CHANNEL_PARAMS],
};

/**
 * The accessors for a kernel file: each field once (members of one family share their common
 * fields, which must then sit at the same words — a clash is a bug and throws).
 */
export function paramAccessors(file: KernelFile): string {
  if (file === 'common') return '';
  const seen = new Map<string, string>();
  const out: string[] = [];
  for (const layout of KERNEL_PARAMS[file]) {
    for (const line of layout.wgsl.split('\n')) {
      const m = /^fn (\w+)/.exec(line);
      if (!m) continue;
      const prev = seen.get(m[1]!);
      if (prev === undefined) {
        seen.set(m[1]!, line);
        out.push(line);
      } else if (prev !== line) {
        throw new BackendError(`webgpu: internal: the parameter layouts of ${file}.wgsl disagree on ${m[1]}: '${prev}' vs '${line}'`);
      }
    }
  }
  return `// parameters (ts/backend/webgpu/params.ts)\n${out.join('\n')}`;
}
