// Finds and loads the compiled addon (native/build/Release/metagrad_native.node). The
// compiled JS lives in dist/backend/native/ (package) or build/ts/backend/native/ (tests),
// so the package root is found by walking up from this file rather than by a fixed depth.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The functions exported by native/addon.cc (metadata arrays are Float64Array). */
export interface NativeAddon {
  unary(op: number, x: ArrayLike<number>, xm: Float64Array, out: ArrayLike<number>): void;
  binary(op: number, a: ArrayLike<number>, am: Float64Array, b: ArrayLike<number>, bm: Float64Array, out: ArrayLike<number>): void;
  where(c: ArrayLike<number>, cm: Float64Array, a: ArrayLike<number>, am: Float64Array, b: ArrayLike<number>, bm: Float64Array, out: ArrayLike<number>): void;
  cast(x: ArrayLike<number>, xm: Float64Array, out: ArrayLike<number>): void;
  copy(src: ArrayLike<number>, sm: Float64Array, dst: ArrayLike<number>, dm: Float64Array): void;
  fill(out: ArrayLike<number>, value: number): void;
  reduce(op: number, x: ArrayLike<number>, xm: Float64Array, axes: Float64Array, out: ArrayLike<number>): void;
  argReduce(isMax: boolean, x: ArrayLike<number>, xm: Float64Array, axis: number, out: ArrayLike<number>): void;
  softmax(x: ArrayLike<number>, xm: Float64Array, rows: number, cols: number, log: boolean, out: ArrayLike<number>): void;
  matmul(a: ArrayLike<number>, am: Float64Array, b: ArrayLike<number>, bm: Float64Array, dims: Float64Array, out: ArrayLike<number>): void;
  cholesky(a: ArrayLike<number>, am: Float64Array, batch: number, n: number, factor: ArrayLike<number>, info: ArrayLike<number>): void;
  triangularSolve(t: ArrayLike<number>, tm: Float64Array, b: ArrayLike<number>, bm: Float64Array, dims: Float64Array, lower: boolean, out: ArrayLike<number>): void;
  conv2d(x: ArrayLike<number>, w: ArrayLike<number>, g: Float64Array, y: ArrayLike<number>): void;
  conv2dBackwardInput(dy: ArrayLike<number>, w: ArrayLike<number>, g: Float64Array, dx: ArrayLike<number>): void;
  conv2dBackwardFilter(x: ArrayLike<number>, dy: ArrayLike<number>, g: Float64Array, dw: ArrayLike<number>): void;
  maxPool2d(x: ArrayLike<number>, g: Float64Array, values: ArrayLike<number>, indices: ArrayLike<number>): void;
  gather(x: ArrayLike<number>, xm: Float64Array, idx: ArrayLike<number>, im: Float64Array, axis: number, out: ArrayLike<number>): void;
  scatterAdd(u: ArrayLike<number>, um: Float64Array, idx: ArrayLike<number>, im: Float64Array, axis: number, outShape: Float64Array, out: ArrayLike<number>): void;
  random(kind: number, k0: number, k1: number, counter: number, out: ArrayLike<number>): void;
  info(): { isa: string; threads: number };
  setThreads(n: number): void;
  setIsa(isa: string): void;
  shutdown(): void;
  /** Self-check of the thread pool: runs `jobs` tiny parallel_for calls; returns how many tasks did not run exactly once. */
  threadPoolCheck(jobs: number, maxTasks: number): number;
}

const ADDON = join('native', 'build', 'Release', 'metagrad_native.node');

/** Where the addon would be: METAGRAD_NATIVE_ADDON, else the first package root above this file that has it. */
export function addonPath(): string {
  const env = typeof process !== 'undefined' ? process.env['METAGRAD_NATIVE_ADDON'] : undefined;
  if (env) return env;
  let dir = dirname(fileURLToPath(import.meta.url));
  let firstRoot: string | undefined;
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) return candidate;
    if (!firstRoot && existsSync(join(dir, 'package.json'))) firstRoot = candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return firstRoot ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', ADDON);
}

let cached: NativeAddon | undefined;

/** Load the addon (once); throws an Error saying why it is unavailable. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new Error(`the native addon is not built (no ${path}); run 'npm install' or 'node native/build.mjs' (needs a C++17 compiler, python3 and make)`);
  }
  const require = createRequire(import.meta.url);
  let mod: NativeAddon;
  try {
    mod = require(path) as NativeAddon;
  } catch (err) {
    throw new Error(`the native addon at ${path} failed to load: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof mod?.matmul !== 'function' || typeof mod.info !== 'function') {
    throw new Error(`the native addon at ${path} does not export the expected kernels (stale build? rebuild with 'node native/build.mjs')`);
  }
  cached = mod;
  return mod;
}
