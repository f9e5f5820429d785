// metagrad-webgpu against @tensorflow/tfjs-backend-webgpu and jax-js (webgpu) on the same
// Dawn adapter, in one process: matmul 64..2048, conv2d at Conv-4 shapes (Omniglot 28×28,
// mini-ImageNet 84×84), reductions, softmax and an elementwise chain.
//
// Timing: after warm-up (pipeline compilation), `reps` launches are timed by wall clock
// until the GPU has finished them (metagrad: backend.sync(); tfjs: queue drained after its
// own submit; jax-js: blockUntilReady), so every library pays its own launch overhead.
// jax-js is lazy, so each of its outputs is realized (blockUntilReady) before the next launch.
// Convolutions: tfjs is timed with NCHW input (metagrad's layout) and in its native NHWC; the
// faster counts.
// Output: a table (GFLOP/s for matmul/conv, GB/s of compulsory traffic otherwise, and
// ratios), and JSON in bench/results/webgpu-<adapter>.json.
//
//   npm run bench:webgpu [-- --quick] [-- --only=matmul]
/// <reference types="@webgpu/types" />

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../ts/index.js';
import { installDawn, loadTfjsWebgpu, tfjsFinish } from './dawn-peers.js';

type Lib = 'metagrad' | 'tfjs' | 'jax';
interface Case {
  name: string;
  family: 'matmul' | 'conv2d' | 'reduce' | 'softmax' | 'elementwise';
  unit: 'GFLOP/s' | 'GB/s';
  /** FLOPs or bytes per launch */
  work: number;
  inputs: { shape: number[] }[];
  /** one launch in each library; returns what to dispose */
  run: Record<Lib, (xs: any[]) => any>;
  /** convolutions: tfjs is also timed in its native NHWC layout, and its faster layout counts */
  tfjsNhwc?: (xs: any[]) => any;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice(7);

// --- one Dawn instance, shared: metagrad finds navigator.gpu, tfjs and jax-js need it ---------
await installDawn();

const backend = await mg.initBackend('webgpu');
const adapterName: string = (backend as unknown as { adapterName: string }).adapterName;

const { tf, ok: tfOk } = await loadTfjsWebgpu();

let jax: any = null;
try {
  jax = await import('@jax-js/jax');
  const got: string[] = await jax.init('webgpu');
  if (!got.includes('webgpu')) throw new Error(`jax-js found no webgpu device (has ${got.join(', ')})`);
  jax.defaultDevice('webgpu');
} catch (e) {
  console.log(`jax-js unavailable: ${e instanceof Error ? e.message : String(e)}`);
  jax = null;
}

function randomData(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

// --- the cases ---------------------------------------------------------------------------------
const cases: Case[] = [];
for (const n of quick ? [64, 256, 512] : [64, 128, 256, 512, 1024, 2048]) {
  cases.push({
    name: `matmul ${n}x${n}x${n}`, family: 'matmul', unit: 'GFLOP/s', work: 2 * n ** 3,
    inputs: [{ shape: [n, n] }, { shape: [n, n] }],
    run: {
      metagrad: ([a, b]) => mg.matmul(a, b),
      tfjs: ([a, b]) => tf.matMul(a, b),
      jax: ([a, b]) => jax.numpy.matmul(a.ref, b.ref),
    },
  });
}
// Conv-4 blocks: 3×3 convolutions, padding 1. Omniglot: 5-way tasks batched (160 images),
// 64 channels at 28×28; mini-ImageNet: 80 images, 3→32 channels at 84×84 and 32→32 at 42×42.
const convShapes: [string, number[], number[]][] = quick
  ? [['conv2d Omniglot [32,64,28,28]*[64,64,3,3]', [32, 64, 28, 28], [64, 64, 3, 3]]]
  : [
    ['conv2d Omniglot [160,64,28,28]*[64,64,3,3]', [160, 64, 28, 28], [64, 64, 3, 3]],
    ['conv2d Omniglot [160,1,28,28]*[64,1,3,3]', [160, 1, 28, 28], [64, 1, 3, 3]],
    ['conv2d mini-ImageNet [80,3,84,84]*[32,3,3,3]', [80, 3, 84, 84], [32, 3, 3, 3]],
    ['conv2d mini-ImageNet [80,32,42,42]*[32,32,3,3]', [80, 32, 42, 42], [32, 32, 3, 3]],
  ];
for (const [name, xs, ws] of convShapes) {
  const [n, c, h, w] = xs as [number, number, number, number];
  const [co, , kh, kw] = ws as [number, number, number, number];
  cases.push({
    name, family: 'conv2d', unit: 'GFLOP/s', work: 2 * n * co * h * w * c * kh * kw,
    inputs: [{ shape: xs }, { shape: ws }],
    run: {
      metagrad: ([x, wt]) => mg.conv2d(x, wt, { padding: 1 }),
      // tfjs-webgpu: NCHW input via dataFormat, filters as HWIO.
      tfjs: ([x, wt]) => tf.conv2d(x, wt, 1, 'same', 'NCHW'),
      jax: ([x, wt]) => jax.lax.conv(x.ref, wt.ref, [1, 1], 'SAME'),
    },
    tfjsNhwc: ([x, wt]) => tf.conv2d(x, wt, 1, 'same'),
  });
}
const R = quick ? 1024 : 4096;
cases.push({
  name: `sum over last axis [${R},4096]`, family: 'reduce', unit: 'GB/s', work: R * 4096 * 4 + R * 4,
  inputs: [{ shape: [R, 4096] }],
  run: { metagrad: ([x]) => mg.sum(x, 1), tfjs: ([x]) => tf.sum(x, 1), jax: ([x]) => jax.numpy.sum(x.ref, 1) },
});
cases.push({
  name: `sum over first axis [${R},4096]`, family: 'reduce', unit: 'GB/s', work: R * 4096 * 4 + 4096 * 4,
  inputs: [{ shape: [R, 4096] }],
  run: { metagrad: ([x]) => mg.sum(x, 0), tfjs: ([x]) => tf.sum(x, 0), jax: ([x]) => jax.numpy.sum(x.ref, 0) },
});
cases.push({
  name: `max of all [${R * 4096}]`, family: 'reduce', unit: 'GB/s', work: R * 4096 * 4,
  inputs: [{ shape: [R * 4096] }],
  run: { metagrad: ([x]) => mg.max(x), tfjs: ([x]) => tf.max(x), jax: ([x]) => jax.numpy.max(x.ref) },
});
for (const cols of [64, 1000]) {
  const rows = quick ? 2048 : 16384;
  cases.push({
    name: `softmax [${rows},${cols}]`, family: 'softmax', unit: 'GB/s', work: 2 * rows * cols * 4,
    inputs: [{ shape: [rows, cols] }],
    run: { metagrad: ([x]) => mg.softmax(x), tfjs: ([x]) => tf.softmax(x), jax: ([x]) => jax.nn.softmax(x.ref, -1) },
  });
}
const E = quick ? 1 << 20 : 1 << 24;
cases.push({
  // 4 elementwise ops; traffic counted as one read of x and one write of y (what a fused kernel needs)
  name: `elementwise chain tanh(2x+1)*x [${E}]`, family: 'elementwise', unit: 'GB/s', work: 2 * E * 4,
  inputs: [{ shape: [E] }],
  run: {
    metagrad: ([x]) => mg.scope(() => mg.mul(mg.tanh(mg.add(mg.mul(x, 2), 1)), x)),
    tfjs: ([x]) => tf.tidy(() => tf.mul(tf.tanh(tf.add(tf.mul(x, 2), 1)), x)),
    jax: ([x]) => { const np = jax.numpy; return np.multiply(np.tanh(np.add(np.multiply(x.ref, 2), 1)), x.ref); },
  },
});

// --- timing ------------------------------------------------------------------------------------
const tfDevice = (): GPUDevice | null => (tfOk ? tf.backend().device : null);

async function finish(lib: Lib, out: any): Promise<void> {
  if (lib === 'metagrad') await backend.sync();
  else if (lib === 'tfjs') await tfjsFinish(tf);
  else await out.blockUntilReady();
}

function dispose(lib: Lib, out: any): void {
  if (lib === 'metagrad') (out as mg.Tensor).dispose();
  else out.dispose();
}

async function timeLib(lib: Lib, c: Case, nhwc = false): Promise<number | null> {
  const datas = c.inputs.map((inp, i) => randomData(numel(inp.shape), 17 + i));
  let xs: any[];
  if (lib === 'metagrad') xs = c.inputs.map((inp, i) => mg.tensor(datas[i]!, inp.shape, { backend }));
  else if (lib === 'tfjs') {
    if (!tfOk) return null;
    xs = c.inputs.map((inp, i) => {
      const t = tf.tensor(datas[i]!, inp.shape);
      // filters go to tfjs as HWIO; images as NHWC when timing that layout
      const perm = c.family !== 'conv2d' ? null : i === 1 ? [2, 3, 1, 0] : nhwc ? [0, 2, 3, 1] : null;
      if (perm) { const h = tf.transpose(t, perm); t.dispose(); return h; }
      return t;
    });
  } else {
    if (!jax) return null;
    xs = c.inputs.map((inp, i) => jax.numpy.array(datas[i]!, { shape: inp.shape }));
  }
  try {
    // warm-up: compile pipelines, fill pools
    const run = nhwc ? c.tfjsNhwc! : c.run[lib];
    for (let i = 0; i < 2; i++) { const o = run(xs); await finish(lib, o); dispose(lib, o); }
    const t0 = performance.now();
    const oneRun = () => run(xs);
    const probe = oneRun();
    await finish(lib, probe);
    dispose(lib, probe);
    const once = performance.now() - t0;
    const reps = Math.max(3, Math.min(50, Math.floor((quick ? 300 : 1500) / Math.max(once, 1e-3))));
    const start = performance.now();
    let last: any = null;
    for (let i = 0; i < reps; i++) {
      // jax-js evaluates lazily: an output disposed before it is realized is never computed
      // (timing it that way once made jax-js look 5-50x faster than the adapter can go), so
      // each of its outputs is realized before the next launch. metagrad and tfjs queue their
      // work eagerly, so disposing an output does not cancel it.
      if (last) { if (lib === 'jax') await last.blockUntilReady(); dispose(lib, last); }
      last = oneRun();
    }
    await finish(lib, last);
    const ms = (performance.now() - start) / reps;
    dispose(lib, last);
    return ms;
  } catch (e) {
    console.log(`  ${lib} failed on ${c.name}: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  } finally {
    for (const x of xs) x.dispose();
  }
}

interface Row {
  name: string; family: string; unit: string; ms: Record<Lib, number | null>; rate: Record<Lib, number | null>;
  /** convolutions: tfjs in NCHW and NHWC; ms.tfjs is the faster */
  tfjsLayouts?: { NCHW: number | null; NHWC: number | null };
}
const rows: Row[] = [];
const libs: Lib[] = ['metagrad', 'tfjs', 'jax'];
console.log(`adapter: ${adapterName}${quick ? ' (quick)' : ''}`);
for (const c of cases) {
  if (only && !c.family.includes(only) && !c.name.includes(only)) continue;
  const ms = {} as Record<Lib, number | null>, rate = {} as Record<Lib, number | null>;
  let tfjsLayouts: Row['tfjsLayouts'];
  for (const lib of libs) {
    ms[lib] = await timeLib(lib, c);
    if (lib === 'tfjs' && c.tfjsNhwc) {
      tfjsLayouts = { NCHW: ms.tfjs, NHWC: await timeLib('tfjs', c, true) };
      const both = [tfjsLayouts.NCHW, tfjsLayouts.NHWC].filter((v): v is number => v !== null);
      ms.tfjs = both.length ? Math.min(...both) : null;
    }
    rate[lib] = ms[lib] === null ? null : c.work / (ms[lib]! * 1e-3) / 1e9;
  }
  rows.push({ name: c.name, family: c.family, unit: c.unit, ms, rate, ...(tfjsLayouts ? { tfjsLayouts } : {}) });
  const f = (v: number | null) => (v === null ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(2));
  const ratio = (a: number | null, b: number | null) => (a === null || b === null ? '-' : `${(a / b).toFixed(2)}x`);
  const layout = tfjsLayouts ? (ms.tfjs === tfjsLayouts.NHWC ? ' (NHWC)' : ' (NCHW)') : '';
  console.log(`${c.name.padEnd(52)} ${c.unit.padEnd(8)} metagrad ${f(rate.metagrad).padStart(8)}  tfjs ${f(rate.tfjs).padStart(8)}  jax-js ${f(rate.jax).padStart(8)}  vs tfjs ${ratio(rate.metagrad, rate.tfjs).padStart(7)}  vs jax ${ratio(rate.metagrad, rate.jax).padStart(7)}${layout}`);
}

const slug = adapterName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'unknown';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outFile = join(root, 'bench', 'results', `webgpu-${slug}${quick ? '-quick' : ''}${only ? `-only-${only.replace(/[^a-z0-9]+/gi, '-')}` : ''}.json`);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify({
  adapter: adapterName, date: new Date().toISOString(), node: process.version, quick,
  peers: { tfjs: tfOk ? `@tensorflow/tfjs-backend-webgpu ${tf.version_core}` : null, jax: jax ? '@jax-js/jax (webgpu)' : null },
  timing: 'wall clock per launch, averaged over repeated launches, until the GPU finished (after 2 warm-up runs)',
  rows,
}, null, 2) + '\n');
console.log(`wrote ${outFile}`);

tfDevice()?.destroy();
if (jax) { try { jax.getWebGPUDevice().destroy(); } catch { /* already gone */ } }
mg.shutdownBackends();
process.exit(0);
