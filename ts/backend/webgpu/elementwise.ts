// Dispatch for the elementwise family (kernels/elementwise.wgsl, kernels/fill.wgsl):
// unary, binary, where, cast and copy share one generator. Each call picks the fastest
// index walk its views allow: VEC4, CONTIG or STRIDED.

import type { DType } from '../../core/dtype.js';
import type { BinaryOp, UnaryOp, View } from '../kernels.js';
import { type Ctx, wgslType } from './context.js';
import { contiguousStrides, numel } from '../../core/shape.js';
import { coalesce } from './layout.js';
import type { GpuStorage } from './storage.js';
import { ELEMENTWISE_PARAMS, FILL_PARAMS } from './params.js';

/** Float unary expressions over `x: f32`. */
const FLOAT_UNARY: Record<UnaryOp, string> = {
  neg: '-x', exp: 'exp(x)', log: 'log(x)', sqrt: 'sqrt(x)', abs: 'abs(x)', sign: 'mg_sign(x)',
  tanh: 'mg_tanh(x)', sigmoid: 'mg_sigmoid(x)', relu: 'select(0.0, x, x > 0.0 || is_nan(x))', sin: 'sin(x)', cos: 'cos(x)',
  step: 'select(0.0, 1.0, x > 0.0)', reciprocal: '1.0 / x', square: 'x * x', log1p: 'mg_log1p(x)',
  expm1: 'mg_expm1(x)', floor: 'floor(x)', ceil: 'ceil(x)', round: 'round(x)' /* WGSL rounds half to even */,
};

/** int32 unary ops computed in i32; the rest go through f32 like the reference's doubles. */
const INT_UNARY: Partial<Record<UnaryOp, string>> = {
  neg: '-x', abs: 'abs(x)', sign: 'sign(x)', relu: 'max(x, 0)', step: 'select(0, 1, x > 0)', square: 'x * x',
  floor: 'x', ceil: 'x', round: 'x',
};

const CMP: Partial<Record<BinaryOp, string>> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };

const FLOAT_BINARY: Partial<Record<BinaryOp, string>> = {
  add: 'a + b', sub: 'a - b', mul: 'a * b', div: 'a / b', pow: 'mg_pow(a, b)', maximum: 'mg_max(a, b)', minimum: 'mg_min(a, b)',
  reluMask: 'select(0.0, a, b > 0.0)',
};
const INT_BINARY: Partial<Record<BinaryOp, string>> = {
  add: 'a + b', sub: 'a - b', mul: 'a * b', div: 'mg_idiv(a, b)', maximum: 'max(a, b)', minimum: 'min(a, b)', reluMask: 'select(0, a, b > 0)',
};

/** The scalar function f for a unary op: input type ti, output to. */
function unaryFn(op: UnaryOp, ti: string, to: string): string {
  if (ti === 'i32' && INT_UNARY[op]) return `fn f(x: i32) -> ${to} { return ${to}(${INT_UNARY[op]}); }`;
  return `fn f(x0: ${ti}) -> ${to} { let x = f32(x0); return ${to}(${FLOAT_UNARY[op]}); }`;
}

function binaryFn(op: BinaryOp, ti: string, to: string): string {
  const cmp = CMP[op];
  // Some compilers lower != to an ordered compare; NaN != x must be true, as in JS.
  if (op === 'ne' && ti !== 'i32') return `fn f(a0: ${ti}, b0: ${ti}) -> ${to} { let a = f32(a0); let b = f32(b0); return select(${to}(0), ${to}(1), a != b || is_nan(a) || is_nan(b)); }`;
  if (cmp) return `fn f(a: ${ti}, b: ${ti}) -> ${to} { return select(${to}(0), ${to}(1), a ${cmp} b); }`;
  if (ti === 'i32') {
    if (INT_BINARY[op]) return `fn f(a: i32, b: i32) -> ${to} { return ${to}(${INT_BINARY[op]}); }`;
    return `fn f(a0: i32, b0: i32) -> ${to} { let a = f32(a0); let b = f32(b0); return ${to}(${FLOAT_BINARY[op]}); }`;
  }
  return `fn f(a0: ${ti}, b0: ${ti}) -> ${to} { let a = f32(a0); let b = f32(b0); return ${to}(${FLOAT_BINARY[op]}); }`;
}

interface Operand {
  storage: GpuStorage;
  offset: number;
  strides: readonly number[];
}

/**
 * out (through outStrides/outOffset, contiguous by default) = f(inputs...) over `shape`.
 * `fn` is the WGSL source of `fn f(...)` taking one argument per input.
 */
