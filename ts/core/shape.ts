import { ShapeError, ValueError, fmtShape } from './errors.js';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  if (!Array.isArray(shape)) throw new ShapeError(`numel: shape must be an array, got ${describe(shape)}`);
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function checkShape(shape: unknown, op: string): number[] {
  if (!Array.isArray(shape)) throw new ShapeError(`${op}: shape must be an array of non-negative integers, got ${describe(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${op}: shape ${safeJson(shape)} has ${describe(d)}; expected non-negative integers`);
    }
  }
  return shape.slice();
}

/**
 * The most elements one tensor may hold: 2³¹ − 1, the int32 index range (argmax, gather
 * and the kernels' index arithmetic). Checked before anything is allocated, so a huge shape
 * fails at once with the op, the shape and the byte count instead of a RangeError later.
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

export function checkSize(shape: Shape, bytesPerElement: number, op: string): number {
  const n = numel(shape);
  if (n > MAX_ELEMENTS) {
    throw new ShapeError(`${op}: shape ${fmtShape(shape)} has ${n.toExponential(3)} elements (${fmtBytes(n * bytesPerElement)}); a tensor holds at most 2^31 - 1 elements`);
  }
  return n;
}

export function fmtBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${bytes} bytes, ${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${bytes} bytes, ${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}

/** numpy broadcasting: align trailing dims; each pair must match or one must be 1. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  expectCaller(op, 'broadcastShapes');
  // the common case: all shapes equal
  for (const s of shapes) if (!Array.isArray(s)) throw new ShapeError(`${op}: shapes must be arrays of non-negative integers, got ${describe(s)}`);
  if (shapes.length === 2 && shapesEqual(shapes[0]!, shapes[1]!)) return shapes[0]!.slice();
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      const d = s[i]!;
      if (out[j] === 1) out[j] = d;
      else if (d !== 1 && d !== out[j]) {
        throw new ShapeError(`${op}: shapes ${shapes.map(fmtShape).join(' and ')} cannot be broadcast together (dim ${j - rank}: ${out[j]} vs ${d})`);
      }
    }
  }
  return out;
}

/** Normalize a possibly negative axis against a rank. */
export function normAxis(axis: number, rank: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalize a list of axes (undefined = all) into a sorted, unique list. */
export function normAxes(axes: number | readonly number[] | undefined, rank: number, op: string): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  if (typeof axes !== 'number' && !Array.isArray(axes)) throw new ShapeError(`${op}: axes must be an integer or an array of integers, got ${describe(axes)}`);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normAxis(a, rank, op)))].sort((a, b) => a - b);
  if (out.length !== list.length) throw new ShapeError(`${op}: repeated axis in ${JSON.stringify(list)}`);
  return out;
}

/** A function argument must be a function (else a ValueError naming the op). */
export function expectFunction(f: unknown, op: string, what = 'fn'): void {
  if (typeof f !== 'function') throw new ValueError(`${op}: ${what} must be a function, got ${describe(f)}`);
}

/**
 * A helper's `who` argument (the function to name in its errors: a public op passes its own
 * name to a shared check) must be a non-empty string; else a ValueError naming the helper.
 */
export function expectCaller(who: unknown, self: string, what = 'op'): string {
  if (typeof who !== 'string' || who === '') throw new ValueError(`${self}: ${what} must be the name of the calling function (a non-empty string), got ${describe(who)}`);
  return who;
}

/** An options argument: a plain object, or undefined when the op has defaults for all (else a ValueError). */
export function expectOptions<T extends object>(o: T | undefined, op: string, required = false): T {
  if (o === undefined && !required) return {} as T;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new ValueError(`${op}: options must be an object, got ${describe(o)}`);
  return o;
}

/** A short description of any value for an error message (never throws). */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array [${x.length > 6 ? `${x.slice(0, 6).map(describe).join(', ')}, ...` : x.map(describe).join(', ')}]`;
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x);
  if (typeof x === 'object') return `an object (${(x as object).constructor?.name ?? 'null prototype'})`;
  if (typeof x === 'function') return 'a function';
  if (typeof x === 'bigint') return `${x}n (a bigint)`;
  if (typeof x === 'symbol') return 'a symbol';
  return String(x);
}

function safeJson(x: unknown): string {
  try {
    return JSON.stringify(x) ?? String(x);
  } catch {
    return describe(x);
  }
}
