// The package as a user gets it: `npm pack` (which builds dist/ through `prepare`), the
// tarball's file list (no native/build, no source maps without their sources, LICENSE, both
// entries, this machine's prebuilt native addon), then a fresh strict-TypeScript ESM project with the tarball installed that
// compiles every README/docs ```ts snippet against it, runs each one, and bundles
// `import * as mg from 'metagrad'` for the browser (the exports map's browser condition); last,
// the install script with no compiler on the PATH uses the prebuilt addon, and refuses a damaged one.
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { writeMiniImageNet } from '../helpers/images.js';
import { docSnippets } from '../helpers/snippets.js';
import { prebuildKey } from '../../ts/backend/native/addon.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; peerDependencies?: Record<string, string> };

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeout = 300_000) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout ?? '', out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

test('package: npm pack, the tarball, and a strict consumer project running the docs snippets', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mg-pack-'));
  try {
    const t0 = Date.now();
    const npm = process.env['npm_execpath'] && existsSync(process.env['npm_execpath']) ? [process.execPath, process.env['npm_execpath']] : ['npm'];
    // prepack (native/prebuild.mjs) compiles the addon first when native/build/ has no record of
    // being built from the current sources (a checkout built before prebuilds existed): minutes.
    const packed = run(npm[0]!, [...npm.slice(1), 'pack', '--json', '--pack-destination', work], root, process.env, 900_000);
    t.equal(packed.status, 0, `npm pack (prepack: the prebuilt addon; prepare builds dist/) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    if (packed.status !== 0) return void t.comment(packed.out.slice(-2000));
    const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; size: number; unpackedSize: number; files: { path: string; size: number }[] }[];
    const files = info[0]!.files.map((f) => f.path);
    t.comment(`${info[0]!.filename}: ${files.length} files, ${(info[0]!.size / 1024).toFixed(0)} KiB packed, ${(info[0]!.unpackedSize / 1024).toFixed(0)} KiB unpacked`);
    t.notOk(files.some((f) => f.startsWith('native/build/')), 'no native/build/');
    t.ok(files.includes('LICENSE'), 'LICENSE');
    t.ok(['dist/index.js', 'dist/index.d.ts', 'dist/browser.js', 'dist/browser.d.ts', 'native/binding.gyp', 'native/build.mjs', 'binding.gyp'].every((f) => files.includes(f)), 'both entries with types, and what the native build needs');
    const readmeDocs = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/`(docs\/[\w.-]+\.md)`/g)].map((m) => m[1]!);
    t.ok(readmeDocs.length > 0 && readmeDocs.every((d) => files.includes(d)), `the docs the README links: ${[...new Set(readmeDocs)].join(', ')}`);

    // Unpack as npm would install it.
    const consumer = join(work, 'consumer'), installed = join(consumer, 'node_modules', 'metagrad');
    mkdirSync(installed, { recursive: true });
    t.equal(run('tar', ['xzf', join(work, info[0]!.filename), '-C', installed, '--strip-components=1'], work).status, 0, 'tarball unpacks');
    const maps = files.filter((f) => f.endsWith('.map'));
    const dangling = files.filter((f) => f.endsWith('.js')).flatMap((f) => {
      const m = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(installed, f), 'utf8'));
      return m && !m[1]!.startsWith('data:') && !existsSync(join(installed, dirname(f), m[1]!)) ? [f] : [];
    });
    const unshipped = maps.flatMap((f) => (JSON.parse(readFileSync(join(installed, f), 'utf8')) as { sources: string[] }).sources.filter((s) => !existsSync(join(installed, dirname(f), s))));
    t.deepEqual([dangling, unshipped], [[], []], `no source map comment without its map, no map without its sources (${maps.length} maps)`);

    // Its dependencies (and the optional peer webgpu, and @types/node) from this checkout.
    for (const dep of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {}), '@types', 'typescript', 'esbuild', '@esbuild']) {
      const from = join(root, 'node_modules', dep);
      if (existsSync(from)) symlinkSync(from, join(consumer, 'node_modules', dep));
    }
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], strict: true, skipLibCheck: false, types: ['node'], outDir: 'out', rootDir: 'src' },
      include: ['src/**/*.ts'],
    }));
    const snippets = docSnippets(root);
    mkdirSync(join(consumer, 'src'));
    for (const s of snippets) writeFileSync(join(consumer, 'src', `${s.name}.ts`), s.code);
    // The engine's internals are not in the public types: each line below must be a type error
    // (an unused @ts-expect-error is one, so the file fails the moment an internal leaks).
    const HIDDEN = ['x.storage', 'mg.fromStorage', 'mg.resolveBackend', 'mg.checkCreateOptions', 'x.checkAlive', 'x.node', 'x._buf', 'x._setNode', 'x._watch', 'x._ref', 'x._unref'];
    writeFileSync(join(consumer, 'src', 'hidden-internals.ts'), [
      "import * as mg from 'metagrad';", 'const x = mg.tensor([1, 2]);',
      ...HIDDEN.map((h) => `// @ts-expect-error internal\nvoid ${h};`),
      'void [x.shape, x.strides, x.offset, x.dtype, x.backend.name, x.isLeaf, x.isDisposed];', '',
    ].join('\n'));
    const tsc = run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], consumer);
    const failing = snippets.filter((s) => tsc.out.includes(`src/${s.name}.ts`));
    t.equal(tsc.status, 0, `${snippets.length} docs snippets compile under strict against the installed package (skipLibCheck off)`);
    for (const s of failing) t.fail(`${s.where} does not compile: ${tsc.out.split('\n').filter((l) => l.includes(`src/${s.name}.ts`)).join(' | ').slice(0, 600)}`);
    const leaked = tsc.out.split('\n').filter((l) => l.includes('src/hidden-internals.ts'));
    t.deepEqual(leaked, [], `the public types hide the Tensor and creation internals (${HIDDEN.join(', ')})`);
    if (tsc.status !== 0 && failing.length === 0 && leaked.length === 0) t.comment(tsc.out.slice(0, 3000));

    // Run each, from its own folder (snippets may write files), on a tiny mini-ImageNet for its loader.
    const mini = join(work, 'mini-imagenet');
    writeMiniImageNet(mini, { train: ['n01', 'n02', 'n03', 'n04', 'n05'] }, (w) => [40 * Number(w.slice(1)), 100, 200 - 30 * Number(w.slice(1))], 16);
    const env = { ...process.env, METAGRAD_MINI_IMAGENET: mini, METAGRAD_QUIET: '1', METAGRAD_BACKEND: 'js' };
    for (const s of snippets) {
      if (!existsSync(join(consumer, 'out', `${s.name}.js`))) continue;
      const cwd = mkdtempSync(join(work, 'run-'));
      const r = run(process.execPath, [join(consumer, 'out', `${s.name}.js`)], cwd, env, 120_000);
      t.equal(r.status, 0, `${s.where} runs${r.status === 0 ? '' : `: ${r.out.slice(-800)}`}`);
    }

    // A browser bundle of the installed package resolves its browser entry, without shims.
    writeFileSync(join(consumer, 'page.js'), "import * as mg from 'metagrad';\nconsole.log(mg.grad, mg.omniglotFromZips);\n");
    const bundle = await esbuild.build({ entryPoints: [join(consumer, 'page.js')], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent', absWorkingDir: consumer }).catch((e: Error) => e);
    t.ok(!(bundle instanceof Error) && Object.keys(bundle.metafile!.inputs).some((f) => f.endsWith('metagrad/dist/browser.js')), `esbuild --platform=browser picks dist/browser.js${bundle instanceof Error ? `: ${bundle.message.slice(0, 300)}` : ''}`);

    // The prebuilt native addon (prepack runs native/prebuild.mjs): the install script uses it
    // with no compiler on the PATH, the package then runs on native, and a damaged prebuilt is
    // refused by both the install script and the loader.
    const pre = `prebuilds/${prebuildKey()}/metagrad_native.node`;
    const preSize = info[0]!.files.find((f) => f.path === pre)?.size;
    t.ok(preSize !== undefined && files.includes(`${pre}.json`), `the tarball has ${pre} (${((preSize ?? 0) / 1024).toFixed(0)} KiB unpacked) and its record`);
    const bin = join(work, 'bin-node-only');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const noCompiler: NodeJS.ProcessEnv = { ...process.env, PATH: bin, CXX: 'false', CC: 'false' };
    for (const k of ['METAGRAD_QUIET', 'METAGRAD_BACKEND', 'METAGRAD_NATIVE_ADDON', 'METAGRAD_BUILD_FROM_SOURCE', 'npm_config_build_from_source']) delete noCompiler[k];
    t.notEqual(spawnSync('g++', ['--version'], { env: noCompiler }).status, 0, 'g++ is not reachable on that PATH');
    const install = () => run(process.execPath, [join(installed, 'native/build.mjs')], installed, noCompiler, 180_000);
    const check = () => {
      writeFileSync(join(consumer, 'native-check.mjs'), [
        "import * as mg from 'metagrad';",
        "const ok = mg.backendAvailable('native');",
        "const y = ok ? Array.from(mg.matmul(mg.tensor([[1, 2], [3, 4]], { backend: 'native' }), mg.tensor([[1, 0], [1, 1]], { backend: 'native' })).dataSync()) : null;",
        "console.log(JSON.stringify({ ok, failure: mg.backendFailure('native') ?? null, y, current: mg.currentBackend().name }));",
      ].join('\n'));
      const r = run(process.execPath, [join(consumer, 'native-check.mjs')], consumer, { ...noCompiler, METAGRAD_QUIET: '1' }, 60_000);
      return JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as { ok?: boolean; failure?: string | null; y?: number[] | null; current?: string };
    };
    const t1 = Date.now();
    const good = install();
    t.ok(good.status === 0 && new RegExp(`using the prebuilt native backend ${pre}`).test(good.out), `the install script uses the prebuilt, in ${Date.now() - t1} ms: ${good.out.trim().split('\n').pop()}`);
    t.notOk(existsSync(join(installed, 'native/build')), 'nothing was compiled (no native/build/)');
    const loaded = check();
    t.deepEqual([loaded.ok, loaded.current, loaded.y], [true, 'native', [3, 2, 7, 4]], `the installed package runs on the prebuilt native backend${loaded.failure ? `: ${loaded.failure}` : ''}`);
    const prebuilt = join(installed, pre);
    writeFileSync(prebuilt, readFileSync(prebuilt).subarray(0, 4096));
    const bad = install();
    t.ok(bad.status === 0 && /not using the prebuilt .*: it is 4096 bytes where its record says \d+; building from source/.test(bad.out) && /could not be built/.test(bad.out),
      `a damaged prebuilt: the install script says so, tries to compile, and still exits 0 (${bad.out.split('\n').filter((l) => l.startsWith('metagrad:')).join(' / ').slice(0, 300)})`);
    const refused = check();
    t.ok(refused.ok === false && refused.current === 'js' && /prebuilt native addon .* is not used: it is 4096 bytes/.test(refused.failure ?? ''), `and the loader refuses it: js, because ${refused.failure?.slice(0, 200)}`);
    t.comment(`whole check in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${readdirSync(join(consumer, 'out')).length} snippets compiled`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
