// How the native backend is chosen, loaded and released: native is the default when the
// addon loads; a missing addon means js plus one clear warning and a recorded reason;
// METAGRAD_BACKEND=js forces js; a process that used the thread pool exits by itself; a
// truncated addon (with or without its build record) falls back to js instead of SIGBUS; a
// prebuilt is loaded only when its record matches it (the install path: test/package/).
// Also the storage pool: double frees are harmless, failed kernels leak nothing.

import test from 'tape';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as mg from '../../ts/index.js';
import { addonPath, checkOpNames, loadAddon, manifestPath, prebuildKey, sha256File, sourcesSha256 } from '../../ts/backend/native/addon.js';
import { BINARY_OPS, RANDOM_KINDS, REDUCE_OPS, UNARY_OPS } from '../../ts/backend/kernels.js';
import { nativeOrWhy, reportMissingNative } from './native-helpers.js';

const index = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ts', 'index.js')).href;
const dir = mkdtempSync(join(tmpdir(), 'metagrad-native-'));

function runChild(body: string, env: Record<string, string | undefined>): { status: number | null; signal: string | null; stdout: string; stderr: string; ms: number } {
  const file = join(dir, `child-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, `import * as mg from ${JSON.stringify(index)};\n${body}\n`);
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) childEnv[k] = v;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env: childEnv, timeout: 60000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

const { native, why } = nativeOrWhy();

test('native loader: a missing addon falls back to js, warns once, and records why', (t) => {
  const r = runChild(
    `const a = mg.tensor([1, 2, 3]); const b = mg.exp(a);
     console.log(JSON.stringify({ backend: mg.currentBackend().name, failure: mg.backendFailure('native'), available: mg.backendAvailable('native'), v: Array.from(b.dataSync()) }));`,
    { METAGRAD_NATIVE_ADDON: join(dir, 'missing.node'), METAGRAD_BACKEND: undefined, METAGRAD_QUIET: undefined },
  );
  t.equal(r.status, 0, 'the process succeeds on js');
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  t.equal(out.backend, 'js', 'js is the default');
  t.equal(out.available, false);
  t.ok(/native addon is not built/.test(out.failure), `backendFailure('native') says why: ${out.failure}`);
  const warnings = r.stderr.split('\n').filter((l) => l.includes('native backend unavailable'));
  t.equal(warnings.length, 1, `exactly one warning: ${warnings[0]}`);
  t.end();
});

test('native loader: an addon that fails to load (corrupt file) falls back to js with the loader reason', (t) => {
  const bad = join(dir, 'corrupt.node');
  writeFileSync(bad, 'not a shared object');
  const r = runChild(`console.log(mg.currentBackend().name); console.log(mg.backendFailure('native'));`, { METAGRAD_NATIVE_ADDON: bad, METAGRAD_BACKEND: undefined, METAGRAD_QUIET: undefined });
  t.equal(r.status, 0);
  const [name, failure] = r.stdout.trim().split('\n');
  t.equal(name, 'js');
  t.ok(/failed to load/.test(failure ?? ''), `reason: ${failure}`);
  t.equal(r.stderr.split('\n').filter((l) => l.includes('native backend unavailable')).length, 1, 'one warning');
  t.end();
});

test('native loader: METAGRAD_BACKEND=js forces js without a warning', (t) => {
  const r = runChild(`console.log(mg.currentBackend().name);`, { METAGRAD_BACKEND: 'js' });
  t.equal(r.status, 0);
  t.equal(r.stdout.trim(), 'js');
  t.notOk(r.stderr.includes('native backend unavailable'), 'no warning');
  t.end();
});

if (!native) {
  reportMissingNative('native loader', why);
} else {
  test('native loader: native is the default when it loads, and a process using its threads exits by itself', (t) => {
    const r = runChild(
      `const a = mg.tensor(Float32Array.from({ length: 512 * 512 }, (_, i) => (i % 7) - 3), [512, 512]);
       const y = mg.sum(mg.matmul(a, a));
       console.log(mg.currentBackend().name, JSON.stringify(mg.getBackend('native').info()), y.itemSync());`,
      { METAGRAD_BACKEND: undefined, METAGRAD_THREADS: '4' },
    );
    t.equal(r.status, 0, `exit status 0 (${r.stderr.trim().slice(0, 200)})`);
    t.ok(r.stdout.startsWith('native '), `default backend: ${r.stdout.trim()}`);
    t.ok(r.stdout.includes('"threads":4'), 'METAGRAD_THREADS sizes the pool');
    t.ok(r.ms < 30000, `exited on its own after ${r.ms} ms (worker threads joined)`);
    t.end();
  });

  // Issue 14 item 20: a truncated addon used to kill the process with SIGBUS at import.
  const real = addonPath();
  const record = (file: string, bytes: number, sha256: string) => writeFileSync(manifestPath(file), JSON.stringify({ bytes, sha256 }));
  const truncated = (name: string) => {
    const file = join(dir, name);
    writeFileSync(file, readFileSync(real).subarray(0, Math.floor(statSync(real).size / 2)));
    return file;
  };
  const probeBody = `const y = mg.exp(mg.tensor([0, 1])); console.log(JSON.stringify({ backend: mg.currentBackend().name, failure: mg.backendFailure('native') ?? null, y: Array.from(y.dataSync()) }));`;
  const loadIn = (addon: string) => runChild(probeBody, { METAGRAD_NATIVE_ADDON: addon, METAGRAD_BACKEND: undefined, METAGRAD_QUIET: undefined });
  const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop() || '{}') as { backend?: string; failure?: string | null; y?: number[] };

  test('native loader: a truncated addon with the build record of the intact one falls back to js (no SIGBUS)', (t) => {
    const file = truncated('truncated-recorded.node');
    record(file, statSync(real).size, sha256File(real));
    const r = loadIn(file);
    t.equal(r.signal, null, `the process was not killed by a signal (${r.signal})`);
    t.equal(r.status, 0, 'it succeeds on js');
    const out = lastJson(r.stdout);
    t.equal(out.backend, 'js');
    t.ok(/truncated or damaged/.test(out.failure ?? '') && /bytes where the build recorded/.test(out.failure ?? ''), `the reason names the size mismatch: ${out.failure}`);
    t.equal(r.stderr.split('\n').filter((l) => l.includes('native backend unavailable')).length, 1, 'one warning');
    t.deepEqual(out.y?.map((v) => +v.toFixed(5)), [1, 2.71828], 'and computes on js');
    t.end();
  });

  test('native loader: a truncated addon without a build record is probed in a child process and falls back to js', (t) => {
    const r = loadIn(truncated('truncated-bare.node'));
    t.equal(r.signal, null, `the process was not killed by a signal (${r.signal})`);
    t.equal(r.status, 0);
    const out = lastJson(r.stdout);
    t.equal(out.backend, 'js');
    t.ok(/failed to load: loading it in a separate process/.test(out.failure ?? ''), `reason: ${out.failure}`);
    t.end();
  });

  test('native loader: an intact addon loads whether its build record matches, is stale or is missing', (t) => {
    for (const [name, rec] of [['recorded', true], ['stale', false], ['bare', null]] as const) {
      const file = join(dir, `intact-${name}.node`);
      copyFileSync(real, file);
      if (rec === true) record(file, statSync(real).size, sha256File(real));
      else if (rec === false) record(file, statSync(real).size, '0'.repeat(64));
      const r = loadIn(file);
      t.equal(r.status, 0, `${name}: exit status 0`);
      t.equal(lastJson(r.stdout).backend, 'native', `${name}: native loads`);
    }
    t.end();
  });

  // A prebuilt (prebuilds/<platform>-<arch>/ in a package root) is used only if its record
  // vouches for it: size, SHA-256, the C++ sources beside it, the Node-API version.
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const fakePackage = (name: string, edit: (rec: Record<string, unknown>) => void, sources: 'same' | 'changed' | 'none' = 'same') => {
    const root = join(dir, `pkg-${name}`);
    const file = join(root, 'prebuilds', prebuildKey(), 'metagrad_native.node');
    mkdirSync(dirname(file), { recursive: true });
    copyFileSync(real, file);
    if (sources !== 'none') {
      mkdirSync(join(root, 'native'));
      for (const f of readdirSync(join(repo, 'native')).filter((f) => /\.(cc|h)$/.test(f)).concat('binding.gyp')) copyFileSync(join(repo, 'native', f), join(root, 'native', f));
      copyFileSync(join(repo, 'binding.gyp'), join(root, 'binding.gyp'));
      if (sources === 'changed') writeFileSync(join(root, 'native', 'gemm.cc'), readFileSync(join(repo, 'native', 'gemm.cc'), 'utf8') + '\n// edited\n');
    }
    const rec: Record<string, unknown> = { bytes: statSync(real).size, sha256: sha256File(real), sourcesSha256: sourcesSha256(repo), napi: 8 };
    edit(rec);
    writeFileSync(manifestPath(file), JSON.stringify(rec));
    return file;
  };

  test('native loader: a prebuilt whose record matches it and the sources beside it loads', (t) => {
    for (const sources of ['same', 'none'] as const) {
      const r = loadIn(fakePackage(`ok-${sources}`, () => undefined, sources));
      t.equal(r.status, 0);
      t.equal(lastJson(r.stdout).backend, 'native', `native loads from prebuilds/${prebuildKey()}/ (sources ${sources === 'same' ? 'beside it match' : 'not shipped'})`);
    }
    t.end();
  });

  test('native loader: a prebuilt is refused (js, with the reason) when its record does not vouch for it', (t) => {
    const cases: [string, (rec: Record<string, unknown>) => void, 'same' | 'changed', RegExp][] = [
      ['size', (rec) => (rec['bytes'] = 1), 'same', /is not used: it is \d+ bytes where its record says 1/],
      ['hash', (rec) => (rec['sha256'] = '0'.repeat(64)), 'same', /is not used: its SHA-256 differs from its record/],
      ['sources', () => undefined, 'changed', /is not used: it was compiled from other C\+\+ sources/],
      ['napi', (rec) => (rec['napi'] = 99), 'same', /is not used: it needs Node-API 99/],
    ];
    for (const [name, edit, sources, why] of cases) {
      const r = loadIn(fakePackage(`bad-${name}`, edit, sources));
      t.equal(r.status, 0, `${name}: the process succeeds`);
      const out = lastJson(r.stdout);
      t.equal(out.backend, 'js', `${name}: on js`);
      t.ok(why.test(out.failure ?? ''), `${name}: ${out.failure?.slice(0, 160)}`);
    }
    t.end();
  });

  test('native storage pool: reuse, double free, failed kernels', (t) => {
    const nb = native;
    const before = nb.memory();
    const s = nb.fill(1000, 2, 'float32');
    nb.free(s);
    const pooled = nb.memory().pooledBytes;
    t.ok(pooled >= before.pooledBytes + 4000, 'a freed buffer is pooled');
    nb.free(s);
    t.equal(nb.memory().liveStorages, before.liveStorages, 'a double free does not change the live count');
    const z = nb.zeros(1000, 'float32');
    t.ok(Array.from(nb.readSync!(z)).every((v) => v === 0), 'zeros() from the pool are zero');
    const again = nb.zeros(1000, 'float32');
    t.notEqual((again as unknown as { data: Float32Array }).data, (z as unknown as { data: Float32Array }).data, 'two live storages never share a buffer');
    nb.free(z);
    nb.free(again);
    const live = nb.memory().liveStorages;
    const idx = nb.upload(Int32Array.from([5]), 'int32');
    const x = nb.upload(Float32Array.from([1, 2]), 'float32');
    t.throws(() => nb.gather({ storage: x, shape: [2], strides: [1], offset: 0 }, { storage: idx, shape: [1], strides: [1], offset: 0 }, 0, [1]), mg.BackendError);
    nb.free(idx);
    nb.free(x);
    t.equal(nb.memory().liveStorages, live, 'the output of a failed kernel is not left live');
    t.end();
  });
}

test('native loader: the addon\'s op lists must be the TypeScript ones (op codes are positions)', (t) => {
  const lists = () => ({ unary: [...UNARY_OPS] as string[], binary: [...BINARY_OPS] as string[], reduce: [...REDUCE_OPS] as string[], random: [...RANDOM_KINDS] as string[] });
  t.doesNotThrow(() => checkOpNames({ opNames: lists }, 'fake.node'), 'the same lists pass');
  const swapped = lists();
  [swapped.unary[1], swapped.unary[2]] = [swapped.unary[2]!, swapped.unary[1]!];
  t.throws(() => checkOpNames({ opNames: () => swapped }, 'fake.node'), /numbers its unary ops differently.*at code 1 the addon has 'log', TypeScript has 'exp'/, 'two swapped unary ops are refused, naming the code');
  const short = lists();
  short.reduce.pop();
  t.throws(() => checkOpNames({ opNames: () => short }, 'fake.node'), /reduce ops differently.*at code 3 the addon has '\(none\)', TypeScript has 'prod'/, 'a missing reduce op is refused');
  const longer = lists();
  longer.binary.push('hypot');
  t.throws(() => checkOpNames({ opNames: () => longer }, 'fake.node'), /binary ops differently.*at code 14 the addon has 'hypot'/, 'an extra native op is refused');
  t.throws(() => checkOpNames({} as never, 'fake.node'), /does not report its op lists.*rebuild/, 'an addon without opNames (older build) is refused');
  if (native) t.deepEqual(loadAddon().opNames(), lists(), 'the built addon reports the TypeScript lists');
  else t.comment(`native addon unavailable (${why}); the built addon's lists are not compared`);
  t.end();
});
