#!/usr/bin/env node
// `npm install` hook: use the prebuilt native addon for this machine if the package ships one
// that checks out (prebuilds/<platform>-<arch>/, see native/prebuilt.mjs: size, SHA-256, the
// sources it was built from, Node-API version, a load in a child process), else build it from
// source with node-gyp. METAGRAD_BUILD_FROM_SOURCE=1 (or npm's --build-from-source) skips the
// prebuilt. A failed build must not fail the install (metagrad then runs on the js backend
// and says why), so this always exits 0.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPrebuilt, fileRecord, sourcesSha256 } from './prebuilt.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.METAGRAD_SKIP_NATIVE) {
  console.log('metagrad: METAGRAD_SKIP_NATIVE is set; not building the native backend');
  process.exit(0);
}
const fromSource = !!process.env.METAGRAD_BUILD_FROM_SOURCE || process.env.npm_config_build_from_source === 'true';
if (!fromSource) {
  const pre = checkPrebuilt(root);
  if (pre.ok) {
    console.log(`metagrad: using the prebuilt native backend ${relative(root, pre.path)} (${pre.record.bytes} bytes, sha256 ${pre.record.sha256.slice(0, 12)}…); nothing to compile`);
    process.exit(0);
  }
  if (pre.why) console.log(`metagrad: not using the prebuilt ${relative(root, pre.path)}: ${pre.why}; building from source`);
}
// node-gyp: the package if installed, else the copy bundled with npm.
const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  const npmDir = process.env.npm_execpath ? dirname(dirname(process.env.npm_execpath)) : null;
  const bundled = npmDir && join(npmDir, 'node_modules/node-gyp/bin/node-gyp.js');
  const fallback = join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  gyp = bundled && existsSync(bundled) ? bundled : fallback;
}
const jobs = process.env.JOBS ?? '1';
const args = [gyp, 'rebuild', `--jobs=${jobs}`];
// Use the headers installed with this node (no download) unless npm already names a nodedir.
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);
// Build from native/ (native/binding.gyp includes ../binding.gyp) so the output lands in
// native/build/, not in the root build/ that the TypeScript test build owns.
// The addon's size and SHA-256, recorded next to it once the build succeeded: the loader
// (ts/backend/native/addon.ts) checks them before loading, so a truncated or damaged file is
// never mapped into the process (that dies with SIGBUS) without a check in a child first.
const addon = join(root, 'native/build/Release/metagrad_native.node');
const manifest = `${addon}.json`;
rmSync(manifest, { force: true });
const r = spawnSync(process.execPath, args, { cwd: join(root, 'native'), stdio: 'inherit' });
if (r.status === 0 && existsSync(addon)) {
  // sourcesSha256 lets `npm run prebuilds` reuse this build only for the sources it came from.
  const record = { ...fileRecord(addon), sourcesSha256: sourcesSha256(root) };
  writeFileSync(`${manifest}.tmp`, JSON.stringify(record) + '\n');
  renameSync(`${manifest}.tmp`, manifest);
  console.log('metagrad: native backend built (native/build/Release/metagrad_native.node)');
} else {
  console.warn(`metagrad: the native backend could not be built (node-gyp exited with ${r.status ?? r.signal}${r.error ? ': ' + r.error.message : ''}); metagrad will use the js backend`);
}
process.exit(0);
