#!/usr/bin/env node
// The test command: compile the TypeScript tests, run every test/**/*.test.ts file with
// tape in one process (one WebGPU device for all), and end with
// 'N passed, N failed, N skipped' (assertions; a skipped test or assertion counts once).
// METAGRAD_TEST=pattern runs only files whose path contains the pattern.
// The data sets come from METAGRAD_DATA; when it is unset and the workspace's
// ../shared/data exists, the tests use that.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countTapLine, newTapCounts, tapSummary } from './tap-count.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The WGSL kernels are inlined into TypeScript first (kernels/build.mjs).
const inline = spawnSync(process.execPath, [join(root, 'kernels/build.mjs')], { stdio: 'inherit' });
const tsc = inline.status !== 0 ? inline : spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.test.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

const workspaceData = join(root, '..', 'shared', 'data');
const env = { ...process.env };
if (env.METAGRAD_DATA === undefined && existsSync(workspaceData)) env.METAGRAD_DATA = workspaceData;

function find(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.js') ? [p] : [];
  });
}
const pattern = process.env.METAGRAD_TEST ?? '';
const files = find(join(root, 'build/test')).filter((f) => relative(root, f).includes(pattern)).sort();
if (files.length === 0) {
  console.log(`no test files match '${pattern}'`);
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

const child = spawn(process.execPath, ['--expose-gc', join(root, 'test/tape-all.mjs'), ...files], { stdio: ['ignore', 'pipe', 'inherit'], cwd: root, env });
const counts = newTapCounts();
let buf = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    countTapLine(line, counts);
  }
});
child.on('close', (code, signal) => {
  // A crash or a non-zero exit without a failing assertion still fails the run.
  if ((code !== 0 || signal) && counts.fail === 0) {
    console.log(`# test process exited with ${signal ?? code}`);
    counts.fail++;
  }
  console.log(`\n${tapSummary(counts)}`);
  process.exit(counts.fail > 0 ? 1 : 0);
});
