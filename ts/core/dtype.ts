import { DTypeError } from './errors.js';

export type DType = 'float32' | 'float64' | 'int32' | 'float16';
export type FloatDType = 'float32' | 'float64' | 'float16';

/** Host-side arrays. float16 travels through the host as float32. */
export type TypedArray = Float32Array | Float64Array | Int32Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'float16'];

export function isFloat(d: DType): d is FloatDType {
  return d !== 'int32';
}

export function bytesPerElement(d: DType): number {
  switch (d) {
    case 'float64': return 8;
    case 'float16': return 2;
    default: return 4;
  }
}

/** The host array type used to read and write values of a dtype. */
export function hostArray(d: DType, n: number): TypedArray {
  switch (d) {
    case 'float64': return new Float64Array(n);
    case 'int32': return new Int32Array(n);
    default: return new Float32Array(n);
  }
}

/** A TypedArray of `n` elements at the start of `buffer` (which must hold them). */
export function hostView(d: DType, buffer: ArrayBuffer, n: number): TypedArray {
  switch (d) {
    case 'float64': return new Float64Array(buffer, 0, n);
    case 'int32': return new Int32Array(buffer, 0, n);
    default: return new Float32Array(buffer, 0, n);
  }
}

export function checkDType(d: unknown, op: string): DType {
  if (typeof d === 'string' && (DTYPES as readonly string[]).includes(d)) return d as DType;
  throw new DTypeError(`${op}: unknown dtype ${String(d)}; expected one of ${DTYPES.join(', ')}`);
}
