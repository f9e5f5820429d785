// Ops that only move values: views (reshape, permute, broadcast, slice; no copy where
// the layout allows) and copies (contiguous, concat, pad). Their vjps are the same
// family in reverse: reshape back, inverse permutation, sum back, pad, slice.

import { ShapeError, fmtShape } from '../core/errors.js';
import { record } from '../tensor/tape.js';
import { broadcastShapes, checkShape, contiguousStrides, describe, normAxis, numel, shapesEqual } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastView, checkSameBackend, checkSameDType, checkTensor, makeView, wrap, opScope } from './util.js';
import { sumTo } from './reduce.js';

/** A contiguous copy of x (x itself when already contiguous). */
export function contiguous(x: Tensor): Tensor {
  checkTensor(x, 'contiguous');
  if (x.isContiguous) return x;
  const out = wrap(x.backend.zeros(x.size, x.dtype), x.shape, x);
  x.backend.copy(x, { storage: out.storage, shape: x.shape, strides: out.strides, offset: 0 });
  return record(out, 'contiguous', [x], (g) => [g]);
}

/** Same values, new shape; one dim may be -1. A view when x is contiguous. */
/** A list of integers (axes, a permutation, begins and sizes), else a ShapeError naming op and what. */
function expectInts(v: unknown, op: string, what: string): void {
  if (!Array.isArray(v) || !v.every((a) => Number.isInteger(a))) throw new ShapeError(`${op}: ${what} must be an array of integers, got ${describe(v)}`);
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return opScope(() => {
    checkTensor(x, 'reshape');
    expectInts(shape, 'reshape', 'shape');
    const target = resolveShape(shape, x.size, x.shape);
    if (shapesEqual(target, x.shape)) return x;
    const src = contiguous(x);
    const out = makeView(src, target, contiguousStrides(target), src.offset, 'reshape');
    return record(out, 'reshape', [src], (g) => [reshape(g, src.shape)]);
  });
}

function resolveShape(shape: readonly number[], size: number, from: readonly number[]): number[] {
  const s = shape.slice();
  const neg = s.filter((d) => d === -1).length;
  if (neg > 1 || s.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new ShapeError(`reshape: invalid target shape ${fmtShape(shape)}`);
  }
  if (neg === 1) {
    const known = s.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    if (known === 0 || size % known !== 0) throw new ShapeError(`reshape: cannot reshape ${fmtShape(from)} (${size} elements) into ${fmtShape(shape)}`);
    s[s.indexOf(-1)] = size / known;
  }
  if (numel(s) !== size) throw new ShapeError(`reshape: cannot reshape ${fmtShape(from)} (${size} elements) into ${fmtShape(shape)}`);
  return s;
}

/** All dims into one (or dims from `startAxis` on). */
export function flatten(x: Tensor, startAxis = 0): Tensor {
  return opScope(() => {
    checkTensor(x, 'flatten');
    const a = x.rank === 0 ? 0 : normAxis(startAxis, x.rank, 'flatten');
    return reshape(x, [...x.shape.slice(0, a), -1]);
  });
}

/** Reorder dims (a view). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  checkTensor(x, 'permute');
  expectInts(perm, 'permute', 'perm');
  if (perm.length !== x.rank || new Set(perm.map((p) => normAxis(p, x.rank, 'permute'))).size !== x.rank) {
    throw new ShapeError(`permute: ${JSON.stringify(perm)} is not a permutation of the ${x.rank} dims of ${fmtShape(x.shape)}`);
  }
  const p = perm.map((a) => normAxis(a, x.rank, 'permute'));
  if (p.every((v, i) => v === i)) return x;
  const out = makeView(x, p.map((i) => x.shape[i]!), p.map((i) => x.strides[i]!), x.offset, 'permute');
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return record(out, 'permute', [x], (g) => [permute(g, inv)]);
}

/** Swap two dims (default: the last two). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  checkTensor(x, 'transpose');
  if (x.rank < 2 && a === -2 && b === -1) return x;
  const i = normAxis(a, x.rank, 'transpose'), j = normAxis(b, x.rank, 'transpose');
  const perm = Array.from({ length: x.rank }, (_, k) => k);
  [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  return permute(x, perm);
}

/** Insert a dim of size 1 at `axis`. */
export function expandDims(x: Tensor, axis: number): Tensor {
  checkTensor(x, 'expandDims');
  const a = normAxis(axis, x.rank + 1, 'expandDims');
  const shape = [...x.shape.slice(0, a), 1, ...x.shape.slice(a)];
  const strides = [...x.strides.slice(0, a), a < x.rank ? x.strides[a]! * x.shape[a]! : 1, ...x.strides.slice(a)];
  const out = makeView(x, shape, strides, x.offset, 'expandDims');
  return record(out, 'expandDims', [x], (g) => [squeeze(g, [a])]);
}

