// Index arithmetic on the host: merge dims that every operand walks contiguously, so most
// kernels see rank 1 or 2, and check the result fits the kernels' 8-dim parameter blocks.

import { BackendError } from '../../core/errors.js';

export const MAX_RANK = 8;

/** Drop size-1 dims and merge neighbours that are contiguous in every stride list. */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * n)) {
      outShape[last] = outShape[last]! * n;
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!));
      continue;
    }
    outShape.push(n);
    strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
  }
  if (outShape.length > MAX_RANK) {
    throw new BackendError(`webgpu: a view of rank ${outShape.length} after merging contiguous dims exceeds the kernels' limit of ${MAX_RANK}`);
  }
  return { shape: outShape, strides: outStrides };
}

/** Whether every value is a multiple of 4 (offsets and strides that allow vec4 access). */
export function aligned4(...xs: number[]): boolean {
  return xs.every((x) => x % 4 === 0);
}
