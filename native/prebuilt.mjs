// Shared by the install script (native/build.mjs) and `npm run prebuilds` (native/prebuild.mjs):
// where a prebuilt addon for this machine lives, what its record says, and whether it may be
// used. A prebuilt is prebuilds/<platform>-<arch>[-musl]/metagrad_native.node with a record
// next to it (metagrad_native.node.json): its size and SHA-256, the SHA-256 of the C++ sources
// it was compiled from, and the Node-API version it needs. It is used only if all of these
// match and it loads in a child process (a damaged shared object can kill the process that
// maps it, so the first load is never in the installer itself). ts/backend/native/addon.ts
// repeats the same checks (minus the child) when it loads the addon.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ADDON_FILE = 'metagrad_native.node';
/** binding.gyp defines NAPI_VERSION=8 */
export const NAPI_VERSION = 8;

/** glibc or musl on Linux (a binary built against one does not load on the other); null elsewhere. */
export function linuxLibc() {
  if (process.platform !== 'linux') return null;
  const header = process.report?.getReport?.().header;
  return header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** The folder name under prebuilds/ for this machine: linux-x64, linux-x64-musl, darwin-arm64, win32-x64, ... */
export function prebuildKey() {
  return `${process.platform}-${process.arch}${linuxLibc() === 'musl' ? '-musl' : ''}`;
}

/** SHA-256 over the C++ sources and build files a binary is compiled from (names and contents, sorted by name). */
export function sourcesSha256(root) {
  const native = join(root, 'native');
  const files = readdirSync(native).filter((f) => /\.(cc|h)$/.test(f)).sort().map((f) => join('native', f));
  files.push('binding.gyp', join('native', 'binding.gyp'));
  const h = createHash('sha256');
  for (const f of files) {
    h.update(`${f.replace(/\\/g, '/')}\0`);
    h.update(readFileSync(join(root, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

/** { bytes, sha256 } of a file. */
export function fileRecord(path) {
  const bytes = readFileSync(path);
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Load the addon in a child process and call its info(); null if that worked, else why not. */
export function probeLoad(path) {
  const code = `const m = require(${JSON.stringify(path)}); if (typeof m.matmul !== 'function') throw new Error('no matmul export'); m.info(); m.shutdown();`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, METAGRAD_THREADS: '1' } });
  if (r.status === 0) return null;
  if (r.error) return r.error.message;
  if (r.signal) return `loading it in a child process was killed by ${r.signal}`;
  return `loading it in a child process failed: ${(r.stderr.split('\n').find((l) => /Error/.test(l)) ?? r.stderr).trim().slice(0, 300)}`;
}

/**
 * Whether the prebuilt for this machine may be used: { ok: true, path, record } or
 * { ok: false, path, why } (`why` null when there is simply no prebuilt for this machine).
 */
export function checkPrebuilt(root, { probe = true } = {}) {
  const path = join(root, 'prebuilds', prebuildKey(), ADDON_FILE);
  if (!existsSync(path)) return { ok: false, path, why: null };
  let record;
  try {
    record = JSON.parse(readFileSync(`${path}.json`, 'utf8'));
  } catch {
    return { ok: false, path, why: 'it has no readable record (metagrad_native.node.json)' };
  }
  const size = statSync(path).size;
  if (record.bytes !== size) return { ok: false, path, why: `it is ${size} bytes where its record says ${record.bytes}` };
  if (record.sha256 !== fileRecord(path).sha256) return { ok: false, path, why: 'its SHA-256 differs from its record' };
  if (record.sourcesSha256 !== sourcesSha256(root)) return { ok: false, path, why: 'it was compiled from other C++ sources than the ones in this package' };
  const napi = Number(process.versions.napi ?? 0);
  if (!(napi >= record.napi)) return { ok: false, path, why: `it needs Node-API ${record.napi}; this Node has ${process.versions.napi}` };
  if (probe) {
    const failed = probeLoad(path);
    if (failed) return { ok: false, path, why: failed };
  }
  return { ok: true, path, record };
}