/** Remove dims of size 1 (all of them, or the given ones, which must be 1). */
export function squeeze(x: Tensor, axes?: readonly number[]): Tensor {
  checkTensor(x, 'squeeze');
  if (axes !== undefined) expectInts(axes, 'squeeze', 'axes');
  const drop = axes === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : axes.map((a) => normAxis(a, x.rank, 'squeeze'));
  for (const a of drop) if (x.shape[a] !== 1) throw new ShapeError(`squeeze: dim ${a} of ${fmtShape(x.shape)} is ${x.shape[a]}, not 1`);
  if (drop.length === 0) return x;
  const keepDims = x.shape.map((_, i) => i).filter((i) => !drop.includes(i));
  const out = makeView(x, keepDims.map((i) => x.shape[i]!), keepDims.map((i) => x.strides[i]!), x.offset, 'squeeze');
  const orig = x.shape;
  return record(out, 'squeeze', [x], (g) => [reshape(g, orig)]);
}

/** Broadcast to a larger shape (a view with 0 strides); the vjp sums back. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, 'broadcastTo');
  checkShape(shape, 'broadcastTo');
  const target = broadcastShapes('broadcastTo', x.shape, shape);
  if (!shapesEqual(target, shape)) throw new ShapeError(`broadcastTo: cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  if (shapesEqual(x.shape, shape)) return x;
  const v = broadcastView(x, shape);
  const out = makeView(x, shape, v.strides, x.offset, 'broadcastTo');
  return record(out, 'broadcastTo', [x], (g) => [sumTo(g, x.shape)]);
}

export interface SliceSpec {
  start?: number;
  stop?: number;
}

/**
 * x[begin : begin+size] per dim (a view). `begin` may be negative; size -1 means to the end.
 * Example: slice(x, [0, 2], [-1, 3]) takes columns 2..4 of every row.
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  checkTensor(x, 'slice');
  expectInts(begin, 'slice', 'begin');
  if (size !== undefined) expectInts(size, 'slice', 'size');
  if (begin.length > x.rank || (size && size.length !== begin.length)) {
    throw new ShapeError(`slice: begin ${JSON.stringify(begin)} / size ${JSON.stringify(size)} do not fit ${fmtShape(x.shape)}`);
  }
  const starts = x.shape.map((d, i) => {
    const b = begin[i] ?? 0;
    return b < 0 ? d + b : b;
  });
  const sizes = x.shape.map((d, i) => {
    const s = size?.[i] ?? -1;
    return s === -1 ? d - starts[i]! : s;
  });
  for (let i = 0; i < x.rank; i++) {
    if (!Number.isInteger(starts[i]) || !Number.isInteger(sizes[i]) || starts[i]! < 0 || sizes[i]! < 0 || starts[i]! + sizes[i]! > x.shape[i]!) {
      throw new ShapeError(`slice: begin ${JSON.stringify(begin)} size ${JSON.stringify(size ?? [])} is out of bounds for ${fmtShape(x.shape)} (dim ${i})`);
    }
  }
  let offset = x.offset;
  for (let i = 0; i < x.rank; i++) offset += starts[i]! * x.strides[i]!;
  if (sizes.every((s, i) => s === x.shape[i])) return x;
  const out = makeView(x, sizes, x.strides, offset, 'slice');
  const padding = x.shape.map((d, i) => [starts[i]!, d - starts[i]! - sizes[i]!] as [number, number]);
  return record(out, 'slice', [x], (g) => [pad(g, padding)]);
}

/** Zero (or constant) padding: padding[i] = [before, after] for dim i. */
export function pad(x: Tensor, padding: readonly (readonly [number, number])[], value = 0): Tensor {
  checkTensor(x, 'pad');
  if (!Array.isArray(padding) || !padding.every((p) => Array.isArray(p))) throw new ShapeError(`pad: padding must be an array of [before, after] pairs, got ${describe(padding)}`);
  if (typeof value !== 'number') throw new ShapeError(`pad: value must be a number, got ${describe(value)}`);
  if (padding.length !== x.rank || padding.some((p) => p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0))) {
    throw new ShapeError(`pad: padding ${JSON.stringify(padding)} must give [before, after] non-negative integers for each of the ${x.rank} dims of ${fmtShape(x.shape)}`);
  }
  const shape = x.shape.map((d, i) => d + padding[i]![0] + padding[i]![1]);
  const out = wrap(x.backend.fill(numel(shape), value, x.dtype), shape, x);
  const strides = out.strides;
  let offset = 0;
  for (let i = 0; i < x.rank; i++) offset += padding[i]![0] * strides[i]!;
  x.backend.copy(x, { storage: out.storage, shape: x.shape, strides, offset });
  const begin = padding.map((p) => p[0]);
  const size = x.shape.slice();
  return record(out, 'pad', [x], (g) => [slice(g, begin, size)]);
}

