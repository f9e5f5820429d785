import { ShapeError, fmtShape } from './errors.js';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
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
  if (!Array.isArray(shape)) throw new ShapeError(`${op}: shape must be an array of non-negative integers, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${op}: shape ${JSON.stringify(shape)} has ${String(d)}; expected non-negative integers`);
    }
  }
  return shape.slice();
}

/** numpy broadcasting: align trailing dims; each pair must match or one must be 1. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  // the common case: all shapes equal
  if (shapes.length === 2 && shapesEqual(shapes[0]!, shapes[1]!)) return shapes[0]!.slice();
  const rank = Math.max(...shapes.map((s) => s.length));
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
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normAxis(a, rank, op)))].sort((a, b) => a - b);
  if (out.length !== list.length) throw new ShapeError(`${op}: repeated axis in ${JSON.stringify(list)}`);
  return out;
}
