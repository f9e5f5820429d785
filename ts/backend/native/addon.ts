// Finds, checks and loads the compiled addon: native/build/Release/metagrad_native.node when
// it was compiled here (npm install without a usable prebuilt, or node native/build.mjs), else
// the package's prebuilt for this machine, prebuilds/<platform>-<arch>[-musl]/ (see
// native/prebuilt.mjs; the install script has already loaded it once in a child process).
// A prebuilt is used only if its record matches it: size, SHA-256, the C++ sources shipped
// beside it, the Node-API version. The compiled JS lives in dist/backend/native/ (package) or build/ts/backend/native/
// (tests), so the package root is found by walking up from this file, not by a fixed depth.
// A damaged shared object (a truncated copy, an interrupted build) is not safe to dlopen:
// the loader maps it and the process dies with SIGBUS, beyond any try/catch. So the file is
// checked first against the size and SHA-256 native/build.mjs recorded next to it; if that
// record is missing or does not match, the addon is loaded once in a child process, where
// a crash costs nothing, and only loaded here if that worked.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BINARY_OPS, RANDOM_KINDS, REDUCE_OPS, UNARY_OPS } from '../kernels.js';

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
  conv2d(x: ArrayLike<number>, w: ArrayLike<number>, g: Float64Array, y: ArrayLike<number>, bias?: ArrayLike<number> | null): void;
  conv2dBackwardInput(dy: ArrayLike<number>, w: ArrayLike<number>, g: Float64Array, dx: ArrayLike<number>): void;
  conv2dBackwardFilter(x: ArrayLike<number>, dy: ArrayLike<number>, g: Float64Array, dw: ArrayLike<number>, db?: ArrayLike<number> | null): void;
  /** Which of conv2d, its input gradient and its filter gradient take the direct (unfolding-free) float32 kernels for this geometry here, and which of them take Winograd before those. */
  convDirectPaths(g: Float64Array): { forward: boolean; input: boolean; filter: boolean; winogradForward: boolean; winogradInput: boolean; winogradFilter: boolean };
  /** Winograd F(2×2, 3×3) on or off for this process (on unless METAGRAD_CONV_WINOGRAD=0): the tests check the direct kernels beneath it too. */
  setConvWinograd(on: boolean): void;
  /** The GEMM's cache blocks KC, MC, NC for this process (≤ 0 keeps one): the tests run several k passes and row blocks on small products. */
  gemmTune(kc: number, mc: number, nc: number): void;
  maxPool2d(x: ArrayLike<number>, g: Float64Array, values: ArrayLike<number>, indices: ArrayLike<number>): void;
  maxPool2dBackward(dy: ArrayLike<number>, indices: ArrayLike<number>, g: Float64Array, dx: ArrayLike<number>): void;
  batchNorm(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, dims: Float64Array, eps: number, y: ArrayLike<number>, xhat: ArrayLike<number>, mean: ArrayLike<number>, variance: ArrayLike<number>, rstd: ArrayLike<number>): void;
  batchNormBackward(g: ArrayLike<number>, xhat: ArrayLike<number>, w: ArrayLike<number>, dims: Float64Array, out: ArrayLike<number>): void;
  batchNormReluMaxPool(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, dims: Float64Array, eps: number, h: number, w: number, xhat: ArrayLike<number>, pooled: ArrayLike<number>, indices: ArrayLike<number>, mean: ArrayLike<number>, variance: ArrayLike<number>, rstd: ArrayLike<number>): void;
  batchNormReluMaxPoolBackward(gp: ArrayLike<number>, pooled: ArrayLike<number>, indices: ArrayLike<number>, xhat: ArrayLike<number>, w: ArrayLike<number>, dims: Float64Array, h: number, wd: number, dx: ArrayLike<number>, sumG: ArrayLike<number>, sumGX: ArrayLike<number>): void;
  batchNormBackwardSums(g: ArrayLike<number>, xhat: ArrayLike<number>, w: ArrayLike<number>, dims: Float64Array, out: ArrayLike<number>, sumG: ArrayLike<number>, sumGX: ArrayLike<number>): void;
  channelAffine(x: ArrayLike<number>, scale: ArrayLike<number>, shift: ArrayLike<number> | null, dims: Float64Array, out: ArrayLike<number>): void;
  channelDot(a: ArrayLike<number>, b: ArrayLike<number>, dims: Float64Array, out: ArrayLike<number>): void;
  gather(x: ArrayLike<number>, xm: Float64Array, idx: ArrayLike<number>, im: Float64Array, axis: number, out: ArrayLike<number>): void;
  scatterAdd(u: ArrayLike<number>, um: Float64Array, idx: ArrayLike<number>, im: Float64Array, axis: number, outShape: Float64Array, out: ArrayLike<number>): void;
  random(kind: number, k0: number, k1: number, counter: number, out: ArrayLike<number>): void;
  /** The op and random-kind names in op-code order (the X-macros of native/elementwise.h, reduce.h, philox.h). */
  opNames(): { unary: string[]; binary: string[]; reduce: string[]; random: string[] };
  info(): { isa: string; threads: number };
  setThreads(n: number): void;
  setIsa(isa: string): void;
  shutdown(): void;
  /** Self-check of the thread pool: runs `jobs` tiny parallel_for calls; returns how many tasks did not run exactly once. */
  threadPoolCheck(jobs: number, maxTasks: number): number;
}

