// Shared by the native backend tests: both backends, random host data, random strided
// views (permuted, stepped, offset, broadcast), and a tolerant comparison.

import test from 'tape';
import * as mg from '../../ts/index.js';
import type { Backend, DType, Storage, TypedArray, View } from '../../ts/index.js';
import type { NativeBackend } from '../../ts/backend/native/native-backend.js';

export const js = mg.getBackend('js');

/** The native backend, or why it is not there (a failure unless METAGRAD_ALLOW_NO_NATIVE=1). */
export function nativeOrWhy(): { native?: NativeBackend; why?: string } {
  try {
    return { native: mg.getBackend('native') as NativeBackend };
  } catch (e) {
    return { why: e instanceof Error ? e.message : String(e) };
  }
}

/** The test that stands in for a suite when the addon did not load: a failure unless allowed. */
export function reportMissingNative(suite: string, why: string | undefined): void {
  test(`${suite}: addon available`, (t) => {
    if (process.env['METAGRAD_ALLOW_NO_NATIVE'] === '1') t.comment(`native unavailable (allowed): ${why}`);
    else t.fail(`the native backend did not load: ${why}`);
    t.end();
  });
}

export class Rand {
  private s: number;
  constructor(seed: number) {
    // mix the seed so that nearby seeds give unrelated streams
    let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    this.s = (h ^ (h >>> 16)) >>> 0 || 1;
    for (let i = 0; i < 4; i++) this.next();
  }
  next(): number {
    // xorshift32: deterministic and independent of the library's own RNG
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
}

export function hostValues(r: Rand, n: number, dtype: DType, kind: 'normal' | 'positive' | 'int' = 'normal'): TypedArray {
  const a = dtype === 'float64' ? new Float64Array(n) : dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'int32' || kind === 'int') a[i] = r.int(-9, 9);
    else if (kind === 'positive') a[i] = 0.25 + 2 * r.next();
    else a[i] = r.normal() * 2;
  }
  return a;
}

/** The same values uploaded to both backends. */
export function pair(data: TypedArray, dtype: DType, native: Backend): [Storage, Storage] {
  return [js.upload(data, dtype), native.upload(data, dtype)];
}

export interface ViewSpec {
  shape: number[];
  strides: number[];
  offset: number;
  size: number;
}

/** A random strided layout for `shape`: permuted dims, gaps, an offset, sometimes broadcast. */
export function randomLayout(r: Rand, shape: number[], opts: { broadcast?: boolean } = {}): ViewSpec {
  const rank = shape.length;
  const order = shape.map((_, i) => i);
  for (let i = rank - 1; i > 0; i--) {
    const j = r.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  if (r.next() < 0.3) order.sort((a, b) => a - b); // often plain row-major
  const strides = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let k = rank - 1; k >= 0; k--) {
    const d = order[k]!;
    const step = r.next() < 0.25 ? 2 : 1;
    strides[d] = acc * step;
    acc *= shape[d]! * step;
  }
  if (opts.broadcast) for (let d = 0; d < rank; d++) if (r.next() < 0.25) strides[d] = 0;
  const offset = r.int(0, 3);
  let max = offset;
  for (let d = 0; d < rank; d++) max += Math.max(0, shape[d]! - 1) * strides[d]!;
  return { shape, strides, offset, size: max + 1 + r.int(0, 2) };
}

export function view(storage: Storage, spec: ViewSpec): View {
  return { storage, shape: spec.shape, strides: spec.strides, offset: spec.offset };
}

export function randomShape(r: Rand, maxRank = 4, maxDim = 6): number[] {
  const rank = r.int(0, maxRank);
  return Array.from({ length: rank }, () => r.int(1, maxDim));
}

/** Compare two host arrays: exact for int32, else relative+absolute tolerance; NaN equals NaN. */
export function close(a: TypedArray, b: TypedArray, dtype: DType, rtol?: number, atol?: number): string | null {
  if (a.length !== b.length) return `lengths differ: ${a.length} vs ${b.length}`;
  const rt = rtol ?? (dtype === 'float64' ? 1e-12 : 2e-6);
  const at = atol ?? (dtype === 'float64' ? 1e-12 : 1e-6);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    if (dtype === 'int32' || !(Math.abs(x - y) <= at + rt * Math.abs(y))) return `element ${i}: ${x} vs ${y}`;
  }
  return null;
}

export function read(b: Backend, s: Storage): TypedArray {
  return b.readSync!(s);
}
