// The real-browser test: metagrad's browser entry (ts/browser.ts) bundled by esbuild with
// --platform=browser and no shims (a Node built-in reaching it fails the bundle), loaded by
// headless Chromium, which runs a gradient, a second derivative, a small matmul on WebGPU
// and a few MAML iterations and posts the values back; they must equal the closed forms and
// the same program run here in Node. Chromium: Debian's `chromium` (.ci/run installs it);
// without it the test fails under METAGRAD_REQUIRE_WEBGPU=1 (CI) and is skipped otherwise.
// The page runs twice: on Mesa's lavapipe (Chromium's compatibility-mode adapter: Dawn's
// OpenGL ES backend on ANGLE on Vulkan on lavapipe) and on the adapter a plain
// requestAdapter() gets, SwiftShader. Why lavapipe is reachable only that way: page.ts and
// docs/backends.md ("WebGPU in headless Chromium").
import test from 'tape';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import * as mg from '../../ts/index.js';
import type { AdapterSeen } from './page.js';
import { runWorkload, type WorkloadResult } from './workload.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const CHROMIUM = process.env['METAGRAD_CHROMIUM'] ?? '/usr/bin/chromium';
const required = process.env['METAGRAD_REQUIRE_WEBGPU'] === '1';
/**
 * Vulkan for the GPU process and ANGLE (so ANGLE, and through it Dawn's OpenGL ES backend, runs
 * on lavapipe), the GPU blocklist off (lavapipe is a CPU device), WebGPU on Linux, and
 * --enable-webgpu-developer-features so adapter.info tells the real device, not a blank one.
 */
const GPU_FLAGS = [
  '--enable-unsafe-webgpu', '--enable-webgpu-developer-features', '--enable-features=Vulkan', '--use-vulkan=native',
  '--use-angle=vulkan', '--disable-vulkan-surface', '--ignore-gpu-blocklist', '--use-webgpu-adapter=opengles',
];

async function bundle(entry: string): Promise<string> {
  const r = await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' });
  return r.outputFiles[0]!.text;
}

test('browser entry: bundles for the browser with no shims; the Node entry does not', async (t) => {
  const js = await bundle(join(root, 'build/test/browser/page.js'));
  t.ok(js.length > 100_000, `page bundle ${(js.length / 1024).toFixed(0)} KiB`);
  t.notOk(/\bimport\(["']webgpu["']\)|["']node:[a-z]/.test(js), "no Dawn import and no 'node:' specifier in the bundle");
  // The control: the same check does catch Node built-ins (the Node entry has them).
  await bundle(join(root, 'build/ts/index.js')).then(
    () => t.fail('bundling the Node entry for the browser should fail'),
    (e: { errors?: { text: string }[] }) => t.ok(e.errors?.some((x) => /node:|built into node/.test(x.text)), `the Node entry fails to bundle: ${e.errors?.[0]?.text.slice(0, 80)}`),
  );
});

/** Serve the page, start Chromium on it, and wait for what it posts (or time out). */
async function runInChromium(js: string, query: string, timeoutMs: number): Promise<{ ok: boolean; result?: { js: WorkloadResult; webgpu: WorkloadResult; adapter: AdapterSeen; registered: string[] }; error?: string; stderr: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'mg-chromium-'));
  let chrome: ReturnType<typeof spawn> | undefined;
  let stderr = '';
  const server = createServer();
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Chromium posted nothing within ${timeoutMs / 1000} s; its stderr ends: ${stderr.slice(-800)}`)), timeoutMs);
      server.on('request', (req, res) => {
        if (req.method === 'POST' && req.url === '/result') {
          let body = '';
          req.on('data', (c) => (body += c));
          req.on('end', () => {
            res.end('ok');
            clearTimeout(timer);
            try {
              resolve({ ...JSON.parse(body), stderr });
            } catch (e) {
              reject(e);
            }
          });
          return;
        }
        if (req.url === '/page.js') {
          res.setHeader('content-type', 'text/javascript');
          res.end(js);
          return;
        }
        res.setHeader('content-type', 'text/html');
        res.end('<!doctype html><meta charset="utf-8"><title>metagrad</title><script type="module" src="/page.js"></script>');
      });
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        const port = typeof addr === 'object' && addr ? addr.port : 0;
        chrome = spawn(CHROMIUM, [
          '--headless', '--no-sandbox', ...GPU_FLAGS,
          '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
          '--disable-default-apps', '--disable-extensions', `--user-data-dir=${profile}`, `http://127.0.0.1:${port}/${query}`,
        ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
        chrome.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-20_000)));
        chrome.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
    });
  } finally {
    // Chromium runs as a process group (the Debian launcher, the browser, its GPU and renderer
    // helpers): end the whole group, or the helpers keep writing into the profile.
    const group = (sig: NodeJS.Signals) => {
      try {
        if (chrome?.pid) process.kill(-chrome.pid, sig);
      } catch {
        // the group is already gone
      }
    };
    if (chrome && chrome.exitCode === null) {
      const exited = new Promise((r) => chrome!.once('exit', r));
      group('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    group('SIGKILL');
    server.close();
    // Chromium's helper processes can still be writing the profile for a moment after the browser exits.
    rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 250 });
  }
}