const ADDON_FILE = 'metagrad_native.node';
const ADDON = join('native', 'build', 'Release', ADDON_FILE);
/** The Node-API version binding.gyp builds for (NAPI_VERSION). */
const NAPI_VERSION = 8;

/** prebuilds/<this key>/ holds the prebuilt for this machine (native/prebuilt.mjs names it the same way). */
export function prebuildKey(): string {
  let musl = false;
  if (process.platform === 'linux') {
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
    musl = !header?.glibcVersionRuntime;
  }
  return `${process.platform}-${process.arch}${musl ? '-musl' : ''}`;
}

/**
 * Where the addon would be: METAGRAD_NATIVE_ADDON, else in the first package root above this
 * file that has one, its own build (native/build/Release/) before its prebuilt for this machine.
 */
export function addonPath(): string {
  const env = typeof process !== 'undefined' ? process.env['METAGRAD_NATIVE_ADDON'] : undefined;
  if (env) return env;
  let dir = dirname(fileURLToPath(import.meta.url));
  let firstRoot: string | undefined;
  let key: string | undefined;
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) return candidate;
    if (existsSync(join(dir, 'prebuilds'))) {
      const prebuilt = join(dir, 'prebuilds', (key ??= prebuildKey()), ADDON_FILE);
      if (existsSync(prebuilt)) return prebuilt;
    }
    if (!firstRoot && existsSync(join(dir, 'package.json'))) firstRoot = candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return firstRoot ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', ADDON);
}

/** A path inside some package's prebuilds/<key>/ folder. */
function isPrebuilt(path: string): boolean {
  return /[\\/]prebuilds[\\/][^\\/]+[\\/]metagrad_native\.node$/.test(path);
}

/** SHA-256 over the C++ sources and build files (as native/prebuilt.mjs computes it), or null if they are not there. */
export function sourcesSha256(root: string): string | null {
  const native = join(root, 'native');
  try {
    const files = readdirSync(native).filter((f) => /\.(cc|h)$/.test(f)).sort().map((f) => `native/${f}`);
    files.push('binding.gyp', 'native/binding.gyp');
    const h = createHash('sha256');
    for (const f of files) {
      h.update(`${f}\0`);
      h.update(readFileSync(join(root, f)));
      h.update('\0');
    }
    return h.digest('hex');
  } catch {
    return null;
  }
}

/** Why a prebuilt's record does not vouch for it (size, hash, sources, Node-API), or null when it does. */
function prebuiltMismatch(path: string, bytes: number): string | null {
  let m: { bytes?: unknown; sha256?: unknown; sourcesSha256?: unknown; napi?: unknown };
  try {
    m = JSON.parse(readFileSync(manifestPath(path), 'utf8')) as typeof m;
  } catch {
    return 'it has no readable record (metagrad_native.node.json)';
  }
  if (m.bytes !== bytes) return `it is ${bytes} bytes where its record says ${String(m.bytes)}`;
  if (m.sha256 !== sha256File(path)) return 'its SHA-256 differs from its record';
  const sources = sourcesSha256(dirname(dirname(dirname(path))));
  if (sources !== null && m.sourcesSha256 !== sources) return 'it was compiled from other C++ sources than the ones in this package';
  const napi = Number(process.versions.napi ?? 0);
  if (!(napi >= Number(m.napi ?? NAPI_VERSION))) return `it needs Node-API ${String(m.napi)}; this Node has ${process.versions.napi}`;
  return null;
}