/** Join tensors along an existing axis. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ShapeError('concat: expected a non-empty array of tensors');
  xs.forEach((x, i) => checkTensor(x, 'concat', `tensor ${i}`));
  const first = xs[0]!;
  checkSameBackend('concat', ...xs);
  const a = normAxis(axis, first.rank, 'concat');
  for (const x of xs) {
    checkSameDType('concat', first, x);
    if (x.rank !== first.rank || x.shape.some((d: number, i: number) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(`concat: shapes ${xs.map((t) => fmtShape(t.shape)).join(', ')} differ outside axis ${a}`);
    }
  }
  if (xs.length === 1) return first;
  const shape = first.shape.slice();
  shape[a] = xs.reduce((s, x) => s + x.shape[a]!, 0);
  const out = wrap(first.backend.zeros(numel(shape), first.dtype), shape, first);
  let at = 0;
  const starts: number[] = [];
  for (const x of xs) {
    starts.push(at);
    if (x.size > 0) first.backend.copy(x, { storage: out.storage, shape: x.shape, strides: out.strides, offset: at * out.strides[a]! });
    at += x.shape[a]!;
  }
  return record(out, 'concat', xs, (g) =>
    xs.map((x, i) => {
      const begin = new Array<number>(x.rank).fill(0);
      begin[a] = starts[i]!;
      return slice(g, begin, x.shape);
    }),
  );
}

/** Join tensors of one shape along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  return opScope(() => {
    if (!Array.isArray(xs) || xs.length === 0) throw new ShapeError('stack: expected a non-empty array of tensors');
    xs.forEach((x, i) => checkTensor(x, 'stack', `tensor ${i}`));
    for (const x of xs) {
      if (!shapesEqual(x.shape, xs[0]!.shape)) throw new ShapeError(`stack: all shapes must be equal, got ${xs.map((t) => fmtShape(t.shape)).join(', ')}`);
    }
    const a = normAxis(axis, xs[0]!.rank + 1, 'stack');
    return concat(xs.map((x) => expandDims(x, a)), a);
  });
}

/** Split into pieces of the given sizes along an axis (views). */
export function split(x: Tensor, sizes: readonly number[], axis = 0): Tensor[] {
  checkTensor(x, 'split');
  expectInts(sizes, 'split', 'sizes');
  const a = normAxis(axis, x.rank, 'split');
  if (sizes.reduce((s, v) => s + v, 0) !== x.shape[a]) {
    throw new ShapeError(`split: sizes ${JSON.stringify(sizes)} do not add up to dim ${a} (${x.shape[a]}) of ${fmtShape(x.shape)}`);
  }
  let at = 0;
  return sizes.map((s) => {
    const begin = new Array<number>(x.rank).fill(0);
    begin[a] = at;
    const size = x.shape.slice();
    size[a] = s;
    at += s;
    return slice(x, begin, size);
  });
}

/** Split into n equal pieces along an axis and drop that axis (the inverse of stack). */
export function unstack(x: Tensor, axis = 0): Tensor[] {
  checkTensor(x, 'unstack');
  const a = normAxis(axis, x.rank, 'unstack');
  return split(x, new Array<number>(x.shape[a]!).fill(1), a).map((t) => squeeze(t, [a]));
}