const close = (a: number[], b: number[], tol: number) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= tol * (1 + Math.abs(b[i]!)));

const ADAPTERS = [
  { query: '?adapter=compat', name: 'lavapipe (compatibility mode: Dawn OpenGL ES on ANGLE on Vulkan on lavapipe)', expect: /llvmpipe|lavapipe/i, featureLevel: 'compatibility' },
  { query: '?adapter=core', name: 'SwiftShader (core WebGPU: Dawn Vulkan on SwiftShader)', expect: /swiftshader/i, featureLevel: 'core' },
] as const;

for (const want of ADAPTERS) {
  test(`browser: gradients, a WebGPU matmul and MAML run in headless Chromium on ${want.name}`, { skip: !existsSync(CHROMIUM) && !required }, async (t) => {
    t.ok(existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`);
    const t0 = Date.now();
    const js = await bundle(join(root, 'build/test/browser/page.js'));
    const got = await runInChromium(js, want.query, 90_000);
    t.comment(`page ran in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (!got.ok || !got.result) {
      t.fail(`the page failed: ${got.error}`);
      return;
    }
    const { result } = got;
    const a = result.adapter;
    const said = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' | ');
    t.comment(`adapter in Chromium (${a.featureLevel}${a.isFallbackAdapter ? ', fallback' : ''}${a.nullAnswers ? `, after ${a.nullAnswers} null answers` : ''}): ${said}`);
    t.ok(want.expect.test(said), `the page's adapter is ${want.expect.source}: ${said}`);
    t.ok(want.expect.test(a.backendAdapter), `metagrad's webgpu backend runs on it: ${a.backendAdapter}`);
    t.equal(a.featureLevel, want.featureLevel, `${want.featureLevel} feature level`);
    t.deepEqual(result.registered.sort(), ['js', 'webgpu'], 'the browser entry registers js and webgpu, not native');
    const xs = [0.5, 1, 2];
    const expected = {
      grad: xs.map((x) => Math.cos(x) * x + Math.sin(x)),
      second: xs.map((x) => 2 * Math.cos(x) - x * Math.sin(x)),
      matmul: [7.5, 8, 18, 14],
      matmulGrad: [-0.5, 2, 4, -0.5, 2, 4],
      cubeSecond: [3, -9, 12],
    };
    for (const side of ['js', 'webgpu'] as const) {
      const r = result[side];
      t.equal(r.backend, side);
      for (const k of ['grad', 'second', 'matmul', 'matmulGrad', 'cubeSecond'] as const) {
        t.ok(close(r[k], expected[k], 1e-5), `${side}: ${k} = ${r[k].map((v) => v.toFixed(4)).join(', ')}`);
      }
    }
    // The same program here in Node on the js backend gives the same MAML losses.
    const prev = mg.currentBackend().name;
    mg.setBackend('js');
    let here: WorkloadResult;
    try {
      here = await runWorkload(mg, 'js');
    } finally {
      mg.setBackend(prev);
    }
    const losses = result.js.mamlLosses;
    t.equal(losses.length, 6, '6 MAML iterations');
    t.ok(close(losses, here.mamlLosses, 1e-5), `MAML losses equal Node's: ${losses.map((v) => v.toFixed(3)).join(' ')}`);
    t.ok(losses[losses.length - 1]! < losses[0]!, 'the meta-loss falls');
  });
}