/** The build's record of the addon: `<addon>.json` = { bytes, sha256 } (written by native/build.mjs). */
export function manifestPath(addon: string): string {
  return `${addon}.json`;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Why the recorded size and hash do not vouch for the file, or null when they match. */
function manifestMismatch(path: string, bytes: number): string | null {
  let m: { bytes?: unknown; sha256?: unknown };
  try {
    m = JSON.parse(readFileSync(manifestPath(path), 'utf8')) as typeof m;
  } catch {
    return 'no readable build record of its size and hash';
  }
  if (m.bytes !== bytes) return `${bytes} bytes where the build recorded ${String(m.bytes)}`;
  if (m.sha256 !== sha256File(path)) return 'its SHA-256 differs from the one the build recorded';
  return null;
}

/** Load the addon in a child process; throws if that fails or crashes. */
function probeLoad(path: string, why: string): void {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path)})`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, METAGRAD_THREADS: '1' },
  });
  if (r.status === 0) return;
  const how = r.error ? r.error.message
    : r.signal ? `was killed by ${r.signal}`
    : `failed: ${(r.stderr.split('\n').find((l) => /Error/.test(l)) ?? r.stderr).trim().slice(0, 300)}`;
  throw new Error(`the native addon at ${path} failed to load: loading it in a separate process ${how} (${why}; the file is probably truncated or damaged); rebuild with 'node native/build.mjs'`);
}

/**
 * The addon's op codes are positions in the op lists of ts/backend/kernels.ts; the addon
 * reports its own lists (opNames), and an addon whose lists differ is refused, naming the
 * first difference, rather than running one op in place of another.
 */
export function checkOpNames(mod: Pick<NativeAddon, 'opNames'>, path: string): void {
  if (typeof mod.opNames !== 'function') {
    throw new Error(`the native addon at ${path} does not report its op lists (opNames): a build older than this package; rebuild with 'node native/build.mjs'`);
  }
  const native = mod.opNames();
  const lists = { unary: UNARY_OPS, binary: BINARY_OPS, reduce: REDUCE_OPS, random: RANDOM_KINDS } as const;
  for (const [kind, want] of Object.entries(lists) as [keyof typeof lists, readonly string[]][]) {
    const got = native[kind];
    if (Array.isArray(got) && got.length === want.length && got.every((n, i) => n === want[i])) continue;
    const i = Array.isArray(got) ? want.findIndex((n, k) => got[k] !== n) : 0;
    const at = i >= 0 ? i : want.length;
    throw new Error(
      `the native addon at ${path} numbers its ${kind} ops differently from ts/backend/kernels.ts: ` +
      `at code ${at} the addon has '${Array.isArray(got) ? String(got[at] ?? '(none)') : '(no list)'}', TypeScript has '${want[at] ?? '(none)'}' ` +
      `(addon: [${Array.isArray(got) ? got.join(', ') : String(got)}]; TypeScript: [${want.join(', ')}]); ` +
      `change both lists together (native/*.h X-macros and the const arrays in kernels.ts) and rebuild with 'node native/build.mjs'`,
    );
  }
}

let cached: NativeAddon | undefined;

/** Load the addon (once); throws an Error saying why it is unavailable. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new Error(`the native addon is not built (no ${path}); run 'npm install' or 'node native/build.mjs' (needs a C++17 compiler, python3 and make)`);
  }
  if (isPrebuilt(path)) {
    const bad = prebuiltMismatch(path, statSync(path).size);
    if (bad) {
      throw new Error(`the prebuilt native addon at ${path} is not used: ${bad}; reinstall metagrad, or compile it from source with 'METAGRAD_BUILD_FROM_SOURCE=1 node native/build.mjs' in the package folder (needs a C++17 compiler, python3 and make)`);
    }
  } else {
    const mismatch = manifestMismatch(path, statSync(path).size);
    if (mismatch) probeLoad(path, mismatch);
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
  checkOpNames(mod, path);
  cached = mod;
  return mod;
}
