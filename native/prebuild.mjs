#!/usr/bin/env node
// `npm run prebuilds` (and `prepack`, with --if-possible): put this machine's native addon into
// prebuilds/<platform>-<arch>[-musl]/metagrad_native.node with its record (size, SHA-256, the
// SHA-256 of the C++ sources, the Node-API version), so the packed package installs here and on
// machines like it with no compiler. The addon in native/build/ is reused when its build record
// says it was compiled from the current sources; otherwise it is rebuilt first. The copy is
// stripped of symbols (strip --strip-unneeded where `strip` exists) and must load in a child
// process before it is put in place. With --if-possible a failure is a warning and exit 0 (the
// package then ships without a prebuilt and installs by compiling, as before).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDON_FILE, NAPI_VERSION, fileRecord, linuxLibc, prebuildKey, probeLoad, sourcesSha256 } from './prebuilt.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const soft = process.argv.includes('--if-possible');
const fail = (why) => {
  console.error(`metagrad prebuild: ${why}${soft ? '; packing without a prebuilt native addon (installs will compile it)' : ''}`);
  process.exit(soft ? 0 : 1);
};
if (process.env.METAGRAD_SKIP_NATIVE) fail('METAGRAD_SKIP_NATIVE is set');

const sources = sourcesSha256(root);
const built = join(root, 'native/build/Release', ADDON_FILE);
const fresh = () => {
  try {
    const rec = JSON.parse(readFileSync(`${built}.json`, 'utf8'));
    const now = fileRecord(built);
    return rec.sourcesSha256 === sources && rec.bytes === now.bytes && rec.sha256 === now.sha256;
  } catch {
    return false;
  }
};
if (!fresh()) {
  console.log('metagrad prebuild: native/build/ is missing or was not built from the current sources; building it');
  const r = spawnSync(process.execPath, [join(root, 'native/build.mjs')], { stdio: 'inherit', env: { ...process.env, METAGRAD_BUILD_FROM_SOURCE: '1' } });
  if (r.status !== 0 || !fresh()) fail('building the native addon from source failed');
}

const key = prebuildKey();
const dir = join(root, 'prebuilds', key);
mkdirSync(dir, { recursive: true });
const tmp = join(dir, `tmp-${process.pid}-${ADDON_FILE}`); // ends in .node: require() goes by the extension
copyFileSync(built, tmp);
let stripped = false;
if (process.platform !== 'win32') {
  const s = spawnSync('strip', process.platform === 'darwin' ? ['-x', tmp] : ['--strip-unneeded', tmp], { stdio: 'ignore' });
  stripped = s.status === 0;
  if (stripped && probeLoad(tmp)) {
    copyFileSync(built, tmp); // stripping broke it: ship the unstripped build
    stripped = false;
  }
}
const failed = probeLoad(tmp);
if (failed) {
  rmSync(tmp, { force: true });
  fail(`the copy of ${relative(root, built)} does not load: ${failed}`);
}
const file = join(dir, ADDON_FILE);
for (const f of readdirSync(dir)) if (join(dir, f) !== tmp) rmSync(join(dir, f), { force: true });
const record = {
  ...fileRecord(tmp),
  sourcesSha256: sources,
  napi: NAPI_VERSION,
  platform: process.platform,
  arch: process.arch,
  libc: linuxLibc(),
  builtWith: { node: process.version, glibc: process.report?.getReport?.().header?.glibcVersionRuntime ?? null, stripped },
};
renameSync(tmp, file);
writeFileSync(`${file}.json`, JSON.stringify(record, null, 2) + '\n');
console.log(`metagrad prebuild: ${relative(root, file)} (${record.bytes} bytes${stripped ? ', stripped' : ''}, sha256 ${record.sha256.slice(0, 12)}…, sources ${sources.slice(0, 12)}…)`);
if (!existsSync(`${file}.json`)) fail('the record was not written');