export function elementwise(ctx: Ctx, fnSrc: string, inputs: Operand[], out: GpuStorage, shape: readonly number[],
  outView?: { strides: readonly number[]; offset: number }): void {
  const n = numel(shape);
  if (n === 0) return;
  const ostr = outView?.strides ?? contiguousStrides(shape);
  const ooff = outView?.offset ?? 0;
  const c = coalesce(shape, [...inputs.map((i) => i.strides), ostr]);
  const rank = c.shape.length;
  // Rank 1 after merging: a single stride per operand (1, or 0 for a broadcast scalar).
  const flat = rank <= 1;
  const offsets = [...inputs.map((i) => i.offset), ooff];
  const vec4 = flat && rank === 1 && c.strides.every((s) => s[0] === 1) && n % 4 === 0 && offsets.every((o) => o % 4 === 0);
  const mode = vec4 ? 'VEC4' : flat ? 'CONTIG' : ctx.cpuLike ? 'RUN' : 'STRIDED';
  const f16 = inputs.some((i) => i.storage.dtype === 'float16') || out.dtype === 'float16';
  const types = inputs.map((i) => wgslType(i.storage.dtype));
  const to = wgslType(out.dtype);
  const nin = inputs.length;
  const bind = (t: string) => (vec4 ? `vec4<${t}>` : t);
  const bindings = [
    ...types.map((t, k) => `@group(0) @binding(${k + 1}) var<storage, read> in${k}: array<${bind(t)}>;`),
    `@group(0) @binding(${nin + 1}) var<storage, read_write> out0: array<${bind(to)}>;`,
  ].join('\n');
  let body: string;
  let walk = '';
  if (mode === 'STRIDED' || mode === 'RUN') {
    // Operand offsets: an array in the STRIDED walk, named variables in the generated RUN walk.
    const o = (k: number) => (mode === 'RUN' ? `o${k}` : `o[${k}]`);
    body = `out0[${outView ? `u32(${o(nin)})` : 'i'}] = f(${types.map((_, k) => `in${k}[u32(${o(k)})]`).join(', ')});`;
    if (mode === 'RUN') walk = runWalk(rank, nin + 1, body);
  } else if (mode === 'CONTIG') {
    const at = (k: number) => `bitcast<u32>(p_operand_offset(${k}u)) + i * bitcast<u32>(p_operand_strides(${k}u, 0u))`;
    body = `out0[${at(nin)}] = f(${types.map((_, k) => `in${k}[${at(k)}]`).join(', ')});`;
  } else {
    const loads = types.map((_, k) => `let v${k} = in${k}[bitcast<u32>(p_operand_offset(${k}u)) + i];`).join(' ');
    const lanes = [0, 1, 2, 3].map((j) => `f(${types.map((_, k) => `v${k}[${j}]`).join(', ')})`).join(', ');
    body = `${loads} out0[bitcast<u32>(p_operand_offset(${nin}u)) + i] = vec4<${to}>(${lanes});`;
  }
  const per = vec4 ? 64 : 256;
  const k = ctx.kernel('elementwise', { [mode]: true }, { BINDINGS: bindings, FN: fnSrc, NOPS: nin + 1, BODY: body, WG: per, RUN, WALK: walk }, nin, 1, f16);
  const items = vec4 ? n / 4 : n;
  const p = ELEMENTWISE_PARAMS.fill({
    n: items, rank, shape: c.shape,
    operand: offsets.map((o, kk) => ({ offset: vec4 ? o / 4 : o, strides: c.strides[kk]! })),
  });
  const groups = mode === 'RUN' ? Math.ceil(Math.ceil(n / RUN) / per) : ctx.cappedGroups(Math.ceil(items / per));
  ctx.launch(k, [...inputs.map((i) => i.storage.buf), out.buf], p, ctx.grid(groups));
}

/** Elements per thread in RUN mode. */
const RUN = 128;

/**
 * The RUN walk for `rank` merged dims and `nops` operands (inputs, then the output): the
 * coordinates (c1 outermost .. c<rank>) and offsets of the first element by division, then per
 * element the body and an increment of the innermost coordinate, carried outwards on wrap.
 */
function runWalk(rank: number, nops: number, body: string): string {
  const ops = Array.from({ length: nops }, (_, k) => k);
  const dim = (d: number) => `p_shape(${d - 1}u)`;
  const stride = (k: number, d: number) => `p_operand_strides(${k}u, ${d - 1}u)`;
  const lines = ['var rem = i0;'];
  for (let d = rank; d >= 1; d--) {
    lines.push(`var c${d} = rem % ${dim(d)};`);
    if (d > 1) lines.push(`rem = rem / ${dim(d)};`);
  }
  for (const k of ops) {
    const terms = Array.from({ length: rank }, (_, i) => ` + i32(c${i + 1}) * ${stride(k, i + 1)}`).join('');
    lines.push(`var o${k} = p_operand_offset(${k}u)${terms};`);
  }
  // Nested carries, innermost dim first; the outermost never wraps inside [i0, n).
  const carry = carryChain(rank, ops, dim, stride);
  lines.push(`for (var i = i0; i < i1; i++) {\n    ${body}\n    ${carry}\n  }`);
  return lines.join('\n  ');
}

