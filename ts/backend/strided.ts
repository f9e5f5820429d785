// Host-side helpers for walking strided views, shared by the js backend and any backend
// that falls back to the host (for example native for dtypes its kernels do not cover).

import type { View } from './kernels.js';

/** Element offsets of a view in row-major order of its shape. */
export function viewOffsets(v: Pick<View, 'shape' | 'strides' | 'offset'>): Int32Array | null {
  const { shape, strides, offset } = v;
  const rank = shape.length;
  let n = 1;
  for (const d of shape) n *= d;
  // Contiguous views need no table.
  let acc = 1, contiguous = true;
  for (let i = rank - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== acc) { contiguous = false; break; }
    acc *= shape[i]!;
  }
  if (contiguous && offset === 0) return null;
  const out = new Int32Array(n);
  if (n === 0) return out;
  const idx = new Array<number>(rank).fill(0);
  let off = offset;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      off -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** Permute a view's dims (no copy). */
export function permuteView<V extends Pick<View, 'shape' | 'strides' | 'offset'>>(v: V, perm: readonly number[]): Pick<View, 'shape' | 'strides' | 'offset'> {
  return { shape: perm.map((p) => v.shape[p]!), strides: perm.map((p) => v.strides[p]!), offset: v.offset };
}

/** Dims kept by a reduction followed by the reduced ones, and the two element counts. */
export function reductionLayout(shape: readonly number[], axes: readonly number[]): { perm: number[]; outer: number; inner: number } {
  const kept: number[] = [];
  for (let i = 0; i < shape.length; i++) if (!axes.includes(i)) kept.push(i);
  let outer = 1, inner = 1;
  for (const k of kept) outer *= shape[k]!;
  for (const a of axes) inner *= shape[a]!;
  return { perm: [...kept, ...axes], outer, inner };
}
