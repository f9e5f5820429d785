// Convolution forward and both gradients on the WebGPU backend at the Conv-4 shapes, as a
// MAML/Prototypical training step runs them: metagrad's default kernels for the adapter against
// its hardware kernels (METAGRAD_GEMM_BLOCK=shared: shared-memory implicit GEMMs) and tfjs-webgpu
// in its native NHWC layout where it has the same operation as a public op (conv2d;
// conv2dTranspose is the input gradient; it has no public filter-gradient op). Backend calls are timed directly, so no autodiff or
// allocation of other tensors is included.
//
//   npm run bench:conv-grads
// Output: a table in GFLOP/s (2·n·cOut·oh·ow·cIn·kh·kw per call) and
// bench/results/webgpu-conv-grads-<adapter>.json.
/// <reference types="@webgpu/types" />

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../ts/index.js';
import { installDawn, loadTfjsWebgpu, tfjsFinish } from './dawn-peers.js';

await installDawn();
await mg.initBackend('webgpu');
const gpu = mg.getBackend('webgpu');
const adapterName: string = (gpu as unknown as { adapterName: string }).adapterName;
const { tf } = await loadTfjsWebgpu();

type Op = 'forward' | 'input grad' | 'filter grad';
const OPS: Op[] = ['forward', 'input grad', 'filter grad'];
const SHAPES: [string, number, number, number, number][] = [
  ['Omniglot 64->64 [160,64,28,28]', 160, 64, 28, 64],
  ['Omniglot 1->64 [160,1,28,28]', 160, 1, 28, 64],
  ['mini-ImageNet 3->32 [80,3,84,84]', 80, 3, 84, 32],
  ['mini-ImageNet 32->32 [80,32,42,42]', 80, 32, 42, 32],
];

function data(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin((i + seed) * 12.9898) * 0.5;
  return a;
}

/** Best of `rounds` timings of `reps` back-to-back calls, each finished by `sync`. */
async function time(run: () => () => void, sync: () => Promise<void>, rounds = 3): Promise<number> {
  const warm = run(); await sync(); warm();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const done = run(); await sync(); done();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}


interface Row { shape: string; op: Op; gflops: Record<string, number | null> }
const rows: Row[] = [];
console.log(`adapter: ${adapterName}`);
console.log(`${'shape'.padEnd(36)} ${'op'.padEnd(12)} ${'default'.padStart(8)} ${'shared'.padStart(8)} ${'tfjs'.padStart(8)}   default vs shared, vs tfjs`);
for (const [name, n, c, hw, co] of SHAPES) {
  const g: mg.Conv2dGeometry = { n, cIn: c, h: hw, w: hw, cOut: co, kh: 3, kw: 3, oh: hw, ow: hw, strideH: 1, strideW: 1,
    padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 1 };
  const flops = 2 * n * co * hw * hw * c * 9;
  const x = gpu.upload(data(n * c * hw * hw, 1), 'float32'), w = gpu.upload(data(co * c * 9, 2), 'float32');
  const dy = gpu.upload(data(n * co * hw * hw, 3), 'float32');
  // tfjs in its native NHWC layout (conv2dTranspose has no NCHW form).
  const tx = tf.tensor(data(n * c * hw * hw, 1), [n, hw, hw, c]), tdy = tf.tensor(data(n * co * hw * hw, 3), [n, hw, hw, co]);
  const tw = tf.transpose(tf.tensor(data(co * c * 9, 2), [co, c, 3, 3]), [2, 3, 1, 0]);
  for (const op of OPS) {
    const gflops: Record<string, number | null> = {};
    for (const variant of ['default', 'shared']) {
      if (variant === 'shared') process.env['METAGRAD_GEMM_BLOCK'] = 'shared';
      else delete process.env['METAGRAD_GEMM_BLOCK'];
      const call = () => (op === 'forward' ? gpu.conv2d(x, w, g) : op === 'input grad' ? gpu.conv2dBackwardInput(dy, w, g) : gpu.conv2dBackwardFilter(x, dy, g));
      const ms = await time(() => { const s = call(); return () => gpu.free(s); }, () => gpu.sync());
      gflops[variant] = flops / ms / 1e6;
    }
    delete process.env['METAGRAD_GEMM_BLOCK'];
    const tfCall = op === 'forward' ? () => tf.conv2d(tx, tw, 1, 'same')
      : op === 'input grad' ? () => tf.conv2dTranspose(tdy, tw, [n, hw, hw, c], 1, 'same') : null;
    gflops['tfjs'] = tfCall ? flops / (await time(() => { const t = tfCall(); return () => t.dispose(); }, () => tfjsFinish(tf))) / 1e6 : null;
    rows.push({ shape: name, op, gflops });
    const f = (v: number | null | undefined) => (v == null ? '-' : v.toFixed(2)).padStart(8);
    const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? `${(a / b).toFixed(2)}x` : '-');
    console.log(`${name.padEnd(36)} ${op.padEnd(12)} ${f(gflops['default'])} ${f(gflops['shared'])} ${f(gflops['tfjs'])}   ${ratio(gflops['default'], gflops['shared'])}, ${ratio(gflops['default'], gflops['tfjs'])}`);
  }
  for (const s of [x, w, dy]) gpu.free(s);
  for (const t of [tx, tdy, tw]) t.dispose();
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const slug = adapterName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const outFile = join(root, 'bench', 'results', `webgpu-conv-grads-${slug}.json`);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify({
  adapter: adapterName, date: new Date().toISOString(), node: process.version,
  peers: { tfjs: `@tensorflow/tfjs-backend-webgpu ${tf.version_core}` },
  timing: 'best of 3 single calls, each until the GPU finished, after one warm-up call',
  rows,
}, null, 2) + '\n');
console.log(`wrote ${outFile}`);
tf.backend().device.destroy();
mg.shutdownBackends();
process.exit(0);