/** `c<rank>++` with its offset steps, carrying into c<rank-1> on wrap, and so on out to c1. */
function carryChain(rank: number, ops: number[], dim: (d: number) => string, stride: (k: number, d: number) => string): string {
  const inc = (d: number): string => {
    const step = ops.map((k) => `o${k} += ${stride(k, d)};`).join(' ');
    if (d === 1) return `c1++; ${step}`;
    const back = ops.map((k) => `o${k} -= i32(${dim(d)}) * ${stride(k, d)};`).join(' ');
    return `c${d}++; ${step} if (c${d} == ${dim(d)}) { c${d} = 0u; ${back} ${inc(d - 1)} }`;
  };
  return inc(rank);
}

function operand(ctx: Ctx, v: View): Operand {
  return { storage: ctx.storage(v.storage), offset: v.offset, strides: v.strides };
}

export function unary(ctx: Ctx, op: UnaryOp, x: View, dtype: DType): GpuStorage {
  const out = ctx.alloc(dtype, numel(x.shape));
  elementwise(ctx, unaryFn(op, wgslType(x.storage.dtype), wgslType(dtype)), [operand(ctx, x)], out, x.shape);
  return out;
}

export function binary(ctx: Ctx, op: BinaryOp, a: View, b: View, shape: readonly number[], dtype: DType): GpuStorage {
  const out = ctx.alloc(dtype, numel(shape));
  elementwise(ctx, binaryFn(op, wgslType(a.storage.dtype), wgslType(dtype)),
    [operand(ctx, { ...a, shape }), operand(ctx, { ...b, shape })], out, shape);
  return out;
}

export function where(ctx: Ctx, cond: View, a: View, b: View, shape: readonly number[], dtype: DType): GpuStorage {
  const out = ctx.alloc(dtype, numel(shape));
  const tc = wgslType(cond.storage.dtype), ta = wgslType(a.storage.dtype), to = wgslType(dtype);
  const fn = `fn f(c: ${tc}, a: ${ta}, b: ${ta}) -> ${to} { return ${to}(select(b, a, c != ${tc}(0))); }`;
  elementwise(ctx, fn, [operand(ctx, cond), operand(ctx, a), operand(ctx, b)], out, shape);
  return out;
}

export function cast(ctx: Ctx, x: View, dtype: DType): GpuStorage {
  const out = ctx.alloc(dtype, numel(x.shape));
  const ti = wgslType(x.storage.dtype), to = wgslType(dtype);
  // f32 -> i32 truncates toward zero in WGSL, as the reference's Math.trunc does.
  const fn = ti === 'f16' && to === 'i32' ? 'fn f(x: f16) -> i32 { return i32(f32(x)); }' : `fn f(x: ${ti}) -> ${to} { return ${to}(x); }`;
  elementwise(ctx, fn, [operand(ctx, x)], out, x.shape);
  return out;
}

/** dst (through its view) = src (through its view). Copies via a temporary when they share a buffer. */
export function copy(ctx: Ctx, src: View, dst: View): void {
  const s = ctx.storage(src.storage), d = ctx.storage(dst.storage);
  const ti = wgslType(s.dtype), to = wgslType(d.dtype);
  const fn = `fn f(x: ${ti}) -> ${to} { return ${to}(x); }`;
  if (s === d) {
    const tmp = ctx.alloc(s.dtype, numel(src.shape));
    elementwise(ctx, fn.replace(`-> ${to}`, `-> ${ti}`).replace(`${to}(x)`, `${ti}(x)`), [operand(ctx, src)], tmp, src.shape);
    elementwise(ctx, fn, [{ storage: tmp, offset: 0, strides: contiguousStrides(src.shape) }], d, src.shape, dst);
    ctx.free(tmp);
    return;
  }
  elementwise(ctx, fn, [operand(ctx, src)], d, src.shape, dst);
}

export function fill(ctx: Ctx, size: number, value: number, dtype: DType): GpuStorage {
  const out = ctx.alloc(dtype, size);
  if (value === 0 && !Object.is(value, -0)) {
    ctx.queue.clear(out.buf, out.buf.bytes);
    return out;
  }
  if (size === 0) return out;
  const t = wgslType(dtype);
  const vec4s = Math.ceil(size / 4);
  const p = FILL_PARAMS.fill(dtype === 'int32' ? { vec4s, value: 0, intValue: value } : { vec4s, value, intValue: 0 });
  const val = dtype === 'int32' ? 'p_intValue()' : dtype === 'float16' ? 'f16(p_value())' : 'p_value()';
  const k = ctx.kernel('fill', {}, { T: t, VALUE: val }, 0, 1, dtype === 'float16');
  ctx.launch(k, [out.buf], p, ctx.grid(Math.ceil(vec4s / 256)));
  return out;
}

/** Zeros in stream order. */
export function zeros(ctx: Ctx, size: number, dtype: DType): GpuStorage {
  const out = ctx.alloc(dtype, size);
  ctx.queue.clear(out.buf, out.buf.bytes);
  return out;
}
