// Shared by the webgpu tests: start the backend or explain why not (a failing assertion
// under METAGRAD_REQUIRE_WEBGPU=1, as CI sets: CI must fail, never skip), seeded data,
// and an element-wise comparison that reports the worst element in one assertion.

import type { Test } from 'tape';
import * as mg from '../../ts/index.js';

export async function webgpuOrSkip(t: Test): Promise<mg.Backend | null> {
  try {
    return await mg.initBackend('webgpu');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    if (process.env['METAGRAD_REQUIRE_WEBGPU'] === '1') t.fail(`METAGRAD_REQUIRE_WEBGPU=1 but the webgpu backend is unavailable: ${why}`);
    else t.skip(`webgpu backend unavailable, skipping (set METAGRAD_REQUIRE_WEBGPU=1 to make this fail): ${why}`);
    return null;
  }
}

/** Deterministic pseudo-random numbers (mulberry32) for test data. */
export function rand(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rand(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

export function randint(n: number, lo: number, hi: number, seed: number): Int32Array {
  const r = rand(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + Math.floor(r() * (hi - lo));
  return out;
}

/** One assertion: |got - want| <= atol + rtol |want| everywhere (NaNs must match NaNs). */
export function close(t: Test, got: ArrayLike<number>, want: ArrayLike<number>, msg: string, rtol = 1e-5, atol = 1e-6): void {
  if (got.length !== want.length) {
    t.fail(`${msg}: length ${got.length} vs ${want.length}`);
    return;
  }
  let worst = -1, worstErr = 0, bad = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) { bad++; if (worst < 0) { worst = i; worstErr = Infinity; } }
      continue;
    }
    if (g === w) continue;
    const err = Math.abs(g - w) - (atol + rtol * Math.abs(w));
    if (!(err <= 0)) {
      bad++;
      if (err > worstErr || worst < 0) { worst = i; worstErr = err; }
    }
  }
  if (bad === 0) t.pass(`${msg} (${got.length} values)`);
  else t.fail(`${msg}: ${bad} of ${got.length} differ; worst at ${worst}: got ${got[worst]} want ${want[worst]}`);
}

/** A view over a storage (contiguous unless strides/offset are given). */
export function view(storage: mg.Storage, shape: readonly number[], strides?: readonly number[], offset = 0): mg.View {
  const s = strides ?? contiguous(shape);
  return { storage, shape, strides: s, offset };
}

export function contiguous(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]!; }
  return s;
}
